/// MMX technology (SDM Vol. 1, chapter 9; Vol. 2 for each instruction): the 57 instructions
/// of the Pentium with MMX and the P6 family on the 64-bit registers MM0–MM7, which alias
/// the significands of x87 registers R0–R7.
extension CPU {
    /// 0F 60–7F and 0F D0–FE without prefix (`imm` is the second opcode byte, `imm2` the
    /// shift count of 0F 71–73). The 66/F2/F3 forms and the opcodes later extensions added
    /// decode as SSE instructions (SSE/); only EMMS (no ModRM) still arrives here with a
    /// prefix, and is #UD then. Then CR0.EM → #UD, CR0.TS → #NM, a pending x87
    /// exception is reported, and the x87 state enters MMX mode (SDM Vol. 1, Table 9-2).
    func execMMX(_ d: Instruction) -> Step {
        let opcode = UInt8(truncatingIfNeeded: d.imm)
        let prefixes = DecodedInstruction.Attributes.repeatZ | DecodedInstruction.Attributes.repeatNZ
        guard !d.hasOperandSizePrefix, d.attributes & prefixes == 0,
              MMXEncoding.isDefined(opcode, reg: d.sub, memory: d.hasMemoryOperand) else {
            return raiseFault(.invalidOpcode)
        }
        if cr0 & ControlRegister0.emulation != 0 { return raiseFault(.invalidOpcode) }
        if cr0 & ControlRegister0.taskSwitched != 0 { return raiseFault(.deviceNotAvailable) }
        if let stop = reportPendingFloatingPointError() { return stop }
        let destination = Int(d.sub)
        // MM0–MM7 only: REX.B does not extend an MMX register operand (SDM Vol. 2A, 2.2.1.7).
        let registerOperand = Int(d.rm >> 3) & 7
        let step: Step
        switch opcode {
        case 0x77:                                                        // EMMS
            fpu.top = 0
            fpu.occupied = 0
            return .next
        case 0x6E:                                                        // MOVD mm, r/m32; MOVQ mm, r/m64
            guard let value = readRM(d, d.sseOperand64 ? .qword : .dword) else { return .fault }
            fpu.setMMX(destination, UInt64(value))
            step = .next
        case 0x7E:                                                        // MOVD r/m32, mm; MOVQ r/m64, mm
            step = writeRM(d, d.sseOperand64 ? .qword : .dword, fpu.mmx(destination)) ? .next : .fault
        case 0x7F:                                                        // MOVQ mm/m64, mm
            if d.hasMemoryOperand {
                step = write64(d.segment, effectiveAddress(d), fpu.mmx(destination)) ? .next : .fault
            } else {
                fpu.setMMX(registerOperand, fpu.mmx(destination))
                step = .next
            }
        case 0x71, 0x72, 0x73:                                            // shifts by imm8
            let target = registerOperand
            fpu.setMMX(target, PackedInteger.shift(opcode, kind: d.sub, fpu.mmx(target), count: UInt64(d.imm2)))
            step = .next
        default:
            // Low unpacks read only 32 bits of memory.
            let lowUnpack = (0x60...0x62).contains(opcode)
            let source: UInt64?
            if d.hasMemoryOperand {
                source = readOperand(d, bytes: lowUnpack ? 4 : 8)
            } else {
                source = fpu.mmx(registerOperand)
            }
            guard let source else { return .fault }
            fpu.setMMX(destination, PackedInteger.operation(opcode, fpu.mmx(destination), source))
            step = .next
        }
        if step == .next { fpu.enterMMXState() }
        return step
    }
}

/// Which 0F opcodes (without prefix) are MMX instructions.
enum MMXEncoding {
    static func isDefined(_ opcode: UInt8, reg: UInt8, memory: Bool) -> Bool {
        switch opcode {
        case 0x71, 0x72: return !memory && (reg == 2 || reg == 4 || reg == 6)
        case 0x73: return !memory && (reg == 2 || reg == 6)
        default: return isMMXOpcode(opcode)
        }
    }

    /// The opcodes of the original MMX set; the SSE and SSE2 additions on MMX registers
    /// (PSHUFW, PAVGB, PADDQ…) decode as `.sse`.
    static func isMMXOpcode(_ opcode: UInt8) -> Bool {
        switch opcode {
        case 0x60...0x6B, 0x6E, 0x6F, 0x71...0x77, 0x7E, 0x7F: true
        case 0xD1, 0xD2, 0xD3, 0xD5, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDF: true
        case 0xE1, 0xE2, 0xE5, 0xE8, 0xE9, 0xEB, 0xEC, 0xED, 0xEF: true
        case 0xF1, 0xF2, 0xF3, 0xF5, 0xF8, 0xF9, 0xFA, 0xFC, 0xFD, 0xFE: true
        default: false
        }
    }
}

/// Packed-integer arithmetic on 64-bit MMX values.
enum PackedInteger {
    /// Applies `f` to each `width`-bit lane of `a` and `b` (lanes zero-extended; the result is truncated).
    @inline(__always)
    static func lanes(_ a: UInt64, _ b: UInt64, width: Int, _ f: (UInt64, UInt64) -> UInt64) -> UInt64 {
        let mask: UInt64 = width == 64 ? ~0 : (1 << UInt64(width)) - 1
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: width) {
            let s = UInt64(shift)
            result |= (f(a >> s & mask, b >> s & mask) & mask) << s
        }
        return result
    }

    /// A lane's value as a signed number.
    @inline(__always) static func signed(_ lane: UInt64, width: Int) -> Int64 {
        Int64(bitPattern: lane << UInt64(64 - width)) >> Int64(64 - width)
    }

    static func saturateSigned(_ value: Int64, width: Int) -> UInt64 {
        let limit = Int64(1) << Int64(width - 1)
        return UInt64(bitPattern: min(max(value, -limit), limit - 1))
    }

    static func saturateUnsigned(_ value: Int64, width: Int) -> UInt64 {
        UInt64(min(max(value, 0), (Int64(1) << Int64(width)) - 1))
    }

    /// Interleaves the low (or high) halves' `width`-bit elements of `a` and `b`, `a`'s first.
    static func unpack(_ a: UInt64, _ b: UInt64, width: Int, high: Bool) -> UInt64 {
        let mask: UInt64 = (1 << UInt64(width)) - 1
        let base = high ? 32 : 0
        var result: UInt64 = 0
        for i in 0..<(32 / width) {
            let from = UInt64(base + i * width)
            result |= (a >> from & mask) << UInt64(2 * i * width)
            result |= (b >> from & mask) << UInt64((2 * i + 1) * width)
        }
        return result
    }

    /// Narrows the `width`-bit elements of `a` then `b` to half width with saturation.
    static func pack(_ a: UInt64, _ b: UInt64, width: Int, unsignedResult: Bool) -> UInt64 {
        let half = width / 2
        let count = 64 / width
        var result: UInt64 = 0
        for i in 0..<(2 * count) {
            let source = i < count ? a : b
            let lane = signed(source >> UInt64((i % count) * width), width: width)
            let narrowed = unsignedResult ? saturateUnsigned(lane, width: half) : saturateSigned(lane, width: half)
            result |= (narrowed & ((1 << UInt64(half)) - 1)) << UInt64(i * half)
        }
        return result
    }

    /// PSLL/PSRL/PSRA by a count: counts beyond the lane width give 0 (or the sign).
    static func shift(_ value: UInt64, width: Int, count: UInt64, left: Bool, arithmetic: Bool) -> UInt64 {
        lanes(value, 0, width: width) { lane, _ in
            if arithmetic {
                let bits = min(count, UInt64(width - 1))
                return UInt64(bitPattern: signed(lane, width: width) >> Int64(bits))
            }
            if count >= UInt64(width) { return 0 }
            return left ? lane << count : lane >> count
        }
    }

    /// 0F 71–73 /2 /4 /6: shift right logical, right arithmetic, left by an immediate.
    static func shift(_ opcode: UInt8, kind: UInt8, _ value: UInt64, count: UInt64) -> UInt64 {
        let width = 16 << Int(opcode - 0x71)
        return shift(value, width: width, count: count, left: kind == 6, arithmetic: kind == 4)
    }

    /// The two-operand MMX instructions: `a` is the destination, `b` the source.
    static func operation(_ opcode: UInt8, _ a: UInt64, _ b: UInt64) -> UInt64 {
        switch opcode {
        case 0x60, 0x61, 0x62: return unpack(a, b, width: 8 << Int(opcode - 0x60), high: false)
        case 0x68, 0x69, 0x6A: return unpack(a, b, width: 8 << Int(opcode - 0x68), high: true)
        case 0x63: return pack(a, b, width: 16, unsignedResult: false)                 // PACKSSWB
        case 0x6B: return pack(a, b, width: 32, unsignedResult: false)                 // PACKSSDW
        case 0x67: return pack(a, b, width: 16, unsignedResult: true)                  // PACKUSWB
        case 0x64, 0x65, 0x66:                                                          // PCMPGTB/W/D
            let width = 8 << Int(opcode - 0x64)
            return lanes(a, b, width: width) { x, y in signed(x, width: width) > signed(y, width: width) ? ~0 : 0 }
        case 0x74, 0x75, 0x76:                                                          // PCMPEQB/W/D
            return lanes(a, b, width: 8 << Int(opcode - 0x74)) { x, y in x == y ? ~0 : 0 }
        case 0x6F: return b                                                             // MOVQ mm, mm/m64
        case 0xD1, 0xD2, 0xD3: return shift(a, width: 16 << Int(opcode - 0xD1), count: b, left: false, arithmetic: false)
        case 0xE1, 0xE2: return shift(a, width: 16 << Int(opcode - 0xE1), count: b, left: false, arithmetic: true)
        case 0xF1, 0xF2, 0xF3: return shift(a, width: 16 << Int(opcode - 0xF1), count: b, left: true, arithmetic: false)
        case 0xD5: return lanes(a, b, width: 16) { x, y in x &* y }                    // PMULLW
        case 0xE5:                                                                      // PMULHW
            return lanes(a, b, width: 16) { x, y in UInt64(bitPattern: (signed(x, width: 16) * signed(y, width: 16)) >> 16) }
        case 0xF5:                                                                      // PMADDWD
            return lanes(a, b, width: 32) { x, y in
                UInt64(bitPattern: signed(x, width: 16) * signed(y, width: 16)
                    + signed(x >> 16, width: 16) * signed(y >> 16, width: 16))
            }
        case 0xDB: return a & b                                                         // PAND
        case 0xDF: return ~a & b                                                        // PANDN
        case 0xEB: return a | b                                                         // POR
        case 0xEF: return a ^ b                                                         // PXOR
        case 0xD8, 0xD9:                                                                // PSUBUSB/W
            let width = 8 << Int(opcode - 0xD8)
            return lanes(a, b, width: width) { x, y in saturateUnsigned(Int64(x) - Int64(y), width: width) }
        case 0xDC, 0xDD:                                                                // PADDUSB/W
            let width = 8 << Int(opcode - 0xDC)
            return lanes(a, b, width: width) { x, y in saturateUnsigned(Int64(x) + Int64(y), width: width) }
        case 0xE8, 0xE9:                                                                // PSUBSB/W
            let width = 8 << Int(opcode - 0xE8)
            return lanes(a, b, width: width) { x, y in
                saturateSigned(signed(x, width: width) - signed(y, width: width), width: width)
            }
        case 0xEC, 0xED:                                                                // PADDSB/W
            let width = 8 << Int(opcode - 0xEC)
            return lanes(a, b, width: width) { x, y in
                saturateSigned(signed(x, width: width) + signed(y, width: width), width: width)
            }
        case 0xF8, 0xF9, 0xFA: return lanes(a, b, width: 8 << Int(opcode - 0xF8)) { x, y in x &- y }   // PSUBB/W/D
        default: return lanes(a, b, width: 8 << Int(opcode - 0xFC)) { x, y in x &+ y }                // PADDB/W/D
        }
    }
}
