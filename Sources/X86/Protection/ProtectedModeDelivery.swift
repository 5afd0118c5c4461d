/// Interrupt and exception delivery through the IDT, and IRET, in protected mode
/// (SDM Vol. 3A, 6.10–6.14; Vol. 2, INT n and IRET).
extension CPU {
    /// One delivery through the IDT; `false` with a new exception pending when it faulted.
    /// Errors raised here carry EXT (bit 0) when the event came from outside the program.
    func deliverProtectedMode(vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        if deliverThroughSameLevelGate(vector: vector, errorCode: errorCode, kind: kind) { return true }
        let external: UInt32 = kind == .software ? 0 : 1
        let gateErrorCode = UInt32(vector) &* 8 &+ 2 &+ external
        let entry = UInt32(vector) &* 8
        if entry &+ 7 > idtr.limit {
            raiseFault(.generalProtection, errorCode: gateErrorCode)
            return false
        }
        guard let gate = readDescriptor(at: (idtr.base &+ UInt64(entry)) & 0xFFFF_FFFF) else { return false }
        switch gate.systemType {
        case .taskGate, .interruptGate16, .trapGate16, .interruptGate32, .trapGate32: break
        default:
            raiseFault(.generalProtection, errorCode: gateErrorCode)
            return false
        }
        // INT n, INT3 and INTO may use only gates at or below their privilege (not INT1 or exceptions).
        if kind == .software && gate.privilegeLevel < cpl {
            raiseFault(.generalProtection, errorCode: gateErrorCode)
            return false
        }
        if !gate.isPresent {
            raiseFault(.segmentNotPresent, errorCode: gateErrorCode)
            return false
        }
        if gate.systemType == .taskGate {
            return switchTaskForEvent(gate.gateSelector, vector: vector, errorCode: errorCode, kind: kind)
        }
        let selector = gate.gateSelector
        guard let code = gateHandlerSegment(selector, external: external, longMode: false) else { return false }
        let size: OperandSize = gate.isGate32 ? .dword : .word
        let entryPoint = gate.isGate32 ? gate.gateOffset : gate.gateOffset & 0xFFFF
        let fromVirtual8086 = isVirtual8086
        let toInnerLevel = !code.isConformingCode && code.privilegeLevel < cpl
        if fromVirtual8086 && (!toInnerLevel || code.privilegeLevel != 0) {
            // A handler for virtual-8086 mode must run at level 0 on its own stack.
            raiseFault(.generalProtection, errorCode: selector.errorCode | external)
            return false
        }
        let oldFlags = flagsToPush(for: kind)
        let oldStack = segs[SegmentRegister.ss.rawValue]
        let oldLevel = cpl
        var frame: StackFrame
        if toInnerLevel {
            let level = code.privilegeLevel
            guard let (stackSelector, stackPointer) = stackFromTSS(level: level, external: external),
                  let stackSegment = checkStackSegment(stackSelector, privilegeLevel: level, vector: .invalidTSS, external: external) else { return false }
            frame = StackFrame(segment: stackSegment, pointer: stackPointer, faultCode: stackSelector.errorCode | external)
        } else {
            frame = StackFrame(segment: oldStack, pointer: reg32(.rsp), faultCode: external)
        }
        if entryPoint > code.limit {
            raiseFault(.generalProtection, errorCode: external)
            return false
        }
        setPrivilegeLevel(toInnerLevel ? code.privilegeLevel : cpl)
        var pushed = true
        if fromVirtual8086 {
            for segment in [SegmentRegister.gs, .fs, .ds, .es] where pushed {
                pushed = push(UInt32(segs[segment.rawValue].selector), size, onto: &frame)
            }
        }
        if toInnerLevel {
            // The whole ESP, even from a 16-bit stack (SDM Vol. 2, INT n: TempESP ← ESP).
            pushed = pushed && push(UInt32(oldStack.selector), size, onto: &frame) && push(reg32(.rsp), size, onto: &frame)
        }
        pushed = pushed && push(oldFlags, size, onto: &frame)
            && push(UInt32(segs[SegmentRegister.cs.rawValue].selector), size, onto: &frame)
            && push(UInt32(truncatingIfNeeded: rip), size, onto: &frame)
        if pushed, let errorCode { pushed = push(errorCode, size, onto: &frame) }
        guard pushed else {
            setPrivilegeLevel(oldLevel)
            return false
        }
        guard commitCodeSegment(selector, code, offset: entryPoint, level: toInnerLevel ? code.privilegeLevel : oldLevel) else {
            setPrivilegeLevel(oldLevel)
            return false
        }
        commitStack(frame)
        if fromVirtual8086 {
            for segment in [SegmentRegister.gs, .fs, .ds, .es] { segs[segment.rawValue] = SegmentCache.null(0) }
        }
        clearFlagsOnDelivery(through: gate)
        return true
    }

    /// The EFLAGS image an event pushes. Faults push RF = 1, so the restarted instruction does not
    /// hit its instruction breakpoint again; an instruction breakpoint's own #DB pushes RF as it
    /// was (SDM Vol. 3A, 17.3.1.1).
    @inline(__always)
    func flagsToPush(for kind: EventKind) -> UInt32 {
        kind == .fault && !deliveringInstructionBreakpoint ? eflags | EFlags.resume : eflags
    }

    /// Entering a handler clears TF, NT, RF and VM, and IF too through an interrupt gate.
    @inline(__always)
    func clearFlagsOnDelivery(through gate: Descriptor) {
        var cleared = EFlags.trap | EFlags.nestedTask | EFlags.resume | EFlags.virtual8086
        if gate.systemType == .interruptGate16 || gate.systemType == .interruptGate32 { cleared |= EFlags.interrupt }
        eflagsStored &= ~cleared
    }

    /// IRET in protected mode: a task return when NT is set; otherwise pop EIP, CS and EFLAGS and
    /// return to the same level, an outer level (popping ESP and SS too), or virtual-8086 mode.
    func interruptReturnProtected(size: OperandSize) -> Bool {
        if returnToSameLevel(size: size) { return true }
        if eflagsStored & EFlags.nestedTask != 0 {
            return returnFromNestedTask()
        }
        guard let offset = peekStack32(0, size), let selectorValue = peekStack32(size.bytes, size),
              let flags = peekStack32(2 * size.bytes, size) else { return false }
        if size == .dword && flags & EFlags.virtual8086 != 0 && cpl == 0 {
            return returnToVirtual8086(offset: offset, selector: UInt16(truncatingIfNeeded: selectorValue), flags: flags)
        }
        let selector = UInt16(truncatingIfNeeded: selectorValue)
        guard let code = checkReturnCodeSegment(selector) else { return false }
        let rpl = selector.requestedPrivilegeLevel
        let oldLevel = cpl
        if rpl == cpl {
            guard commitCodeSegment(selector, code, offset: offset, level: cpl) else { return false }
            setStackPointer(stackOffset(stackPointer, adding: 3 * size.bytes))
            writeFlagsFromStack(flags, size, level: oldLevel, virtualInterruptFlags: true)
            return true
        }
        guard let newPointer = peekStack32(3 * size.bytes, size), let newStackSelector = peekStack32(4 * size.bytes, size),
              let stackSegment = checkStackSegment(UInt16(truncatingIfNeeded: newStackSelector), privilegeLevel: rpl,
                                                   vector: .generalProtection) else { return false }
        guard commitCodeSegment(selector, code, offset: offset, level: rpl) else { return false }
        writeFlagsFromStack(flags, size, level: oldLevel, virtualInterruptFlags: true)
        segs[SegmentRegister.ss.rawValue] = stackSegment
        setStackPointer(UInt64(newPointer))
        nullifyInaccessibleDataSegments()
        return true
    }

    /// IRET from level 0 with VM set in the popped EFLAGS: the frame also holds ESP, SS, ES, DS,
    /// FS and GS, all loaded as virtual-8086 segments (base = selector × 16, limit 64 KiB).
    private func returnToVirtual8086(offset: UInt32, selector: UInt16, flags: UInt32) -> Bool {
        var values: [UInt32] = []
        for i in 3..<9 {
            guard let value = peekStack32(i * 4, .dword) else { return false }
            values.append(value)
        }
        // The new CS is a 64 KiB virtual-8086 segment: an EIP beyond it is #GP(0) (SDM Vol. 2, IRET).
        if offset > 0xFFFF {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        setEFlags((flags & EFlags.writable) | EFlags.virtual8086)
        setPrivilegeLevel(3)
        let order: [SegmentRegister] = [.ss, .es, .ds, .fs, .gs]
        for (i, segment) in order.enumerated() {
            segs[segment.rawValue] = SegmentCache.virtual8086(UInt16(truncatingIfNeeded: values[i + 1]))
        }
        segs[SegmentRegister.cs.rawValue] = SegmentCache.virtual8086(selector)
        setReg32(.rsp, values[0])
        rip = UInt64(offset)
        return true
    }
}

extension SegmentCache {
    /// A segment in virtual-8086 mode: base = selector × 16, 64 KiB, read/write, DPL 3.
    static func virtual8086(_ selector: UInt16) -> SegmentCache {
        SegmentCache(selector: selector, base: UInt64(selector) << 4, limit: 0xFFFF, attributes: 0xF3)
    }
}

extension CPU {
    /// The code segment an interrupt or trap gate names (SDM Vol. 3A, 6.12.1.1 and 6.14.1): a
    /// non-null selector to a present code segment no less privileged than CPL, and 64-bit code
    /// for an IA-32e gate; `nil` with the fault raised otherwise.
    func gateHandlerSegment(_ selector: UInt16, external: UInt32, longMode: Bool) -> Descriptor? {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: external)
            return nil
        }
        guard let code = readDescriptor(selector, errorCode: selector.errorCode | external) else { return nil }
        if !(longMode ? code.isLongModeCode : code.isCode) || code.privilegeLevel > cpl {
            raiseFault(.generalProtection, errorCode: selector.errorCode | external)
            return nil
        }
        if !code.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode | external)
            return nil
        }
        return code
    }
}
