@testable import X86
import Testing

/// The special cases of x87 arithmetic: overflow and underflow responses (SDM Vol. 1,
/// 4.9.1.4–4.9.1.5, 8.5.4–8.5.5), NaN propagation (Table 4-7), unsupported encodings
/// (8.2.2), denormal operands, exact zeros, remainders and conversions at their limits.
@Suite struct ExtendedArithmeticEdgeTests {
    typealias A = ExtendedArithmetic
    static let largest = Extended80(0x7FFE, 0xFFFF_FFFF_FFFF_FFFF)
    static let smallestNormal = Extended80(0x0001, 0x8000_0000_0000_0000)
    static let two = Extended80(0x4000, 0x8000_0000_0000_0000)
    static let three = Extended80(0x4000, 0xC000_0000_0000_0000)
    static let half = Extended80(0x3FFE, 0x8000_0000_0000_0000)

    static func environment(_ mode: RoundingMode = .nearestEven, masks: UInt16 = FPUException.all) -> FloatEnvironment {
        FloatEnvironment(mode: mode, masks: masks)
    }

    @Test(arguments: [
        (RoundingMode.nearestEven, false, Extended80.infinity(sign: false), true),
        (.towardZero, false, largest, false),
        (.down, false, largest, false),
        (.up, false, Extended80.infinity(sign: false), true),
        (.down, true, Extended80.infinity(sign: true), true),
        (.up, true, largest.negated, false),
    ] as [(RoundingMode, Bool, Extended80, Bool)])
    func maskedOverflowByRoundingMode(mode: RoundingMode, negative: Bool, expected: Extended80, roundedUp: Bool) {
        let a = negative ? Self.largest.negated : Self.largest
        let result = A.multiply(a, Self.two, Self.environment(mode))
        #expect(result.value == expected)
        #expect(result.flags == FPUException.overflow | FPUException.precision)
        #expect(result.roundedUp == roundedUp)
    }

    @Test func unmaskedOverflowDeliversTheBiasAdjustedResult() {
        let environment = Self.environment(masks: FPUException.all & ~FPUException.overflow)
        let result = A.multiply(Extended80(0x7FFE, 0xC000_0000_0000_0000), Self.two, environment)
        #expect(result.value == Extended80(0x7FFF - 0x6000, 0xC000_0000_0000_0000))
        #expect(result.flags == FPUException.overflow)
        let memory = ExtendedConversions.toBinary(Self.largest, format: .double, environment)
        #expect(memory.bits == nil && memory.flags & FPUException.overflow != 0, "no store to memory")
    }

    /// ±1/3 in every precision and rounding mode (exact reference: Python `fractions`).
    @Test func oneThirdInEveryPrecisionAndMode() {
        let expected: [(FloatFormat, [UInt64], [UInt64])] = [   // RN, RD, RU, RZ for +1/3 and −1/3
            (.extendedSingle, [0xAAAA_AB00_0000_0000, 0xAAAA_AA00_0000_0000, 0xAAAA_AB00_0000_0000, 0xAAAA_AA00_0000_0000],
             [0xAAAA_AB00_0000_0000, 0xAAAA_AB00_0000_0000, 0xAAAA_AA00_0000_0000, 0xAAAA_AA00_0000_0000]),
            (.extendedDouble, [0xAAAA_AAAA_AAAA_A800, 0xAAAA_AAAA_AAAA_A800, 0xAAAA_AAAA_AAAA_B000, 0xAAAA_AAAA_AAAA_A800],
             [0xAAAA_AAAA_AAAA_A800, 0xAAAA_AAAA_AAAA_B000, 0xAAAA_AAAA_AAAA_A800, 0xAAAA_AAAA_AAAA_A800]),
            (.extended, [0xAAAA_AAAA_AAAA_AAAB, 0xAAAA_AAAA_AAAA_AAAA, 0xAAAA_AAAA_AAAA_AAAB, 0xAAAA_AAAA_AAAA_AAAA],
             [0xAAAA_AAAA_AAAA_AAAB, 0xAAAA_AAAA_AAAA_AAAB, 0xAAAA_AAAA_AAAA_AAAA, 0xAAAA_AAAA_AAAA_AAAA]),
        ]
        let modes: [RoundingMode] = [.nearestEven, .down, .up, .towardZero]
        for (format, positive, negative) in expected {
            for (i, mode) in modes.enumerated() {
                let environment = FloatEnvironment(mode: mode, format: format)
                #expect(A.divide(.one, Self.three, environment).value == Extended80(0x3FFD, positive[i]), "\(format) \(mode)")
                #expect(A.divide(Extended80.one.negated, Self.three, environment).value == Extended80(0xBFFD, negative[i]),
                        "\(format) \(mode)")
            }
        }
    }

    @Test func maskedUnderflowDenormalizesAndFlagsOnlyInexactTinyResults() {
        let exact = A.divide(Self.smallestNormal, Self.two, Self.environment())
        #expect(exact.value == Extended80(0x0000, 0x4000_0000_0000_0000))
        #expect(exact.flags == 0, "exact tiny result: no underflow when masked")
        let inexact = A.divide(Self.smallestNormal, Self.three, Self.environment())
        #expect(inexact.value == Extended80(0x0000, 0x2AAA_AAAA_AAAA_AAAB))
        #expect(inexact.flags == FPUException.underflow | FPUException.precision)
    }

    @Test func unmaskedUnderflowIsSignalledEvenWhenExact() {
        let environment = Self.environment(masks: FPUException.all & ~FPUException.underflow)
        let result = A.divide(Self.smallestNormal, Self.two, environment)
        #expect(result.value == Extended80(0x6000, 0x8000_0000_0000_0000))
        #expect(result.flags == FPUException.underflow)
    }

    /// Tininess is detected after rounding: 2^−16382 × (1 − 2^−126) rounds to the smallest
    /// normal number, so it is not tiny and only inexact.
    @Test func tininessIsDetectedAfterRounding() {
        let a = Extended80(0x0001, 0x8000_0000_0000_0001)          // 2^−16382 × (1 + 2^−63)
        let b = Extended80(0x3FFE, 0xFFFF_FFFF_FFFF_FFFE)          // 1 − 2^−63
        let result = A.multiply(a, b, Self.environment())
        #expect(result.value == Self.smallestNormal)
        #expect(result.flags == FPUException.precision)
    }

    @Test func nanPropagation() {
        let quiet = Extended80(0x7FFF, 0xC000_0000_0000_0001)
        let quietLarger = Extended80(0xFFFF, 0xC000_0000_0000_0002)
        let signaling = Extended80(0x7FFF, 0x8000_0000_0000_0005)
        let e = Self.environment()
        #expect(A.add(signaling, quiet, e).value == quiet, "QNaN wins over SNaN")
        #expect(A.add(signaling, quiet, e).flags == FPUException.invalid)
        #expect(A.add(quiet, quietLarger, e).value == quietLarger, "the larger significand")
        #expect(A.multiply(Self.two, signaling, e).value == signaling.quieted)
        #expect(A.divide(quiet, Self.two, e).flags == 0, "QNaN operands raise nothing")
        let unmasked = Self.environment(masks: FPUException.all & ~FPUException.invalid)
        #expect(A.add(signaling, Self.two, unmasked).value == nil)
    }

    /// Unnormals, pseudo-NaNs and pseudo-infinities are invalid; pseudo-denormals are denormals.
    @Test func unsupportedEncodingsAreInvalid() {
        let e = Self.environment()
        for unsupported in [Extended80(0x4000, 0x4000_0000_0000_0000), Extended80(0x7FFF, 0x0000_0000_0000_0001),
                            Extended80(0x7FFF, 0)] {
            #expect(A.add(unsupported, Self.two, e).value == .indefinite)
            #expect(A.add(unsupported, Self.two, e).flags == FPUException.invalid)
        }
        let pseudoDenormal = Extended80(0x0000, 0x8000_0000_0000_0000)
        let result = A.add(pseudoDenormal, .positiveZero, e)
        #expect(result.value == Self.smallestNormal, "pseudo-denormal weighs like exponent 1")
        #expect(result.flags == FPUException.denormal)
    }

    @Test func denormalOperandExceptionStopsWhenUnmasked() {
        let denormal = Extended80(0x0000, 0x0000_0000_0000_0001)
        #expect(A.multiply(denormal, Self.two, Self.environment()).flags == FPUException.denormal)
        let unmasked = Self.environment(masks: FPUException.all & ~FPUException.denormal)
        let stopped = A.multiply(denormal, Self.two, unmasked)
        #expect(stopped.value == nil && stopped.flags == FPUException.denormal)
    }

    @Test func invalidOperationsAndDivisionByZero() {
        let e = Self.environment()
        let infinity = Extended80.infinity(sign: false)
        #expect(A.subtract(infinity, infinity, e).value == .indefinite)
        #expect(A.multiply(.positiveZero, infinity, e).value == .indefinite)
        #expect(A.divide(.positiveZero, .positiveZero, e).value == .indefinite)
        #expect(A.squareRoot(Self.two.negated, e).value == .indefinite)
        #expect(A.squareRoot(Extended80.zero(sign: true), e).value == .zero(sign: true))
        let byZero = A.divide(Self.two.negated, .positiveZero, e)
        #expect(byZero.value == .infinity(sign: true) && byZero.flags == FPUException.zeroDivide)
    }

    @Test func exactZeroSumsAreNegativeOnlyWhenRoundingDown() {
        #expect(A.subtract(Self.two, Self.two, Self.environment()).value == .positiveZero)
        #expect(A.subtract(Self.two, Self.two, Self.environment(.down)).value == .zero(sign: true))
        #expect(A.add(.zero(sign: true), .zero(sign: true), Self.environment()).value == .zero(sign: true))
    }

    /// FPREM truncates the quotient, FPREM1 rounds it to nearest; huge exponent differences
    /// reduce partially (C2) and converge: 2^100 mod 3 = 1.
    @Test func partialRemainders() {
        let e = Self.environment()
        let five = ExtendedConversions.fromInteger(5)
        let truncated = A.remainder(five, Self.three, nearest: false, e)
        #expect(truncated.result.value == Self.two && truncated.quotientBits == 1 && truncated.complete)
        let nearest = A.remainder(five, Self.three, nearest: true, e)
        #expect(nearest.result.value == Extended80.one.negated && nearest.quotientBits == 2)
        var x = Extended80(0x3FFF + 100, 0x8000_0000_0000_0000)
        var passes = 0
        while true {
            let step = A.remainder(x, Self.three, nearest: false, e)
            x = step.result.value!
            passes += 1
            if step.complete { break }
        }
        #expect(x == .one)
        #expect(passes > 1)
    }

    @Test func roundToIntegralAndScale() {
        #expect(A.roundToIntegral(Extended80(0x4000, 0xA000_0000_0000_0000), Self.environment()).value == Self.two)   // 2.5
        #expect(A.roundToIntegral(Self.half.negated, Self.environment()).value == .zero(sign: true))
        let up = A.roundToIntegral(Self.half, Self.environment(.up))
        #expect(up.value == .one && up.roundedUp && up.flags == FPUException.precision)
        let tiny = A.scale(.one, by: ExtendedConversions.fromInteger(-16400), Self.environment())
        #expect(tiny.value == Extended80(0x0000, 1 << 45), "2^−16400 = 2^−18 of the smallest normal")
        #expect(tiny.flags == 0)
    }

    @Test func integerConversionLimits() {
        let e = Self.environment()
        let minimum = ExtendedConversions.fromInteger(Int64.min)
        #expect(minimum == Extended80(0xC03E, 0x8000_0000_0000_0000))
        #expect(ExtendedConversions.toInteger(minimum, bits: 64, e).bits == Int64.min)
        #expect(ExtendedConversions.toInteger(minimum.negated, bits: 64, e).bits == nil)
        #expect(ExtendedConversions.toInteger(ExtendedConversions.fromInteger(-32768), bits: 16, e).bits == -32768)
        #expect(ExtendedConversions.toInteger(ExtendedConversions.fromInteger(32768), bits: 16, e).bits == nil)
        let pointFive = ExtendedConversions.toInteger(Self.half.negated, bits: 32, FloatEnvironment(mode: .down))
        #expect(pointFive.bits == -1 && pointFive.flags == FPUException.precision && pointFive.roundedUp)
    }

    @Test func doubleAndSingleConversionsAtTheirLimits() {
        let e = Self.environment()
        // The smallest double denormal loads exactly and flags DE to the caller.
        let (tiny, denormal) = ExtendedConversions.fromBinary(1, format: .double)
        #expect(tiny == Extended80(0x3FFF - 1074, 0x8000_0000_0000_0000) && denormal)
        #expect(ExtendedConversions.toBinary(tiny, format: .double, e).bits == 1)
        // Half of it rounds to even (zero), with underflow and precision.
        let half = ExtendedConversions.toBinary(Extended80(0x3FFF - 1075, 0x8000_0000_0000_0000), format: .double, e)
        #expect(half.bits == 0 && half.flags == FPUException.underflow | FPUException.precision)
        // Unsupported encodings store the indefinite.
        #expect(ExtendedConversions.toBinary(Extended80(0x4000, 0x4000_0000_0000_0000), format: .single, e).bits == 0xFFC0_0000)
        #expect(ExtendedConversions.toBinary(.indefinite, format: .double, e).bits == 0xFFF8_0000_0000_0000)
    }
}
