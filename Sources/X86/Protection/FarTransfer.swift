/// Far JMP, CALL and RET in protected mode: direct to code segments, through call gates
/// (with the stack switch and parameter copy of an inter-privilege call), and to tasks
/// (SDM Vol. 3A, 5.8; Vol. 2, JMP, CALL, RET).
extension CPU {
    /// A call gate, task gate or TSS named by a far JMP or CALL: DPL ≥ max(CPL, RPL), else
    /// #GP(selector); present, else #NP(selector).
    func checkGateOrTSS(_ selector: UInt16, _ descriptor: Descriptor) -> Bool {
        if !descriptor.isAccessible(requestedLevel: selector.requestedPrivilegeLevel, atLevel: cpl) {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return false
        }
        return true
    }

    /// The code segment a call gate points to, checked for a JMP (`forCall` false) or a CALL;
    /// in IA-32e mode it must be 64-bit code (SDM Vol. 2, CALL: "not a 64-bit code segment").
    func callGateTarget(_ gateSelector: UInt16, _ gate: Descriptor, forCall: Bool) -> (UInt16, Descriptor)? {
        guard checkGateOrTSS(gateSelector, gate) else { return nil }
        let selector = gate.gateSelector
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        guard let target = readDescriptor(selector) else { return nil }
        let privilegeOK: Bool
        if !(longModeActive ? target.isLongModeCode : target.isCode) {
            privilegeOK = false
        } else if forCall || target.isConformingCode {
            privilegeOK = target.privilegeLevel <= cpl
        } else {
            privilegeOK = target.privilegeLevel == cpl
        }
        if !privilegeOK {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        if !target.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return nil
        }
        return (selector, target)
    }

    func farJumpProtected(selector: UInt16, offset: UInt32) -> Bool {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        guard let descriptor = readDescriptor(selector) else { return false }
        if descriptor.isCode {
            return checkDirectCodeTarget(selector, descriptor)
                && commitCodeSegment(selector, descriptor, offset: offset, level: cpl)
        }
        switch descriptor.systemType {
        case .callGate16, .callGate32:
            guard let (target, code) = callGateTarget(selector, descriptor, forCall: false) else { return false }
            let offset = descriptor.isGate32 ? descriptor.gateOffset : descriptor.gateOffset & 0xFFFF
            return commitCodeSegment(target, code, offset: offset, level: cpl)
        case .taskGate, .availableTSS16, .availableTSS32:
            return switchTask(through: selector, descriptor, reason: .jump)
        default:
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
    }

    /// CALL far in protected mode; the return address is pushed with the operand size (direct)
    /// or the gate's size (call gate).
    func farCallProtected(selector: UInt16, offset: UInt32, size: OperandSize) -> Bool {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        guard let descriptor = readDescriptor(selector) else { return false }
        let returnSelector = UInt32(segs[SegmentRegister.cs.rawValue].selector)
        let returnOffset = UInt32(truncatingIfNeeded: rip)
        if descriptor.isCode {
            guard checkDirectCodeTarget(selector, descriptor) else { return false }
            if offset > descriptor.limit {
                raiseFault(.generalProtection, errorCode: 0)
                return false
            }
            var frame = currentStackFrame
            guard push(returnSelector, size, onto: &frame), push(returnOffset, size, onto: &frame),
                  commitCodeSegment(selector, descriptor, offset: offset, level: cpl) else { return false }
            commitStack(frame)
            return true
        }
        switch descriptor.systemType {
        case .callGate16, .callGate32:
            guard let (target, code) = callGateTarget(selector, descriptor, forCall: true) else { return false }
            let gateSize: OperandSize = descriptor.isGate32 ? .dword : .word
            let entry = descriptor.isGate32 ? descriptor.gateOffset : descriptor.gateOffset & 0xFFFF
            if entry > code.limit {
                raiseFault(.generalProtection, errorCode: 0)
                return false
            }
            if !code.isConformingCode && code.privilegeLevel < cpl {
                return callToInnerLevel(target, code, entry: entry, gateSize: gateSize,
                                        parameterCount: descriptor.gateParameterCount,
                                        returnSelector: returnSelector, returnOffset: returnOffset)
            }
            var frame = currentStackFrame
            guard push(returnSelector, gateSize, onto: &frame), push(returnOffset, gateSize, onto: &frame),
                  commitCodeSegment(target, code, offset: entry, level: cpl) else { return false }
            commitStack(frame)
            return true
        case .taskGate, .availableTSS16, .availableTSS32:
            return switchTask(through: selector, descriptor, reason: .call)
        default:
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
    }

    /// A call gate to a more privileged non-conforming segment: the new stack comes from the
    /// TSS; the old SS:ESP, the gate's parameters and the return address go onto it.
    private func callToInnerLevel(_ target: UInt16, _ code: Descriptor, entry: UInt32, gateSize: OperandSize,
                                  parameterCount: Int, returnSelector: UInt32, returnOffset: UInt32) -> Bool {
        let level = code.privilegeLevel
        guard let (stackSelector, newStackPointer) = stackFromTSS(level: level, external: 0),
              let stackSegment = checkStackSegment(stackSelector, privilegeLevel: level, vector: .invalidTSS) else { return false }
        // The parameters are read from the caller's stack before anything changes.
        var parameters: [UInt32] = []
        // The whole ESP is pushed (a 16-bit gate truncates it), whatever the old stack's B flag.
        let oldStackPointer = reg32(.rsp)
        for i in 0..<parameterCount {
            guard let value = peekStack32(i * gateSize.bytes, gateSize) else { return false }
            parameters.append(value)
        }
        var frame = StackFrame(segment: stackSegment, pointer: newStackPointer, faultCode: stackSelector.errorCode)
        let oldLevel = cpl
        setPrivilegeLevel(level)
        var pushed = push(UInt32(segs[SegmentRegister.ss.rawValue].selector), gateSize, onto: &frame)
            && push(oldStackPointer, gateSize, onto: &frame)
        for value in parameters.reversed() where pushed {
            pushed = push(value, gateSize, onto: &frame)
        }
        pushed = pushed && push(returnSelector, gateSize, onto: &frame) && push(returnOffset, gateSize, onto: &frame)
        guard pushed, commitCodeSegment(target, code, offset: entry, level: level) else {
            setPrivilegeLevel(oldLevel)
            return false
        }
        commitStack(frame)
        return true
    }

    /// Checks the code segment a far RET or IRET returns to (SDM Vol. 2, RET): RPL ≥ CPL; conforming
    /// with DPL ≤ RPL or non-conforming with DPL = RPL; present.
    func checkReturnCodeSegment(_ selector: UInt16) -> Descriptor? {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        guard let descriptor = readDescriptor(selector) else { return nil }
        let rpl = selector.requestedPrivilegeLevel
        if rpl < cpl || !descriptor.isCode || !descriptor.runs(atLevel: rpl) {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return nil
        }
        return descriptor
    }

    /// RET far in protected mode, to the same or an outer privilege level; `release` bytes of
    /// parameters are dropped from both stacks.
    func farReturnProtected(size: OperandSize, release: UInt32) -> Bool {
        guard let offset = peekStack32(0, size), let selectorValue = peekStack32(size.bytes, size) else { return false }
        let selector = UInt16(truncatingIfNeeded: selectorValue)
        guard let code = checkReturnCodeSegment(selector) else { return false }
        let rpl = selector.requestedPrivilegeLevel
        if rpl == cpl {
            guard commitCodeSegment(selector, code, offset: offset, level: cpl) else { return false }
            setStackPointer(stackOffset(stackPointer, adding: 2 * size.bytes + Int(release)))
            return true
        }
        let outer = 2 * size.bytes + Int(release)
        guard let newPointer = peekStack32(outer, size), let newStackSelector = peekStack32(outer + size.bytes, size),
              let stackSegment = checkStackSegment(UInt16(truncatingIfNeeded: newStackSelector), privilegeLevel: rpl,
                                                   vector: .generalProtection) else { return false }
        guard commitCodeSegment(selector, code, offset: offset, level: rpl) else { return false }
        segs[SegmentRegister.ss.rawValue] = stackSegment
        setStackPointer(stackOffset(UInt64(newPointer), adding: Int(release)))
        nullifyInaccessibleDataSegments()
        return true
    }
}
