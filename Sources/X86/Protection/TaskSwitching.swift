/// Hardware task switching (SDM Vol. 3A, 7.3): through JMP or CALL to a TSS or task gate,
/// an IDT task gate, or IRET with NT set.
extension CPU {
    /// Offsets of the fields a task switch saves and loads, for 32- and 16-bit TSSs (SDM Vol. 3A, 7.2.1, 7.6).
    private struct TSSLayout {
        let is32: Bool
        var instructionPointer: UInt32 { is32 ? 0x20 : 0x0E }
        var flags: UInt32 { is32 ? 0x24 : 0x10 }
        func register(_ n: Int) -> UInt32 { is32 ? 0x28 + UInt32(n) * 4 : 0x12 + UInt32(n) * 2 }
        func segment(_ s: SegmentRegister) -> UInt32 { is32 ? 0x48 + UInt32(s.rawValue) * 4 : 0x22 + UInt32(s.rawValue) * 2 }
        var ldt: UInt32 { is32 ? 0x60 : 0x2A }
        /// The smallest limit a TSS of this kind may have.
        var minimumLimit: UInt32 { is32 ? 0x67 : 0x2B }
        var wordSize: OperandSize { is32 ? .dword : .word }
        /// 16-bit TSSs have no FS, GS or CR3.
        var segments: [SegmentRegister] { is32 ? SegmentRegister.allCases : [.es, .cs, .ss, .ds] }
    }

    /// JMP or CALL to a TSS descriptor or task gate (after the CPU read `descriptor` for `selector`).
    func switchTask(through selector: UInt16, _ descriptor: Descriptor, reason: TaskSwitch.Reason) -> Bool {
        if descriptor.privilegeLevel < cpl || descriptor.privilegeLevel < selector.requestedPrivilegeLevel {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode)
            return false
        }
        let target = descriptor.systemType == .taskGate ? descriptor.gateSelector : selector
        return performTaskSwitch(to: target, reason: reason, vector: nil, external: 0)
    }

    /// An interrupt or exception through an IDT task gate; the error code, if any, goes onto the new task's stack.
    func switchTaskForEvent(_ selector: UInt16, vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        let external: UInt32 = kind == .software ? 0 : 1
        let reason: TaskSwitch.Reason = kind == .fault || kind == .trap ? .exception : .interrupt
        guard performTaskSwitch(to: selector, reason: reason, vector: vector, external: external) else { return false }
        if let errorCode {
            let size: OperandSize = taskRegister.attributes & 0x8 != 0 ? .dword : .word
            guard push(errorCode, size) else {
                faultBelongsToNewTask = true
                return false
            }
        }
        return true
    }

    /// IRET with NT set: back to the task whose selector is in this TSS's back-link field.
    func returnFromNestedTask() -> Bool {
        guard let backLink = asSupervisor({ readLinear(taskRegister.base & 0xFFFF_FFFF, as: UInt16.self) }) else { return false }
        return performTaskSwitch(to: backLink, reason: .iret, vector: nil, external: 0)
    }

    private func performTaskSwitch(to selector: UInt16, reason: TaskSwitch.Reason, vector: UInt8?, external: UInt32) -> Bool {
        // The new TSS: in the GDT, of the right busy state, present, long enough.
        let invalid: ExceptionVector = reason == .iret ? .invalidTSS : .generalProtection
        if selector.selectsLDT {
            raiseFault(invalid, errorCode: selector.errorCode | external)
            return false
        }
        guard let descriptor = readDescriptor(selector, vector: invalid, errorCode: selector.errorCode | external) else { return false }
        let wantBusy = reason == .iret
        let type = descriptor.systemType
        let typeOK = wantBusy ? (type == .busyTSS16 || type == .busyTSS32) : (type == .availableTSS16 || type == .availableTSS32)
        if !typeOK {
            raiseFault(invalid, errorCode: selector.errorCode | external)
            return false
        }
        if !descriptor.isPresent {
            raiseFault(.segmentNotPresent, errorCode: selector.errorCode | external)
            return false
        }
        let newLayout = TSSLayout(is32: descriptor.type & 0x8 != 0)
        if descriptor.limit < newLayout.minimumLimit {
            raiseFault(.invalidTSS, errorCode: selector.errorCode | external)
            return false
        }
        let newBase = UInt64(descriptor.base)

        // Save the outgoing task's state into its TSS.
        let oldSelector = taskRegister.selector
        let oldLayout = TSSLayout(is32: taskRegister.attributes & 0x8 != 0)
        let oldBase = taskRegister.base
        var savedFlags = eflags
        if reason == .jump || reason == .iret { savedFlags &= ~EFlags.nestedTask }
        let saved = asSupervisor { () -> Bool in
            guard writeTSS(oldBase, oldLayout.instructionPointer, UInt32(truncatingIfNeeded: rip), oldLayout.wordSize),
                  writeTSS(oldBase, oldLayout.flags, savedFlags, oldLayout.wordSize) else { return false }
            for n in 0..<8 {
                guard writeTSS(oldBase, oldLayout.register(n), UInt32(truncatingIfNeeded: regs[n]), oldLayout.wordSize) else { return false }
            }
            for s in oldLayout.segments {
                guard writeTSS(oldBase, oldLayout.segment(s), UInt32(segs[s.rawValue].selector), .word) else { return false }
            }
            return true
        }
        guard saved else { return false }

        // Read the incoming task's state before anything is committed.
        var state: [UInt32] = []
        let read = asSupervisor { () -> Bool in
            var offsets = [newLayout.instructionPointer, newLayout.flags] + (0..<8).map { newLayout.register($0) }
            if newLayout.is32 { offsets.append(0x1C) }   // CR3
            for offset in offsets {
                guard let value = readTSS(newBase, offset, newLayout.wordSize) else { return false }
                state.append(value)
            }
            for s in SegmentRegister.allCases {
                let value = newLayout.segments.contains(s) ? readTSS(newBase, newLayout.segment(s), .word) : 0
                guard let value else { return false }
                state.append(value)
            }
            guard let ldt = readTSS(newBase, newLayout.ldt, .word), let trap = readTSS(newBase, newLayout.is32 ? 0x64 : 0, .word) else { return false }
            state.append(ldt)
            state.append(newLayout.is32 ? trap & 1 : 0)
            return true
        }
        guard read else { return false }

        // Busy bits and the back-link.
        if reason == .jump || reason == .iret {
            guard setBusy(oldSelector, false) else { return false }
        }
        if reason != .iret {
            guard setBusy(selector, true) else { return false }
        }
        if reason == .call || reason == .interrupt || reason == .exception {
            guard asSupervisor({ writeLinear(newBase & 0xFFFF_FFFF, oldSelector) }) else { return false }
        }

        // Commit: TR, CR0.TS, registers, CR3; then the segment loads, whose faults belong to the new task.
        taskRegister = descriptor.cache(selector: selector)
        taskRegister.attributes |= 0x2   // the cache holds the busy type
        cr0 |= ControlRegister0.taskSwitched
        var index = 0
        rip = UInt64(state[index]); index += 1
        var flags = state[index]; index += 1
        if !newLayout.is32 { flags = (eflags & 0xFFFF_0000) | flags }
        if reason == .call || reason == .interrupt || reason == .exception { flags |= EFlags.nestedTask }
        setEFlags(flags)
        for n in 0..<8 {
            if newLayout.is32 { regs[n] = UInt64(state[index]) } else { setRegister16(n, UInt16(truncatingIfNeeded: state[index])) }
            index += 1
        }
        if newLayout.is32 {
            let newCR3 = state[index]; index += 1
            if pagingEnabled {
                guard writeCR3(newCR3) != .fault else {
                    faultBelongsToNewTask = true
                    return false
                }
            } else {
                cr3 = UInt64(newCR3)
            }
        }
        var selectors: [UInt16] = []
        for _ in SegmentRegister.allCases {
            selectors.append(UInt16(truncatingIfNeeded: state[index])); index += 1
        }
        let ldtSelector = UInt16(truncatingIfNeeded: state[index]); index += 1
        let debugTrap = state[index] != 0
        if hasObserver {
            observer?.cpu(self, switchedTask: TaskSwitch(oldSelector: oldSelector, newSelector: selector, reason: reason, vector: vector))
        }
        guard loadTaskSegments(selectors, ldt: ldtSelector, external: external) else {
            faultBelongsToNewTask = true
            return false
        }
        if debugTrap {
            // The TSS's T bit: a #DB trap with DR6.BT before the new task's first instruction.
            pendingDebugStatus |= DebugStatus.taskSwitch
            setSignal(Signals.debug, true)
        }
        return true
    }

    private func writeTSS(_ base: UInt64, _ offset: UInt32, _ value: UInt32, _ size: OperandSize) -> Bool {
        let address = (base &+ UInt64(offset)) & 0xFFFF_FFFF
        return size == .dword ? writeLinear(address, value) : writeLinear(address, UInt16(truncatingIfNeeded: value))
    }

    private func readTSS(_ base: UInt64, _ offset: UInt32, _ size: OperandSize) -> UInt32? {
        let address = (base &+ UInt64(offset)) & 0xFFFF_FFFF
        return size == .dword ? readLinear(address, as: UInt32.self) : readLinear(address, as: UInt16.self).map { UInt32($0) }
    }

    private func setRegister16(_ n: Int, _ value: UInt16) {
        rawRegs.storeBytes(of: value, toByteOffset: n * 8, as: UInt16.self)
    }

    /// Loads LDTR, CS, SS and the data segments of the new task (SDM Vol. 3A, 7.3 step 12):
    /// a bad selector is #TS(selector), a missing segment #NP (#SS for SS), in the new task.
    private func loadTaskSegments(_ selectors: [UInt16], ldt: UInt16, external: UInt32) -> Bool {
        // Selectors are loaded first so a fault shows the new task's values.
        for s in SegmentRegister.allCases { segs[s.rawValue].selector = selectors[s.rawValue] }
        if isVirtual8086 {
            for s in SegmentRegister.allCases { segs[s.rawValue] = SegmentCache.virtual8086(selectors[s.rawValue]) }
            setPrivilegeLevel(3)
            return loadLocalDescriptorTable(ldt, vector: .invalidTSS, external: external)
        }
        guard loadLocalDescriptorTable(ldt, vector: .invalidTSS, external: external) else { return false }
        let codeSelector = selectors[SegmentRegister.cs.rawValue]
        let level = codeSelector.requestedPrivilegeLevel
        guard let code = readDescriptor(codeSelector, vector: .invalidTSS, errorCode: codeSelector.errorCode | external) else { return false }
        let privilegeOK = code.isConformingCode ? code.privilegeLevel <= level : code.privilegeLevel == level
        if codeSelector.isNullSelector || !code.isCode || !privilegeOK {
            raiseFault(.invalidTSS, errorCode: codeSelector.errorCode | external)
            return false
        }
        if !code.isPresent {
            raiseFault(.segmentNotPresent, errorCode: codeSelector.errorCode | external)
            return false
        }
        guard let stack = checkStackSegment(selectors[SegmentRegister.ss.rawValue], privilegeLevel: level,
                                            vector: .invalidTSS, notPresent: .stackFault, external: external) else { return false }
        guard markAccessed(codeSelector, code) else { return false }
        segs[SegmentRegister.cs.rawValue] = code.cache(selector: codeSelector)
        setPrivilegeLevel(level)
        segs[SegmentRegister.ss.rawValue] = stack
        for s in [SegmentRegister.es, .ds, .fs, .gs] {
            let selector = selectors[s.rawValue]
            if selector.isNullSelector {
                segs[s.rawValue] = SegmentCache.null(selector)
                continue
            }
            guard let descriptor = readDescriptor(selector, vector: .invalidTSS, errorCode: selector.errorCode | external) else { return false }
            let visible = descriptor.isConformingCode
                || (selector.requestedPrivilegeLevel <= descriptor.privilegeLevel && level <= descriptor.privilegeLevel)
            if !(descriptor.isData || descriptor.isReadableCode) || !visible {
                raiseFault(.invalidTSS, errorCode: selector.errorCode | external)
                return false
            }
            if !descriptor.isPresent {
                raiseFault(.segmentNotPresent, errorCode: selector.errorCode | external)
                return false
            }
            guard markAccessed(selector, descriptor) else { return false }
            segs[s.rawValue] = descriptor.cache(selector: selector)
        }
        return true
    }
}
