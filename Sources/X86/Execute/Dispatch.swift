/// The executor: a switch over the decoded opcode.
///
/// While a block runs, `rip` is not advanced instruction by instruction: each record knows
/// where its instruction ends relative to the block's start (`DecodedInstruction.endOffset`),
/// and EIP is worked out only where it is needed. The instructions dispatched by `execute`
/// do not read `rip`; the near branches among them work out the next instruction's offset
/// themselves (`nextInstructionPointer`) and set `rip` when they leave the block. The others
/// get `rip` set to the next instruction's offset first, as the hardware's EIP would be, by
/// `executeAtInstructionPointer`. A fault is reported at the instruction's start either way
/// (`deliverPendingException(instructionStart:)`).
extension CPU {
    /// Runs the record at `p`. A taken forward branch whose target is later in the block
    /// (`Op.jccSkip`) moves `p` to the record before that target, so that the loop's step to
    /// the next record reaches it, and counts the records between as `skippedRecords`.
    @inline(__always)
    func execute(_ p: inout UnsafeMutablePointer<DecodedInstruction>) -> Step {
        let d = Instruction(p)
        switch d.op {
        case .endBlock: return .blockEnd
        // Arithmetic and logic
        case .addRmReg: return execAluRmReg(d, AddOperation.self)
        case .orRmReg: return execAluRmReg(d, OrOperation.self)
        case .adcRmReg: return execAluRmReg(d, AdcOperation.self)
        case .sbbRmReg: return execAluRmReg(d, SbbOperation.self)
        case .andRmReg: return execAluRmReg(d, AndOperation.self)
        case .subRmReg: return execAluRmReg(d, SubOperation.self)
        case .xorRmReg: return execAluRmReg(d, XorOperation.self)
        case .cmpRmReg: return execAluRmReg(d, CmpOperation.self)
        case .addRegRm: return execAluRegRm(d, AddOperation.self)
        case .orRegRm: return execAluRegRm(d, OrOperation.self)
        case .adcRegRm: return execAluRegRm(d, AdcOperation.self)
        case .sbbRegRm: return execAluRegRm(d, SbbOperation.self)
        case .andRegRm: return execAluRegRm(d, AndOperation.self)
        case .subRegRm: return execAluRegRm(d, SubOperation.self)
        case .xorRegRm: return execAluRegRm(d, XorOperation.self)
        case .cmpRegRm: return execAluRegRm(d, CmpOperation.self)
        case .addRmImm: return execAluRmImm(d, AddOperation.self)
        case .orRmImm: return execAluRmImm(d, OrOperation.self)
        case .adcRmImm: return execAluRmImm(d, AdcOperation.self)
        case .sbbRmImm: return execAluRmImm(d, SbbOperation.self)
        case .andRmImm: return execAluRmImm(d, AndOperation.self)
        case .subRmImm: return execAluRmImm(d, SubOperation.self)
        case .xorRmImm: return execAluRmImm(d, XorOperation.self)
        // CMP and TEST of a byte (a flag, a character) run inline; a handler for every size
        // would be too large for the compiler to inline here.
        case .cmpRmImm:
            return d.size == .byte ? aluRmImm(d, CmpOperation.self, UInt8.self) : execAluRmImm(d, CmpOperation.self)
        case .testRmReg: return d.size == .byte ? testRm(d, UInt8.self, immediate: false) : execTest(d, immediate: false)
        case .testRmImm: return d.size == .byte ? testRm(d, UInt8.self, immediate: true) : execTest(d, immediate: true)
        case .incRm: return execIncDec(d, increment: true)
        case .decRm: return execIncDec(d, increment: false)
        // Forms with nothing left to decide (Decoder.specializeHotForms).
        case .incRegister64: return execIncDecRegister(d, UInt64.self, increment: true)
        case .decRegister64: return execIncDecRegister(d, UInt64.self, increment: false)
        case .addRegisters64: return execAluRegister(d, AddOperation.self, source: registerSource(d, UInt64.self))
        case .orRegisters64: return execAluRegister(d, OrOperation.self, source: registerSource(d, UInt64.self))
        case .andRegisters64: return execAluRegister(d, AndOperation.self, source: registerSource(d, UInt64.self))
        case .subRegisters64: return execAluRegister(d, SubOperation.self, source: registerSource(d, UInt64.self))
        case .xorRegisters64: return execAluRegister(d, XorOperation.self, source: registerSource(d, UInt64.self))
        case .cmpRegisters64: return execAluRegister(d, CmpOperation.self, source: registerSource(d, UInt64.self))
        case .addRegisterImmediate64: return execAluRegister(d, AddOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .orRegisterImmediate64: return execAluRegister(d, OrOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .andRegisterImmediate64: return execAluRegister(d, AndOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .subRegisterImmediate64: return execAluRegister(d, SubOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .xorRegisterImmediate64: return execAluRegister(d, XorOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .cmpRegisterImmediate64: return execAluRegister(d, CmpOperation.self, source: UInt64(truncatingIfNeeded: d.immediate))
        case .addRegisters32: return execAluRegister(d, AddOperation.self, source: registerSource(d, UInt32.self))
        case .orRegisters32: return execAluRegister(d, OrOperation.self, source: registerSource(d, UInt32.self))
        case .andRegisters32: return execAluRegister(d, AndOperation.self, source: registerSource(d, UInt32.self))
        case .subRegisters32: return execAluRegister(d, SubOperation.self, source: registerSource(d, UInt32.self))
        case .xorRegisters32: return execAluRegister(d, XorOperation.self, source: registerSource(d, UInt32.self))
        case .cmpRegisters32: return execAluRegister(d, CmpOperation.self, source: registerSource(d, UInt32.self))
        case .addRegisterImmediate32: return execAluRegister(d, AddOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .orRegisterImmediate32: return execAluRegister(d, OrOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .andRegisterImmediate32: return execAluRegister(d, AndOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .subRegisterImmediate32: return execAluRegister(d, SubOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .xorRegisterImmediate32: return execAluRegister(d, XorOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .cmpRegisterImmediate32: return execAluRegister(d, CmpOperation.self, source: UInt32(truncatingIfNeeded: d.immediate))
        case .addRegisters16: return execAluRegister(d, AddOperation.self, source: registerSource(d, UInt16.self))
        case .orRegisters16: return execAluRegister(d, OrOperation.self, source: registerSource(d, UInt16.self))
        case .andRegisters16: return execAluRegister(d, AndOperation.self, source: registerSource(d, UInt16.self))
        case .subRegisters16: return execAluRegister(d, SubOperation.self, source: registerSource(d, UInt16.self))
        case .xorRegisters16: return execAluRegister(d, XorOperation.self, source: registerSource(d, UInt16.self))
        case .cmpRegisters16: return execAluRegister(d, CmpOperation.self, source: registerSource(d, UInt16.self))
        case .addRegisterImmediate16: return execAluRegister(d, AddOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .orRegisterImmediate16: return execAluRegister(d, OrOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .andRegisterImmediate16: return execAluRegister(d, AndOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .subRegisterImmediate16: return execAluRegister(d, SubOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .xorRegisterImmediate16: return execAluRegister(d, XorOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .cmpRegisterImmediate16: return execAluRegister(d, CmpOperation.self, source: UInt16(truncatingIfNeeded: d.immediate))
        case .aluRegisters64: return execAluRegister(d, source: readRegister(d.reg, .qword))
        case .aluRegisterImmediate64: return execAluRegister(d, source: d.immediate)
        case .testRegisters64: return execTestRegister(d, readRegister(d.reg, .qword))
        case .testRegisterImmediate64: return execTestRegister(d, d.immediate)
        case .shlRegister64: return execShiftRegister(d, ShiftLeftOperation.self, UInt64.self)
        case .shrRegister64: return execShiftRegister(d, ShiftRightOperation.self, UInt64.self)
        case .sarRegister64: return execShiftRegister(d, ShiftRightArithmeticOperation.self, UInt64.self)
        case .movRegisters64: return moveToRegister(d.rm, .qword, readRegister(d.reg, .qword))
        case .loadRegister64: return execLoadRegister(d, UInt64.self)
        case .storeRegister64: return execStoreRegister(d, UInt64.self)
        case .incRegister32: return execIncDecRegister(d, UInt32.self, increment: true)
        case .incRegister16: return execIncDecRegister(d, UInt16.self, increment: true)
        case .decRegister32: return execIncDecRegister(d, UInt32.self, increment: false)
        case .decRegister16: return execIncDecRegister(d, UInt16.self, increment: false)
        case .aluRegisters32: return execAluRegister(d, source: UInt32(truncatingIfNeeded: readRegister(d.reg, .dword)))
        case .aluRegisters16: return execAluRegister(d, source: UInt16(truncatingIfNeeded: readRegister(d.reg, .word)))
        case .aluRegisterImmediate32: return execAluRegister(d, source: d.imm)
        case .aluRegisterImmediate16: return execAluRegister(d, source: UInt16(truncatingIfNeeded: d.imm))
        case .testRegisters32: return execTestRegister(d, UInt32(truncatingIfNeeded: readRegister(d.reg, .dword)))
        case .testRegisters16: return execTestRegister(d, UInt16(truncatingIfNeeded: readRegister(d.reg, .word)))
        case .testRegisters8: return execTestRegister(d, UInt8(truncatingIfNeeded: readRegister(d.reg, .byte)))
        case .testRegisterImmediate32: return execTestRegister(d, d.imm)
        case .testRegisterImmediate16: return execTestRegister(d, UInt16(truncatingIfNeeded: d.imm))
        case .shlRegister32: return execShiftRegister(d, ShiftLeftOperation.self, UInt32.self)
        case .shrRegister32: return execShiftRegister(d, ShiftRightOperation.self, UInt32.self)
        case .sarRegister32: return execShiftRegister(d, ShiftRightArithmeticOperation.self, UInt32.self)
        case .shlRegister16: return execShiftRegister(d, ShiftLeftOperation.self, UInt16.self)
        case .shrRegister16: return execShiftRegister(d, ShiftRightOperation.self, UInt16.self)
        case .sarRegister16: return execShiftRegister(d, ShiftRightArithmeticOperation.self, UInt16.self)
        case .rotateRegister64: return execRotateRegister(d, UInt64.self)
        case .rotateRegister32: return execRotateRegister(d, UInt32.self)
        case .movRegisters32: return moveToRegister(d.rm, .dword, readRegister(d.reg, .dword))
        case .movRegisters16: return moveToRegister(d.rm, .word, readRegister(d.reg, .word))
        case .movRegisterImmediate32: return moveToRegister(d.rm, .dword, UInt64(d.imm))
        case .movRegisterImmediate16: return moveToRegister(d.rm, .word, UInt64(d.imm))
        case .movRegisterImmediate64: return moveToRegister(d.rm, .qword, UInt64(d.disp) << 32 | UInt64(d.imm))
        case .loadRegister32: return execLoadRegister(d, UInt32.self)
        case .loadRegister16: return execLoadRegister(d, UInt16.self)
        case .loadRegister8: return execLoadRegister(d, UInt8.self)
        case .loadByteZeroExtended32:
            guard let value = read8(d.segment, effectiveAddress(d)) else { return .fault }
            return moveToRegister(d.reg, .dword, UInt64(value))
        case .storeRegister32: return execStoreRegister(d, UInt32.self)
        case .storeRegister16: return execStoreRegister(d, UInt16.self)
        case .storeRegister8: return execStoreRegister(d, UInt8.self)
        case .notRm: return execNot(d)
        case .negRm: return execNeg(d)
        case .mulRm: return execMul(d)
        case .imulRm: return execImulOneOperand(d)
        case .divRm: return execDiv(d)
        case .idivRm: return execIdiv(d)
        case .imulRegRmImm: return execImulTruncating(d, immediate: true)
        case .imulRegRm: return execImulTruncating(d, immediate: false)
        case .convertToWider: return execConvertToWider(d)
        case .convertToDouble: return execConvertToDouble(d)
        case .daa: return execDaa()
        case .das: return execDas()
        case .aaa: return execAaa()
        case .aas: return execAas()
        case .aam: return execAam(d)
        case .aad: return execAad(d)
        case .salc: return execSalc()
        // Shifts and rotates
        case .shiftRmImm: return execShift(d, count: d.imm)
        case .shiftRmCL: return execShift(d, count: UInt32(UInt8(truncatingIfNeeded: regs[1])))
        case .shldImm: return execDoubleShift(d, left: true, count: d.imm)
        case .shldCL: return execDoubleShift(d, left: true, count: UInt32(UInt8(truncatingIfNeeded: regs[1])))
        case .shrdImm: return execDoubleShift(d, left: false, count: d.imm)
        case .shrdCL: return execDoubleShift(d, left: false, count: UInt32(UInt8(truncatingIfNeeded: regs[1])))
        // Bits
        case .bitTestRmReg: return execBitTestRegister(d)
        case .bitTestRmImm: return execBitTestImmediate(d)
        case .bsf: return execBitScan(d, forward: true)
        case .bsr: return execBitScan(d, forward: false)
        // Data movement
        case .movRmReg: return execMovRmReg(d)
        case .movRegRm: return execMovRegRm(d)
        case .movRmImm:
            switch d.size {
            case .dword: return moveImmediate(d, UInt32.self)
            case .qword: return moveImmediate(d, UInt64.self)
            case .byte: return moveImmediate(d, UInt8.self)
            default: return execMovRmImm(d)
            }
        case .movRmSeg: return execMovRmSeg(d)
        case .lea: return execLea(d)
        case .movzxByte: return execMovExtend(d, UInt8.self, signed: false)
        case .movzxWord: return execMovExtend(d, UInt16.self, signed: false)
        case .movsxByte: return execMovExtend(d, UInt8.self, signed: true)
        case .movsxWord: return execMovExtend(d, UInt16.self, signed: true)
        case .movsxDword: return execMovExtend(d, UInt32.self, signed: true)
        case .xchgRmReg: return execXchg(d)
        case .xlat: return execXlat(d)
        case .movAccMoffs: return execMovAccMoffs(d)
        case .movMoffsAcc: return execMovMoffsAcc(d)
        case .cmovcc: return execCmov(d)
        case .setcc: return execSetcc(d)
        case .bswap: return execBswap(d)
        case .lahf: return execLahf()
        case .sahf: return execSahf()
        case .xaddRmReg: return execXadd(d)
        case .cmpxchgRmReg: return execCmpxchg(d)
        case .cmpxchg8b: return execCmpxchg8b(d)
        case .cmpxchg16b: return execCmpxchg16b(d)
        // Stack
        // PUSH, POP, CALL and RET of 32- and 64-bit code run inline, one specialization per
        // size: a handler for every size would be too large for the compiler to inline here.
        case .pushReg:
            return d.size == .dword ? pushRegister(d, UInt32.self) : d.size == .qword ? pushRegister(d, UInt64.self) : execPushReg16(d)
        case .popReg:
            return d.size == .dword ? popRegister(d, UInt32.self) : d.size == .qword ? popRegister(d, UInt64.self) : execPopReg16(d)
        case .pushRm: return execPushRm(d)
        case .popRm: return execPopRm(d)
        case .pushImm: return execPushImm(d)
        case .pushSeg: return execPushSeg(d)
        case .pusha: return execPusha(d)
        case .popa: return execPopa(d)
        case .pushf: return execPushf(d)
        case .enter: return execEnter(d)
        case .leave: return execLeave(d)
        // Control transfer
        case .jcc: return execJcc(d)
        case .jccZero: return execJccOnFlag(d, zeroFlag)
        case .jccCarry: return execJccOnFlag(d, carryFlag)
        case .jmpRel: return execJmpRel(d)
        case .jmpRm: return execJmpRm(d)
        case .callRel:
            return d.size == .dword ? callRelative(d, UInt32.self) : d.size == .qword ? callRelative(d, UInt64.self) : execCallRel16(d)
        case .callRm: return execCallRm(d)
        case .retNear:
            return d.size == .dword ? returnNear(d, UInt32.self) : d.size == .qword ? returnNear(d, UInt64.self) : execRetNear16(d)
        case .loop, .loopz, .loopnz, .jcxz: return execLoop(d)
        case .jmpFollowed: return .next
        case .callFollowed: return push(nextInstructionPointer(d), d.size) ? .next : .fault
        case .jccFollowed: return execFollowedJcc(d, taken: condition(d.sub))
        case .jccZeroFollowed: return execFollowedJcc(d, taken: zeroFlag != (d.sub & 1 != 0))
        case .jccCarryFollowed: return execFollowedJcc(d, taken: carryFlag != (d.sub & 1 != 0))
        case .jccSkip: return skip(&p, taken: execSkippingJcc(d))
        case .jccZeroSkip: return skip(&p, taken: zeroFlag != (d.sub & 1 != 0))
        case .jccCarrySkip: return skip(&p, taken: carryFlag != (d.sub & 1 != 0))
        // Flags, I/O, system
        case .clc, .stc, .cmc, .cld, .std: return execFlagInstruction(d.op)
        case .movFromCR: return execMovFromCR(d)
        case .movFromDR: return execMovFromDR(d)
        case .cpuid: return execCpuid()
        case .rdtsc: return execRdtsc(d)
        case .rdmsr: return execRdmsr()
        case .nop: return .next
        case .arpl: return execArpl(d)
        case .lar: return execLoadAccessRights(d)
        case .lsl: return execLoadSegmentLimit(d)
        case .sse: return execSSE(d)
        case .sseMove: return execSSEMove(d)
        case .movs, .cmps, .stos, .lods, .scas: return execStringOnce(d)
        case .invalid: return raiseFault(ExceptionVector(rawValue: d.sub) ?? .invalidOpcode)
        default: return executeAtInstructionPointer(d)
        }
    }

    /// A forward branch to a later record of its block: when taken, moves `p` to the record
    /// before the target and counts the records in between as skipped (they do not retire).
    @inline(__always) func skip(_ p: inout UnsafeMutablePointer<DecodedInstruction>, taken: Bool) -> Step {
        if taken {
            let passedOver = Int(p.pointee.imm2) &- 1
            skippedRecords &+= passedOver
            p += passedOver
        }
        return .next
    }

    /// EIP where the running block started.
    @inline(__always) var blockInstructionPointer: UInt64 { regs[Int(RegisterFile.instructionPointerSlot)] }

    /// The offset of the instruction after `d`, in the current block.
    @inline(__always) func nextInstructionPointer(_ d: Instruction) -> UInt64 {
        (blockInstructionPointer &+ UInt64(bitPattern: Int64(d.endOffset))) & instructionPointerMask
    }

    /// Instructions that read or write EIP (control transfers, INT, string repeats, x87
    /// instruction pointers) or end their block with a state change, run with `rip` at the
    /// next instruction.
    @inline(never)
    func executeAtInstructionPointer(_ d: Instruction) -> Step {
        rip = nextInstructionPointer(d)
        switch d.op {
        // Data movement
        case .movSegRm: return execMovSegRm(d)
        case .loadFarPointer: return execLoadFarPointer(d)
        // Stack
        case .popSeg: return execPopSeg(d)
        case .popf: return execPopf(d)
        // Control transfer
        case .jmpFar: return execJmpFar(d)
        case .jmpFarMem: return execJmpFarMem(d)
        case .callFar: return execCallFar(d)
        case .callFarMem: return execCallFarMem(d)
        case .retFar: return execRetFar(d)
        case .int: return execInt(d, vector: UInt8(truncatingIfNeeded: d.imm))
        case .int3: return execInt(d, vector: ExceptionVector.breakpoint.rawValue)
        case .into: return execInto(d)
        case .int1: return execInt(d, vector: ExceptionVector.debug.rawValue)
        case .iret: return execIret(d)
        case .hlt: return execHlt()
        case .bound: return execBound(d)
        // Strings
        case .movs: return execString(d, MovsInstruction.self)
        case .cmps: return execString(d, CmpsInstruction.self)
        case .stos: return execString(d, StosInstruction.self)
        case .lods: return execString(d, LodsInstruction.self)
        case .scas: return execString(d, ScasInstruction.self)
        case .ins: return execString(d, InsInstruction.self)
        case .outs: return execString(d, OutsInstruction.self)
        // Flags, I/O, system
        case .cli: return execCli()
        case .sti: return execSti()
        case .inImm: return execIn(d, port: UInt16(d.imm))
        case .inDX: return execIn(d, port: reg16(.rdx))
        case .outImm: return execOut(d, port: UInt16(d.imm))
        case .outDX: return execOut(d, port: reg16(.rdx))
        case .descriptorTable: return execDescriptorTable(d)
        case .systemSegment: return execSystemSegment(d)
        case .movToCR: return execMovToCR(d)
        case .movToDR: return execMovToDR(d)
        case .clts: return execClts()
        case .wrmsr: return execWrmsr()
        case .cacheControl: return execCacheControl()
        case .fpuEscape: return execFPUEscape(d)
        case .wait: return execWait()
        case .mmx: return execMMX(d)
        case .fxGroup: return execFxGroup(d)
        case .sysenter: return execSysenter()
        case .sysexit: return execSysexit(d)
        case .syscall: return execSyscall()
        case .sysret: return execSysret(d)
        default: preconditionFailure("\(d.op) is a straight-line instruction: execute(_:) runs it")
        }
    }
}
