/// The common case of protected-mode event delivery and IRET, taken without the general path's
/// bookkeeping: a 32-bit interrupt or trap gate to code at the current privilege level, and the
/// IRET back, with the IDT entry, the code descriptor and the whole stack frame in pages the TLB
/// already maps. Every check of the general path is made; whenever one would fail, or anything
/// is out of the ordinary (a TLB miss, a 16-bit gate or stack, a descriptor whose accessed bit
/// must be set, a frame across a page), these return `false` having changed nothing, and the
/// general path in ProtectedModeDelivery.swift runs instead and raises what it must.
extension CPU {
    /// Delivery through an interrupt or trap gate to the current level (SDM Vol. 3A, 6.12.1,
    /// "stack usage with no privilege-level change"); `true` when it is done.
    @inline(__always)
    func deliverThroughSameLevelGate(vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        let entry = UInt32(vector) &* 8
        guard entry &+ 7 <= idtr.limit, !isVirtual8086,
              let gate = mappedDescriptor(at: (idtr.base &+ UInt64(entry)) & 0xFFFF_FFFF),
              gate.systemType == .interruptGate32 || gate.systemType == .trapGate32, gate.isPresent,
              kind != .software || gate.privilegeLevel >= cpl else { return false }
        let selector = gate.gateSelector
        guard let code = mappedCodeDescriptor(selector),
              code.runs(atLevel: cpl),
              gate.gateOffset <= code.limit else { return false }
        let ss = segs[SegmentRegister.ss.rawValue]
        let stackPointer = reg32(.rsp)
        let frameSize: UInt32 = errorCode == nil ? 12 : 16
        guard ss.defaultSize32, stackPointer >= frameSize, stackPointer &- frameSize >= ss.writeLowest,
              stackPointer &- 1 <= ss.writeHighest,
              let frame = mappedLinear((ss.base &+ UInt64(stackPointer &- frameSize)) & 0xFFFF_FFFF,
                                       length: Int(frameSize), forWrite: true) else { return false }
        var slot = 0
        if let errorCode {
            frame.storeBytes(of: errorCode, as: UInt32.self)
            slot = 4
        }
        frame.storeBytes(of: UInt32(truncatingIfNeeded: rip), toByteOffset: slot, as: UInt32.self)
        frame.storeBytes(of: UInt32(segs[SegmentRegister.cs.rawValue].selector), toByteOffset: slot + 4, as: UInt32.self)
        frame.storeBytes(of: flagsToPush(for: kind), toByteOffset: slot + 8, as: UInt32.self)
        loadCheckedCodeSegment(selector, code, offset: gate.gateOffset, level: cpl)
        setReg32(.rsp, stackPointer &- frameSize)
        clearFlagsOnDelivery(through: gate)
        return true
    }

    /// A 32-bit IRET to code at the current level (SDM Vol. 2, IRET, "return to same privilege
    /// level"); `true` when it is done.
    @inline(__always)
    func returnToSameLevel(size: OperandSize) -> Bool {
        let ss = segs[SegmentRegister.ss.rawValue]
        let stackPointer = reg32(.rsp)
        guard size == .dword, eflagsStored & EFlags.nestedTask == 0, ss.defaultSize32,
              stackPointer <= 0xFFFF_FFFF - 12, stackPointer >= ss.readLowest, stackPointer &+ 11 <= ss.readHighest,
              let frame = mappedLinear((ss.base &+ UInt64(stackPointer)) & 0xFFFF_FFFF, length: 12, forWrite: false)
        else { return false }
        let offset = frame.loadUnaligned(as: UInt32.self)
        let selector = UInt16(truncatingIfNeeded: frame.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
        let flags = frame.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
        guard flags & EFlags.virtual8086 == 0 || cpl != 0, selector.requestedPrivilegeLevel == cpl,
              let code = mappedCodeDescriptor(selector),
              code.runs(atLevel: cpl),
              offset <= code.limit else { return false }
        let level = cpl
        loadCheckedCodeSegment(selector, code, offset: offset, level: level)
        setReg32(.rsp, stackPointer &+ 12)
        writeFlagsFromStack(flags, size, level: level, virtualInterruptFlags: true)
        return true
    }

    /// A descriptor-table entry the supervisor half of the TLB maps for reading.
    @inline(__always)
    private func mappedDescriptor(at address: UInt64) -> Descriptor? {
        asSupervisor { mappedLinear(address, length: 8, forWrite: false) }.map { Descriptor($0.loadUnaligned(as: UInt64.self)) }
    }

    /// A present code descriptor, already marked accessed, for a non-null selector inside its table.
    @inline(__always)
    func mappedCodeDescriptor(_ selector: UInt16) -> Descriptor? {
        guard !selector.isNullSelector, let address = descriptorAddress(selector),
              let code = mappedDescriptor(at: address), code.isCode, code.isPresent, code.isAccessed else { return nil }
        return code
    }

    /// The SS an IRETQ back to `level` loads when every check of `checkStackSegment` passes
    /// without a fault or an accessed bit to set: a present writable data segment of DPL = RPL =
    /// `level` already marked accessed, or the null selector 64-bit code below level 3 may use.
    @inline(__always)
    func mappedStackSegment64(_ selector: UInt16, level: UInt8) -> SegmentCache? {
        guard selector.requestedPrivilegeLevel == level else { return nil }
        if selector.isNullSelector { return level != 3 ? SegmentCache.null(selector) : nil }
        guard let address = descriptorAddress(selector), let stack = mappedDescriptor(at: address),
              stack.isWritableData, stack.privilegeLevel == level, stack.isPresent, stack.isAccessed else { return nil }
        return stack.cache(selector: selector)
    }
}
