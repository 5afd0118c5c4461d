/// How an event entered the processor; decides the return address and escalation.
enum EventKind {
    /// An exception detected while executing an instruction (return address: that instruction).
    case fault
    /// INT n, INT3, INTO: return address is the next instruction.
    case software
    /// INT1 (ICEBP): delivered like INT n, but as an event external to the program: no gate
    /// DPL check, and EXT set in the error codes its delivery raises.
    case privilegedSoftware
    /// A trap-class exception (single-step #DB): reported as an exception, return address the next instruction.
    case trap
    /// INTR or NMI between instructions.
    case external
}

extension CPU {
    /// Moves EIP back to the start of the instruction that just advanced it.
    func rewindInstructionPointer(by length: UInt8) {
        let mask: UInt64 = executing64 ? ~0 : segs[SegmentRegister.cs.rawValue].defaultSize32 ? 0xFFFF_FFFF : 0xFFFF
        rip = (rip &- UInt64(length)) & mask
    }

    /// Records an exception for the current instruction; handlers return the result.
    @discardableResult @inline(never)
    func raiseFault(_ vector: ExceptionVector, errorCode: UInt32? = nil) -> Step {
        pendingVector = vector.rawValue
        pendingErrorCode = errorCode ?? 0
        pendingHasErrorCode = errorCode != nil
        return .fault
    }

    /// Delivers the exception a handler recorded, reporting the faulting instruction, which
    /// starts at `instructionStart` (handlers change EIP only when they succeed).
    func deliverPendingException(instructionStart: UInt64) {
        // The instruction did not complete: its accesses hit no debugger watchpoint (it runs
        // again after the handler); the delivery's own stack writes may.
        dataWatchpointHit = nil
        if faultBelongsToNewTask {
            faultBelongsToNewTask = false
        } else {
            rip = instructionStart
        }
        deliverEvent(vector: pendingVector, errorCode: pendingHasErrorCode ? pendingErrorCode : nil, kind: .fault)
    }

    /// Delivers an interrupt or exception, applying the double-fault rules
    /// (SDM Vol. 3A, 6.15, Table 6-5): a contributory exception while delivering a
    /// contributory one, or a contributory or page fault while delivering a page
    /// fault, becomes #DF; any exception while delivering #DF is a triple fault and
    /// puts the processor into shutdown. Other pairs are handled serially.
    /// `instructionLength` is the length of the INT instruction for `.software` events, so a
    /// fault while delivering one reports the INT itself.
    func deliverEvent(vector: UInt8, errorCode: UInt32?, kind: EventKind, instructionLength: UInt8 = 0) {
        if kind != .software && kind != .privilegedSoftware { eventsDelivered &+= 1 }
        var vector = vector
        var errorCode = errorCode
        var kind = kind
        if deliverOnce(vector: vector, errorCode: errorCode, kind: kind) { return }
        // The vectors delivery tried, in order, ending with the exception that stopped it.
        var chain: [UInt8] = [vector]
        while true {
            let second = pendingVector
            if faultBelongsToNewTask {
                faultBelongsToNewTask = false
            } else if kind == .software || kind == .privilegedSoftware {
                rewindInstructionPointer(by: instructionLength)
            }
            if (kind == .fault || kind == .trap) && vector == ExceptionVector.doubleFault.rawValue {
                chain.append(second)
                enterShutdown(chain: chain)
                return
            }
            if (kind == .fault || kind == .trap) && causesDoubleFault(first: vector, second: second) {
                vector = ExceptionVector.doubleFault.rawValue
                errorCode = 0
            } else {
                vector = second
                errorCode = pendingHasErrorCode ? pendingErrorCode : nil
            }
            kind = .fault
            chain.append(vector)
            if deliverOnce(vector: vector, errorCode: errorCode, kind: kind) { return }
        }
    }

    func causesDoubleFault(first: UInt8, second: UInt8) -> Bool {
        switch (ExceptionVector.classOf(first), ExceptionVector.classOf(second)) {
        case (.contributory, .contributory), (.pageFault, .contributory), (.pageFault, .pageFault): true
        default: false
        }
    }

    func enterShutdown(chain: [UInt8]) {
        shutdownChain = chain
        activity = .shutdown
        if hasObserver { observer?.cpu(self, enteredShutdownAfter: chain) }
    }

    /// One delivery attempt; `false` with a new exception pending when it faulted.
    private func deliverOnce(vector: UInt8, errorCode: UInt32?, kind: EventKind) -> Bool {
        if hasObserver, let observer {
            let source: InterruptSource = switch kind {
            case .fault, .trap: .exception
            case .software, .privilegedSoftware: .software
            case .external: .external
            }
            observer.cpu(self, delivers: vector, source: source, errorCode: errorCode)
        }
        if longModeActive {
            return deliverLongMode(vector: vector, errorCode: errorCode, kind: kind)
        }
        if isProtectedMode {
            return deliverProtectedMode(vector: vector, errorCode: errorCode, kind: kind)
        }
        return deliverRealMode(vector: vector)
    }

    /// Real-mode delivery through the interrupt vector table at IDTR.base (SDM Vol. 3A, 20.1.4):
    /// push FLAGS, CS, IP; clear IF, TF, AC; jump through the 4-byte vector.
    private func deliverRealMode(vector: UInt8) -> Bool {
        let entry = UInt32(vector) &* 4
        if entry &+ 3 > idtr.limit {
            raiseFault(.generalProtection, errorCode: UInt32(vector) &* 8 &+ 2)
            return false
        }
        let entryAddress = (idtr.base &+ UInt64(entry)) & 0xFFFF_FFFF
        guard let offset = readLinear(entryAddress, as: UInt16.self),
              let selector = readLinear(entryAddress &+ 2, as: UInt16.self) else { return false }
        let flags = eflags
        guard push(UInt64(flags & 0xFFFF), UInt64(segs[SegmentRegister.cs.rawValue].selector), rip & 0xFFFF, .word)
        else { return false }
        eflagsStored &= ~(EFlags.interrupt | EFlags.trap | EFlags.alignmentCheck | EFlags.resume)
        loadRealModeSegment(.cs, selector: selector)
        rip = UInt64(offset)
        return true
    }

}
