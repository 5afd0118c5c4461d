@testable import X86
import Testing

/// The special-value tables of SDM Vol. 2 for FPATAN, FYL2X, FYL2XP1, F2XM1 and the
/// trigonometric instructions, and results that must be exact.
@Suite struct TranscendentalSpecialCaseTests {
    typealias T = Transcendental
    static let e = FloatEnvironment()
    static let plusZero = Extended80.positiveZero
    static let minusZero = Extended80.zero(sign: true)
    static let plusInfinity = Extended80.infinity(sign: false)
    static let minusInfinity = Extended80.infinity(sign: true)
    static let two = Extended80(0x4000, 0x8000_0000_0000_0000)
    static let eight = Extended80(0x4002, 0x8000_0000_0000_0000)
    static let pi = Extended80(0x4000, 0xC90F_DAA2_2168_C235)
    static let halfPi = Extended80(0x3FFF, 0xC90F_DAA2_2168_C235)
    static let quarterPi = Extended80(0x3FFE, 0xC90F_DAA2_2168_C235)
    static let threeQuarterPi = Extended80(0x4000, 0x96CB_E3F9_990E_91A8)

    @Test func arctangentSignedZerosAndInfinities() {
        #expect(T.arctangent(Self.plusZero, Self.minusZero, Self.e).value == Self.pi)
        #expect(T.arctangent(Self.minusZero, Self.minusZero, Self.e).value == Self.pi.negated)
        #expect(T.arctangent(Self.minusZero, Self.plusZero, Self.e).value == Self.minusZero)
        #expect(T.arctangent(Self.two, Self.plusZero, Self.e).value == Self.halfPi)
        #expect(T.arctangent(Self.minusInfinity, Self.two, Self.e).value == Self.halfPi.negated)
        #expect(T.arctangent(Self.plusInfinity, Self.plusInfinity, Self.e).value == Self.quarterPi)
        #expect(T.arctangent(Self.plusInfinity, Self.minusInfinity, Self.e).value == Self.threeQuarterPi)
        #expect(T.arctangent(Self.two.negated, Self.minusInfinity, Self.e).value == Self.pi.negated)
        #expect(T.arctangent(Self.two, Self.plusInfinity, Self.e).value == Self.plusZero)
    }

    @Test func yLog2XTable() {
        #expect(T.yLog2X(Self.two, Self.eight, Self.e).value == Extended80(0x4001, 0xC000_0000_0000_0000), "2 × 3, exact")
        #expect(T.yLog2X(Self.two, Self.eight, Self.e).flags == 0)
        #expect(T.yLog2X(Self.two, Self.two.negated, Self.e).value == .indefinite)
        let byZero = T.yLog2X(Self.two, Self.plusZero, Self.e)
        #expect(byZero.value == Self.minusInfinity && byZero.flags == FPUException.zeroDivide)
        #expect(T.yLog2X(Self.plusZero, Self.plusZero, Self.e).value == .indefinite)
        #expect(T.yLog2X(Self.plusInfinity, .one, Self.e).value == .indefinite)
        #expect(T.yLog2X(Self.two.negated, .one, Self.e).value == Self.minusZero)
        #expect(T.yLog2X(Self.minusInfinity, Extended80(0x3FFE, 0x8000_0000_0000_0000), Self.e).value == Self.plusInfinity)
        #expect(T.yLog2X(Self.plusZero, Self.plusInfinity, Self.e).value == .indefinite)
    }

    @Test func yLog2XPlusOneSigns() {
        #expect(T.yLog2XPlusOne(Self.two.negated, Self.minusZero, Self.e).value == Self.plusZero)
        #expect(T.yLog2XPlusOne(Self.two, Self.minusZero, Self.e).value == Self.minusZero)
        #expect(T.yLog2XPlusOne(Self.plusInfinity, Self.plusZero, Self.e).value == .indefinite)
    }

    /// Captured from hardware: ±1 give their exact results with PE, larger operands come back
    /// unchanged with PE.
    @Test func exp2MinusOneAtAndBeyondTheRange() {
        #expect(T.exp2MinusOne(Extended80.one.negated, Self.e).value == Extended80(0xBFFE, 0x8000_0000_0000_0000))
        let one = T.exp2MinusOne(.one, FloatEnvironment(mode: .up))
        #expect(one.value == .one && one.flags == FPUException.precision, "even when rounding up")
        let big = Extended80(0xBFFF, 0xC000_0000_0000_0000)
        #expect(T.exp2MinusOne(big, Self.e).value == big)
        #expect(T.exp2MinusOne(Self.minusInfinity, Self.e).value == Extended80.one.negated)
        #expect(T.exp2MinusOne(Self.minusZero, Self.e).value == Self.minusZero)
    }

    @Test func trigonometricSpecialValues() {
        #expect(T.trigonometric(.sine, Self.minusZero, Self.e).value == Self.minusZero)
        #expect(T.trigonometric(.cosine, Self.minusZero, Self.e).value == .one)
        #expect(T.trigonometric(.tangent, Self.plusInfinity, Self.e).value == .indefinite)
        #expect(T.isOutOfTrigonometricRange(Extended80(0x403E, 0x8000_0000_0000_0000)))
        #expect(!T.isOutOfTrigonometricRange(Extended80(0x403D, 0xFFFF_FFFF_FFFF_FFFF)))
        let denormal = Extended80(0x0000, 0x0000_0000_0000_0100)
        let sine = T.trigonometric(.sine, denormal, Self.e)
        #expect(sine.value == denormal && sine.flags & FPUException.denormal != 0)
    }

    /// The 128-bit constants against their mpmath values (rounded to nearest at 128 bits).
    @Test func internalConstantsAreAccurate() {
        #expect(T.pi.significand == 0xC90F_DAA2_2168_C234_C4C6_628B_80DC_1CD1)
        #expect(T.reductionPi >> 2 == 0xC90F_DAA2_2168_C234_C >> 2, "66 significant bits")
        let sum = T.piOver6.scaled(by: 1) + T.piOver6
        #expect(sum.significand >> 8 == T.pi.scaled(by: -1).significand >> 8, "π/6 × 3 = π/2")
    }
}
