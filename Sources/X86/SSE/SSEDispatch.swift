/// SSE and SSE2 (SDM Vol. 1, chapters 10 and 11; Vol. 2 for each instruction): the `.sse` op,
/// one decoded record per instruction with `imm` = the second opcode byte | `SIMDPrefix` << 8
/// | `SSEForm` << 16 (found once, by the decoder) | REX.W << 24 and `imm2` = the imm8,
/// dispatched here on opcode and mandatory prefix.

/// Which state an SSE instruction touches, which decides its device-availability checks
/// (SDM Vol. 2, 2.4 / Vol. 3A, 13.1 and the exception tables of each instruction).
enum SSEForm: UInt8 {
    /// XMM registers: #UD if CR0.EM or not CR4.OSFXSR, #NM if CR0.TS.
    case xmm
    /// XMM and MMX registers (CVTPI2PS, CVTPS2PI, MOVQ2DQ…): as `.xmm`, then a pending x87
    /// exception is reported (#MF) and the x87 state enters MMX mode.
    case mixed
    /// MMX registers only (PAVGB mm, PSHUFW, PADDQ mm, MOVNTQ…): as MMX itself, #UD if CR0.EM
    /// (CR4.OSFXSR does not matter), #NM if CR0.TS, then #MF, and MMX mode.
    case mmx
    /// General registers and memory only (MOVNTI): no checks.
    case integer
}

enum SSEEncoding {
    /// The 66-prefixed integer opcodes that are also defined without a prefix, on MMX
    /// registers, by SSE (the integer additions) or SSE2 (PADDQ, PSUBQ, PMULUDQ).
    static func isMMXAddition(_ opcode: UInt8) -> Bool {
        switch opcode {
        case 0x70, 0xC4, 0xC5, 0xD4, 0xD7, 0xDA, 0xDE, 0xE0, 0xE3, 0xE4, 0xE7, 0xEA, 0xEE, 0xF4, 0xF6, 0xF7, 0xFB: true
        default: false
        }
    }

    /// The form of an opcode with a prefix, or `nil` when it is undefined (#UD): SSE3 and later
    /// encodings, register forms of memory-only instructions and the reverse.
    static func form(_ opcode: UInt8, _ prefix: SIMDPrefix, reg: UInt8, memory: Bool) -> SSEForm? {
        let packed = prefix == .none || prefix == .operandSize
        let scalar = !packed
        switch opcode {
        case 0x10, 0x11, 0x51, 0x58, 0x59, 0x5A, 0x5C...0x5F, 0xC2: return .xmm
        case 0x12, 0x16: return prefix == .none || (prefix == .operandSize && memory) ? .xmm : nil
        case 0x13, 0x17, 0x2B: return packed && memory ? .xmm : nil
        case 0x14, 0x15, 0x28, 0x29, 0x2E, 0x2F, 0x54...0x57, 0xC6: return packed ? .xmm : nil
        case 0x2A: return scalar || memory ? .xmm : .mixed
        case 0x2C, 0x2D: return scalar ? .xmm : .mixed
        case 0x50: return packed && !memory ? .xmm : nil
        case 0x52, 0x53: return prefix == .none || prefix == .repeatZ ? .xmm : nil
        case 0x5B: return prefix != .repeatNZ ? .xmm : nil
        case 0x60...0x6E, 0x74...0x76, 0xD1...0xD5, 0xD8...0xE5, 0xE8...0xEF, 0xF1...0xF6, 0xF8...0xFE:
            if prefix == .operandSize { return .xmm }
            return prefix == .none && isMMXAddition(opcode) ? .mmx : nil
        case 0x6F, 0x7E, 0x7F: return prefix == .operandSize || prefix == .repeatZ ? .xmm : nil
        case 0x70: return prefix == .none ? .mmx : .xmm
        case 0x71, 0x72: return prefix == .operandSize && !memory && (reg == 2 || reg == 4 || reg == 6) ? .xmm : nil
        case 0x73: return prefix == .operandSize && !memory && [2, 3, 6, 7].contains(reg) ? .xmm : nil
        case 0xC3: return prefix == .none && memory ? .integer : nil
        case 0xC4: return packed ? (prefix == .none ? .mmx : .xmm) : nil
        case 0xC5, 0xD7, 0xF7: return packed && !memory ? (prefix == .none ? .mmx : .xmm) : nil
        case 0xD6:
            if prefix == .operandSize { return .xmm }
            return scalar && !memory ? .mixed : nil
        case 0xE6: return prefix != .none ? .xmm : nil
        case 0xE7: return packed && memory ? (prefix == .none ? .mmx : .xmm) : nil
        default: return nil
        }
    }
}

extension CPU {
    func execSSE(_ d: Instruction) -> Step {
        let opcode = UInt8(truncatingIfNeeded: d.imm)
        let prefix = SIMDPrefix(rawValue: UInt8(truncatingIfNeeded: d.imm >> 8) & 3) ?? .none
        let form = SSEForm(rawValue: UInt8(truncatingIfNeeded: d.imm >> 16)) ?? .xmm
        if let stop = checkSSEAvailable(form) { return stop }
        let step = executeSSE(d, opcode, prefix)
        if step == .next && (form == .mmx || form == .mixed) { fpu.enterMMXState() }
        return step
    }

    /// The device-availability checks of a form, in the SDM's priority order (#UD, #NM, #MF).
    @inline(__always) func checkSSEAvailable(_ form: SSEForm) -> Step? {
        let usable = cr4 & ControlRegister4.osfxsr != 0 && cr0 & (ControlRegister0.emulation | ControlRegister0.taskSwitched) == 0
        if form == .xmm && usable { return nil }
        return checkSSEAvailableSlow(form)
    }

    @inline(never) private func checkSSEAvailableSlow(_ form: SSEForm) -> Step? {
        switch form {
        case .integer: return nil
        case .mmx:
            if cr0 & ControlRegister0.emulation != 0 { return raiseFault(.invalidOpcode) }
        case .xmm, .mixed:
            if cr0 & ControlRegister0.emulation != 0 || cr4 & ControlRegister4.osfxsr == 0 {
                return raiseFault(.invalidOpcode)
            }
        }
        if cr0 & ControlRegister0.taskSwitched != 0 { return raiseFault(.deviceNotAvailable) }
        return form == .xmm ? nil : reportPendingFloatingPointError()
    }

    private func executeSSE(_ d: Instruction, _ opcode: UInt8, _ prefix: SIMDPrefix) -> Step {
        let double = prefix == .operandSize || prefix == .repeatNZ
        let scalar = prefix == .repeatZ || prefix == .repeatNZ
        let f: LaneFormat = double ? .double : .single
        switch opcode {
        // Moves, logic, shuffles and unpacks of floating-point data (SSEMoves.swift)
        case 0x10, 0x11: return scalar ? execMoveScalar(d, f, store: opcode == 0x11) : execMoveFull(d, store: opcode == 0x11, aligned: false)
        case 0x28, 0x29: return execMoveFull(d, store: opcode == 0x29, aligned: true)
        case 0x2B: return execMoveFull(d, store: true, aligned: true)
        case 0x12, 0x13, 0x16, 0x17: return execMoveHalf(d, opcode)
        case 0x50: return execMoveMask(d, f)
        case 0x54...0x57: return execLogic(d, opcode)
        case 0x14, 0x15: return execUnpack(d, f, high: opcode == 0x15)
        case 0xC6: return execShuffle(d, f)
        // Arithmetic and compares (SSEFloatInstructions.swift)
        case 0x51, 0x58, 0x59, 0x5C...0x5F:
            return execArithmetic(d, SSEArithmetic.Operation(rawValue: opcode & 0xF)!, f, scalar: scalar)
        case 0x52, 0x53: return execApproximation(d, squareRoot: opcode == 0x52, scalar: scalar)
        case 0xC2: return execCompare(d, f, scalar: scalar)
        case 0x2E, 0x2F: return execCompareFlags(d, f, signaling: opcode == 0x2F)
        // Conversions
        case 0x2A, 0x2C, 0x2D, 0x5A, 0x5B, 0xE6: return execConversion(d, opcode, prefix)
        // Integer moves and the 128-bit integer instructions (SSEInteger.swift)
        case 0x6E, 0x7E, 0x6F, 0x7F, 0xD6: return execIntegerMove(d, opcode, prefix)
        case 0xC3:                                                                      // MOVNTI m32/m64
            let bytes = d.sseOperand64 ? 8 : 4
            return writeOperand(d, bytes: bytes, readRegister(d.reg, d.sseOperand64 ? .qword : .dword)) ? .next : .fault
        case 0xE7: return prefix == .none ? execMoveMMXToMemory(d) : execMoveFull(d, store: true, aligned: true)
        case 0xF7: return execMaskedMove(d, xmm: prefix == .operandSize)
        case 0x70: return execShuffleIntegers(d, prefix)
        case 0x71, 0x72, 0x73: return execShiftImmediate(d, opcode)
        case 0xC4: return execInsertWord(d, xmm: prefix == .operandSize)
        case 0xC5: return execExtractWord(d, xmm: prefix == .operandSize)
        case 0xD7: return execMoveByteMask(d, xmm: prefix == .operandSize)
        default: return prefix == .none ? execPackedIntegerMMX(d, opcode) : execPackedInteger(d, opcode)
        }
    }
}
