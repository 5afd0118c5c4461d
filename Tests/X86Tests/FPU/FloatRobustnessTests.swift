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
        for _ in 0..<60 {
            let m = TestMachine()
            m.bus.load(data, at: X87Guest.data)
            var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
            a.fninit()
            X87Guest.loadControlWord(&a, UInt16(truncatingIfNeeded: random.next()))
            for _ in 0..<40 {
                let r = random.next()
                if r & 7 == 0 {
                    // MMX: 0F xx with a register operand or [0x3000 + n].
                    let opcode = UInt8(0x60 + (r >> 8) % 0xA0)
                    if (r >> 16) & 1 == 0 {
                        a.db([0x0F, opcode, 0xC0 | UInt8((r >> 20) & 0x3F), UInt8((r >> 32) & 0xFF)])
                    } else {
                        a.db([0x0F, opcode, UInt8((r >> 20) & 0x38) | 0x06, UInt8((r >> 24) & 0xF8), 0x30])
                    }
                } else if (r >> 3) & 1 == 0 {
                    a.x87(UInt8(0xD8 + (r >> 4) & 7), 0xC0 | UInt8((r >> 8) & 0x3F))
                } else {
                    // [0x3000 + n]: mod 00, rm 110, disp16; room for a 108-byte save.
                    a.db([UInt8(0xD8 + (r >> 4) & 7), UInt8((r >> 8) & 0x38) | 0x06, UInt8((r >> 16) & 0xF0), 0x31])
                }
            }
            a.hlt()
            try m.load(a)
            _ = m.run(budget: 2_000)
        }
    }
}
