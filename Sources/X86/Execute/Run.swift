/// Why `CPU.run(limit:)` returned.
public enum StopReason: Sendable, Equatable {
    /// The instruction budget is used up.
    case limitReached
    /// The CPU executed HLT (or is still halted) and no interrupt is pending.
    case halted
    /// The CPU entered shutdown (a triple fault); `CPU.shutdownChain` has the exception chain.
    case shutdown
    /// An application processor waiting for a start-up IPI.
    case waitingForStartup
    /// The owner called `requestStop()`.
    case stopRequested
}

/// What executing one decoded instruction did.
enum Step: UInt8 {
    /// Continue with the next record of the block.
    case next
    /// Retired; the block ends here (control transfer or state change).
    case exit
    /// Not retired: an exception is pending (`CPU.pendingVector`).
    case fault
    /// Retired HLT.
    case halt
    /// The synthetic end of a block: nothing retired.
    case blockEnd
}

extension CPU {
    /// Asks `run` to return at the end of the current decoded block (from a device
    /// callback). Port I/O ends its block, so a stop asked for by an IN or OUT takes effect
    /// right after that instruction; one asked for by an MMIO access within at most
    /// `CodeCache.maximumBlockLength` instructions.
    public func requestStop() {
        stopRequested = true
    }

    /// Runs until `limit` clock ticks have passed (retired instructions and delivered events,
    /// see `ticks`) or something stops the CPU.
    public func run(limit: Int) -> StopReason {
        let startTicks = ticks
        stopRequested = false
        while true {
            // Every retired instruction counts, REP iterations included, and every delivery.
            let executed = Int(truncatingIfNeeded: ticks &- startTicks)
            // Whole blocks run without a look at anything else while nothing is signalled,
            // no single-stepping is on and the budget has room for a whole block.
            if signalsNeedingAttention != 0 || eflagsStored & (EFlags.trap | EFlags.resume) != 0
                || limit - executed < CodeCache.maximumBlockLength {
                if let reason = serviceEvents() { return reason }
                if executed >= limit { return .limitReached }
                runCarefully(budget: limit - executed)
                continue
            }
            refreshCodeMode()
            guard let blockStart = blockAtInstructionPointer() else {
                deliverPendingException(instructionStart: rip)
                continue
            }
            enterBlock(repeatBudget: limit - executed)
            var d = blockStart
            var step: Step
            while true {
                step = execute(&d)
                if step != .next { break }
                d += 1
            }
            finishBlock(from: blockStart, at: d, step)
        }
    }

    /// `signals` but an interrupt request while IF is clear, which nothing takes until IF is set
    /// (by an instruction that ends its block): a kernel that runs with interrupts disabled
    /// while a timer's request waits runs its blocks whole. Computed without a branch, as the
    /// run loop must stay small enough for the compiler to inline `execute` into it.
    @inline(__always) private var signalsNeedingAttention: UInt8 {
        // IF clear moved down to bit 0, where `Signals.interruptLine` is.
        let interruptsBlocked = UInt8(truncatingIfNeeded: ~eflagsStored >> UInt32(EFlags.interrupt.trailingZeroBitCount)) & Signals.interruptLine
        return signals & ~interruptsBlocked
    }

    /// Runs at most `budget` instructions of one block while something needs a look between
    /// instructions: a single-step trap, an interrupt shadow, breakpoints, RF, or a budget too
    /// small for a whole block.
    @inline(never)
    private func runCarefully(budget: Int) {
        refreshCodeMode()
        let trapAfterEach = eflagsStored & EFlags.trap != 0
        let shadowActive = interruptShadow
        // Breakpoints are checked around every instruction. RF (set by IRET or a task switch)
        // masks instruction breakpoints for one instruction: it is cleared as that instruction
        // starts, after the breakpoint check (SDM Vol. 3A, 17.3.1.1).
        let debugging = signals & Signals.debug != 0
        let resumeOnce = eflagsStored & EFlags.resume != 0
        let allowance = (trapAfterEach || shadowActive || debugging || resumeOnce) ? 1 : budget
        if debugging {
            let hits = instructionBreakpointHits()
            if hits != 0 {
                deliverInstructionBreakpoint(hits)
                return
            }
        }
        guard let blockStart = blockAtInstructionPointer() else {
            deliverPendingException(instructionStart: rip)
            return
        }
        // A data breakpoint hit by one iteration of a REP string instruction traps after that iteration.
        enterBlock(repeatBudget: debugging ? 1 : budget)
        if resumeOnce { eflagsStored &= ~EFlags.resume }
        var d = blockStart
        var step: Step
        while true {
            step = execute(&d)
            if step != .next || d - blockStart + 1 - skippedRecords >= allowance { break }
            d += 1
        }
        let retired = finishBlock(from: blockStart, at: d, step)
        if shadowActive && retired > 0 { interruptShadow = false }
        // MOV SS and POP SS hold the single-step trap until after the next instruction (SDM Vol. 3A, 6.8.3).
        let stepTrap = trapAfterEach && retired > 0 && step != .fault && !d.pointee.loadsStackSegment
        // A fault drops the instruction's data-breakpoint hits; so does shutdown (an INT n whose
        // delivery triple-faulted), which stops the processor until NMI, INIT or RESET: no trap
        // is delivered after it (SDM Vol. 3A, 6.15, Interrupt 8).
        if step == .fault || activity == .shutdown { pendingDebugStatus = 0 }
        if (stepTrap || pendingDebugStatus != 0) && activity != .shutdown { deliverDebugTrap(singleStep: stepTrap) }
    }

    /// Notes where the block about to run starts, for `nextInstructionPointer`, and how often
    /// a REP string instruction may repeat in it.
    @inline(__always) private func enterBlock(repeatBudget budget: Int) {
        regs[Int(RegisterFile.instructionPointerSlot)] = rip
        instructionPointerMask = executing64 ? ~0 : segs[SegmentRegister.cs.rawValue].defaultSize32 ? 0xFFFF_FFFF : 0xFFFF
        repeatBudget = budget
    }

    /// Notes whether the next block runs in 64-bit mode (`executing64`).
    @inline(__always) func refreshCodeMode() {
        executing64 = longModeActive && segs[SegmentRegister.cs.rawValue].isLongMode
    }

    /// The offset of the first byte of `d`'s instruction, in the current block.
    @inline(__always) func instructionStart(_ d: UnsafeMutablePointer<DecodedInstruction>) -> UInt64 {
        (blockInstructionPointer &+ UInt64(bitPattern: Int64(d.pointee.endOffset)) &- UInt64(d.pointee.length))
            & instructionPointerMask
    }

    /// Accounts for a block that stopped at `d` with `step`: brings EIP up to date, counts the
    /// retired instructions and delivers a fault. Returns how many instructions retired.
    @inline(__always) @discardableResult
    private func finishBlock(from blockStart: UnsafeMutablePointer<DecodedInstruction>,
                             at d: UnsafeMutablePointer<DecodedInstruction>, _ step: Step) -> Int {
        // Records before `d` retired but those taken forward branches passed over
        // (`skippedRecords`); `d` itself retired unless it faulted or was the block's end.
        // (An unsigned distance: the records are in order, and a shift divides it.)
        var retired = Int(bitPattern: (UInt(bitPattern: d) &- UInt(bitPattern: blockStart))
                                      / UInt(MemoryLayout<DecodedInstruction>.stride)) &- skippedRecords
        skippedRecords = 0
        if step == .exit {
            // The instruction has set EIP (Dispatch.swift).
            retired += 1
        } else if step == .blockEnd {
            // The synthetic end has no length; a record poisoned by a write to its page has
            // its instruction's, which has not run.
            rip = instructionStart(d)
        } else if step == .next {
            // Stopped early (`runCarefully`): EIP is where the next record starts, which after a
            // followed transfer is its target rather than the instruction's end.
            retired += 1
            rip = instructionStart(d + 1)
        } else if step == .halt {
            retired += 1
            activity = .halted
        } else {
            deliverPendingException(instructionStart: instructionStart(d))
        }
        instructionsRetired &+= UInt64(retired)
        if step == .halt && hasObserver { observer?.cpuHalted(self) }
        return retired
    }

    /// Whether running this CPU now could do anything: it is active, or something it would
    /// take at the next boundary is pending (INIT, a start-up IPI, an unblocked NMI — except
    /// while waiting for a start-up IPI, where only INIT and SIPI count, as in `serviceEvents` —
    /// or INTR with IF set while halted). An owner need not give a slice to a CPU for which
    /// this is false: it would return at once, having done nothing.
    public var canMakeProgress: Bool {
        activity == .active || initPending || startupPending
            || (nmiPending && !nmiBlocked && activity != .waitingForStartup)
            || (activity == .halted && interruptRequested && interruptFlag)
    }

    /// Handles INIT, start-up, NMI and INTR at an instruction boundary, and reports
    /// why a non-active CPU cannot run or an owner's stop request. Returns `nil` when
    /// execution can continue.
    func serviceEvents() -> StopReason? {
        if initPending {
            initPending = false
            enterInitState()
        }
        if activity == .waitingForStartup {
            guard startupPending else { return .waitingForStartup }
            startupPending = false
            startAt(vector: startupVector)
        }
        if stopRequested { return .stopRequested }
        if interruptShadow { return activity == .active ? nil : stopReasonForActivity }
        if nmiPending && !nmiBlocked {
            nmiPending = false
            nmiBlocked = true
            // NMI ends HLT and also shutdown (SDM Vol. 3A, 6.7 and 2.8 "Shutdown").
            if activity == .halted { wakeFromHalt(for: ExceptionVector.nmi.rawValue, isNMI: true) }
            if activity == .shutdown { activity = .active }
            deliverEvent(vector: ExceptionVector.nmi.rawValue, errorCode: nil, kind: .external)
            return nil
        }
        if activity == .shutdown { return .shutdown }
        if interruptRequested && interruptFlag {
            if let vector = interruptController?.acknowledgeInterrupt() {
                if activity == .halted { wakeFromHalt(for: vector, isNMI: false) }
                deliverEvent(vector: vector, errorCode: nil, kind: .external)
            }
        }
        return activity == .active ? nil : stopReasonForActivity
    }

    /// Leaves the halted state to take an event, and tells the observer.
    private func wakeFromHalt(for vector: UInt8, isNMI: Bool) {
        activity = .active
        if hasObserver { observer?.cpu(self, wokeFromHaltFor: vector, isNMI: isNMI) }
    }

    private var stopReasonForActivity: StopReason {
        switch activity {
        case .active: .limitReached
        case .halted: .halted
        case .shutdown: .shutdown
        case .waitingForStartup: .waitingForStartup
        }
    }
}
