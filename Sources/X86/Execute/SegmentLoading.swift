/// Segment register loads. In real mode (and virtual-8086 mode) a load sets the
/// selector and base = selector × 16 and keeps the cached limit and attributes,
/// which is what makes "unreal mode" possible (SDM Vol. 3A, 20.1.1). In protected
/// mode a load reads the descriptor and applies the checks of SDM Vol. 2, MOV and POP.
extension CPU {
    @inline(__always) var isRealAddressing: Bool {
        !isProtectedMode || eflagsStored & EFlags.virtual8086 != 0
    }

    var isVirtual8086: Bool { eflagsStored & EFlags.virtual8086 != 0 }

    /// Re-derives every segment register's access ranges after the addressing mode changed
    /// (CR0.PE, entering or leaving virtual-8086 mode, reset): real-mode accesses check only limits.
    func refreshSegmentBounds() {
        let realMode = isRealAddressing
        for i in 0..<6 { segs[i].recomputeBounds(realMode: realMode) }
    }

    /// Loads a data or stack segment register; `false` with an exception pending on failure.
    func loadSegment(_ index: Int, selector: UInt16) -> Bool {
        if isRealAddressing {
            segs[index].loadRealMode(selector)
            return true
        }
        if index == SegmentRegister.ss.rawValue {
            // 64-bit code below level 3 may load a null SS whose RPL is the CPL (SDM Vol. 2,
            // MOV and LSS: "IF segment selector is NULL ... IF SS and (not 64-bit mode or
            // CPL = 3 or RPL ≠ CPL) THEN #GP(0)"); Linux's startup_64 does `mov %eax, %ss` with 0.
            if selector.isNullSelector && executing64 && cpl != 3 && selector.requestedPrivilegeLevel == cpl {
                segs[index] = SegmentCache.null(selector)
                return true
            }
            guard let cache = checkStackSegment(selector, privilegeLevel: cpl, vector: .generalProtection) else {
                return false
            }
            segs[index] = cache
            return true
        }
        return loadDataSegment(index, selector: selector)
    }

    /// DS, ES, FS or GS: a null selector makes the register unusable; otherwise data or readable
    /// code, with DPL ≥ max(CPL, RPL) unless it is conforming code. A bad selector raises `vector`
    /// (#GP for MOV and POP, #TS in a task switch), a missing segment #NP; `external` is EXT.
    func loadDataSegment(_ index: Int, selector: UInt16, vector: ExceptionVector = .generalProtection,
                         external: UInt32 = 0) -> Bool {
        if selector.isNullSelector {
            segs[index] = SegmentCache.null(selector)
            return true
        }
        let errorCode = selector.errorCode | external
        guard let descriptor = readDescriptor(selector, vector: vector, errorCode: errorCode) else { return false }
        if !(descriptor.isData || descriptor.isReadableCode)
            || !descriptor.isAccessible(requestedLevel: selector.requestedPrivilegeLevel, atLevel: cpl) {
            raiseFault(vector, errorCode: errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: errorCode)
            return false
        }
        guard markAccessed(selector, descriptor) else { return false }
        segs[index] = descriptor.cache(selector: selector)
        return true
    }

    /// Validates a stack segment for privilege level `level`: writable data with RPL = DPL = level.
    /// Failures raise `vector` (#GP for MOV/POP SS and RET, #TS for stack switches), and a
    /// missing segment #SS, with the selector (plus `external`).
    func checkStackSegment(_ selector: UInt16, privilegeLevel level: UInt8, vector: ExceptionVector,
                           external: UInt32 = 0) -> SegmentCache? {
        if selector.isNullSelector {
            raiseFault(vector, errorCode: vector == .invalidTSS ? selector.errorCode | external : external)
            return nil
        }
        guard let descriptor = readDescriptor(selector, vector: vector, errorCode: selector.errorCode | external) else { return nil }
        if selector.requestedPrivilegeLevel != level || !descriptor.isWritableData || descriptor.privilegeLevel != level {
            raiseFault(vector, errorCode: selector.errorCode | external)
            return nil
        }
        if !descriptor.isPresent {
            raiseFault(.stackFault, errorCode: selector.errorCode | external)
            return nil
        }
        guard markAccessed(selector, descriptor) else { return nil }
        return descriptor.cache(selector: selector)
    }

    /// Loads CS and EIP for a far JMP; `false` with an exception pending on failure.
    func loadCodeSegment(selector: UInt16, offset: UInt32) -> Bool {
        if isRealAddressing {
            if offset > segs[SegmentRegister.cs.rawValue].limit {
                raiseFault(.generalProtection, errorCode: 0)
                return false
            }
            segs[SegmentRegister.cs.rawValue].loadRealMode(selector)
            rip = UInt64(offset)
            return true
        }
        return farJumpProtected(selector: selector, offset: offset)
    }

    /// Checks a code segment descriptor as the target of a direct far JMP or CALL (no gate):
    /// conforming with DPL ≤ CPL, or non-conforming with RPL ≤ CPL and DPL = CPL.
    func checkDirectCodeTarget(_ selector: UInt16, _ descriptor: Descriptor) -> Bool {
        let allowed = descriptor.isConformingCode
            ? descriptor.privilegeLevel <= cpl
            : selector.requestedPrivilegeLevel <= cpl && descriptor.privilegeLevel == cpl
        if !allowed {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return false
        }
        return true
    }

    /// Loads CS from a checked code descriptor at privilege level `level` (CS.RPL = level) and jumps.
    func commitCodeSegment(_ selector: UInt16, _ descriptor: Descriptor, offset: UInt32, level: UInt8) -> Bool {
        if offset > descriptor.limit {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        guard markAccessed(selector, descriptor) else { return false }
        loadCheckedCodeSegment(selector, descriptor, offset: offset, level: level)
        return true
    }

    /// The part of `commitCodeSegment` that cannot fail: the offset is within the limit and the
    /// descriptor is marked accessed.
    @inline(__always)
    func loadCheckedCodeSegment(_ selector: UInt16, _ descriptor: Descriptor, offset: UInt32, level: UInt8) {
        let loaded = (selector & 0xFFFC) | UInt16(level)
        // Most far transfers return to the code segment they left, whose cache needs no rebuilding.
        if !descriptor.isCached(in: segs[SegmentRegister.cs.rawValue], selector: loaded) {
            segs[SegmentRegister.cs.rawValue] = descriptor.cache(selector: loaded)
        }
        setPrivilegeLevel(level)
        rip = UInt64(offset)
    }

    /// After a return to an outer level: data segment registers whose descriptors the new CPL
    /// may not use become null (SDM Vol. 2, RET, "return to outer privilege level").
    func nullifyInaccessibleDataSegments() {
        for segment in SegmentRegister.dataSegments {
            let cache = segs[segment.rawValue]
            if cache.isUsable && !cache.isConformingCode && cache.descriptorPrivilegeLevel < cpl {
                segs[segment.rawValue] = SegmentCache.null(0)
            }
        }
    }
}

extension SegmentCache {
    /// A segment register loaded with a null selector in protected mode: every access faults.
    static func null(_ selector: UInt16) -> SegmentCache {
        SegmentCache(selector: selector, base: 0, limit: 0, attributes: SegmentCache.unusable)
    }
}
