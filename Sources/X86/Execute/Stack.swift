/// Stack access (SS:SP or SS:ESP per SS.B) and the PUSH/POP family.
extension CPU {
    @inline(__always) var stackIs32: Bool { segs[SegmentRegister.ss.rawValue].defaultSize32 }
    /// The stack's address size: RSP in 64-bit mode, else ESP or SP by SS.B.
    @inline(__always) var stackAddressMask: UInt64 { executing64 ? ~0 : stackIs32 ? 0xFFFF_FFFF : 0xFFFF }
    /// The width of RSP/RBP as a stack address: 64 bits in 64-bit mode (whatever SS holds, a
    /// null SS included), else SS.B's.
    @inline(__always) var stackAddressSize: OperandSize { executing64 ? .qword : stackIs32 ? .dword : .word }
    @inline(__always) var stackPointer: UInt64 {
        regs[GeneralRegister.rsp.rawValue] & stackAddressMask
    }
    @inline(__always) func setStackPointer(_ value: UInt64) {
        if executing64 {
            regs[GeneralRegister.rsp.rawValue] = value
        } else if stackIs32 {
            setReg32(.rsp, UInt32(truncatingIfNeeded: value))
        } else {
            setReg16(.rsp, UInt16(truncatingIfNeeded: value))
        }
    }
    /// `sp` moved by `delta` bytes, wrapped to the stack's address size.
    @inline(__always) func stackOffset(_ sp: UInt64, adding delta: Int) -> UInt64 {
        (sp &+ UInt64(bitPattern: Int64(delta))) & stackAddressMask
    }
    private static let ss = UInt8(SegmentRegister.ss.rawValue)

    @inline(__always) func push(_ value: UInt64, _ size: OperandSize) -> Bool {
        let sp = stackOffset(stackPointer, adding: -size.bytes)
        guard write(CPU.ss, sp, size, value) else { return false }
        setStackPointer(sp)
        return true
    }

    @inline(__always) func pop(_ size: OperandSize) -> UInt64? {
        let sp = stackPointer
        guard let value = read(CPU.ss, sp, size) else { return nil }
        setStackPointer(stackOffset(sp, adding: size.bytes))
        return value
    }

    /// Reads the stack without popping: the value `depth` bytes above the top.
    @inline(__always) func peekStack(_ depth: Int, _ size: OperandSize) -> UInt64? {
        read(CPU.ss, stackOffset(stackPointer, adding: depth), size)
    }

    /// `peekStack` for the legacy-mode far transfers, whose frames hold at most 32-bit values.
    @inline(__always) func peekStack32(_ depth: Int, _ size: OperandSize) -> UInt32? {
        peekStack(depth, size).map { UInt32(truncatingIfNeeded: $0) }
    }

    /// Pushes two values (first `a`, then `b`), committing SP only when both writes succeed.
    @inline(__always) func push(_ a: UInt64, _ b: UInt64, _ size: OperandSize) -> Bool {
        let first = stackOffset(stackPointer, adding: -size.bytes)
        let second = stackOffset(first, adding: -size.bytes)
        guard write(CPU.ss, first, size, a), write(CPU.ss, second, size, b) else { return false }
        setStackPointer(second)
        return true
    }

    /// Pushes three values in order, committing SP only when every write succeeds.
    @inline(__always) func push(_ a: UInt64, _ b: UInt64, _ c: UInt64, _ size: OperandSize) -> Bool {
        let third = stackOffset(stackPointer, adding: -3 * size.bytes)
        guard write(CPU.ss, stackOffset(third, adding: 2 * size.bytes), size, a),
              write(CPU.ss, stackOffset(third, adding: size.bytes), size, b),
              write(CPU.ss, third, size, c) else { return false }
        setStackPointer(third)
        return true
    }

    // MARK: Handlers

    /// PUSH and POP of a register with a 16-bit operand size, out of line: `execute` runs the
    /// 32- and 64-bit forms inline.
    func execPushReg16(_ d: Instruction) -> Step { pushRegister(d, UInt16.self) }
    func execPopReg16(_ d: Instruction) -> Step { popRegister(d, UInt16.self) }

    /// PUSH of the register `reg` at `Value`'s size.
    @inline(__always) func pushRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        return push(readRegister(d.reg, size), size) ? .next : .fault
    }

    /// POP into the register `reg` at `Value`'s size.
    @inline(__always) func popRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        guard let v = pop(size) else { return .fault }
        writeRegister(d.reg, size, v)
        return .next
    }

    func execPushRm(_ d: Instruction) -> Step {
        guard let v = readRM(d, d.size) else { return .fault }
        return push(v, d.size) ? .next : .fault
    }

    /// POP r/m: the address is computed after ESP is incremented (SDM Vol. 2, POP).
    func execPopRm(_ d: Instruction) -> Step {
        let oldSP = stackPointer
        guard let v = pop(d.size) else { return .fault }
        if !writeRM(d, d.size, v) {
            setStackPointer(oldSP)
            return .fault
        }
        return .next
    }

    @inline(__always) func execPushImm(_ d: Instruction) -> Step {
        push(d.immediate & d.size.mask, d.size) ? .next : .fault
    }

    func execPushSeg(_ d: Instruction) -> Step {
        let selector = UInt64(segs[Int(d.sub)].selector)
        if d.size == .dword {
            // A 32-bit push of a segment register writes only the low 16 bits (SDM Vol. 2, PUSH).
            let sp = stackOffset(stackPointer, adding: -4)
            guard write(CPU.ss, sp, .word, selector) else { return .fault }
            setStackPointer(sp)
            return .next
        }
        return push(selector, .word) ? .next : .fault
    }

    func execPopSeg(_ d: Instruction) -> Step {
        guard let v = peekStack(0, d.size) else { return .fault }
        // SP moves by the stack size in force before the load: POP SS must not switch
        // to the new segment's B bit for its own increment (SDM Vol. 2, POP).
        let was32 = stackIs32
        let newSP = stackOffset(stackPointer, adding: d.size.bytes)
        guard loadSegment(Int(d.sub), selector: UInt16(truncatingIfNeeded: v)) else { return .fault }
        if executing64 {
            regs[GeneralRegister.rsp.rawValue] = newSP          // POP FS/GS: RSP is 64-bit whatever SS.B says
        } else if was32 {
            setReg32(.rsp, UInt32(truncatingIfNeeded: newSP))
        } else {
            setReg16(.rsp, UInt16(truncatingIfNeeded: newSP))
        }
        if d.sub == UInt8(SegmentRegister.ss.rawValue) { interruptShadow = true }
        return .exit
    }

    /// PUSHA/PUSHAD: pushes the eight registers, SP as it was before the first push.
    func execPusha(_ d: Instruction) -> Step {
        let size = d.size
        let bottom = stackOffset(stackPointer, adding: -8 * size.bytes)
        for r in 0..<8 {
            let slot = stackOffset(bottom, adding: (7 - r) * size.bytes)
            guard write(CPU.ss, slot, size, readRegister(RegisterFile.byteOffset(UInt8(r)), size)) else { return .fault }
        }
        setStackPointer(bottom)
        return .next
    }

    /// POPA/POPAD: pops the eight registers, discarding the saved SP.
    func execPopa(_ d: Instruction) -> Step {
        let size = d.size
        // Read everything first so a fault leaves the registers untouched.
        var values: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0, 0, 0, 0, 0)
        let ok = withUnsafeMutableBytes(of: &values) { buffer -> Bool in
            for i in 0..<8 {
                guard let v = peekStack(i * size.bytes, size) else { return false }
                buffer.storeBytes(of: UInt32(truncatingIfNeeded: v), toByteOffset: (7 - i) * 4, as: UInt32.self)
            }
            return true
        }
        guard ok else { return .fault }
        withUnsafeBytes(of: values) { buffer in
            for r in 0..<8 where r != GeneralRegister.rsp.rawValue {
                writeRegister(RegisterFile.byteOffset(UInt8(r)), size, UInt64(buffer.load(fromByteOffset: r * 4, as: UInt32.self)))
            }
        }
        setStackPointer(stackOffset(stackPointer, adding: 8 * size.bytes))
        return .next
    }

    /// PUSHF and POPF are IOPL-sensitive in virtual-8086 mode: #GP(0) unless IOPL = 3.
    func execPushf(_ d: Instruction) -> Step {
        if isVirtual8086 && iopl < 3 { return raiseFault(.generalProtection, errorCode: 0) }
        // VM and RF are never pushed (SDM Vol. 2, PUSHF).
        let flags = eflags & ~(EFlags.virtual8086 | EFlags.resume)
        return push(UInt64(flags) & d.size.mask, d.size) ? .next : .fault
    }

    func execPopf(_ d: Instruction) -> Step {
        if isVirtual8086 && iopl < 3 { return raiseFault(.generalProtection, errorCode: 0) }
        guard let v = pop(d.size) else { return .fault }
        writeFlagsFromStack(UInt32(truncatingIfNeeded: v), d.size, level: cpl)
        return .exit
    }

    /// EFLAGS.IOPL.
    var iopl: UInt8 { UInt8((eflagsStored & EFlags.iopl) >> 12) }

    /// The EFLAGS update of POPF and IRET (SDM Vol. 2, POPF and IRET), checked at `level`, the
    /// CPL the instruction ran at: IF changes only when it is ≤ IOPL and IOPL only at level 0; VM
    /// never (IRET handles it itself); VIF and VIP only for a protected-mode IRETD at level 0
    /// (`virtualInterruptFlags`); a 16-bit pop keeps the upper half.
    func writeFlagsFromStack(_ value: UInt32, _ size: OperandSize, level: UInt8, virtualInterruptFlags: Bool = false) {
        var changeable = EFlags.arithmetic | EFlags.trap | EFlags.direction | EFlags.nestedTask
        if level <= iopl { changeable |= EFlags.interrupt }
        if level == 0 { changeable |= EFlags.iopl }
        if size == .dword {
            changeable |= EFlags.alignmentCheck | EFlags.identification | EFlags.resume
            if virtualInterruptFlags && level == 0 { changeable |= EFlags.virtualInterrupt | EFlags.virtualInterruptPending }
        }
        // Every status flag is replaced, so the lazy ones need not be materialized.
        setEFlags((eflagsStored & ~changeable) | (value & changeable))
    }

    /// ENTER: make a stack frame of `imm` bytes with `imm2` (mod 32) nesting levels.
    func execEnter(_ d: Instruction) -> Step {
        let size = d.size
        let level = Int(d.imm2 & 31)
        let bpOffset = RegisterFile.byteOffset(UInt8(GeneralRegister.rbp.rawValue))
        var sp = stackPointer
        var bp = readRegister(bpOffset, stackAddressSize)
        // Compute every write first against scratch SP, then commit.
        sp = stackOffset(sp, adding: -size.bytes)
        guard write(CPU.ss, sp, size, readRegister(bpOffset, size)) else { return .fault }
        // FrameTemp is the whole ESP after the push, even on a 16-bit stack whose pushes
        // leave ESP's upper half alone; a 32-bit ENTER stores and loads all 32 bits of it
        // (SDM Vol. 2, ENTER: FrameTemp ← ESP; EBP ← FrameTemp).
        let frameTemp = executing64 || stackIs32 ? sp : (UInt64(reg32(.rsp)) & 0xFFFF_0000) | sp
        if level > 0 {
            for _ in 1..<level {
                bp = stackOffset(bp, adding: -size.bytes)
                guard let v = read(CPU.ss, bp, size) else { return .fault }
                sp = stackOffset(sp, adding: -size.bytes)
                guard write(CPU.ss, sp, size, v) else { return .fault }
            }
            sp = stackOffset(sp, adding: -size.bytes)
            guard write(CPU.ss, sp, size, frameTemp) else { return .fault }
        }
        let newSP = stackOffset(sp, adding: -Int(d.imm))
        // The final stack pointer must be valid too (the SDM's check of the frame's last byte).
        // "ENTER causes a page fault whenever a write using the final value of the stack
        // pointer would do so" (SDM Vol. 2, ENTER), so paging is asked too, as for a write.
        if newSP != sp {
            guard let linear = linearAddress(CPU.ss, newSP, 1, forWrite: true) else { return .fault }
            if pagingEnabled && translate(linear, .write) == nil { return .fault }
        }
        writeRegister(bpOffset, size, frameTemp)
        setStackPointer(newSP)
        return .next
    }

    func execLeave(_ d: Instruction) -> Step {
        let bp = readRegister(RegisterFile.byteOffset(UInt8(GeneralRegister.rbp.rawValue)), stackAddressSize)
        guard let v = read(CPU.ss, bp, d.size) else { return .fault }
        setStackPointer(stackOffset(bp, adding: d.size.bytes))
        writeRegister(RegisterFile.byteOffset(UInt8(GeneralRegister.rbp.rawValue)), d.size, v)
        return .next
    }
}
