/// Interrupt and exception delivery in IA-32e mode, and IRET there (SDM Vol. 3A, 6.14; Vol. 2,
/// INT n and IRET). Every event goes through the 64-bit IDT, from 64-bit and compatibility code
/// alike, into 64-bit code.
extension CPU {
    /// The parts of a 16-byte IDT gate.
    private struct LongModeGate {
        let low: UInt64
        let high: UInt64
        var type: UInt8 { UInt8((low >> 40) & 0xF) }
        var privilegeLevel: UInt8 { UInt8((low >> 45) & 3) }
        var isPresent: Bool { low & (1 << 47) != 0 }
        var selector: UInt16 { UInt16(truncatingIfNeeded: low >> 16) }
        var offset: UInt64 { (low & 0xFFFF) | ((low >> 48) << 16) | ((high & 0xFFFF_FFFF) << 32) }
        /// The interrupt-stack-table slot (0: none).
        var stackTableIndex: Int { Int((low >> 32) & 7) }
        static let interruptGate: UInt8 = 0xE
        static let trapGate: UInt8 = 0xF
    }

    /// One delivery through the 64-bit IDT; `false` with a new exception pending when it faulted.
    /// The frame is SS, RSP, RFLAGS, CS, RIP (and the error code), 8 bytes each, on a stack
    /// aligned to 16 bytes: the current one, the TSS's RSPn for a more privileged handler, or the
    /// gate's IST stack.
    func deliverLongMode(vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        if deliverThroughSameLevelGate64(vector: vector, errorCode: errorCode, kind: kind) { return true }
        let external: UInt32 = kind == .software ? 0 : 1
        let gateErrorCode = UInt32(vector) &* 8 &+ 2 &+ external
        let entry = UInt64(vector) &* 16
        if entry &+ 15 > UInt64(idtr.limit) {
            raiseFault(.generalProtection, errorCode: gateErrorCode)
            return false
        }
        guard let low = asSupervisor({ readLinear(idtr.base &+ entry, as: UInt64.self) }),
              let high = asSupervisor({ readLinear(idtr.base &+ entry &+ 8, as: UInt64.self) }) else { return false }
        // The gate's last dword is reserved, without the type field of 16-byte GDT/LDT entries
        // (SDM Vol. 3A, Figure 6-8): it is not checked (as in QEMU; Bochs raises #GP there).
        let gate = LongModeGate(low: low, high: high)
        guard gate.type == LongModeGate.interruptGate || gate.type == LongModeGate.trapGate,
              !(kind == .software && gate.privilegeLevel < cpl) else {
            raiseFault(.generalProtection, errorCode: gateErrorCode)
            return false
        }
        if !gate.isPresent {
            raiseFault(.segmentNotPresent, errorCode: gateErrorCode)
            return false
        }
        let selector = gate.selector
        guard let code = gateHandlerSegment(selector, external: external, longMode: true) else { return false }
        if !isCanonical(gate.offset) {
            raiseFault(.generalProtection, errorCode: external)
            return false
        }
        let oldLevel = cpl
        let newLevel = code.isConformingCode ? cpl : code.privilegeLevel
        var stackPointer = regs[GeneralRegister.rsp.rawValue]
        if gate.stackTableIndex != 0 || newLevel < oldLevel {
            let slot = gate.stackTableIndex != 0 ? 0x24 + 8 * (gate.stackTableIndex - 1) : 4 + 8 * Int(newLevel)
            guard let fromTSS = stackPointerFromTSS(offset: slot, external: external) else { return false }
            stackPointer = fromTSS
        }
        stackPointer &= ~0xF
        let bottom = stackPointer &- (errorCode == nil ? 40 : 48)
        guard isCanonical(stackPointer &- 1) && isCanonical(bottom) else {
            raiseFault(.stackFault, errorCode: external)
            return false
        }
        // SS, RSP, RFLAGS, CS, RIP and the error code, from the top down.
        let slot = { (index: UInt64) in stackPointer &- 8 &* (index + 1) }
        setPrivilegeLevel(newLevel)
        let pushed = writeLinear(slot(0), UInt64(segs[SegmentRegister.ss.rawValue].selector))
            && writeLinear(slot(1), regs[GeneralRegister.rsp.rawValue])
            && writeLinear(slot(2), UInt64(flagsToPush(for: kind)))
            && writeLinear(slot(3), UInt64(segs[SegmentRegister.cs.rawValue].selector))
            && writeLinear(slot(4), rip)
            && (errorCode.map { writeLinear(slot(5), UInt64($0)) } ?? true)
        if !pushed {
            setPrivilegeLevel(oldLevel)
            return false
        }
        guard markAccessed(selector, code) else {
            setPrivilegeLevel(oldLevel)
            return false
        }
        if newLevel < oldLevel {
            // A privilege change loads SS with a null selector whose RPL is the new CPL.
            segs[SegmentRegister.ss.rawValue] = SegmentCache.null(UInt16(newLevel))
        }
        enterHandler(gate, code: code, level: newLevel, stackPointer: bottom)
        return true
    }

    /// The last step of a delivery: CS (RPL = `level`), RSP and RIP loaded, and TF, NT, RF and
    /// VM cleared, with IF too through an interrupt gate.
    @inline(__always)
    private func enterHandler(_ gate: LongModeGate, code: Descriptor, level: UInt8, stackPointer: UInt64) {
        segs[SegmentRegister.cs.rawValue] = code.cache(selector: (gate.selector & 0xFFFC) | UInt16(level))
        regs[GeneralRegister.rsp.rawValue] = stackPointer
        rip = gate.offset
        var cleared = EFlags.trap | EFlags.nestedTask | EFlags.resume | EFlags.virtual8086
        if gate.type == LongModeGate.interruptGate { cleared |= EFlags.interrupt }
        eflagsStored &= ~cleared
    }

    /// The common case of delivery in IA-32e mode, as `deliverThroughSameLevelGate` is in
    /// protected mode: an interrupt or trap gate without IST to 64-bit code at the current level,
    /// with the gate, the code descriptor (already accessed) and the whole frame in pages the TLB
    /// maps. `false` having changed nothing whenever anything is out of the ordinary; the general
    /// path then runs and raises what it must.
    @inline(__always)
    private func deliverThroughSameLevelGate64(vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        let entry = UInt64(vector) &* 16
        guard entry &+ 15 <= UInt64(idtr.limit),
              let raw = asSupervisor({ mappedLinear(idtr.base &+ entry, length: 16, forWrite: false) }) else { return false }
        let gate = LongModeGate(low: raw.loadUnaligned(as: UInt64.self), high: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        guard gate.type == LongModeGate.interruptGate || gate.type == LongModeGate.trapGate, gate.isPresent,
              gate.stackTableIndex == 0, kind != .software || gate.privilegeLevel >= cpl,
              isCanonical(gate.offset),
              let code = mappedCodeDescriptor(gate.selector), code.isLongModeCode, code.runs(atLevel: cpl) else { return false }
        let stackPointer = regs[GeneralRegister.rsp.rawValue]
        let top = stackPointer & ~0xF
        let frameSize = errorCode == nil ? 40 : 48
        let bottom = top &- UInt64(frameSize)
        guard isCanonical(top &- 1), isCanonical(bottom),
              let frame = mappedLinear(bottom, length: frameSize, forWrite: true) else { return false }
        var slot = 0
        if let errorCode {
            frame.storeBytes(of: UInt64(errorCode), as: UInt64.self)
            slot = 8
        }
        frame.storeBytes(of: rip, toByteOffset: slot, as: UInt64.self)
        frame.storeBytes(of: UInt64(segs[SegmentRegister.cs.rawValue].selector), toByteOffset: slot + 8, as: UInt64.self)
        frame.storeBytes(of: UInt64(flagsToPush(for: kind)), toByteOffset: slot + 16, as: UInt64.self)
        frame.storeBytes(of: stackPointer, toByteOffset: slot + 24, as: UInt64.self)
        frame.storeBytes(of: UInt64(segs[SegmentRegister.ss.rawValue].selector), toByteOffset: slot + 32, as: UInt64.self)
        enterHandler(gate, code: code, level: cpl, stackPointer: bottom)
        return true
    }

    /// The common case of IRETQ: from 64-bit code back to 64-bit code at the current level, with
    /// the frame, the code descriptor and any SS descriptor (all already accessed) in pages the
    /// TLB maps; `false` having changed nothing otherwise.
    @inline(__always)
    private func returnToSameLevel64(size: OperandSize) -> Bool {
        guard size == .qword, executing64, eflagsStored & EFlags.nestedTask == 0,
              let frame = mappedLinear(regs[GeneralRegister.rsp.rawValue], length: 40, forWrite: false) else { return false }
        let newRIP = frame.loadUnaligned(as: UInt64.self)
        let selector = UInt16(truncatingIfNeeded: frame.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
        let flags = frame.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        let newRSP = frame.loadUnaligned(fromByteOffset: 24, as: UInt64.self)
        let stackSelector = UInt16(truncatingIfNeeded: frame.loadUnaligned(fromByteOffset: 32, as: UInt64.self))
        let level = cpl
        guard selector.requestedPrivilegeLevel == level, isCanonical(newRIP),
              let code = mappedCodeDescriptor(selector), code.isLongModeCode, code.runs(atLevel: level),
              let stack = mappedStackSegment64(stackSelector, level: level) else { return false }
        segs[SegmentRegister.cs.rawValue] = code.cache(selector: selector)
        writeFlagsFromStack(UInt32(truncatingIfNeeded: flags), .dword, level: level)
        segs[SegmentRegister.ss.rawValue] = stack
        regs[GeneralRegister.rsp.rawValue] = newRSP
        rip = newRIP
        return true
    }

    /// An RSPn (at 4 + 8n) or ISTn field of the 64-bit TSS; `nil` with #TS (beyond the TSS's
    /// limit) or #SS (not canonical) pending.
    func stackPointerFromTSS(offset: Int, external: UInt32) -> UInt64? {
        if UInt64(offset) + 7 > UInt64(taskRegister.limit) {
            raiseFault(.invalidTSS, errorCode: taskRegister.selector.errorCode | external)
            return nil
        }
        guard let value = asSupervisor({ readLinear(taskRegister.base &+ UInt64(offset), as: UInt64.self) }) else { return nil }
        if !isCanonical(value) {
            raiseFault(.stackFault, errorCode: external)
            return nil
        }
        return value
    }

    /// IRET in IA-32e mode: pops RIP, CS, RFLAGS, RSP and SS (slots of the operand size: 8 bytes
    /// for IRETQ), back to 64-bit or compatibility code at the same or a less privileged level.
    /// NT set is #GP(0): there are no task switches in IA-32e mode.
    func interruptReturnLongMode(size: OperandSize) -> Bool {
        if returnToSameLevel64(size: size) { return true }
        if eflagsStored & EFlags.nestedTask != 0 {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        guard let newRIP = peekStack(0, size), let selectorValue = peekStack(size.bytes, size),
              let flags = peekStack(2 * size.bytes, size), let newRSP = peekStack(3 * size.bytes, size),
              let stackSelectorValue = peekStack(4 * size.bytes, size) else { return false }
        let selector = UInt16(truncatingIfNeeded: selectorValue)
        guard let code = checkReturnCodeSegment(selector) else { return false }
        let level = selector.requestedPrivilegeLevel
        guard isReachable(newRIP, in: code),
              let stack = returnStackSegment(UInt16(truncatingIfNeeded: stackSelectorValue), level: level, to: code) else { return false }
        guard markAccessed(selector, code) else { return false }
        let oldLevel = cpl
        segs[SegmentRegister.cs.rawValue] = code.cache(selector: selector)
        setPrivilegeLevel(level)
        writeFlagsFromStack(UInt32(truncatingIfNeeded: flags), .dword, level: oldLevel)
        segs[SegmentRegister.ss.rawValue] = stack
        regs[GeneralRegister.rsp.rawValue] = newRSP
        rip = code.isLongModeCode ? newRIP : newRIP & 0xFFFF_FFFF
        if level > oldLevel { nullifyInaccessibleDataSegments() }
        return true
    }
}
