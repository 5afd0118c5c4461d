extension CPU {
    // MARK: Operand access by register-file byte offset (hot path)

    /// Reads a register operand, zero-extended to 64 bits.
    @inline(__always) func readRegister(_ offset: UInt8, _ size: OperandSize) -> UInt64 {
        switch size {
        case .byte: UInt64(rawRegs.load(fromByteOffset: Int(offset), as: UInt8.self))
        case .word: UInt64(rawRegs.load(fromByteOffset: Int(offset), as: UInt16.self))
        case .dword: UInt64(rawRegs.load(fromByteOffset: Int(offset), as: UInt32.self))
        case .qword: rawRegs.load(fromByteOffset: Int(offset), as: UInt64.self)
        }
    }

    /// Writes a register operand (the low bits of `value`). A 32-bit write clears bits 63:32, as
    /// in 64-bit mode (outside it they are undefined, SDM Vol. 1, 3.4.1.1).
    /// A 32-bit register destination left unchanged still has its upper half cleared in 64-bit
    /// mode (SDM Vol. 1, 3.4.1.1; Vol. 2A, CMOVcc: "even if the condition is false"): what a
    /// false CMOVcc or a shift by a masked count of 0 does to a dword register.
    @inline(__always) func zeroExtendUnchanged(_ offset: UInt8, _ size: OperandSize) {
        if size == .dword { writeRegister(offset, .dword, readRegister(offset, .dword)) }
    }

    @inline(__always) func writeRegister(_ offset: UInt8, _ size: OperandSize, _ value: UInt64) {
        switch size {
        case .byte: rawRegs.storeBytes(of: UInt8(truncatingIfNeeded: value), toByteOffset: Int(offset), as: UInt8.self)
        case .word: rawRegs.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: Int(offset), as: UInt16.self)
        case .dword: rawRegs.storeBytes(of: value & 0xFFFF_FFFF, toByteOffset: Int(offset), as: UInt64.self)
        case .qword: rawRegs.storeBytes(of: value, toByteOffset: Int(offset), as: UInt64.self)
        }
    }

    @inline(__always) func reg16(_ r: GeneralRegister) -> UInt16 { UInt16(truncatingIfNeeded: regs[r.rawValue]) }
    @inline(__always) func reg32(_ r: GeneralRegister) -> UInt32 { UInt32(truncatingIfNeeded: regs[r.rawValue]) }
    @inline(__always) func setReg16(_ r: GeneralRegister, _ v: UInt16) {
        rawRegs.storeBytes(of: v, toByteOffset: r.rawValue * 8, as: UInt16.self)
    }
    @inline(__always) func setReg32(_ r: GeneralRegister, _ v: UInt32) { regs[r.rawValue] = UInt64(v) }

    // MARK: Public state access (for owners, debuggers and tests)

    /// A general-purpose register's full 64-bit value.
    public func register(_ r: GeneralRegister) -> UInt64 { regs[r.rawValue] }
    public func setRegister(_ r: GeneralRegister, _ value: UInt64) { regs[r.rawValue] = value }

    /// The instruction pointer (EIP/IP zero-extended), exact whenever `run` is not executing
    /// (a device called from inside a run sees the start of the running block, except during
    /// port I/O, which brings it up to date).
    public var instructionPointer: UInt64 {
        get { rip }
        set { rip = newValue }
    }

    /// A segment register with its hidden descriptor cache.
    public func segment(_ s: SegmentRegister) -> SegmentCache { segs[s.rawValue] }
    public func setSegment(_ s: SegmentRegister, _ cache: SegmentCache) {
        var c = cache
        c.recomputeBounds(realMode: isRealAddressing)
        segs[s.rawValue] = c
    }
    /// Loads a segment register as real mode does: base = selector × 16, limit and attributes kept.
    public func loadRealModeSegment(_ s: SegmentRegister, selector: UInt16) {
        segs[s.rawValue].loadRealMode(selector)
    }

    public var controlRegister0: UInt32 { cr0 }
    public var controlRegister2: UInt64 { cr2 }
    public var controlRegister3: UInt64 { cr3 }
    public var controlRegister4: UInt32 { cr4 }
    public var interruptDescriptorTable: DescriptorTableRegister {
        get { idtr }
        set { idtr = newValue }
    }
    public var globalDescriptorTable: DescriptorTableRegister {
        get { gdtr }
        set { gdtr = newValue }
    }
    public var extendedFeatureEnable: UInt64 { efer }
    public func debugRegister(_ n: Int) -> UInt64 { debugRegisters[n & 7] }

    /// Whether the processor is in protected mode (CR0.PE).
    public var isProtectedMode: Bool { cr0 & ControlRegister0.protectionEnable != 0 }
}

/// CR0 bits (SDM Vol. 3A, 2.5).
public enum ControlRegister0 {
    public static let protectionEnable: UInt32 = 1 << 0
    public static let monitorCoprocessor: UInt32 = 1 << 1
    public static let emulation: UInt32 = 1 << 2
    public static let taskSwitched: UInt32 = 1 << 3
    public static let extensionType: UInt32 = 1 << 4
    public static let numericError: UInt32 = 1 << 5
    public static let writeProtect: UInt32 = 1 << 16
    public static let alignmentMask: UInt32 = 1 << 18
    public static let notWriteThrough: UInt32 = 1 << 29
    public static let cacheDisable: UInt32 = 1 << 30
    public static let paging: UInt32 = 1 << 31
}
