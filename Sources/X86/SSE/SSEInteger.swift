/// Packed integers in SSE and SSE2: the MMX instructions in their 128-bit 66-prefixed forms,
/// SSE's integer additions on MMX and XMM registers (PAVGB/W, PEXTRW, PINSRW, PMAXSW/UB,
/// PMINSW/UB, PMOVMSKB, PMULHUW, PSADBW, PSHUFW, MOVNTQ, MASKMOVQ), SSE2's (PADDQ, PSUBQ,
/// PMULUDQ, PSHUFD/HW/LW, PSLLDQ/PSRLDQ, PUNPCKLQDQ/HQDQ, MOVDQA/U, MOVQ, MOVD, MOVQ2DQ,
/// MOVDQ2Q, MASKMOVDQU).
extension PackedInteger {
    /// The two-operand instructions on 64 bits, the SSE and SSE2 additions included.
    static func extendedOperation(_ opcode: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        switch opcode {
        case 0xD4: return a &+ b                                                         // PADDQ
        case 0xFB: return a &- b                                                         // PSUBQ
        case 0xF4: return (a & 0xFFFF_FFFF) &* (b & 0xFFFF_FFFF)                          // PMULUDQ
        case 0xE0, 0xE3:                                                                 // PAVGB, PAVGW
            return lanes(a, b, width: opcode == 0xE0 ? 8 : 16) { x, y in (x + y + 1) >> 1 }
        case 0xE4: return lanes(a, b, width: 16) { x, y in (x * y) >> 16 }                // PMULHUW
        case 0xDA: return lanes(a, b, width: 8) { x, y in min(x, y) }                     // PMINUB
        case 0xDE: return lanes(a, b, width: 8) { x, y in max(x, y) }                     // PMAXUB
        case 0xEA, 0xEE:                                                                 // PMINSW, PMAXSW
            return lanes(a, b, width: 16) { x, y in
                (signed(x, width: 16) < signed(y, width: 16)) == (opcode == 0xEA) ? x : y
            }
        case 0xF6:                                                                       // PSADBW
            var sum: UInt64 = 0
            for shift in stride(from: UInt64(0), to: 64, by: 8) {
                let x = Int(a >> shift & 0xFF)
                let y = Int(b >> shift & 0xFF)
                sum += UInt64(abs(x - y))
            }
            return sum
        default: return operation(opcode, a, b)
        }
    }

    /// The 128-bit forms: lane-wise operations work on each quadword; unpacks and packs mix
    /// the halves; shifts take their count from the source's low quadword.
    static func operation128(_ opcode: UInt8, _ a: UInt128, _ b: UInt128) -> UInt128 {
        switch opcode {
        case 0x60, 0x61, 0x62:                                                           // PUNPCKLBW/WD/DQ
            let width = 8 << Int(opcode - 0x60)
            return UInt128(high: unpack(a.low64, b.low64, width: width, high: true),
                           low: unpack(a.low64, b.low64, width: width, high: false))
        case 0x68, 0x69, 0x6A:                                                           // PUNPCKHBW/WD/DQ
            let width = 8 << Int(opcode - 0x68)
            return UInt128(high: unpack(a.high64, b.high64, width: width, high: true),
                           low: unpack(a.high64, b.high64, width: width, high: false))
        case 0x6C: return UInt128(high: b.low64, low: a.low64)                             // PUNPCKLQDQ
        case 0x6D: return UInt128(high: b.high64, low: a.high64)                           // PUNPCKHQDQ
        case 0x63, 0x67, 0x6B:                                                           // PACKSSWB, PACKUSWB, PACKSSDW
            return UInt128(high: operation(opcode, b.low64, b.high64), low: operation(opcode, a.low64, a.high64))
        case 0xD1, 0xD2, 0xD3, 0xE1, 0xE2, 0xF1, 0xF2, 0xF3:                             // shifts by xmm/m128
            return UInt128(high: operation(opcode, a.high64, b.low64), low: operation(opcode, a.low64, b.low64))
        default:
            return UInt128(high: extendedOperation(opcode, a.high64, b.high64),
                           low: extendedOperation(opcode, a.low64, b.low64))
        }
    }

    /// The four 16-bit words of `value` reordered by the imm8's 2-bit fields (PSHUFW, PSHUFLW, PSHUFHW).
    static func shuffleWords(_ value: UInt64, _ order: UInt16) -> UInt64 {
        var result: UInt64 = 0
        for i in 0..<4 {
            let select = UInt64(order >> UInt16(2 * i) & 3)
            result |= (value >> (16 * select) & 0xFFFF) << UInt64(16 * i)
        }
        return result
    }
}

extension CPU {
    /// The 128-bit integer instructions with an xmm/m128 source (aligned).
    func execPackedInteger(_ d: Instruction, _ opcode: UInt8) -> Step {
        guard let b = readXMMSource(d, bytes: 16, aligned: true) else { return .fault }
        let reg = xmmReg(d)
        sse.xmm[reg] = PackedInteger.operation128(opcode, sse.xmm[reg], b)
        return .next
    }

    /// The SSE and SSE2 additions on MMX registers with an mm/m64 source.
    func execPackedIntegerMMX(_ d: Instruction, _ opcode: UInt8) -> Step {
        guard let b = readMMXSource(d) else { return .fault }
        let reg = mmxReg(d)
        fpu.setMMX(reg, PackedInteger.extendedOperation(opcode, fpu.mmx(reg), b))
        return .next
    }

    /// MOVD xmm, r/m32 (66 6E) and with REX.W MOVQ xmm, r/m64; MOVD r/m32, xmm (66 7E) and with
    /// REX.W MOVQ r/m64, xmm; MOVQ xmm, xmm/m64 (F3 7E); MOVDQA and
    /// MOVDQU (66/F3 6F, 7F); MOVQ xmm/m64, xmm (66 D6); MOVQ2DQ (F3 D6); MOVDQ2Q (F2 D6).
    /// Loads into an XMM register of less than 128 bits clear the rest of it.
    func execIntegerMove(_ d: Instruction, _ opcode: UInt8, _ prefix: SIMDPrefix) -> Step {
        let reg = xmmReg(d)
        let general: OperandSize = d.imm & Decoder.simdRexW != 0 ? .qword : .dword
        switch (opcode, prefix) {
        case (0x6E, _):
            guard let value = readRM(d, general) else { return .fault }
            sse.xmm[reg] = UInt128(value)
        case (0x7E, .operandSize):
            let value = UInt64(truncatingIfNeeded: sse.xmm[reg])
            return writeRM(d, general, general == .qword ? value : value & 0xFFFF_FFFF) ? .next : .fault
        case (0x7E, _):
            guard let value = readXMMSource(d, bytes: 8, aligned: false) else { return .fault }
            sse.xmm[reg] = UInt128(value.low64)
        case (0x6F, _), (0x7F, _):
            return execMoveFull(d, store: opcode == 0x7F, aligned: prefix == .operandSize)
        case (0xD6, .operandSize):
            if d.hasMemoryOperand { return writeOperand(d, bytes: 8, sse.xmm[reg].low64) ? .next : .fault }
            sse.xmm[xmmRM(d)] = UInt128(sse.xmm[reg].low64)
        case (0xD6, .repeatZ):
            sse.xmm[reg] = UInt128(fpu.mmx(mmxRM(d)))
        default:
            fpu.setMMX(mmxReg(d), sse.xmm[xmmRM(d)].low64)
        }
        return .next
    }

    /// MOVNTQ m64, mm.
    func execMoveMMXToMemory(_ d: Instruction) -> Step {
        writeOperand(d, bytes: 8, fpu.mmx(mmxReg(d))) ? .next : .fault
    }

    /// MASKMOVQ and MASKMOVDQU: the bytes of the first register whose mask byte (in the second)
    /// has its top bit set go to DS:(E)DI (DS may be overridden). With no byte selected nothing
    /// is accessed; otherwise the whole 8- or 16-byte destination is checked before any byte is
    /// written (the SDM allows faults on the unselected bytes).
    func execMaskedMove(_ d: Instruction, xmm: Bool) -> Step {
        let data = xmm ? sse.xmm[xmmReg(d)] : UInt128(fpu.mmx(mmxReg(d)))
        let mask = xmm ? sse.xmm[xmmRM(d)] : UInt128(fpu.mmx(mmxRM(d)))
        let size = xmm ? 16 : 8
        var selected = false
        for i in 0..<size where mask >> UInt128(8 * i + 7) & 1 != 0 { selected = true }
        guard selected else { return .next }
        let offset = wrappedOffset(regs[GeneralRegister.rdi.rawValue], d)
        guard let linear = writableLinearAddress(d.segment, offset, size: size) else { return .fault }
        for i in 0..<size where mask >> UInt128(8 * i + 7) & 1 != 0 {
            let byte = UInt8(truncatingIfNeeded: data >> UInt128(8 * i))
            guard writeLinear((linear &+ UInt64(i)) & 0xFFFF_FFFF, byte) else { return .fault }
        }
        return .next
    }

    /// PSHUFW mm (no prefix), PSHUFD (66), PSHUFHW (F3), PSHUFLW (F2).
    func execShuffleIntegers(_ d: Instruction, _ prefix: SIMDPrefix) -> Step {
        let order = d.imm2
        if prefix == .none {
            guard let source = readMMXSource(d) else { return .fault }
            fpu.setMMX(mmxReg(d), PackedInteger.shuffleWords(source, order))
            return .next
        }
        guard let source = readXMMSource(d, bytes: 16, aligned: true) else { return .fault }
        let result: UInt128
        switch prefix {
        case .repeatZ: result = UInt128(high: PackedInteger.shuffleWords(source.high64, order), low: source.low64)
        case .repeatNZ: result = UInt128(high: source.high64, low: PackedInteger.shuffleWords(source.low64, order))
        default:
            var dwords: UInt128 = 0
            for i in 0..<4 {
                Lanes.set(&dwords, i, .single, Lanes.get(source, Int(order >> UInt16(2 * i) & 3), .single))
            }
            result = dwords
        }
        sse.xmm[xmmReg(d)] = result
        return .next
    }

    /// 66 0F 71–73: PSRLW/PSRAW/PSLLW, PSRLD/PSRAD/PSLLD, PSRLQ/PSLLQ by an imm8, and
    /// PSRLDQ (/3) and PSLLDQ (/7), which shift the whole register by bytes (above 15: zero).
    func execShiftImmediate(_ d: Instruction, _ opcode: UInt8) -> Step {
        let target = xmmRM(d)
        let value = sse.xmm[target]
        let count = UInt64(d.imm2 & 0xFF)
        switch d.sub {
        case 3, 7:
            let bits = UInt128(min(count, 16) * 8)
            sse.xmm[target] = bits == 128 ? 0 : (d.sub == 3 ? value >> bits : value << bits)
        default:
            sse.xmm[target] = UInt128(high: PackedInteger.shift(opcode, kind: d.sub, value.high64, count: count),
                                      low: PackedInteger.shift(opcode, kind: d.sub, value.low64, count: count))
        }
        return .next
    }

    /// PINSRW mm/xmm, r32/m16, imm8: the word goes to position imm8 mod 4 (mm) or 8 (xmm).
    func execInsertWord(_ d: Instruction, xmm: Bool) -> Step {
        let word: UInt32?
        if d.hasMemoryOperand {
            word = read16(d.segment, effectiveAddress(d)).map { UInt32($0) }
        } else {
            word = UInt32(truncatingIfNeeded: readRegister(d.rm, .word))
        }
        guard let word else { return .fault }
        let shift = UInt128(16 * (Int(d.imm2) & (xmm ? 7 : 3)))
        if xmm {
            let reg = xmmReg(d)
            sse.xmm[reg] = sse.xmm[reg] & ~(UInt128(0xFFFF) << shift) | UInt128(word) << shift
        } else {
            let reg = mmxReg(d)
            let s = UInt64(shift)
            fpu.setMMX(reg, fpu.mmx(reg) & ~(0xFFFF << s) | UInt64(word) << s)
        }
        return .next
    }

    /// PEXTRW r32, mm/xmm, imm8: the selected word, zero-extended.
    func execExtractWord(_ d: Instruction, xmm: Bool) -> Step {
        let source = xmm ? sse.xmm[xmmRM(d)] : UInt128(fpu.mmx(mmxRM(d)))
        let shift = UInt128(16 * (Int(d.imm2) & (xmm ? 7 : 3)))
        writeRegister(d.reg, .dword, UInt64(truncatingIfNeeded: source >> shift) & 0xFFFF)
        return .next
    }

    /// PMOVMSKB r32, mm/xmm: the top bit of each byte.
    func execMoveByteMask(_ d: Instruction, xmm: Bool) -> Step {
        let source = xmm ? sse.xmm[xmmRM(d)] : UInt128(fpu.mmx(mmxRM(d)))
        var mask: UInt32 = 0
        for i in 0..<(xmm ? 16 : 8) where source >> UInt128(8 * i + 7) & 1 != 0 {
            mask |= 1 << UInt32(i)
        }
        writeRegister(d.reg, .dword, UInt64(mask))
        return .next
    }
}
