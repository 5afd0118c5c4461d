/// The x87 transcendental functions (SDM Vol. 2: FSIN, FCOS, FSINCOS, FPTAN, FPATAN, F2XM1,
/// FYL2X, FYL2XP1) evaluated in `WideFloat` and rounded once to extended precision, which
/// keeps them within one unit in the last place.
///
/// Trigonometric arguments are reduced modulo π/2 exactly, but with the x87's own 66-bit
/// approximation of π (SDM Vol. 1, 8.3.10), so results near multiples of π match the
/// hardware's (FSIN of FLDPI's value is −2^−64, not the true −5.0165e−20).
enum Transcendental {
    // MARK: Constants (top 128 bits, rounded to nearest; checked against mpmath in the tests)

    static let pi = WideFloat(0xC90F_DAA2_2168_C234_C4C6_628B_80DC_1CD1, exponent: 1)
    static let ln2 = WideFloat(0xB172_17F7_D1CF_79AB_C9E3_B398_03F2_F6AF, exponent: -1)
    static let log2e = WideFloat(0xB8AA_3B29_5C17_F0BB_BE87_FED0_691D_3E89, exponent: 0)
    static let log2Of10 = WideFloat(0xD49A_784B_CD1B_8AFE_492B_F6FF_4DAF_DB4D, exponent: 1)
    static let log10Of2 = WideFloat(0x9A20_9A84_FBCF_F798_8F89_59AC_0B7C_9178, exponent: -2)
    static let sqrt3 = WideFloat(0xDDB3_D742_C265_539D_92BA_16B8_3C5C_1DC5, exponent: 0)
    static let piOver6 = WideFloat(0x860A_91C1_6B9B_2C23_2DD9_9707_AB3D_688B, exponent: -1)
    static let sqrt2 = WideFloat(0xB504_F333_F9DE_6484_597D_89B3_754A_BE9F, exponent: 0)

    /// The x87's internal π for argument reduction: C90FDAA2 2168C234 C (hex) × 2^−66.
    static let reductionPi: UInt128 = 0xC_90FD_AA22_168C_234C

    /// Terms smaller than the running sum by this many binary places are dropped.
    private static let seriesPrecision: Int32 = 132

    // MARK: Series

    /// sin r for |r| ≤ π/4.
    static func sineSeries(_ r: WideFloat) -> WideFloat {
        let square = r * r
        var term = r
        var sum = r
        var n: UInt64 = 1
        while !term.isZero && term.exponent > sum.exponent - seriesPrecision {
            term = -(term * square) / ((n + 1) * (n + 2))
            sum = sum + term
            n += 2
        }
        return sum
    }

    /// cos r for |r| ≤ π/4.
    static func cosineSeries(_ r: WideFloat) -> WideFloat {
        let square = r * r
        var term = WideFloat.one
        var sum = WideFloat.one
        var n: UInt64 = 0
        while !term.isZero && term.exponent > -seriesPrecision {
            term = -(term * square) / ((n + 1) * (n + 2))
            sum = sum + term
            n += 2
        }
        return sum
    }

    /// atan u for |u| ≤ 0.3: u − u³/3 + u⁵/5 − …
    static func arctangentSeries(_ u: WideFloat) -> WideFloat {
        let square = u * u
        var power = u
        var sum = u
        var n: UInt64 = 1
        while !power.isZero && power.exponent > sum.exponent - seriesPrecision {
            power = -(power * square)
            sum = sum + power / (2 * n + 1)
            n += 1
        }
        return sum
    }

    /// atanh s for |s| ≤ 0.18: s + s³/3 + s⁵/5 + …
    static func hyperbolicArctangentSeries(_ s: WideFloat) -> WideFloat {
        let square = s * s
        var power = s
        var sum = s
        var n: UInt64 = 1
        while !power.isZero && power.exponent > sum.exponent - seriesPrecision && n < 400 {
            power = power * square
            sum = sum + power / (2 * n + 1)
            n += 1
        }
        return sum
    }

    /// e^z − 1 for |z| ≤ 0.7.
    static func expMinusOneSeries(_ z: WideFloat) -> WideFloat {
        var term = z
        var sum = z
        var n: UInt64 = 2
        while !term.isZero && term.exponent > sum.exponent - seriesPrecision {
            term = term * z / n
            sum = sum + term
            n += 1
        }
        return sum
    }

    // MARK: Composite functions

    /// atan t for 0 ≤ t ≤ 1; above 1/4 through atan t = π/6 + atan((√3·t − 1)/(√3 + t)).
    static func arctangentOfRatio(_ t: WideFloat) -> WideFloat {
        if t.isZero || t.exponent < -2 { return arctangentSeries(t) }
        return piOver6 + arctangentSeries((sqrt3 * t - .one) / (sqrt3 + t))
    }

    /// atan2(y, x) for finite nonzero operands, in (−π, π].
    static func arctangent2(_ y: WideFloat, _ x: WideFloat) -> WideFloat {
        let ay = y.magnitude
        let ax = x.magnitude
        var angle = WideFloat.magnitudeLess(ax, ay)
            ? pi.scaled(by: -1) - arctangentOfRatio(ax / ay)
            : arctangentOfRatio(ay / ax)
        if x.sign { angle = pi - angle }
        return y.sign ? angle.negated : angle
    }

    /// log2 of a positive value, and whether it is exact (a power of two).
    static func log2(_ x: WideFloat) -> (value: WideFloat, exact: Bool) {
        var exponent = x.exponent
        var mantissa = WideFloat(sign: false, exponent: 0, significand: x.significand)
        if mantissa.significand == 1 << 127 { return (WideFloat(integer: Int(exponent)), true) }
        if WideFloat.magnitudeLess(sqrt2, mantissa) {
            mantissa = mantissa.scaled(by: -1)
            exponent += 1
        }
        // ln m = 2 atanh((m − 1)/(m + 1)).
        let s = (mantissa - .one) / (mantissa + .one)
        let fraction = hyperbolicArctangentSeries(s).scaled(by: 1) * log2e
        return (WideFloat(integer: Int(exponent)) + fraction, false)
    }

    /// log2(1 + x) for x > −1; for small x through 2 atanh(x / (2 + x)), which keeps x's precision.
    static func log2OnePlus(_ x: WideFloat) -> WideFloat {
        if x.exponent >= -2 { return log2(.one + x).value }
        return hyperbolicArctangentSeries(x / (WideFloat.one.scaled(by: 1) + x)).scaled(by: 1) * log2e
    }

    // MARK: Argument reduction

    /// x = k·(π/2) + r with |r| ≤ π/4 (π the x87's 66-bit value), for finite |x| < 2^63;
    /// returns k mod 4 and r.
    static func reduce(_ x: Extended80) -> (quadrant: UInt8, remainder: WideFloat) {
        let wide = WideFloat(x)
        if WideFloat.magnitudeLess(wide, pi.scaled(by: -2)) { return (0, wide) }
        let u = x.unpacked
        // x·2^67 = significand·2^(exponent + 4) is an integer; divide it by π·2^66 bit by bit.
        var quotient: UInt64 = 0
        var rest: UInt128 = 0
        let zeros = Int(u.exponent) + 4
        for i in 0..<(64 + zeros) {
            let bit: UInt128 = i < 64 ? UInt128(u.significand >> UInt64(63 - i) & 1) : 0
            rest = rest << 1 | bit
            quotient <<= 1
            if rest >= reductionPi {
                rest -= reductionPi
                quotient |= 1
            }
        }
        // r = rest·2^−67 ∈ [0, π/2); move to [−π/4, π/4].
        var negative = false
        if rest << 1 > reductionPi {
            rest = reductionPi - rest
            negative = true
            quotient &+= 1
        }
        let r = WideFloat(sign: negative != u.sign, magnitude: rest, scale: -67)
        let quadrant = UInt8(truncatingIfNeeded: quotient & 3)
        return (u.sign ? (4 - quadrant) & 3 : quadrant, r)
    }

    /// sin and cos of a finite |x| < 2^63.
    static func sineAndCosine(_ x: Extended80) -> (sine: WideFloat, cosine: WideFloat) {
        let (quadrant, r) = reduce(x)
        let s = sineSeries(r)
        let c = cosineSeries(r)
        switch quadrant {
        case 0: return (s, c)
        case 1: return (c, -s)
        case 2: return (-s, -c)
        default: return (-c, s)
        }
    }
}

// MARK: - Register operations with the special cases of SDM Vol. 2

extension Transcendental {
    typealias Arithmetic = ExtendedArithmetic

    enum Trigonometric {
        case sine, cosine, tangent
    }

    /// FSIN, FCOS, FPTAN and FSINCOS accept |x| < 2^63; beyond that they set C2 and leave
    /// the operand alone.
    static func isOutOfTrigonometricRange(_ x: Extended80) -> Bool {
        x.isFiniteNonzero && x.unpacked.exponent >= 63
    }

    /// sin, cos or tan of an in-range operand: ±∞ is invalid, ±0 gives ±0 (cos: +1).
    static func trigonometric(_ function: Trigonometric, _ x: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = Arithmetic.screen(x, environment) { return result }
        if x.isInfinity { return .invalid(environment) }
        let (flags, stop) = Arithmetic.denormalCheck(x, environment: environment)
        if let stop { return stop }
        if x.isZero { return FloatResult(value: function == .cosine ? .one : x, flags: flags) }
        let (sine, cosine) = sineAndCosine(x)
        let value: WideFloat = switch function {
        case .sine: sine
        case .cosine: cosine
        case .tangent: sine / cosine
        }
        var result = value.rounded(environment)
        result.flags |= flags
        return result
    }

    /// FPATAN: atan(y/x) in the quadrant of (x, y), with the signed zeros and infinities of
    /// the SDM's table (e.g. atan2(±0, −0) = ±π, atan2(±∞, −∞) = ±3π/4).
    static func arctangent(_ y: Extended80, _ x: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = Arithmetic.screen(y, x, environment) { return result }
        let (flags, stop) = Arithmetic.denormalCheck(y, x, environment: environment)
        if let stop { return stop }
        let value: WideFloat
        if y.isZero {
            if !x.sign { return FloatResult(value: y, flags: flags) }
            value = pi
        } else if y.isInfinity {
            value = x.isInfinity ? (x.sign ? pi - pi.scaled(by: -2) : pi.scaled(by: -2)) : pi.scaled(by: -1)
        } else if x.isZero {
            value = pi.scaled(by: -1)
        } else if x.isInfinity {
            if !x.sign { return FloatResult(value: .zero(sign: y.sign), flags: flags) }
            value = pi
        } else {
            var result = arctangent2(WideFloat(y), WideFloat(x)).rounded(environment)
            result.flags |= flags
            return result
        }
        var result = (y.sign ? value.negated : value).rounded(environment)
        result.flags |= flags
        return result
    }

    /// F2XM1: 2^x − 1 for −1 ≤ x ≤ 1; 2^−∞ − 1 = −1. Outside that range the result is
    /// undefined (SDM Vol. 2, F2XM1); the hardware returns the operand unchanged, and it flags
    /// precision for every finite nonzero operand, even x = ±1 whose results are exact.
    static func exp2MinusOne(_ x: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = Arithmetic.screen(x, environment) { return result }
        let (flags, stop) = Arithmetic.denormalCheck(x, environment: environment)
        if let stop { return stop }
        if x.isZero { return FloatResult(value: x, flags: flags) }
        if x.isInfinity { return FloatResult(value: x.sign ? Extended80.one.negated : x, flags: flags) }
        let exponent = x.unpacked.exponent
        if exponent >= 0 {
            let one = exponent == 0 && x.significand == Extended80.integerBit
            let minusHalf = Extended80(sign: true, biasedExponent: 0x3FFE, significand: Extended80.integerBit)
            let value = one && x.sign ? minusHalf : x
            return FloatResult(value: value, flags: flags | FPUException.precision)
        }
        var result = expMinusOneSeries(WideFloat(x) * ln2).rounded(environment)
        result.flags |= flags
        return result
    }

    /// FYL2X: y × log2 x, with SDM Vol. 2's table: x < 0 invalid, x = ±0 divide-by-zero
    /// (invalid with y = 0), 0 × ∞ invalid.
    static func yLog2X(_ y: Extended80, _ x: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = Arithmetic.screen(x, y, environment) { return result }
        if x.sign && !x.isZero { return .invalid(environment) }
        if x.isZero {
            if y.isZero { return .invalid(environment) }
            if y.isInfinity { return FloatResult(value: .infinity(sign: !y.sign)) }
            return .divideByZero(sign: !y.sign, environment)
        }
        let (flags, stop) = Arithmetic.denormalCheck(x, y, environment: environment)
        if let stop { return stop }
        let below1 = Arithmetic.compare(x, .one) == .less
        if x.isInfinity || y.isInfinity {
            if y.isZero || Arithmetic.compare(x, .one) == .equal { return .invalid(environment) }
            return FloatResult(value: .infinity(sign: y.sign != below1), flags: flags)
        }
        if y.isZero || Arithmetic.compare(x, .one) == .equal {
            return FloatResult(value: .zero(sign: y.sign != below1), flags: flags)
        }
        let (logarithm, exact) = log2(WideFloat(x))
        var result = (WideFloat(y) * logarithm).rounded(environment, exact: exact)
        result.flags |= flags
        return result
    }

    /// FYL2XP1: y × log2(x + 1) (defined for |x| < 1 − √2/2; computed for any x > −1).
    static func yLog2XPlusOne(_ y: Extended80, _ x: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = Arithmetic.screen(x, y, environment) { return result }
        switch Arithmetic.compare(x, Extended80.one.negated) {
        case .less: return .invalid(environment)
        case .equal: return yLog2X(y, .positiveZero, environment)
        default: break
        }
        if x.isZero {
            if y.isInfinity { return .invalid(environment) }
            return FloatResult(value: .zero(sign: x.sign != y.sign))
        }
        let (flags, stop) = Arithmetic.denormalCheck(x, y, environment: environment)
        if let stop { return stop }
        if x.isInfinity || y.isInfinity {
            if y.isZero { return .invalid(environment) }
            return FloatResult(value: .infinity(sign: x.sign != y.sign), flags: flags)
        }
        if y.isZero { return FloatResult(value: .zero(sign: x.sign != y.sign), flags: flags) }
        var result = (WideFloat(y) * log2OnePlus(WideFloat(x))).rounded(environment)
        result.flags |= flags
        return result
    }
}
