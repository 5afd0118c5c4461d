@testable import X86
import Testing
import X86Asm

/// Every operation on random bit patterns — any exponent, any encoding, every rounding mode
/// and precision, masked and unmasked — must complete without trapping: a guest controls
/// all of these.
@Suite struct FloatRobustnessTests {
    static func value(_ random: inout SplitMix64) -> Extended80 {
        let exponents: [UInt16] = [0, 1, 2, 0x3FFE, 0x3FFF, 0x403E, 0x403F, 0x7FFD, 0x7FFE, 0x7FFF]
        let r = random.next()
        let exponent = r & 1 == 0 ? exponents[Int(r >> 1 % UInt64(exponents.count))] : UInt16(truncatingIfNeeded: r >> 8) & 0x7FFF
        let sign: UInt16 = r & 0x10000 != 0 ? 0x8000 : 0
        var significand = random.next()
        if r & 0x20000 != 0 { significand &= 0xFFFF_0000_0000_0000 }
        return Extended80(significand: significand, signExponent: sign | exponent)
    }

    @Test func randomOperandsNeverTrap() {
        var random = SplitMix64(seed: 0xF0E1_D2C3)
        let formats: [FloatFormat] = [.extended, .extendedDouble, .extendedSingle]
        for i in 0..<1500 {
            let a = Self.value(&random)
            let b = Self.value(&random)
            let environment = FloatEnvironment(mode: RoundingMode(rawValue: UInt8(i & 3))!, format: formats[i % 3],
                                               masks: i % 5 == 0 ? 0 : FPUException.all)
            _ = ExtendedArithmetic.add(a, b, environment)
            _ = ExtendedArithmetic.multiply(a, b, environment)
            _ = ExtendedArithmetic.divide(a, b, environment)
            _ = ExtendedArithmetic.squareRoot(a, environment)
            _ = ExtendedArithmetic.remainder(a, b, nearest: i & 1 == 0, environment)
            _ = ExtendedArithmetic.roundToIntegral(a, environment)
            _ = ExtendedArithmetic.scale(a, by: b, environment)
            _ = ExtendedArithmetic.compare(a, b)
            _ = ExtendedConversions.toInteger(a, bits: 16 << (i % 3), environment)
            _ = ExtendedConversions.toBinary(a, format: i & 1 == 0 ? .single : .double, environment)
            _ = ExtendedConversions.toPackedBCD(a, environment)
            _ = ExtendedConversions.fromPackedBCD(low: a.significand, high: a.signExponent)
            _ = ExtendedConversions.fromBinary(a.significand, format: .double)
            if !Transcendental.isOutOfTrigonometricRange(a) {
                _ = Transcendental.trigonometric(.tangent, a, environment)
            }
            _ = Transcendental.arctangent(a, b, environment)
            _ = Transcendental.exp2MinusOne(a, environment)
            _ = Transcendental.yLog2X(a, b, environment)
            _ = Transcendental.yLog2XPlusOne(a, b, environment)
        }
    }
}

/// Random x87 and MMX instruction streams on a real-mode guest: whatever they do (results,
/// exceptions, #MF, #UD), the emulator must not trap.
@Suite struct X87InstructionStreamRobustnessTests {
    @Test func randomInstructionStreamsNeverTrap() throws {
        var random = SplitMix64(seed: 0x5EED_F00D)
        var data: [UInt8] = []
        for _ in 0..<64 { data += X87Guest.bytes(FloatRobustnessTests.value(&random)) }
        var longStreams = 0
        for stream in 0..<60 {
            let m = TestMachine()
            m.bus.load(data, at: X87Guest.data)
            var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
            a.fninit()
            // Any rounding and precision; exceptions unmasked in one stream of four, where the first
            // one stops the stream (FERR# without CR0.NE waits for an interrupt that never comes).
            let controlWord = UInt16(truncatingIfNeeded: random.next())
            X87Guest.loadControlWord(&a, stream % 4 == 0 ? controlWord : controlWord | 0x3F)
            for _ in 0..<40 {
                let r = random.next()
                if r & 7 == 0 {
                    // MMX: 0F xx with a register operand or [0x3000 + n]; the shifts by an immediate
                    // (71–73) have register forms only.
                    let opcode = Self.mmxOpcodes[Int((r >> 8) % UInt64(Self.mmxOpcodes.count))]
                    if (0x71...0x73).contains(opcode) {
                        let shift: [UInt8] = opcode == 0x73 ? [2, 6] : [2, 4, 6]
                        a.db([0x0F, opcode, 0xC0 | shift[Int((r >> 20) % UInt64(shift.count))] << 3 | UInt8((r >> 24) & 7),
                              UInt8((r >> 32) & 0x3F)])
                    } else if (r >> 16) & 1 == 0 {
                        a.db([0x0F, opcode, 0xC0 | UInt8((r >> 20) & 0x3F)])
                    } else {
                        a.db([0x0F, opcode, UInt8((r >> 20) & 0x38) | 0x06, UInt8((r >> 24) & 0xF8), 0x30])
                    }
                    continue
                }
                var escape: UInt8, modrm: UInt8, x: UInt64
                repeat {
                    x = random.next()
                    escape = UInt8(0xD8 + (x >> 4) & 7)
                    // [0x3000 + n] (mod 00, rm 110, disp16; room for a 108-byte save) or a register.
                    modrm = (x >> 3) & 1 == 0 ? 0xC0 | UInt8((x >> 8) & 0x3F) : UInt8((x >> 8) & 0x38) | 0x06
                } while !Self.isDefined(escape, modrm)
                if modrm >= 0xC0 {
                    a.x87(escape, modrm)
                } else {
                    a.db([escape, modrm, UInt8((x >> 16) & 0xF0), 0x31])
                }
            }
            a.hlt()
            try m.load(a)
            _ = m.run(budget: 2_000)
            if m.cpu.instructionsRetired >= 20 { longStreams += 1 }
        }
        #expect(longStreams >= 40, "\(longStreams) of 60 streams ran 20 instructions or more")
    }

    /// Whether an x87 escape with this ModRM is an instruction of a P6 (no SSE3 FISTTP, none of
    /// the undocumented aliases), so a stream is not cut short by #UD.
    static func isDefined(_ escape: UInt8, _ modrm: UInt8) -> Bool {
        let reg = (modrm >> 3) & 7
        if modrm < 0xC0 {
            switch escape {
            case 0xD9, 0xDF: return reg != 1
            case 0xDB: return ![1, 4, 6].contains(reg)
            case 0xDD: return reg != 1 && reg != 5
            default: return true
            }
        }
        switch escape {
        case 0xD8, 0xDC: return true
        case 0xD9: return modrm <= 0xD0 || [0xE0, 0xE1, 0xE4, 0xE5].contains(modrm) || (0xE8...0xEE).contains(modrm) || modrm >= 0xF0
        case 0xDA: return modrm < 0xE0 || modrm == 0xE9
        case 0xDB: return modrm < 0xE0 || modrm == 0xE2 || modrm == 0xE3 || (0xE8...0xF7).contains(modrm)
        case 0xDD: return modrm < 0xC8 || (0xD0...0xEF).contains(modrm)
        case 0xDE: return modrm < 0xD0 || modrm == 0xD9 || modrm >= 0xE0
        default: return modrm == 0xE0 || (0xE8...0xF7).contains(modrm)
        }
    }

    /// The second bytes of the MMX instructions (without SSE): unpacks and packs, compares,
    /// moves, EMMS, the shifts (71–73 by an immediate) and the arithmetic and logic group.
    static let mmxOpcodes: [UInt8] = [0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6E, 0x6F,
                                      0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x7E, 0x7F,
                                      0xD1, 0xD2, 0xD3, 0xD5, 0xD8, 0xD9, 0xDB, 0xDC, 0xDD, 0xDF,
                                      0xE1, 0xE2, 0xE5, 0xE8, 0xE9, 0xEB, 0xEC, 0xED, 0xEF,
                                      0xF1, 0xF2, 0xF3, 0xF5, 0xF8, 0xF9, 0xFA, 0xFC, 0xFD, 0xFE]
}
