/// Far JMP, CALL and RET in IA-32e mode (SDM Vol. 2, JMP, CALL, RET; Vol. 3A, 5.8.3.1): to a
/// code segment directly, with offsets up to 64 bits, or through a 64-bit call gate
/// (LongModeCallGates.swift). The target is 64-bit code (its offset must be canonical) or
/// compatibility-mode code (its offset within the limit). Task gates and TSSs do not exist in
/// IA-32e mode.
extension CPU {
    /// The descriptor a far JMP or CALL names in IA-32e mode; `nil` with #GP pending: #GP(0)
    /// for a null selector, #GP(selector) for one outside its table.
    private func longModeFarDescriptor(_ selector: UInt16) -> Descriptor? {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        return readDescriptor(selector)
    }

    /// Whether a code segment may be the direct target of a far JMP or CALL at `offset`.
    private func isDirectTarget(_ selector: UInt16, _ descriptor: Descriptor, offset: UInt64) -> Bool {
        checkDirectCodeTarget(selector, descriptor) && isReachable(offset, in: descriptor)
    }

    /// Whether `offset` may be jumped to in the code segment `descriptor`: canonical for 64-bit
    /// code, within the limit for compatibility-mode code; #GP(0) otherwise.
    func isReachable(_ offset: UInt64, in descriptor: Descriptor) -> Bool {
        if descriptor.isLongModeCode ? !isCanonical(offset) : offset > UInt64(descriptor.limit) {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        return true
    }

    /// The SS a far RET or IRET to `level` loads: checked as a stack for that level, or null,
    /// which 64-bit code below level 3 may run with. `nil` with #GP pending.
    func returnStackSegment(_ selector: UInt16, level: UInt8, to code: Descriptor) -> SegmentCache? {
        if selector.isNullSelector && code.isLongModeCode && level != 3 { return SegmentCache.null(selector) }
        return checkStackSegment(selector, privilegeLevel: level, vector: .generalProtection)
    }

    /// Loads CS (RPL = `level`) and RIP after every check passed.
    func enterCodeSegment(_ selector: UInt16, _ descriptor: Descriptor, offset: UInt64, level: UInt8) -> Bool {
        guard markAccessed(selector, descriptor) else { return false }
        segs[SegmentRegister.cs.rawValue] = descriptor.cache(selector: (selector & 0xFFFC) | UInt16(level))
        setPrivilegeLevel(level)
        rip = offset
        return true
    }

    func farJumpLongMode(selector: UInt16, offset: UInt64) -> Bool {
        guard let descriptor = longModeFarDescriptor(selector) else { return false }
        if !descriptor.isCode { return farJumpThroughCallGate64(selector, descriptor) }
        guard isDirectTarget(selector, descriptor, offset: offset) else { return false }
        return enterCodeSegment(selector, descriptor, offset: offset, level: cpl)
    }

    /// CALL far: directly, CS and the return RIP pushed with the operand size, then the jump.
    func farCallLongMode(selector: UInt16, offset: UInt64, size: OperandSize) -> Bool {
        guard let descriptor = longModeFarDescriptor(selector) else { return false }
        if !descriptor.isCode { return farCallThroughCallGate64(selector, descriptor) }
        guard isDirectTarget(selector, descriptor, offset: offset) else { return false }
        let savedPointer = stackPointer
        guard push(UInt64(segs[SegmentRegister.cs.rawValue].selector), rip, size) else { return false }
        guard enterCodeSegment(selector, descriptor, offset: offset, level: cpl) else {
            setStackPointer(savedPointer)
            return false
        }
        return true
    }

    /// RET far: RIP and CS popped with the operand size, `release` bytes dropped; to an outer
    /// level RSP and SS are popped too (SS may be null for 64-bit code below level 3).
    func farReturnLongMode(size: OperandSize, release: UInt32) -> Bool {
        guard let offset = peekStack(0, size), let selectorValue = peekStack(size.bytes, size) else { return false }
        let selector = UInt16(truncatingIfNeeded: selectorValue)
        guard let code = checkReturnCodeSegment(selector), isReachable(offset, in: code) else { return false }
        let level = selector.requestedPrivilegeLevel
        let popped = 2 * size.bytes + Int(release)
        if level == cpl {
            guard enterCodeSegment(selector, code, offset: offset, level: level) else { return false }
            setStackPointer(stackOffset(stackPointer, adding: popped))
            return true
        }
        guard let newPointer = peekStack(popped, size), let stackValue = peekStack(popped + size.bytes, size) else { return false }
        guard let stack = returnStackSegment(UInt16(truncatingIfNeeded: stackValue), level: level, to: code) else { return false }
        guard enterCodeSegment(selector, code, offset: offset, level: level) else { return false }
        segs[SegmentRegister.ss.rawValue] = stack
        regs[GeneralRegister.rsp.rawValue] = newPointer &+ UInt64(release)
        nullifyInaccessibleDataSegments()
        return true
    }
}
