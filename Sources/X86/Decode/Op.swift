/// Executor entry points, one per instruction family and form.
///
/// Families share a handler and select the exact operation with
/// `DecodedInstruction.sub` (an ALU kind, a shift kind, a condition code).
enum Op: UInt8 {
    // Synthetic: ends a decoded block that did not end on a control transfer.
    case endBlock
    // Arithmetic and logic: one case per operation and form, in `AluKind` order, so the
    // executor needs no second dispatch (see `Op.alu(_:_:)`); `sub` also holds the kind.
    case addRmReg, orRmReg, adcRmReg, sbbRmReg, andRmReg, subRmReg, xorRmReg, cmpRmReg
    case addRegRm, orRegRm, adcRegRm, sbbRegRm, andRegRm, subRegRm, xorRegRm, cmpRegRm
    case addRmImm, orRmImm, adcRmImm, sbbRmImm, andRmImm, subRmImm, xorRmImm, cmpRmImm
    case testRmReg, testRmImm
    case incRm, decRm, notRm, negRm
    /// Hot 16-, 32- and 64-bit register-only forms, with nothing left to decide when they run
    /// (`Decoder.specializeHotForms`): INC/DEC, an ALU operation between two registers or
    /// with an immediate (`sub` = the kind, `rm` the destination), MOV between registers, shifts.
    case incRegister64, decRegister64, aluRegisters64, aluRegisterImmediate64, movRegisters64
    case incRegister32, decRegister32, aluRegisters32, aluRegisterImmediate32, movRegisters32
    case incRegister16, decRegister16, aluRegisters16, aluRegisterImmediate16, movRegisters16
    /// ADD, OR, AND, SUB, XOR and CMP of a register (`rm`) with a register (`reg`) or an
    /// immediate: one op per operation, form and size, in this order (`Op.aluRegister`), so
    /// nothing is decided when they run. ADC and SBB keep `aluRegisters*`/`aluRegisterImmediate*`.
    case addRegisters64, orRegisters64, andRegisters64, subRegisters64, xorRegisters64, cmpRegisters64
    case addRegisters32, orRegisters32, andRegisters32, subRegisters32, xorRegisters32, cmpRegisters32
    case addRegisters16, orRegisters16, andRegisters16, subRegisters16, xorRegisters16, cmpRegisters16
    case addRegisterImmediate64, orRegisterImmediate64, andRegisterImmediate64
    case subRegisterImmediate64, xorRegisterImmediate64, cmpRegisterImmediate64
    case addRegisterImmediate32, orRegisterImmediate32, andRegisterImmediate32
    case subRegisterImmediate32, xorRegisterImmediate32, cmpRegisterImmediate32
    case addRegisterImmediate16, orRegisterImmediate16, andRegisterImmediate16
    case subRegisterImmediate16, xorRegisterImmediate16, cmpRegisterImmediate16
    /// TEST of a register (`rm`) with a register (`reg`) or an immediate.
    case testRegisters64, testRegisters32, testRegisters16
    case testRegisterImmediate64, testRegisterImmediate32, testRegisterImmediate16
    /// SHL/SAL, SHR and SAR of a register (`rm`) by an immediate count, already masked and not 0
    /// (`imm`): one op per operation and size, so nothing is decided when they run.
    case shlRegister64, shlRegister32, shlRegister16
    case shrRegister64, shrRegister32, shrRegister16
    case sarRegister64, sarRegister32, sarRegister16
    /// ROL and ROR (`sub`) of a 32- or 64-bit register (`rm`) by an immediate count, masked and not 0 (`imm`).
    case rotateRegister64, rotateRegister32
    /// MOV of an immediate to a register (`rm`), and between a register (`reg`) and memory.
    case movRegisterImmediate32, movRegisterImmediate16
    case loadRegister64, loadRegister32, loadRegister16, storeRegister64, storeRegister32, storeRegister16
    /// MOVZX r32, byte [m] (the destination in `reg`).
    case loadByteZeroExtended32
    /// MOV r64, imm64 (the register in `rm`; the immediate's low half in `imm`, high in `disp`).
    case movRegisterImmediate64
    /// Byte forms: MOV between a register and memory, TEST of two registers.
    case loadRegister8, storeRegister8, testRegisters8
    /// JZ/JNZ and JC/JNC (`sub` = the condition code: 4 or 5, 2 or 3).
    case jccZero, jccCarry
    case mulRm, imulRm, divRm, idivRm
    case imulRegRmImm, imulRegRm
    case convertToWider      // CBW / CWDE
    case convertToDouble     // CWD / CDQ
    case daa, das, aaa, aas, aam, aad, salc
    // Shifts and rotates (sub = ShiftKind).
    case shiftRmImm, shiftRmCL
    case shldImm, shldCL, shrdImm, shrdCL
    // Bit operations (sub = 0 BT, 1 BTS, 2 BTR, 3 BTC).
    case bitTestRmReg, bitTestRmImm, bsf, bsr
    // Data movement.
    case movRmReg, movRegRm, movRmImm, movRmSeg, movSegRm, lea
    /// MOVZX and MOVSX of a byte or a word, MOVSXD of a dword: the source size is in the op,
    /// so the handler decides only register or memory and the destination's size.
    case movzxByte, movzxWord, movsxByte, movsxWord, movsxDword
    case xchgRmReg, xlat, movAccMoffs, movMoffsAcc
    case cmovcc, setcc, bswap, lahf, sahf, loadFarPointer
    case xaddRmReg, cmpxchgRmReg, cmpxchg8b, cmpxchg16b
    // Stack.
    case pushReg, popReg, pushRm, popRm, pushImm, pushSeg, popSeg
    case pusha, popa, pushf, popf, enter, leave
    // Control transfer.
    case jmpRel, jcc, jmpRm, jmpFar, jmpFarMem
    case callRel, callRm, callFar, callFarMem, retNear, retFar
    case loop, loopz, loopnz, jcxz
    /// Near transfers whose target decoding followed, on the same page, so the block goes on
    /// there (`CPU.decodeBlock`): JMP rel and CALL rel (which pushes its return address) do not
    /// leave the block; a backward Jcc (a loop's branch) leaves it only when not taken.
    case jmpFollowed, callFollowed, jccFollowed
    /// JZ/JNZ and JC/JNC followed (`sub` as for `jccZero` and `jccCarry`).
    case jccZeroFollowed, jccCarryFollowed
    /// Forward Jcc, JZ/JNZ and JC/JNC whose target is a later record of their block
    /// (`CPU.decodeBlock`): taken, the block goes on `imm2` records further on instead of ending.
    case jccSkip, jccZeroSkip, jccCarrySkip
    case int, int3, into, int1, iret, hlt, bound
    // Strings (rep prefixes in attributes).
    case movs, cmps, stos, lods, scas, ins, outs
    // Flags, I/O, system.
    case clc, stc, cmc, cli, sti, cld, std
    case inImm, inDX, outImm, outDX
    case descriptorTable       // 0F 01 group (sub = ModRM.reg)
    case systemSegment         // 0F 00 group (sub = ModRM.reg)
    case movFromCR, movToCR, movFromDR, movToDR, clts
    case cpuid, rdtsc, rdmsr, wrmsr, cacheControl, nop
    case fpuEscape, wait
    case mmx                   // 0F 60–7F, 0F D0–FE (imm = second opcode byte)
    case sse                   // SSE/SSE2 (imm = second opcode byte | SIMDPrefix << 8 | SSEForm << 16, imm2 = imm8)
    case sseMove               // the 128-bit moves: MOVAPS/PD, MOVUPS/PD, MOVDQA/U (imm = SSEMove bits)
    case fxGroup               // 0F AE group (sub = ModRM.reg)
    // Protected-mode system instructions.
    case arpl, lar, lsl, sysenter, sysexit
    /// SYSCALL and SYSRET (decoded in 64-bit mode only; `size` .qword for SYSRETQ).
    case syscall, sysret
    case invalid               // raises the exception in `sub` (#UD, or #GP for an over-long instruction)
}

/// The three ALU operand forms.
enum AluForm: UInt8 {
    case rmReg, regRm, rmImm
}

extension Op {
    /// The op for an ALU operation in a form.
    static func alu(_ form: AluForm, _ kind: UInt8) -> Op {
        let first: Op = switch form {
        case .rmReg: .addRmReg
        case .regRm: .addRegRm
        case .rmImm: .addRmImm
        }
        return Op(rawValue: first.rawValue + (kind & 7))!
    }

    /// The op of an ALU operation of `kind` on a register (`first` is the ADD op of the form
    /// and size), or `nil` for ADC and SBB, which have none.
    static func aluRegister(_ kind: UInt8, first: Op) -> Op? {
        let index: UInt8
        switch AluKind(rawValue: kind & 7) {
        case .add: index = 0
        case .or: index = 1
        case .and: index = 2
        case .sub: index = 3
        case .xor: index = 4
        case .cmp: index = 5
        default: return nil
        }
        return Op(rawValue: first.rawValue + index)
    }

    /// Whether this op is an ALU operation with a memory-writing `rm` destination other than CMP.
    var isLockableAlu: Bool {
        (Op.addRmReg.rawValue...Op.xorRmReg.rawValue).contains(rawValue)
            || (Op.addRmImm.rawValue...Op.xorRmImm.rawValue).contains(rawValue)
    }
}

/// The eight ALU operations of opcodes 00–3F and group 1, in encoding order.
enum AluKind: UInt8 {
    case add, or, adc, sbb, and, sub, xor, cmp
}

/// The eight shift/rotate operations of group 2, in encoding order (6 is SAL, an alias of SHL).
enum ShiftKind: UInt8 {
    case rol, ror, rcl, rcr, shl, shr, sal, sar
}
