/// The 0F 00 group (SLDT, STR, LLDT, LTR, VERR, VERW), LAR, LSL and ARPL: instructions that
/// exist only in protected mode and are #UD in real and virtual-8086 mode (SDM Vol. 2).
extension CPU {
    func execSystemSegment(_ d: Instruction) -> Step {
        if isRealAddressing { return raiseFault(.invalidOpcode) }
        switch d.sub {
        case 0, 1:
            let selector = d.sub == 0 ? ldtr.selector : taskRegister.selector
            // A register destination with a 32-bit operand gets the selector zero-extended.
            let size: OperandSize = d.hasMemoryOperand ? .word : d.size
            return writeRM(d, size, UInt32(selector)) ? .next : .fault
        case 2, 3:
            guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
            guard let value = readRM(d, .word) else { return .fault }
            let selector = UInt16(truncatingIfNeeded: value)
            if d.sub == 2 {
                return loadLocalDescriptorTable(selector, vector: .generalProtection, notPresent: .segmentNotPresent, external: 0) ? .exit : .fault
            }
            return loadTaskRegister(selector) ? .exit : .fault
        case 4, 5:
            guard let value = readRM(d, .word) else { return .fault }
            guard let verified = verifySegment(UInt16(truncatingIfNeeded: value), forWrite: d.sub == 5) else { return .fault }
            setStatusFlags(EFlags.zero, verified ? EFlags.zero : 0)
            return .next
        default:
            return raiseFault(.invalidOpcode)
        }
    }

    /// LLDT (and a task switch's LDT load): null makes LDTR unusable; otherwise an LDT descriptor in the GDT.
    func loadLocalDescriptorTable(_ selector: UInt16, vector: ExceptionVector, notPresent: ExceptionVector,
                                  external: UInt32) -> Bool {
        if selector.isNullSelector {
            ldtr = SegmentCache.null(selector)
            return true
        }
        if selector.selectsLDT {
            raiseFault(vector, errorCode: selector.errorCode | external)
            return false
        }
        guard let descriptor = readDescriptor(selector, vector: vector, errorCode: selector.errorCode | external) else { return false }
        if descriptor.systemType != .ldt {
            raiseFault(vector, errorCode: selector.errorCode | external)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(notPresent, errorCode: selector.errorCode | external)
            return false
        }
        ldtr = descriptor.cache(selector: selector)
        return true
    }

    /// LTR: an available TSS in the GDT, which becomes busy.
    private func loadTaskRegister(_ selector: UInt16) -> Bool {
        if selector.isNullSelector {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        if selector.selectsLDT {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        guard let descriptor = readDescriptor(selector) else { return false }
        if descriptor.systemType != .availableTSS16 && descriptor.systemType != .availableTSS32 {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return false
        }
        guard setBusy(selector, true) else { return false }
        taskRegister = descriptor.cache(selector: selector)
        taskRegister.attributes |= 0x2
        return true
    }

    /// The descriptor LAR, LSL, VERR and VERW may inspect: `nil` (ZF cleared) for a null selector,
    /// one outside its table, or one the current level may not see (DPL < max(CPL, RPL), except
    /// conforming code). A fault reading the table is returned as `.failure`.
    private func visibleDescriptor(_ selector: UInt16) -> Result<Descriptor?, DescriptorReadFault> {
        guard !selector.isNullSelector, let address = descriptorAddress(selector) else { return .success(nil) }
        guard let raw = asSupervisor({ readLinear(address, as: UInt64.self) }) else { return .failure(DescriptorReadFault()) }
        let descriptor = Descriptor(raw)
        if !descriptor.isConformingCode
            && (descriptor.privilegeLevel < cpl || descriptor.privilegeLevel < selector.requestedPrivilegeLevel) {
            return .success(nil)
        }
        return .success(descriptor)
    }

    /// VERR/VERW: whether the segment is readable (writable) at the current level; `nil` when reading the table faulted.
    private func verifySegment(_ selector: UInt16, forWrite: Bool) -> Bool? {
        switch visibleDescriptor(selector) {
        case .failure: return nil
        case .success(nil): return false
        case .success(let descriptor?):
            return forWrite ? descriptor.isWritableData : (descriptor.isData || descriptor.isReadableCode)
        }
    }

    /// LAR: the access-rights bytes of any segment and of LDT, TSS, call-gate and task-gate descriptors.
    func execLoadAccessRights(_ d: Instruction) -> Step {
        if isRealAddressing { return raiseFault(.invalidOpcode) }
        guard let value = readRM(d, .word) else { return .fault }
        let result = visibleDescriptor(UInt16(truncatingIfNeeded: value))
        guard case .success(let found) = result else { return .fault }
        let valid: Set<UInt8> = [1, 2, 3, 4, 5, 9, 11, 12]
        guard let descriptor = found, descriptor.isSegment || valid.contains(descriptor.type) else {
            setStatusFlags(EFlags.zero, 0)
            return .next
        }
        writeRegister(d.reg, d.size, descriptor.high & 0x00F0_FF00 & d.size.mask)
        setStatusFlags(EFlags.zero, EFlags.zero)
        return .next
    }

    /// LSL: the byte-granular limit of any segment and of LDT and TSS descriptors.
    func execLoadSegmentLimit(_ d: Instruction) -> Step {
        if isRealAddressing { return raiseFault(.invalidOpcode) }
        guard let value = readRM(d, .word) else { return .fault }
        let result = visibleDescriptor(UInt16(truncatingIfNeeded: value))
        guard case .success(let found) = result else { return .fault }
        let valid: Set<UInt8> = [1, 2, 3, 9, 11]
        guard let descriptor = found, descriptor.isSegment || valid.contains(descriptor.type) else {
            setStatusFlags(EFlags.zero, 0)
            return .next
        }
        writeRegister(d.reg, d.size, descriptor.limit & d.size.mask)
        setStatusFlags(EFlags.zero, EFlags.zero)
        return .next
    }

    /// ARPL: raises the destination selector's RPL to the source's, setting ZF when it changed.
    func execArpl(_ d: Instruction) -> Step {
        if isRealAddressing { return raiseFault(.invalidOpcode) }
        guard let destination = readRM(d, .word) else { return .fault }
        let source = readRegister(d.reg, .word)
        if destination & 3 < source & 3 {
            guard writeRM(d, .word, (destination & ~3) | (source & 3)) else { return .fault }
            setStatusFlags(EFlags.zero, EFlags.zero)
        } else {
            setStatusFlags(EFlags.zero, 0)
        }
        return .next
    }
}

/// Reading a descriptor table faulted (the exception is pending in the CPU).
struct DescriptorReadFault: Error {}
