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
        var segments: [SegmentRegister] { is32 ? SegmentRegister.allCases : TSSLayout.segments16 }
        private static let segments16: [SegmentRegister] = [.es, .cs, .ss, .ds]
    }

    /// JMP or CALL to a TSS descriptor or task gate (after the CPU read `descriptor` for `selector`).
    func switchTask(through selector: UInt16, _ descriptor: Descriptor, reason: TaskSwitch.Reason) -> Bool {
        guard checkGateOrTSS(selector, descriptor) else { return false }
        let target = descriptor.systemType == .taskGate ? descriptor.gateSelector : selector
        var debugTrap = false
        guard performTaskSwitch(to: target, reason: reason, vector: nil, external: 0, debugTrap: &debugTrap) else { return false }
        if debugTrap { raiseTaskSwitchTrap() }
        return true
    }

    /// The new TSS's T flag: a debug trap (DR6.BT) follows the switch, reported before the new
    /// task's first instruction with that instruction as the return address (SDM Vol. 3A, 7.2.1, 17.3.1.5).
    private func raiseTaskSwitchTrap() {
        debugRegisters[6] |= DebugStatus.taskSwitch
        deliverEvent(vector: ExceptionVector.debug.rawValue, errorCode: nil, kind: .trap)
    }

    /// An interrupt or exception through an IDT task gate; the error code, if any, goes onto the new task's stack.
    func switchTaskForEvent(_ selector: UInt16, vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        let external: UInt32 = kind == .software ? 0 : 1
        let reason: TaskSwitch.Reason = kind == .fault || kind == .trap ? .exception : .interrupt
        // A fault's saved EFLAGS image has RF set, as a pushed one would (SDM Vol. 3A, 17.3.1.1).
        let resume = kind == .fault && vector != ExceptionVector.debug.rawValue
        var debugTrap = false
        guard performTaskSwitch(to: selector, reason: reason, vector: vector, external: external,
                                savingResume: resume, debugTrap: &debugTrap) else { return false }
        if let errorCode {
            let size: OperandSize = taskRegister.attributes & 0x8 != 0 ? .dword : .word
            guard push(UInt64(errorCode), size) else {
                faultBelongsToNewTask = true
                return false
            }
        }
        if debugTrap { raiseTaskSwitchTrap() }
        return true
    }

    /// IRET with NT set: back to the task whose selector is in this TSS's back-link field.
    func returnFromNestedTask() -> Bool {
        guard let backLink = asSupervisor({ readLinear(taskRegister.base & 0xFFFF_FFFF, as: UInt16.self) }) else { return false }
        var debugTrap = false
        guard performTaskSwitch(to: backLink, reason: .iret, vector: nil, external: 0, debugTrap: &debugTrap) else { return false }
        if debugTrap { raiseTaskSwitchTrap() }
        return true
    }

    /// The switch itself (SDM Vol. 3A, 7.3). `debugTrap` reports the new TSS's T flag; the caller
    /// raises the trap once the event or instruction that switched is complete.
    private func performTaskSwitch(to selector: UInt16, reason: TaskSwitch.Reason, vector: UInt8?, external: UInt32,
                                   savingResume: Bool = false, debugTrap: inout Bool) -> Bool {
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
        // Only IRET clears NT in the image it saves; JMP, CALL and events leave it (SDM Vol. 3A, Table 7-2).
        var savedFlags = eflags
        if reason == .iret { savedFlags &= ~EFlags.nestedTask }
        if savingResume { savedFlags |= EFlags.resume }
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
        guard let incoming = asSupervisor({ readTaskState(at: newBase, newLayout) }) else { return false }

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
        loadBusyTaskRegister(selector, descriptor)
        cr0 |= ControlRegister0.taskSwitched
        // A 16-bit TSS holds FLAGS only: the upper half (VM, RF, AC, ID…) becomes 0, so a switch from
        // a virtual-8086 task to a 286 task does not leave VM set.
        var flags = incoming.flags
        if reason == .call || reason == .interrupt || reason == .exception { flags |= EFlags.nestedTask }
        rip = UInt64(incoming.instructionPointer)
        setEFlags(flags)
        // A 16-bit TSS holds only the low words of EAX..EDI: 386-class processors set the upper
        // words to FFFFh (the SDM leaves them undefined; Bochs and PCem model the same).
        let upperWords: UInt32 = newLayout.is32 ? 0 : 0xFFFF_0000
        for n in 0..<8 { writeRegister(RegisterFile.byteOffset(UInt8(n)), .dword, UInt64(upperWords | incoming.registers[n])) }
        if let newCR3 = incoming.cr3 {
            if pagingEnabled {
                guard writeCR3(UInt64(newCR3)) != .fault else {
                    faultBelongsToNewTask = true
                    return false
                }
            } else {
                cr3 = UInt64(newCR3)
            }
        }
        if hasObserver {
            observer?.cpu(self, switchedTask: TaskSwitch(oldSelector: oldSelector, newSelector: selector, reason: reason, vector: vector))
        }
        guard loadTaskSegments(incoming.selectors, ldt: incoming.ldt, external: external) else {
            faultBelongsToNewTask = true
            return false
        }
        debugTrap = incoming.debugTrap
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

    /// What a task switch loads from the incoming task's TSS.
    private struct IncomingTaskState {
        var instructionPointer: UInt32 = 0
        var flags: UInt32 = 0
        /// EAX … EDI (16-bit values for a 16-bit TSS).
        var registers: [UInt32] = []
        /// Only a 32-bit TSS has CR3.
        var cr3: UInt32?
        /// ES, CS, SS, DS, FS, GS (FS and GS are 0 for a 16-bit TSS).
        var selectors: [UInt16] = []
        var ldt: UInt16 = 0
        /// The T flag of a 32-bit TSS.
        var debugTrap = false
    }

    /// Reads the incoming task's state; `nil` when a read faulted.
    private func readTaskState(at base: UInt64, _ layout: TSSLayout) -> IncomingTaskState? {
        var state = IncomingTaskState()
        guard let instructionPointer = readTSS(base, layout.instructionPointer, layout.wordSize),
              let flags = readTSS(base, layout.flags, layout.wordSize) else { return nil }
        state.instructionPointer = instructionPointer
        state.flags = flags
        for n in 0..<8 {
            guard let value = readTSS(base, layout.register(n), layout.wordSize) else { return nil }
            state.registers.append(value)
        }
        if layout.is32 {
            guard let cr3 = readTSS(base, 0x1C, .dword) else { return nil }
            state.cr3 = cr3
        }
        for s in SegmentRegister.allCases {
            guard layout.segments.contains(s) else {
                state.selectors.append(0)
                continue
            }
            guard let selector = readTSS(base, layout.segment(s), .word) else { return nil }
            state.selectors.append(UInt16(truncatingIfNeeded: selector))
        }
        guard let ldt = readTSS(base, layout.ldt, .word) else { return nil }
        state.ldt = UInt16(truncatingIfNeeded: ldt)
        if layout.is32 {
            guard let trap = readTSS(base, 0x64, .word) else { return nil }
            state.debugTrap = trap & 1 != 0
        }
        return state
    }

    /// Loads LDTR, CS, SS and the data segments of the new task (SDM Vol. 3A, 7.3 step 12):
    /// a bad selector is #TS(selector), a missing segment #NP (#SS for SS), in the new task.
    private func loadTaskSegments(_ selectors: [UInt16], ldt: UInt16, external: UInt32) -> Bool {
        // Selectors are loaded first so a fault shows the new task's values.
        for s in SegmentRegister.allCases { segs[s.rawValue].selector = selectors[s.rawValue] }
        if isVirtual8086 {
            for s in SegmentRegister.allCases { segs[s.rawValue] = SegmentCache.virtual8086(selectors[s.rawValue]) }
            setPrivilegeLevel(3)
            return loadLocalDescriptorTable(ldt, vector: .invalidTSS, notPresent: .invalidTSS, external: external)
        }
        // A missing LDT is #TS here, not #NP as for LLDT (SDM Vol. 3A, Table 7-1).
        guard loadLocalDescriptorTable(ldt, vector: .invalidTSS, notPresent: .invalidTSS, external: external) else { return false }
        let codeSelector = selectors[SegmentRegister.cs.rawValue]
        let level = codeSelector.requestedPrivilegeLevel
        guard let code = readDescriptor(codeSelector, vector: .invalidTSS, errorCode: codeSelector.errorCode | external) else { return false }
        if codeSelector.isNullSelector || !code.isCode || !code.runs(atLevel: level) {
            raiseFault(.invalidTSS, errorCode: codeSelector.errorCode | external)
            return false
        }
        if !code.isPresent {
            raiseFault(.segmentNotPresent, errorCode: codeSelector.errorCode | external)
            return false
        }
        guard let stack = checkStackSegment(selectors[SegmentRegister.ss.rawValue], privilegeLevel: level,
                                            vector: .invalidTSS, external: external) else { return false }
        guard markAccessed(codeSelector, code) else { return false }
        segs[SegmentRegister.cs.rawValue] = code.cache(selector: codeSelector)
        setPrivilegeLevel(level)
        segs[SegmentRegister.ss.rawValue] = stack
        // CPL is now the new task's: the data segments are checked against it.
        return SegmentRegister.dataSegments.allSatisfy { segment in
            loadDataSegment(segment.rawValue, selector: selectors[segment.rawValue], vector: .invalidTSS, external: external)
        }
    }
}
