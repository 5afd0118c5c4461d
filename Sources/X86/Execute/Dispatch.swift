/// The executor: one switch over the decoded opcode.
extension CPU {
    @inline(__always)
    func execute(_ p: UnsafeMutablePointer<DecodedInstruction>) -> Step {
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
        case .cmpRmImm: return execAluRmImm(d, CmpOperation.self)
        case .testRmReg: return execTest(d, immediate: false)
        case .testRmImm: return execTest(d, immediate: true)
        case .incRm: return execIncDec(d, increment: true)
        case .decRm: return execIncDec(d, increment: false)
        case .incRegister32: return execIncDecRegister(d, UInt32.self, increment: true)
        case .decRegister32: return execIncDecRegister(d, UInt32.self, increment: false)
        case .aluRegisters32: return execAluRegister(d, source: rawRegs.load(fromByteOffset: Int(d.reg), as: UInt32.self))
        case .aluRegisterImmediate32: return execAluRegister(d, source: d.imm)
        case .movRegisters32:
            regs[Int(d.rm) >> 3] = UInt64(rawRegs.load(fromByteOffset: Int(d.reg), as: UInt32.self))
            return .next
        case .movRegisterImmediate32:
            regs[Int(d.rm) >> 3] = UInt64(d.imm)
            return .next
        case .movRegisterImmediate16:
            rawRegs.storeBytes(of: UInt16(truncatingIfNeeded: d.imm), toByteOffset: Int(d.rm), as: UInt16.self)
            return .next
        case .loadRegister32:
            guard let value = read32(d.segment, effectiveAddress(d)) else { return .fault }
            regs[Int(d.reg) >> 3] = UInt64(value)
            return .next
        case .loadByteZeroExtended32:
            guard let value = read8(d.segment, effectiveAddress(d)) else { return .fault }
            regs[Int(d.reg) >> 3] = UInt64(value)
            return .next
        case .loadRegister8:
            guard let value = read8(d.segment, effectiveAddress(d)) else { return .fault }
            rawRegs.storeBytes(of: value, toByteOffset: Int(d.reg), as: UInt8.self)
            return .next
        case .storeRegister8:
            return write(d.segment, effectiveAddress(d), .byte, UInt32(rawRegs.load(fromByteOffset: Int(d.reg), as: UInt8.self)))
                ? .next : .fault
        case .testRegisters8:
            return execTestRegister(d, rawRegs.load(fromByteOffset: Int(d.reg), as: UInt8.self))
        case .loadRegister16:
            guard let value = read16(d.segment, effectiveAddress(d)) else { return .fault }
            rawRegs.storeBytes(of: value, toByteOffset: Int(d.reg), as: UInt16.self)
            return .next
        case .storeRegister32:
            return write(d.segment, effectiveAddress(d), .dword, rawRegs.load(fromByteOffset: Int(d.reg), as: UInt32.self)) ? .next : .fault
        case .storeRegister16:
            return write(d.segment, effectiveAddress(d), .word, UInt32(rawRegs.load(fromByteOffset: Int(d.reg), as: UInt16.self)))
                ? .next : .fault
        case .testRegisters32:
            return execTestRegister(d, rawRegs.load(fromByteOffset: Int(d.reg), as: UInt32.self))
        case .testRegisters16:
            return execTestRegister(d, rawRegs.load(fromByteOffset: Int(d.reg), as: UInt16.self))
        case .testRegisterImmediate32: return execTestRegister(d, d.imm)
        case .testRegisterImmediate16: return execTestRegister(d, UInt16(truncatingIfNeeded: d.imm))
        case .shiftRegister32: return execShiftRegister(d, UInt32.self)
        case .shiftRegister16: return execShiftRegister(d, UInt16.self)
        case .incRegister16: return execIncDecRegister(d, UInt16.self, increment: true)
        case .decRegister16: return execIncDecRegister(d, UInt16.self, increment: false)
        case .aluRegisters16: return execAluRegister(d, source: rawRegs.load(fromByteOffset: Int(d.reg), as: UInt16.self))
        case .aluRegisterImmediate16: return execAluRegister(d, source: UInt16(truncatingIfNeeded: d.imm))
        case .movRegisters16:
            rawRegs.storeBytes(of: rawRegs.load(fromByteOffset: Int(d.reg), as: UInt16.self), toByteOffset: Int(d.rm), as: UInt16.self)
            return .next
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
        case .movRmImm: return execMovRmImm(d)
        case .movRmSeg: return execMovRmSeg(d)
        case .movSegRm: return execMovSegRm(d)
        case .lea: return execLea(d)
        case .movzx: return execMovExtend(d, signed: false)
        case .movsx: return execMovExtend(d, signed: true)
        case .xchgRmReg: return execXchg(d)
        case .xlat: return execXlat(d)
        case .movAccMoffs: return execMovAccMoffs(d)
        case .movMoffsAcc: return execMovMoffsAcc(d)
        case .cmovcc: return execCmov(d)
        case .setcc: return execSetcc(d)
        case .bswap: return execBswap(d)
        case .lahf: return execLahf()
        case .sahf: return execSahf()
        case .loadFarPointer: return execLoadFarPointer(d)
        case .xaddRmReg: return execXadd(d)
        case .cmpxchgRmReg: return execCmpxchg(d)
        case .cmpxchg8b: return execCmpxchg8b(d)
        // Stack
        case .pushReg: return execPushReg(d)
        case .popReg: return execPopReg(d)
        case .pushRm: return execPushRm(d)
        case .popRm: return execPopRm(d)
        case .pushImm: return execPushImm(d)
        case .pushSeg: return execPushSeg(d)
        case .popSeg: return execPopSeg(d)
        case .pusha: return execPusha(d)
        case .popa: return execPopa(d)
        case .pushf: return execPushf(d)
        case .popf: return execPopf(d)
        case .enter: return execEnter(d)
        case .leave: return execLeave(d)
        // Control transfer
        case .jmpRel: return execJmpRel(d)
        case .jcc: return execJcc(d)
        case .jccZero: return execJccOnFlag(d, zeroFlag)
        case .jccCarry: return execJccOnFlag(d, carryFlag)
        case .jmpRm: return execJmpRm(d)
        case .jmpFar: return execJmpFar(d)
        case .jmpFarMem: return execJmpFarMem(d)
        case .callRel: return execCallRel(d)
        case .callRm: return execCallRm(d)
        case .callFar: return execCallFar(d)
        case .callFarMem: return execCallFarMem(d)
        case .retNear: return execRetNear(d)
        case .retFar: return execRetFar(d)
        case .loop, .loopz, .loopnz, .jcxz: return execLoop(d)
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
        case .clc, .stc, .cmc, .cld, .std: return execFlagInstruction(d.op)
        case .cli: return execCli()
        case .sti: return execSti()
        case .inImm: return execIn(d, port: UInt16(d.imm))
        case .inDX: return execIn(d, port: reg16(.rdx))
        case .outImm: return execOut(d, port: UInt16(d.imm))
        case .outDX: return execOut(d, port: reg16(.rdx))
        case .descriptorTable: return execDescriptorTable(d)
        case .systemSegment: return execSystemSegment(d)
        case .movFromCR: return execMovFromCR(d)
        case .movToCR: return execMovToCR(d)
        case .movFromDR: return execMovFromDR(d)
        case .movToDR: return execMovToDR(d)
        case .clts: return execClts()
        case .cpuid: return execCpuid()
        case .rdtsc: return execRdtsc()
        case .rdmsr: return execRdmsr()
        case .wrmsr: return execWrmsr()
        case .cacheControl: return execCacheControl()
        case .nop: return .next
        case .fpuEscape: return execFPUEscape(d)
        case .wait: return execWait()
        case .mmx: return execMMX(d)
        case .fxGroup: return execFxGroup(d)
        case .arpl: return execArpl(d)
        case .lar: return execLoadAccessRights(d)
        case .lsl: return execLoadSegmentLimit(d)
        case .sysenter: return execSysenter()
        case .sysexit: return execSysexit(d)
        case .invalid: return raiseFault(ExceptionVector(rawValue: d.sub) ?? .invalidOpcode)
        }
    }
}
