/// Call gates in IA-32e mode (SDM Vol. 3A, 5.8.3.1; Vol. 2, CALL and JMP), named by a far JMP
/// or CALL from 64-bit or compatibility code. The gate is a 16-byte descriptor of type 0xC whose
/// upper half holds bits 63:32 of the entry point; it leads only to 64-bit code. A CALL to a
/// more privileged level takes RSPn from the 64-bit TSS, loads SS with a null selector whose
/// RPL is the new CPL and pushes the old SS, RSP, CS and RIP in 8-byte slots; no parameters are
/// copied. The far RET back is `farReturnLongMode`'s.
extension CPU {
    /// The target of a call gate in IA-32e mode: its code segment and 64-bit entry point, the
    /// entry not yet checked. A gate of another type (legacy 16-bit call gates included), one
    /// whose upper half lies beyond its table's limit or has a nonzero type field is #GP(gate
    /// selector), checked before presence; the code must be 64-bit (L = 1, D = 0).
    private func longModeCallGate(_ selector: UInt16, _ gate: Descriptor,
                                  forCall: Bool) -> (selector: UInt16, code: Descriptor, entry: UInt64)? {
        guard gate.isAccessible(requestedLevel: selector.requestedPrivilegeLevel, atLevel: cpl),
              gate.systemType == .callGate32 else {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        // The upper half's type field must be 0 (checked there; SDM Vol. 3A, Figure 5-9).
        guard let upper = upperDescriptorHalf(selector) else { return nil }
        guard let (target, code) = callGateTarget(selector, gate, forCall: forCall) else { return nil }
        return (target, code, UInt64(gate.gateOffset) | (upper & 0xFFFF_FFFF) << 32)
    }

    /// JMP through a call gate: to the gate's entry at the current privilege level.
    func farJumpThroughCallGate64(_ selector: UInt16, _ gate: Descriptor) -> Bool {
        guard let target = longModeCallGate(selector, gate, forCall: false),
              isReachable(target.entry, in: target.code) else { return false }
        return enterCodeSegment(target.selector, target.code, offset: target.entry, level: cpl)
    }

    /// CALL through a call gate. The return frame goes onto a 64-bit stack (the new CS is 64-bit
    /// code): RSPn for a more privileged non-conforming segment, else the current RSP, whose
    /// slots must all be canonical (#SS(0)); then the entry must be canonical (#GP(0)).
    func farCallThroughCallGate64(_ selector: UInt16, _ gate: Descriptor) -> Bool {
        guard let target = longModeCallGate(selector, gate, forCall: true) else { return false }
        let code = target.code
        let toInnerLevel = !code.isConformingCode && code.privilegeLevel < cpl
        let level = toInnerLevel ? code.privilegeLevel : cpl
        var top = regs[GeneralRegister.rsp.rawValue]
        if toInnerLevel {
            guard let pointer = stackPointerFromTSS(offset: 4 + 8 * Int(level), external: 0) else { return false }
            top = pointer
        }
        // SS, RSP (to an inner level only), CS and RIP, from the top down.
        let frameSize: UInt64 = toInnerLevel ? 32 : 16
        guard isCanonical(top &- 1) && isCanonical(top &- frameSize) else {
            raiseFault(.stackFault, errorCode: 0)
            return false
        }
        guard isReachable(target.entry, in: code) else { return false }
        let slot = { (index: UInt64) in top &- 8 &* (index + 1) }
        let oldLevel = cpl
        setPrivilegeLevel(level)
        var pushed = true
        if toInnerLevel {
            pushed = writeLinear(slot(0), UInt64(segs[SegmentRegister.ss.rawValue].selector))
                && writeLinear(slot(1), regs[GeneralRegister.rsp.rawValue])
        }
        let returnSlot: UInt64 = toInnerLevel ? 2 : 0
        pushed = pushed && writeLinear(slot(returnSlot), UInt64(segs[SegmentRegister.cs.rawValue].selector))
            && writeLinear(slot(returnSlot + 1), rip)
        guard pushed, enterCodeSegment(target.selector, code, offset: target.entry, level: level) else {
            setPrivilegeLevel(oldLevel)
            return false
        }
        if toInnerLevel { segs[SegmentRegister.ss.rawValue] = SegmentCache.null(UInt16(level)) }
        regs[GeneralRegister.rsp.rawValue] = top &- frameSize
        return true
    }
}
