/// Decodes one x86 instruction (16-, 32- and 64-bit code) into a `DecodedInstruction`.
///
/// Bytes come from the CPU's code fetch, which applies the CS limit and the
/// TLB; a fetch that faults leaves the exception pending in the CPU and makes
/// `decode` return `nil`.
struct Decoder {
    unowned(unsafe) let cpu: CPU
    private let startOffset: UInt64
    private var offset: UInt64
    private let defaultSize32: Bool
    /// 64-bit mode (SDM Vol. 2, 2.2): REX prefixes, 64-bit addressing and operand-size defaults.
    private let longMode: Bool
    private var out = DecodedInstruction()
    private var operandSize32: Bool
    private var addressSize32: Bool
    private var addressSize64: Bool
    /// The REX prefix (40h–4Fh) in front of the opcode, or 0.
    private var rex: UInt8 = 0
    private var operandSizePrefix = false
    private var segmentOverride: UInt8?
    private var modrm: UInt8 = 0
    private var simdPrefix = SIMDPrefix.none
    private var fetchFailed = false

    /// Longest legal instruction (SDM Vol. 2, 2.3.11): longer raises #GP(0).
    static let maximumLength: UInt64 = 15

    init(cpu: CPU, offset: UInt64, defaultSize32: Bool, longMode: Bool = false) {
        self.cpu = cpu
        self.startOffset = offset
        self.offset = offset
        self.longMode = longMode
        self.defaultSize32 = defaultSize32 || longMode
        self.operandSize32 = defaultSize32 || longMode
        self.addressSize32 = defaultSize32 || longMode
        self.addressSize64 = longMode
    }

    // REX fields: W selects 64-bit operands; R, X and B extend ModRM.reg, SIB.index and
    // ModRM.rm / SIB.base / the opcode's register to 16 registers.
    private var rexW: Bool { rex & 8 != 0 }
    private var rexR: UInt8 { (rex & 4) << 1 }
    private var rexX: UInt8 { (rex & 2) << 2 }
    private var rexB: UInt8 { (rex & 1) << 3 }

    /// The register-file byte offset of an 8-bit register: with any REX prefix, 4–7 are SPL,
    /// BPL, SIL and DIL rather than AH, CH, DH and BH.
    private func byteRegister(_ number: UInt8) -> UInt8 {
        rex != 0 ? RegisterFile.byteOffset(number) : RegisterFile.byteOffset8(number)
    }
    private func register(_ number: UInt8, _ size: OperandSize) -> UInt8 {
        size == .byte ? byteRegister(number) : RegisterFile.byteOffset(number)
    }

    // MARK: Fetching

    private mutating func byte() -> UInt8 {
        if fetchFailed { return 0 }
        if offset &- startOffset >= Decoder.maximumLength {
            fetchFailed = true
            cpu.raiseFault(.generalProtection, errorCode: 0)
            return 0
        }
        guard let b = cpu.fetchCodeByte(offset) else {
            fetchFailed = true
            return 0
        }
        offset &+= 1
        return b
    }
    private mutating func imm8() -> UInt32 { UInt32(byte()) }
    private mutating func imm8SignExtended() -> UInt32 { UInt32(bitPattern: Int32(Int8(bitPattern: byte()))) }
    private mutating func imm16() -> UInt32 { let lo = imm8(); return lo | imm8() << 8 }
    private mutating func imm32() -> UInt32 { let lo = imm16(); return lo | imm16() << 16 }
    private mutating func immOperand() -> UInt32 { operandSize32 ? imm32() : imm16() }
    private mutating func immAddress() -> UInt32 { addressSize32 ? imm32() : imm16() }
    private mutating func relOperand() -> UInt32 {
        operandSize32 || longMode ? imm32() : UInt32(bitPattern: Int32(Int16(bitPattern: UInt16(imm16()))))
    }

    // MARK: Operands

    /// The operand size: REX.W makes it 64 bits in 64-bit mode.
    private var wordSize: OperandSize { rexW ? .qword : operandSize32 ? .dword : .word }
    /// The size of stack operations and near branches: 64 bits in 64-bit mode (16 with 66h for
    /// the stack ones), else the operand size.
    private var stackSize: OperandSize { longMode ? (operandSizePrefix && !rexW ? .word : .qword) : wordSize }
    private var branchSize: OperandSize { longMode ? .qword : wordSize }
    /// Port I/O moves at most 32 bits: REX.W does not widen it (SDM Vol. 2, IN, OUT, INS, OUTS).
    private var ioSize: OperandSize { rexW ? .dword : wordSize }

    /// Reads the ModRM byte (and SIB and displacement) and fills the operand fields.
    private mutating func readModRM(size: OperandSize) {
        modrm = byte()
        let mod = modrm >> 6
        let regField = (modrm >> 3) & 7
        let rmField = modrm & 7
        out.sub = regField
        out.reg = register(regField | rexR, size)
        if mod == 3 {
            out.rm = register(rmField | rexB, size)
            return
        }
        out.attributes |= DecodedInstruction.Attributes.hasMemoryOperand
        var defaultSegment = SegmentRegister.ds
        if addressSize32 || addressSize64 {
            var baseField = rmField
            if rmField == 4 {
                let sib = byte()
                out.scale = sib >> 6
                let indexField = (sib >> 3) & 7 | rexX
                if indexField != 4 { out.index = indexField }
                baseField = sib & 7
            }
            if baseField == 5 && mod == 0 {
                // In 64-bit mode, ModRM rm = 101 without a SIB byte is RIP-relative (SDM Vol. 2, 2.2.1.6).
                if longMode && rmField == 5 { out.base = RegisterFile.instructionPointerSlot }
                out.disp = imm32()
            } else {
                out.base = baseField | rexB
                if baseField == 4 || baseField == 5 { defaultSegment = .ss }
            }
            if mod == 1 { out.disp = imm8SignExtended() } else if mod == 2 { out.disp = imm32() }
        } else {
            // 16-bit forms: BX+SI, BX+DI, BP+SI, BP+DI, SI, DI, BP (disp16 when mod 0), BX.
            switch rmField {
            case 0: out.base = 3; out.index = 6
            case 1: out.base = 3; out.index = 7
            case 2: out.base = 5; out.index = 6; defaultSegment = .ss
            case 3: out.base = 5; out.index = 7; defaultSegment = .ss
            case 4: out.base = 6
            case 5: out.base = 7
            case 6:
                if mod == 0 { out.disp = imm16() } else { out.base = 5; defaultSegment = .ss }
            default: out.base = 3
            }
            if mod == 1 {
                out.disp = imm8SignExtended() & 0xFFFF
            } else if mod == 2 {
                out.disp = imm16()
            }
        }
        out.segment = segmentOverride ?? UInt8(defaultSegment.rawValue)
    }

    private var isRegisterForm: Bool { modrm >> 6 == 3 }

    // MARK: Decoding

    /// Decodes the instruction; `nil` when fetching faulted (the fault is pending in the CPU).
    mutating func decode() -> DecodedInstruction? {
        var lock = false
        var repeatPrefix: UInt8 = 0
        var opcode: UInt8
        prefixes: while true {
            opcode = byte()
            if fetchFailed { return nil }
            // A REX prefix counts only right before the opcode: another prefix after it cancels it.
            if longMode && opcode & 0xF0 == 0x40 {
                rex = opcode
                continue
            }
            switch opcode {
            case 0x26, 0x2E, 0x36, 0x3E:
                // In 64-bit mode ES, CS, SS and DS overrides have no effect (their bases are 0).
                if !longMode { segmentOverride = (opcode >> 3) & 3 }
            case 0x64, 0x65: segmentOverride = opcode - 0x60
            case 0x66:
                operandSize32 = !defaultSize32; operandSizePrefix = true
                if simdPrefix == .none { simdPrefix = .operandSize }
            case 0x67:
                if longMode { addressSize64 = false } else { addressSize32 = !defaultSize32 }
            case 0xF0: lock = true
            case 0xF2: repeatPrefix = DecodedInstruction.Attributes.repeatNZ; simdPrefix = .repeatNZ
            case 0xF3: repeatPrefix = DecodedInstruction.Attributes.repeatZ; simdPrefix = .repeatZ
            default: break prefixes
            }
            rex = 0
        }
        out.segment = segmentOverride ?? UInt8(SegmentRegister.ds.rawValue)
        if opcode == 0x0F {
            decodeTwoByte(byte())
        } else {
            decodeOneByte(opcode)
        }
        if fetchFailed { return nil }
        if lock && !isLockable { setInvalid() }
        specializeHotForms()
        out.attributes |= repeatPrefix
        if lock { out.attributes |= DecodedInstruction.Attributes.lock }
        if addressSize32 { out.attributes |= DecodedInstruction.Attributes.addressSize32 }
        if addressSize64 { out.attributes |= DecodedInstruction.Attributes.addressSize64 }
        out.addressMaskShift = addressSize64 ? 0 : addressSize32 ? 32 : 48
        if operandSize32 { out.attributes |= DecodedInstruction.Attributes.operandSize32 }
        if operandSizePrefix { out.attributes |= DecodedInstruction.Attributes.operandSizePrefix }
        out.length = UInt8(truncatingIfNeeded: offset &- startOffset)
        return out
    }

    /// The hottest forms get ops whose handlers decide nothing when they run (no operand size, no
    /// register-or-memory test, no condition dispatch): at 16, 32 and 64 bits, ALU operations between
    /// registers or with an immediate, TEST, MOV between registers or of an immediate, INC/DEC,
    /// shifts by an immediate (ROL and ROR at 32 and 64 bits), MOV between a register and memory; MOVZX r32 of a
    /// byte in memory; byte MOV with memory and byte TEST of registers; JZ/JNZ and JC/JNC. The
    /// destination register goes to `rm`, a source register to `reg` (a load's destination
    /// stays in `reg`).
    private mutating func specializeHotForms() {
        if out.op == .jcc {
            switch out.sub >> 1 {
            case 1: out.op = .jccCarry
            case 2: out.op = .jccZero
            default: break
            }
            return
        }
        if out.size == .byte {
            // Byte forms of string code: MOV between a register and memory, TEST of registers.
            if out.hasMemoryOperand && out.op == .movRegRm { out.op = .loadRegister8 }
            if out.hasMemoryOperand && out.op == .movRmReg { out.op = .storeRegister8 }
            if !out.hasMemoryOperand && out.op == .testRmReg { out.op = .testRegisters8 }
            return
        }
        let size = out.size
        // The form of `size`: 64, 32 or 16 bits.
        func sized(_ qword: Op, _ dword: Op, _ word: Op) -> Op { size == .qword ? qword : size == .dword ? dword : word }
        if out.hasMemoryOperand {
            // MOV between a register and memory: the access size is known.
            if out.op == .movRegRm { out.op = sized(.loadRegister64, .loadRegister32, .loadRegister16) }
            if out.op == .movRmReg { out.op = sized(.storeRegister64, .storeRegister32, .storeRegister16) }
            // MOVZX r32, byte [m]: the byte load of string and table code.
            if out.op == .movzxByte && size == .dword { out.op = .loadByteZeroExtended32 }
            return
        }
        let raw = out.op.rawValue
        if (Op.addRmReg.rawValue...Op.cmpRmReg.rawValue).contains(raw) {
            out.op = Op.aluRegister(out.sub, first: sized(.addRegisters64, .addRegisters32, .addRegisters16))
                ?? sized(.aluRegisters64, .aluRegisters32, .aluRegisters16)
        } else if (Op.addRegRm.rawValue...Op.cmpRegRm.rawValue).contains(raw) {
            (out.rm, out.reg) = (out.reg, out.rm)
            out.op = Op.aluRegister(out.sub, first: sized(.addRegisters64, .addRegisters32, .addRegisters16))
                ?? sized(.aluRegisters64, .aluRegisters32, .aluRegisters16)
        } else if (Op.addRmImm.rawValue...Op.cmpRmImm.rawValue).contains(raw) {
            out.op = Op.aluRegister(out.sub, first: sized(.addRegisterImmediate64, .addRegisterImmediate32,
                                                          .addRegisterImmediate16))
                ?? sized(.aluRegisterImmediate64, .aluRegisterImmediate32, .aluRegisterImmediate16)
        } else if out.op == .movRmReg {
            out.op = sized(.movRegisters64, .movRegisters32, .movRegisters16)
        } else if out.op == .movRegRm {
            (out.rm, out.reg) = (out.reg, out.rm)
            out.op = sized(.movRegisters64, .movRegisters32, .movRegisters16)
        } else if out.op == .movRmImm && size != .qword {
            out.op = size == .dword ? .movRegisterImmediate32 : .movRegisterImmediate16
        } else if out.op == .shiftRmImm && out.sub >= ShiftKind.shl.rawValue {
            // A masked count of 0 changes nothing but a dword register's upper half: the
            // general form does that.
            let count = out.imm & (size == .qword ? 0x3F : 0x1F)
            guard count != 0 else { return }
            out.imm = count
            out.op = switch ShiftKind(rawValue: out.sub) {
            case .shr: sized(.shrRegister64, .shrRegister32, .shrRegister16)
            case .sar: sized(.sarRegister64, .sarRegister32, .sarRegister16)
            default: sized(.shlRegister64, .shlRegister32, .shlRegister16)
            }
        } else if out.op == .shiftRmImm && out.sub <= ShiftKind.ror.rawValue && size != .word {
            let count = out.imm & (size == .qword ? 0x3F : 0x1F)
            guard count != 0 else { return }
            out.imm = count
            out.op = size == .qword ? .rotateRegister64 : .rotateRegister32
        } else if out.op == .testRmReg {
            out.op = sized(.testRegisters64, .testRegisters32, .testRegisters16)
        } else if out.op == .testRmImm {
            out.op = sized(.testRegisterImmediate64, .testRegisterImmediate32, .testRegisterImmediate16)
        } else if out.op == .incRm {
            out.op = sized(.incRegister64, .incRegister32, .incRegister16)
        } else if out.op == .decRm {
            out.op = sized(.decRegister64, .decRegister32, .decRegister16)
        }
    }

    /// LOCK is legal only on these read-modify-write forms with a memory destination (SDM Vol. 2, LOCK).
    private var isLockable: Bool {
        guard out.hasMemoryOperand else { return false }
        if out.op.isLockableAlu { return true }
        switch out.op {
        case .incRm, .decRm, .notRm, .negRm, .xchgRmReg, .xaddRmReg, .cmpxchgRmReg, .cmpxchg8b, .cmpxchg16b: return true
        case .bitTestRmReg, .bitTestRmImm: return out.imm != 0   // BT itself does not write
        default: return false
        }
    }

    private mutating func setInvalid(_ vector: ExceptionVector = .invalidOpcode) {
        out.op = .invalid
        out.sub = vector.rawValue
    }

    private mutating func set(_ op: Op, _ size: OperandSize) {
        out.op = op
        out.size = size
    }

    /// An instruction with a ModRM operand pair.
    private mutating func modrmForm(_ op: Op, _ size: OperandSize) {
        set(op, size)
        readModRM(size: size)
    }

    /// An instruction whose register operand is encoded in the opcode's low three bits.
    private mutating func registerInOpcode(_ op: Op, _ size: OperandSize, _ opcode: UInt8) {
        set(op, size)
        out.reg = register(opcode & 7 | rexB, size)
        out.rm = out.reg
    }

    private mutating func memoryOnly(_ op: Op, _ size: OperandSize) {
        modrmForm(op, size)
        if isRegisterForm { setInvalid() }
    }

    private mutating func decodeOneByte(_ opcode: UInt8) {
        let v = wordSize
        // Opcodes 64-bit mode removed (SDM Vol. 2, Appendix A, the "i64" entries) are #UD there.
        if longMode {
            switch opcode {
            case 0x06, 0x07, 0x0E, 0x16, 0x17, 0x1E, 0x1F, 0x27, 0x2F, 0x37, 0x3F, 0x60, 0x61, 0x62,
                 0x82, 0x9A, 0xC4, 0xC5, 0xCE, 0xD4, 0xD5, 0xD6, 0xEA:
                setInvalid()
                return
            default: break
            }
        }
        switch opcode {
        case 0x00...0x3F where opcode & 7 < 6:
            let kind = opcode >> 3
            switch opcode & 7 {
            case 0: modrmForm(.alu(.rmReg, kind), .byte)
            case 1: modrmForm(.alu(.rmReg, kind), v)
            case 2: modrmForm(.alu(.regRm, kind), .byte)
            case 3: modrmForm(.alu(.regRm, kind), v)
            case 4: set(.alu(.rmImm, kind), .byte); out.imm = imm8()
            default: set(.alu(.rmImm, kind), v); out.imm = immOperand()
            }
            out.sub = kind
        case 0x06, 0x0E, 0x16, 0x1E: set(.pushSeg, v); out.sub = opcode >> 3
        case 0x07, 0x17, 0x1F: set(.popSeg, v); out.sub = opcode >> 3
        case 0x27: set(.daa, .byte)
        case 0x2F: set(.das, .byte)
        case 0x37: set(.aaa, .byte)
        case 0x3F: set(.aas, .byte)
        case 0x40...0x47: registerInOpcode(.incRm, v, opcode)
        case 0x48...0x4F: registerInOpcode(.decRm, v, opcode)
        case 0x50...0x57: registerInOpcode(.pushReg, stackSize, opcode)
        case 0x58...0x5F: registerInOpcode(.popReg, stackSize, opcode)
        case 0x60: set(.pusha, v)
        case 0x61: set(.popa, v)
        case 0x62: memoryOnly(.bound, v)
        case 0x63 where longMode:
            // MOVSXD (ARPL outside 64-bit mode): a dword sign-extended to the operand size.
            modrmForm(.movsxDword, v); readSourceRegister(.dword)
        case 0x63: modrmForm(.arpl, .word)
        case 0x68: set(.pushImm, stackSize); out.imm = immOperand()
        case 0x69: modrmForm(.imulRegRmImm, v); out.imm = immOperand()
        case 0x6A: set(.pushImm, stackSize); out.imm = imm8SignExtended()
        case 0x6B: modrmForm(.imulRegRmImm, v); out.imm = imm8SignExtended()
        case 0x6C: set(.ins, .byte)
        case 0x6D: set(.ins, ioSize)
        case 0x6E: set(.outs, .byte)
        case 0x6F: set(.outs, ioSize)
        case 0x70...0x7F: set(.jcc, branchSize); out.sub = opcode & 15; out.imm = imm8SignExtended()
        case 0x80, 0x82: modrmForm(.addRmImm, .byte); out.imm = imm8(); out.op = .alu(.rmImm, out.sub)
        case 0x81: modrmForm(.addRmImm, v); out.imm = immOperand(); out.op = .alu(.rmImm, out.sub)
        case 0x83: modrmForm(.addRmImm, v); out.imm = imm8SignExtended() & UInt32(truncatingIfNeeded: v.mask); out.op = .alu(.rmImm, out.sub)
        case 0x84: modrmForm(.testRmReg, .byte)
        case 0x85: modrmForm(.testRmReg, v)
        case 0x86: modrmForm(.xchgRmReg, .byte)
        case 0x87: modrmForm(.xchgRmReg, v)
        case 0x88: modrmForm(.movRmReg, .byte)
        case 0x89: modrmForm(.movRmReg, v)
        case 0x8A: modrmForm(.movRegRm, .byte)
        case 0x8B: modrmForm(.movRegRm, v)
        case 0x8C:
            // A register destination takes the operand size (P6 and later zero the upper half of a
            // 32-bit one, SDM Vol. 2, MOV); a memory destination is always a word.
            modrmForm(.movRmSeg, .word)
            if isRegisterForm { out.size = v }
            if out.sub > 5 { setInvalid() }
        case 0x8D: memoryOnly(.lea, v)
        case 0x8E:
            modrmForm(.movSegRm, .word)
            if out.sub > 5 || out.sub == UInt8(SegmentRegister.cs.rawValue) { setInvalid() }
        case 0x8F:
            modrmForm(.popRm, stackSize)
            if out.sub != 0 { setInvalid() }
        case 0x90 where rexB == 0: set(.nop, v)
        // XCHG rAX, r: with REX.B, 90h is XCHG rAX, R8 rather than NOP (SDM Vol. 2B, XCHG).
        case 0x90...0x97: registerInOpcode(.xchgRmReg, v, opcode); out.reg = 0
        case 0x98: set(.convertToWider, v)
        case 0x99: set(.convertToDouble, v)
        case 0x9A: set(.callFar, v); out.imm = immOperand(); out.imm2 = UInt16(imm16())
        case 0x9B: set(.wait, v)
        case 0x9C: set(.pushf, stackSize)
        case 0x9D: set(.popf, stackSize)
        case 0x9E: set(.sahf, .byte)
        case 0x9F: set(.lahf, .byte)
        case 0xA0: set(.movAccMoffs, .byte); readMemoryOffset()
        case 0xA1: set(.movAccMoffs, v); readMemoryOffset()
        case 0xA2: set(.movMoffsAcc, .byte); readMemoryOffset()
        case 0xA3: set(.movMoffsAcc, v); readMemoryOffset()
        case 0xA4: set(.movs, .byte)
        case 0xA5: set(.movs, v)
        case 0xA6: set(.cmps, .byte)
        case 0xA7: set(.cmps, v)
        case 0xA8: set(.testRmImm, .byte); out.imm = imm8()
        case 0xA9: set(.testRmImm, v); out.imm = immOperand()
        case 0xAA: set(.stos, .byte)
        case 0xAB: set(.stos, v)
        case 0xAC: set(.lods, .byte)
        case 0xAD: set(.lods, v)
        case 0xAE: set(.scas, .byte)
        case 0xAF: set(.scas, v)
        case 0xB0...0xB7: registerInOpcode(.movRmImm, .byte, opcode); out.imm = imm8()
        case 0xB8...0xBF where rexW:
            // MOV r64, imm64: the high half goes to `disp`.
            registerInOpcode(.movRegisterImmediate64, .qword, opcode); out.imm = imm32(); out.disp = imm32()
        case 0xB8...0xBF: registerInOpcode(.movRmImm, v, opcode); out.imm = immOperand()
        case 0xC0: modrmForm(.shiftRmImm, .byte); out.imm = imm8()
        case 0xC1: modrmForm(.shiftRmImm, v); out.imm = imm8()
        case 0xC2: set(.retNear, branchSize); out.imm = imm16()
        case 0xC3: set(.retNear, branchSize)
        case 0xC4: memoryOnly(.loadFarPointer, v); if out.op != .invalid { out.imm2 = UInt16(SegmentRegister.es.rawValue) }
        case 0xC5: memoryOnly(.loadFarPointer, v); if out.op != .invalid { out.imm2 = UInt16(SegmentRegister.ds.rawValue) }
        case 0xC6:
            modrmForm(.movRmImm, .byte); out.imm = imm8()
            if out.sub != 0 { setInvalid() }
        case 0xC7:
            modrmForm(.movRmImm, v); out.imm = immOperand()
            if out.sub != 0 { setInvalid() }
        case 0xC8: set(.enter, stackSize); out.imm = imm16(); out.imm2 = UInt16(imm8())
        case 0xC9: set(.leave, stackSize)
        case 0xCA: set(.retFar, v); out.imm = imm16()
        case 0xCB: set(.retFar, v)
        case 0xCC: set(.int3, v)
        case 0xCD: set(.int, v); out.imm = imm8()
        case 0xCE: set(.into, v)
        case 0xCF: set(.iret, v)
        case 0xD0: modrmForm(.shiftRmImm, .byte); out.imm = 1
        case 0xD1: modrmForm(.shiftRmImm, v); out.imm = 1
        case 0xD2: modrmForm(.shiftRmCL, .byte)
        case 0xD3: modrmForm(.shiftRmCL, v)
        case 0xD4: set(.aam, .byte); out.imm = imm8()
        case 0xD5: set(.aad, .byte); out.imm = imm8()
        case 0xD6: set(.salc, .byte)
        case 0xD7: set(.xlat, .byte)
        case 0xD8...0xDF: modrmForm(.fpuEscape, v); out.imm = UInt32(opcode & 7)
        case 0xE0: set(.loopnz, branchSize); out.imm = imm8SignExtended()
        case 0xE1: set(.loopz, branchSize); out.imm = imm8SignExtended()
        case 0xE2: set(.loop, branchSize); out.imm = imm8SignExtended()
        case 0xE3: set(.jcxz, branchSize); out.imm = imm8SignExtended()
        case 0xE4: set(.inImm, .byte); out.imm = imm8()
        case 0xE5: set(.inImm, ioSize); out.imm = imm8()
        case 0xE6: set(.outImm, .byte); out.imm = imm8()
        case 0xE7: set(.outImm, ioSize); out.imm = imm8()
        case 0xE8: set(.callRel, branchSize); out.imm = relOperand()
        case 0xE9: set(.jmpRel, branchSize); out.imm = relOperand()
        case 0xEA: set(.jmpFar, v); out.imm = immOperand(); out.imm2 = UInt16(imm16())
        case 0xEB: set(.jmpRel, branchSize); out.imm = imm8SignExtended()
        case 0xEC: set(.inDX, .byte)
        case 0xED: set(.inDX, ioSize)
        case 0xEE: set(.outDX, .byte)
        case 0xEF: set(.outDX, ioSize)
        case 0xF1: set(.int1, v)
        case 0xF4: set(.hlt, v)
        case 0xF5: set(.cmc, v)
        case 0xF6, 0xF7:
            let size: OperandSize = opcode == 0xF6 ? .byte : v
            modrmForm(.testRmImm, size)
            switch out.sub {
            case 0, 1: out.imm = size == .byte ? imm8() : immOperand()
            case 2: out.op = .notRm
            case 3: out.op = .negRm
            case 4: out.op = .mulRm
            case 5: out.op = .imulRm
            case 6: out.op = .divRm
            default: out.op = .idivRm
            }
        case 0xF8: set(.clc, v)
        case 0xF9: set(.stc, v)
        case 0xFA: set(.cli, v)
        case 0xFB: set(.sti, v)
        case 0xFC: set(.cld, v)
        case 0xFD: set(.std, v)
        case 0xFE:
            modrmForm(.incRm, .byte)
            switch out.sub {
            case 0: break
            case 1: out.op = .decRm
            default: setInvalid()
            }
        case 0xFF:
            modrmForm(.incRm, v)
            switch out.sub {
            case 0: break
            case 1: out.op = .decRm
            case 2: out.op = .callRm; out.size = branchSize
            case 3: out.op = isRegisterForm ? .invalid : .callFarMem
            case 4: out.op = .jmpRm; out.size = branchSize
            case 5: out.op = isRegisterForm ? .invalid : .jmpFarMem
            case 6: out.op = .pushRm; out.size = stackSize
            default: setInvalid()
            }
            if out.op == .invalid { setInvalid() }
        default:
            setInvalid()
        }
    }

    private mutating func decodeTwoByte(_ opcode: UInt8) {
        let v = wordSize
        switch opcode {
        case 0x00: modrmForm(.systemSegment, v)   // SLDT/STR to a 32-bit register zero-extend
        case 0x01:
            modrmForm(.descriptorTable, v)
            // Register forms exist only for SMSW, LMSW, (64-bit mode) SWAPGS and RDTSCP here; the
            // rest are VMX, SVM and MONITOR/MWAIT, which CPUID does not report.
            let swapGS = longMode && modrm == 0xF8
            if modrm == 0xF9 {
                set(.rdtsc, .dword)
                out.sub = DecodedInstruction.readTimeStampCounterAndAux
            } else if isRegisterForm && out.sub != 4 && out.sub != 6 && !swapGS {
                setInvalid()
            }
        case 0x02: modrmForm(.lar, v)
        case 0x03: modrmForm(.lsl, v)
        case 0x06: set(.clts, v)
        case 0x08, 0x09: set(.cacheControl, v)
        case 0x0D, 0x18...0x1F: modrmForm(.nop, v)   // prefetch hints and the multi-byte NOP
        case 0x20...0x23:
            // MOV to/from control and debug registers: the mod field is ignored (always a
            // register operand) and the operand is always 32 bits.
            // In 64-bit mode the operand is 64 bits and REX.R reaches CR8 (the task-priority
            // register); no other register above 7 exists.
            set([.movFromCR, .movFromDR, .movToCR, .movToDR][Int(opcode & 3)], longMode ? .qword : .dword)
            modrm = byte()
            out.sub = (modrm >> 3) & 7 | rexR
            out.rm = RegisterFile.byteOffset(modrm & 7 | rexB)
            let controlRegister = opcode & 1 == 0
            let exists = controlRegister ? [0, 2, 3, 4, 8].contains(out.sub) : out.sub < 8
            if !exists { setInvalid() }
        case 0x05 where longMode: set(.syscall, .qword)
        case 0x07 where longMode: set(.sysret, rexW ? .qword : .dword)
        case 0x30: set(.wrmsr, .dword)
        case 0x31: set(.rdtsc, .dword)
        case 0x32: set(.rdmsr, .dword)
        case 0x34: set(.sysenter, .dword)
        case 0x35: set(.sysexit, rexW ? .qword : .dword)   // REX.W: back to 64-bit code
        case 0x77: set(.mmx, .qword); out.imm = 0x77   // EMMS: no ModRM
        case 0x10...0x17, 0x28...0x2F, 0x50...0x76, 0x78...0x7F, 0xC2...0xC6, 0xD0...0xFE: decodeSIMD(opcode)
        case 0xAE: modrmForm(.fxGroup, v)
        case 0x40...0x4F: modrmForm(.cmovcc, v); out.imm = UInt32(opcode & 15)
        case 0x80...0x8F: set(.jcc, branchSize); out.sub = opcode & 15; out.imm = relOperand()
        case 0x90...0x9F: modrmForm(.setcc, .byte); out.imm = UInt32(opcode & 15)
        case 0xA0, 0xA8: set(.pushSeg, stackSize); out.sub = opcode == 0xA0 ? 4 : 5
        case 0xA1, 0xA9: set(.popSeg, stackSize); out.sub = opcode == 0xA1 ? 4 : 5
        case 0xA2: set(.cpuid, .dword)
        case 0xA3: modrmForm(.bitTestRmReg, v); out.imm = 0
        case 0xAB: modrmForm(.bitTestRmReg, v); out.imm = 1
        case 0xB3: modrmForm(.bitTestRmReg, v); out.imm = 2
        case 0xBB: modrmForm(.bitTestRmReg, v); out.imm = 3
        case 0xA4: modrmForm(.shldImm, v); out.imm = imm8()
        case 0xA5: modrmForm(.shldCL, v)
        case 0xAC: modrmForm(.shrdImm, v); out.imm = imm8()
        case 0xAD: modrmForm(.shrdCL, v)
        case 0xAF: modrmForm(.imulRegRm, v)
        case 0xB0: modrmForm(.cmpxchgRmReg, .byte)
        case 0xB1: modrmForm(.cmpxchgRmReg, v)
        case 0xB2: memoryOnly(.loadFarPointer, v); out.imm2 = UInt16(SegmentRegister.ss.rawValue)
        case 0xB4: memoryOnly(.loadFarPointer, v); out.imm2 = UInt16(SegmentRegister.fs.rawValue)
        case 0xB5: memoryOnly(.loadFarPointer, v); out.imm2 = UInt16(SegmentRegister.gs.rawValue)
        case 0xB6: modrmForm(.movzxByte, v); readSourceRegister(.byte)
        case 0xB7: modrmForm(.movzxWord, v); readSourceRegister(.word)
        case 0xBE: modrmForm(.movsxByte, v); readSourceRegister(.byte)
        case 0xBF: modrmForm(.movsxWord, v); readSourceRegister(.word)
        case 0xBA:
            modrmForm(.bitTestRmImm, v)
            let kind = out.sub
            out.imm2 = UInt16(imm8())
            if kind < 4 { setInvalid() } else { out.imm = UInt32(kind - 4) }
        case 0xBC: modrmForm(.bsf, v)
        case 0xBD: modrmForm(.bsr, v)
        case 0xC0: modrmForm(.xaddRmReg, .byte)
        case 0xC1: modrmForm(.xaddRmReg, v)
        case 0xC7:
            // REX.W makes it CMPXCHG16B.
            modrmForm(rexW ? .cmpxchg16b : .cmpxchg8b, .qword)
            if isRegisterForm || out.sub != 1 { setInvalid() }
        case 0xC8...0xCF: set(.bswap, rexW ? .qword : .dword); out.reg = RegisterFile.byteOffset(opcode & 7 | rexB)
        default: setInvalid()
        }
    }

    /// MMX, SSE and SSE2 opcodes with a ModRM byte: `.mmx` for MMX's own opcodes without a
    /// mandatory prefix, with `imm` = the opcode byte | REX.W << 24, and `.sse` for the rest,
    /// with `imm` = the opcode byte | `SIMDPrefix` << 8 | `SSEForm` << 16 | REX.W << 24 (an undefined form decodes as #UD). `imm2` holds the imm8 of the forms
    /// that have one (0F 70–73, C2, C4–C6).
    private mutating func decodeSIMD(_ opcode: UInt8) {
        let mmx = simdPrefix == .none && MMXEncoding.isMMXOpcode(opcode)
        modrmForm(mmx ? .mmx : .sse, .qword)
        out.imm = UInt32(opcode) | (mmx ? 0 : UInt32(simdPrefix.rawValue) << 8)
        if (0x70...0x73).contains(opcode) || (0xC2...0xC6).contains(opcode) && opcode != 0xC3 {
            out.imm2 = UInt16(imm8())
        }
        guard !mmx else {
            // REX.W widens MOVD to MOVQ mm, r/m64 (0F 6E) and MOVQ r/m64, mm (0F 7E).
            if rexW { out.imm |= Instruction.sseREXW }
            return
        }
        guard let form = SSEEncoding.form(opcode, simdPrefix, reg: out.sub, memory: !isRegisterForm) else {
            setInvalid()
            return
        }
        if let move = SSEMove(opcode, simdPrefix) {
            out.op = .sseMove
            out.imm = UInt32(move.rawValue)
            return
        }
        out.imm |= UInt32(form.rawValue) << 16 | (rexW ? Instruction.sseREXW : 0)
    }

    /// MOVZX/MOVSX read a source narrower than the destination: re-resolve the rm register for that width.
    private mutating func readSourceRegister(_ size: OperandSize) {
        if isRegisterForm { out.rm = register(modrm & 7 | rexB, size) }
    }

    /// The moffs of MOV AL/rAX to and from memory: the address size wide; a 64-bit one keeps
    /// its high half in `imm`.
    private mutating func readMemoryOffset() {
        if addressSize64 {
            out.disp = imm32()
            out.imm = imm32()
        } else {
            out.disp = immAddress()
        }
    }
}
