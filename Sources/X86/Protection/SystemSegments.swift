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
            return writeRM(d, size, UInt64(selector)) ? .next : .fault
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
        // IA-32e mode reads the whole 16-byte descriptor before checking it, as Bochs does: the
        // limit covers all 16 bytes and the upper type field must be 0 (#GP(selector)). Only
        // LLDT loads an LDT in IA-32e mode (no task switches), so `vector` is #GP there.
        var upper: UInt64 = 0
        if longModeActive {
            guard let half = upperDescriptorHalf(selector) else { return false }
            upper = half
        }
        if descriptor.systemType != .ldt {
            raiseFault(vector, errorCode: selector.errorCode | external)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(notPresent, errorCode: selector.errorCode | external)
            return false
        }
        var cache = descriptor.cache(selector: selector)
        if longModeActive {
            guard let base = systemDescriptorBase(selector, descriptor, upper: upper) else { return false }
            cache.base = base
        }
        ldtr = cache
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
        // IA-32e mode reads the whole 16-byte descriptor first (limit, upper type field 0), as
        // for LLDT.
        var upper: UInt64 = 0
        if longModeActive {
            guard let half = upperDescriptorHalf(selector) else { return false }
            upper = half
        }
        if descriptor.systemType != .availableTSS16 && descriptor.systemType != .availableTSS32 {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        // IA-32e mode has only the 64-bit TSS, of type 9 (an "available 32-bit TSS") in a
        // 16-byte descriptor (SDM Vol. 3A, 7.7).
        if longModeActive && descriptor.systemType != .availableTSS32 {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return false
        }
        var base = UInt64(descriptor.base)
        if longModeActive {
            guard let full = systemDescriptorBase(selector, descriptor, upper: upper) else { return false }
            base = full
        }
        guard setBusy(selector, true) else { return false }
        loadBusyTaskRegister(selector, descriptor)
        taskRegister.base = base
        return true
    }

    /// TR after LTR or a task switch: the TSS's cache, holding the busy type (the GDT entry's B
    /// bit was just set).
    func loadBusyTaskRegister(_ selector: UInt16, _ descriptor: Descriptor) {
        taskRegister = descriptor.cache(selector: selector)
        taskRegister.attributes |= 0x2
    }

    /// What LAR, LSL, VERR and VERW find for a selector (they never fault on the selector itself).
    private enum Inspection {
        /// A descriptor the current level may see.
        case visible(Descriptor)
        /// A null selector, one outside its table, or a descriptor with DPL < max(CPL, RPL)
        /// that is not conforming code: ZF is cleared.
        case invisible
        /// Reading the table faulted (the exception is pending).
        case faulted
    }

    private func inspectDescriptor(_ selector: UInt16) -> Inspection {
        guard !selector.isNullSelector, let address = descriptorAddress(selector) else { return .invisible }
        guard let descriptor = readDescriptor(at: address) else { return .faulted }
        if !descriptor.isAccessible(requestedLevel: selector.requestedPrivilegeLevel, atLevel: cpl) { return .invisible }
        return .visible(descriptor)
    }

    /// VERR/VERW: whether the segment is readable (writable) at the current level; `nil` when reading the table faulted.
    private func verifySegment(_ selector: UInt16, forWrite: Bool) -> Bool? {
        switch inspectDescriptor(selector) {
        case .faulted: return nil
        case .invisible: return false
        case .visible(let descriptor):
            return forWrite ? descriptor.isWritableData : (descriptor.isData || descriptor.isReadableCode)
        }
    }

    /// System-descriptor types LAR reports: TSSs, LDT, call and task gates (a bit per type).
    private static let accessRightsTypes: UInt16 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 9 | 1 << 11 | 1 << 12
    /// System-descriptor types LSL reports: TSSs and LDT.
    private static let segmentLimitTypes: UInt16 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 9 | 1 << 11

    /// LAR: the access-rights bytes of any segment and of LDT, TSS, call-gate and task-gate descriptors.
    func execLoadAccessRights(_ d: Instruction) -> Step {
        loadDescriptorField(d, systemTypes: CPU.accessRightsTypes) { $0.high & 0x00F0_FF00 }
    }

    /// LSL: the byte-granular limit of any segment and of LDT and TSS descriptors.
    func execLoadSegmentLimit(_ d: Instruction) -> Step {
        loadDescriptorField(d, systemTypes: CPU.segmentLimitTypes) { $0.limit }
    }

    /// LAR and LSL: `field` of the selector's descriptor into the register with ZF set, or ZF
    /// cleared when the descriptor is invisible or a system type outside `systemTypes`.
    private func loadDescriptorField(_ d: Instruction, systemTypes: UInt16, _ field: (Descriptor) -> UInt32) -> Step {
        if isRealAddressing { return raiseFault(.invalidOpcode) }
        guard let value = readRM(d, .word) else { return .fault }
        switch inspectDescriptor(UInt16(truncatingIfNeeded: value)) {
        case .faulted:
            return .fault
        case .visible(let descriptor) where descriptor.isSegment || systemTypes & (1 << UInt16(descriptor.type)) != 0:
            writeRegister(d.reg, d.size, UInt64(field(descriptor)) & d.size.mask)
            setStatusFlags(EFlags.zero, EFlags.zero)
        default:
            setStatusFlags(EFlags.zero, 0)
        }
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
