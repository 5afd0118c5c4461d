/// Moves, logic, shuffles and unpacks of packed floating-point data (SDM Vol. 2: MOVAPS,
/// MOVUPS, MOVSS, MOVSD, MOVLPS, MOVHPS, MOVHLPS, MOVLHPS, MOVMSKPS, MOVNTPS, ANDPS, ANDNPS,
/// ORPS, XORPS, SHUFPS, UNPCKLPS, UNPCKHPS and their PD twins). None of them touches MXCSR.
/// The 128-bit moves the decoder gives an op of their own (`.sseMove`), being the most common
/// SSE instructions: whether the move stores (xmm/m ← xmm) and whether a memory operand must be
/// aligned.
struct SSEMove: OptionSet {
    let rawValue: UInt8
    static let store = SSEMove(rawValue: 1)
    static let aligned = SSEMove(rawValue: 2)

    init(rawValue: UInt8) { self.rawValue = rawValue }

    /// MOVUPS/MOVUPD (0F 10/11 without F2/F3), MOVAPS/MOVAPD (0F 28/29), MOVDQA (66 0F 6F/7F)
    /// and MOVDQU (F3 0F 6F/7F); `nil` for any other opcode.
    init?(_ opcode: UInt8, _ prefix: SIMDPrefix) {
        let packed = prefix == .none || prefix == .operandSize
        let store: SSEMove = opcode == 0x11 || opcode == 0x29 || opcode == 0x7F ? .store : []
        switch opcode {
        case 0x10, 0x11: if !packed { return nil }
        case 0x28, 0x29: if !packed { return nil } else { self = store.union(.aligned); return }
        case 0x6F, 0x7F:
            if prefix == .operandSize { self = store.union(.aligned); return }
            if prefix != .repeatZ { return nil }
        default: return nil
        }
        self = store
    }
}

extension CPU {
    /// `.sseMove`: the availability checks of an XMM instruction, then the move.
    @inline(__always)
    func execSSEMove(_ d: Instruction) -> Step {
        if let stop = checkSSEAvailable(.xmm) { return stop }
        let move = SSEMove(rawValue: UInt8(truncatingIfNeeded: d.imm))
        return execMoveFull(d, store: move.contains(.store), aligned: move.contains(.aligned))
    }

    /// MOVAPS/MOVAPD/MOVNTPS/MOVNTPD/MOVNTDQ (aligned) and MOVUPS/MOVUPD: all 128 bits, to or
    /// from memory or between registers.
    func execMoveFull(_ d: Instruction, store: Bool, aligned: Bool) -> Step {
        let reg = xmmReg(d)
        if store {
            if d.hasMemoryOperand { return writeSSEMemory(d, bytes: 16, sse.xmm[reg], aligned: aligned) ? .next : .fault }
            sse.xmm[xmmRM(d)] = sse.xmm[reg]
            return .next
        }
        guard let value = readXMMSource(d, bytes: 16, aligned: aligned) else { return .fault }
        sse.xmm[reg] = value
        return .next
    }

    /// MOVSS/MOVSD: a load from memory clears the rest of the register; between registers
    /// only the low lane moves.
    func execMoveScalar(_ d: Instruction, _ f: LaneFormat, store: Bool) -> Step {
        let bytes = f.width / 8
        let laneMask = UInt128(f.laneMask)
        if d.hasMemoryOperand {
            if store { return writeSSEMemory(d, bytes: bytes, sse.xmm[xmmReg(d)], aligned: false) ? .next : .fault }
            guard let value = readSSEMemory(d, bytes: bytes, aligned: false) else { return .fault }
            sse.xmm[xmmReg(d)] = value
            return .next
        }
        let (from, to) = store ? (xmmReg(d), xmmRM(d)) : (xmmRM(d), xmmReg(d))
        sse.xmm[to] = sse.xmm[to] & ~laneMask | sse.xmm[from] & laneMask
        return .next
    }

    /// 0F 12/13/16/17: MOVLPS/MOVLPD and MOVHPS/MOVHPD move one quadword between memory and the
    /// low (12, 13) or high (16, 17) half; the register forms of 12 and 16 are MOVHLPS (high
    /// half of the source to the low half) and MOVLHPS (low half to the high half).
    func execMoveHalf(_ d: Instruction, _ opcode: UInt8) -> Step {
        let reg = xmmReg(d)
        let current = sse.xmm[reg]
        let high = opcode >= 0x16
        if opcode & 1 != 0 {
            let half = high ? current.high64 : current.low64
            return writeOperand(d, bytes: 8, half) ? .next : .fault
        }
        let value: UInt64
        if d.hasMemoryOperand {
            guard let loaded = readOperand(d, bytes: 8) else { return .fault }
            value = loaded
        } else {
            let source = sse.xmm[xmmRM(d)]
            value = high ? source.low64 : source.high64
        }
        sse.xmm[reg] = high ? UInt128(high: value, low: current.low64) : UInt128(high: current.high64, low: value)
        return .next
    }

    /// MOVMSKPS/MOVMSKPD: the lanes' sign bits to a general register.
    func execMoveMask(_ d: Instruction, _ f: LaneFormat) -> Step {
        let source = sse.xmm[xmmRM(d)]
        var mask: UInt32 = 0
        for i in 0..<(128 / f.width) where Lanes.get(source, i, f) & f.signBit != 0 {
            mask |= 1 << UInt32(i)
        }
        writeRegister(d.reg, .dword, UInt64(mask))
        return .next
    }

    /// ANDPS/ANDPD, ANDNPS/ANDNPD, ORPS/ORPD, XORPS/XORPD (0F 54–57).
    func execLogic(_ d: Instruction, _ opcode: UInt8) -> Step {
        guard let b = readXMMSource(d, bytes: 16, aligned: true) else { return .fault }
        let reg = xmmReg(d)
        let a = sse.xmm[reg]
        sse.xmm[reg] = switch opcode {
        case 0x54: a & b
        case 0x55: ~a & b
        case 0x56: a | b
        default: a ^ b
        }
        return .next
    }

    /// UNPCKLPS/UNPCKHPS/UNPCKLPD/UNPCKHPD: interleaves the low (or high) lanes of the
    /// destination and the source, the destination's first.
    func execUnpack(_ d: Instruction, _ f: LaneFormat, high: Bool) -> Step {
        guard let b = readXMMSource(d, bytes: 16, aligned: true) else { return .fault }
        let reg = xmmReg(d)
        let a = sse.xmm[reg]
        let count = 128 / f.width
        let first = high ? count / 2 : 0
        var result: UInt128 = 0
        for i in 0..<(count / 2) {
            Lanes.set(&result, 2 * i, f, Lanes.get(a, first + i, f))
            Lanes.set(&result, 2 * i + 1, f, Lanes.get(b, first + i, f))
        }
        sse.xmm[reg] = result
        return .next
    }

    /// SHUFPS/SHUFPD: the low half of the result picks lanes of the destination, the high half
    /// lanes of the source, by the imm8's 2-bit (PS) or 1-bit (PD) fields.
    func execShuffle(_ d: Instruction, _ f: LaneFormat) -> Step {
        guard let b = readXMMSource(d, bytes: 16, aligned: true) else { return .fault }
        let reg = xmmReg(d)
        let a = sse.xmm[reg]
        let count = 128 / f.width
        let bits = count == 4 ? 2 : 1
        var result: UInt128 = 0
        for i in 0..<count {
            let select = Int(d.imm2 >> UInt16(i * bits)) & (count - 1)
            Lanes.set(&result, i, f, Lanes.get(i < count / 2 ? a : b, select, f))
        }
        sse.xmm[reg] = result
        return .next
    }
}
