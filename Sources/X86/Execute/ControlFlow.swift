/// JMP, Jcc, CALL, RET, LOOP, INT, IRET, HLT and BOUND.
extension CPU {
    @inline(__always) private func operandMask(_ size: OperandSize) -> UInt64 { size.mask }

    /// Whether a near branch may go to `target`: within the CS limit, or in 64-bit mode canonical;
    /// else the branch is #GP(0) and EIP stays (SDM Vol. 2, JMP).
    @inline(__always) func isBranchTarget(_ target: UInt64) -> Bool {
        executing64 ? isCanonical(target) : target <= UInt64(segs[SegmentRegister.cs.rawValue].limit)
    }

    /// Moves EIP to `target` (already truncated to the operand size) after the CS limit check.
    @inline(__always) func branch(to target: UInt64) -> Step {
        if !isBranchTarget(target) { return raiseFault(.generalProtection, errorCode: 0) }
        rip = target
        return .exit
    }

    @inline(__always) func execJmpRel(_ d: Instruction) -> Step {
        branch(to: (nextInstructionPointer(d) &+ d.displacement) & operandMask(d.size))
    }

    /// A conditional branch ends its block only when taken: decoding goes on past it, so a
    /// branch that falls through costs no block lookup. It runs without `rip` brought up to
    /// date (see Dispatch.swift), so it works out the next instruction's offset itself.
    @inline(__always) func execJcc(_ d: Instruction) -> Step {
        if condition(d.sub) { return branch(to: (nextInstructionPointer(d) &+ d.displacement) & operandMask(d.size)) }
        return .next
    }

    /// JZ/JNZ or JC/JNC, given the flag their condition tests: taken when the flag differs from
    /// the condition code's low bit.
    @inline(__always) func execJccOnFlag(_ d: Instruction, _ flag: Bool) -> Step {
        if flag != (d.sub & 1 != 0) { return branch(to: (nextInstructionPointer(d) &+ d.displacement) & operandMask(d.size)) }
        return .next
    }

    /// A Jcc whose block goes on at its target (`CPU.followedTarget`): the block is left, at the
    /// instruction after the branch, only when it is not taken.
    @inline(__always) func execFollowedJcc(_ d: Instruction, taken: Bool) -> Step {
        if taken { return .next }
        rip = nextInstructionPointer(d)
        return .exit
    }

    /// Whether a forward Jcc whose target is a later record of its block (`Op.jccSkip`) is
    /// taken. Out of line: the general condition is too large to inline into the run loop.
    func execSkippingJcc(_ d: Instruction) -> Bool {
        condition(d.sub)
    }

    /// LOOP/LOOPZ/LOOPNZ/JCXZ: the counter is CX or ECX by address size.
    func execLoop(_ d: Instruction) -> Step {
        let counterSize = d.addressSize
        let rcx = RegisterFile.byteOffset(UInt8(GeneralRegister.rcx.rawValue))
        var counter = readRegister(rcx, counterSize)
        let taken: Bool
        switch d.op {
        case .jcxz:
            taken = counter == 0
        default:
            counter = (counter &- 1) & counterSize.mask
            writeRegister(rcx, counterSize, counter)
            switch d.op {
            case .loopz: taken = counter != 0 && zeroFlag
            case .loopnz: taken = counter != 0 && !zeroFlag
            default: taken = counter != 0
            }
        }
        if taken { return branch(to: (nextInstructionPointer(d) &+ d.displacement) & operandMask(d.size)) }
        // Not taken: the block's end record follows (LOOP ends its block) and sets EIP.
        return .next
    }

    /// CALL rel at `Value`'s operand size.
    @inline(__always) func callRelative<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        let returnOffset = nextInstructionPointer(d)
        let target = (returnOffset &+ d.displacement) & operandMask(size)
        if !isBranchTarget(target) { return raiseFault(.generalProtection, errorCode: 0) }
        guard push(returnOffset, size) else { return .fault }
        rip = target
        return .exit
    }

    func execJmpRm(_ d: Instruction) -> Step {
        guard let target = readRM(d, d.size) else { return .fault }
        return branch(to: UInt64(target))
    }

    func execCallRm(_ d: Instruction) -> Step {
        guard let target = readRM(d, d.size) else { return .fault }
        if !isBranchTarget(target) { return raiseFault(.generalProtection, errorCode: 0) }
        guard push(nextInstructionPointer(d), d.size) else { return .fault }
        rip = UInt64(target)
        return .exit
    }

    /// RET near (and RET imm16) at `Value`'s operand size.
    @inline(__always) func returnNear<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        guard let target = peekStack(0, size) else { return .fault }
        if !isBranchTarget(target) { return raiseFault(.generalProtection, errorCode: 0) }
        setStackPointer(stackOffset(stackPointer, adding: size.bytes + Int(d.imm)))
        rip = UInt64(target)
        return .exit
    }

    /// CALL rel and RET near with a 16-bit operand size, out of line: `execute` runs the 32-
    /// and 64-bit forms inline.
    func execCallRel16(_ d: Instruction) -> Step { callRelative(d, UInt16.self) }
    func execRetNear16(_ d: Instruction) -> Step { returnNear(d, UInt16.self) }

    /// Reads a far pointer (offset, then selector) from a memory operand.
    private func readFarPointer(_ d: Instruction) -> (offset: UInt64, selector: UInt16)? {
        let address = effectiveAddress(d)
        guard let offset = read(d.segment, address, d.size) else { return nil }
        let selectorAt = wrappedOffset(address &+ UInt64(d.size.bytes), d)
        guard let selector = read16(d.segment, selectorAt) else { return nil }
        return (offset, selector)
    }

    func execJmpFar(_ d: Instruction) -> Step {
        let offset = d.imm & UInt32(truncatingIfNeeded: d.size.mask)
        if longModeActive { return farJumpLongMode(selector: d.imm2, offset: UInt64(offset)) ? .exit : .fault }
        return farJump(selector: d.imm2, offset: offset)
    }

    func execJmpFarMem(_ d: Instruction) -> Step {
        guard let pointer = readFarPointer(d) else { return .fault }
        if longModeActive { return farJumpLongMode(selector: pointer.selector, offset: pointer.offset) ? .exit : .fault }
        return farJump(selector: pointer.selector, offset: UInt32(truncatingIfNeeded: pointer.offset))
    }

    func execCallFar(_ d: Instruction) -> Step {
        let offset = d.imm & UInt32(truncatingIfNeeded: d.size.mask)
        if longModeActive { return farCallLongMode(selector: d.imm2, offset: UInt64(offset), size: d.size) ? .exit : .fault }
        return farCall(selector: d.imm2, offset: offset, size: d.size)
    }

    func execCallFarMem(_ d: Instruction) -> Step {
        guard let pointer = readFarPointer(d) else { return .fault }
        if longModeActive {
            return farCallLongMode(selector: pointer.selector, offset: pointer.offset, size: d.size) ? .exit : .fault
        }
        return farCall(selector: pointer.selector, offset: UInt32(truncatingIfNeeded: pointer.offset), size: d.size)
    }

    func farJump(selector: UInt16, offset: UInt32) -> Step {
        guard loadCodeSegment(selector: selector, offset: offset) else { return .fault }
        return .exit
    }

    /// CALL far: push CS and the return offset (both with the operand size), then jump.
    func farCall(selector: UInt16, offset: UInt32, size: OperandSize) -> Step {
        if !isRealAddressing {
            return farCallProtected(selector: selector, offset: offset, size: size) ? .exit : .fault
        }
        if let step = realModeFarCall(selector: selector, offset: offset, size: size) { return step }
        let savedSP = stackPointer
        let returnSelector = UInt32(segs[SegmentRegister.cs.rawValue].selector)
        guard push(UInt64(returnSelector), rip, size) else { return .fault }
        guard loadCodeSegment(selector: selector, offset: offset) else {
            setStackPointer(savedSP)
            return .fault
        }
        return .exit
    }

    func execRetFar(_ d: Instruction) -> Step {
        let size = d.size
        if longModeActive { return farReturnLongMode(size: size, release: d.imm) ? .exit : .fault }
        if !isRealAddressing {
            return farReturnProtected(size: size, release: d.imm) ? .exit : .fault
        }
        if let step = realModeFarReturn(size, release: d.imm) { return step }
        guard let offset = peekStack(0, size), let selector = peekStack(size.bytes, size) else { return .fault }
        guard loadCodeSegment(selector: UInt16(truncatingIfNeeded: selector), offset: UInt32(truncatingIfNeeded: offset)) else { return .fault }
        setStackPointer(stackOffset(stackPointer, adding: 2 * size.bytes + Int(d.imm)))
        return .exit
    }

    /// IRET: in real mode pop IP, CS, FLAGS; in virtual-8086 mode the same when IOPL = 3
    /// (else #GP(0)); in protected mode see `interruptReturnProtected`. Ends NMI blocking
    /// (SDM Vol. 3A, 6.7.1).
    func execIret(_ d: Instruction) -> Step {
        let size = d.size
        // IRET unblocks NMI even when it faults (SDM Vol. 3A, 6.7.1).
        nmiBlocked = false
        if longModeActive {
            guard interruptReturnLongMode(size: size) else { return .fault }
            return .exit
        }
        if isProtectedMode && !isVirtual8086 {
            guard interruptReturnProtected(size: size) else { return .fault }
            return .exit
        }
        if let step = realModeInterruptReturn(size) { return step }
        if isVirtual8086 && iopl < 3 { return raiseFault(.generalProtection, errorCode: 0) }
        guard let offset = peekStack(0, size),
              let selector = peekStack(size.bytes, size),
              let flags = peekStack(2 * size.bytes, size) else { return .fault }
        guard loadCodeSegment(selector: UInt16(truncatingIfNeeded: selector), offset: UInt32(truncatingIfNeeded: offset)) else { return .fault }
        setStackPointer(stackOffset(stackPointer, adding: 3 * size.bytes))
        writeFlagsFromStack(UInt32(truncatingIfNeeded: flags), size, level: cpl)
        return .exit
    }

    /// INT n, INT3, INTO: in virtual-8086 mode with IOPL < 3 they are #GP(0) (SDM Vol. 2, INT n).
    func execInt(_ d: Instruction, vector: UInt8) -> Step {
        if isVirtual8086 && iopl < 3 && d.op != .int1 { return raiseFault(.generalProtection, errorCode: 0) }
        if d.op != .int1, let step = realModeSoftwareInterrupt(vector: vector) { return step }
        deliverEvent(vector: vector, errorCode: nil, kind: d.op == .int1 ? .privilegedSoftware : .software,
                     instructionLength: d.length)
        return .exit
    }

    func execInto(_ d: Instruction) -> Step {
        overflowFlag ? execInt(d, vector: ExceptionVector.overflow.rawValue) : .exit
    }

    /// BOUND: #BR (a fault) when the signed index lies outside [lower, upper].
    func execBound(_ d: Instruction) -> Step {
        let size = d.size
        let address = effectiveAddress(d)
        let upperAt = wrappedOffset(address &+ UInt64(size.bytes), d)
        guard let lower = read(d.segment, address, size), let upper = read(d.segment, upperAt, size) else { return .fault }
        let index = readRegister(d.reg, size)
        let signed: (UInt64) -> Int32 = { size == .dword ? Int32(truncatingIfNeeded: $0) : Int32(Int16(truncatingIfNeeded: $0)) }
        if signed(index) < signed(lower) || signed(index) > signed(upper) {
            return raiseFault(.boundRange)
        }
        return .exit
    }

    func execHlt() -> Step {
        if !privileged { return raiseFault(.generalProtection, errorCode: 0) }
        return .halt
    }
}
