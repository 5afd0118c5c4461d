/// The result of an x87 operation on register values.
struct FloatResult {
    /// `nil` when an unmasked exception suppresses the result (the destination and the
    /// stack stay as they were, SDM Vol. 1, 8.5).
    var value: Extended80?
    /// Exception flags raised (FSW bits 5…0).
    var flags: UInt16
    /// The result was rounded up in magnitude (reported in C1).
    var roundedUp = false

    init(value: Extended80?, flags: UInt16 = 0, roundedUp: Bool = false) {
        self.value = value
        self.flags = flags
        self.roundedUp = roundedUp
    }

    /// An invalid operation: the real indefinite when masked, nothing otherwise.
    static func invalid(_ environment: FloatEnvironment) -> FloatResult {
        FloatResult(value: environment.isMasked(FPUException.invalid) ? .indefinite : nil, flags: FPUException.invalid)
    }

    /// A division of a finite nonzero value by zero: ∞ when masked.
    static func divideByZero(sign: Bool, _ environment: FloatEnvironment) -> FloatResult {
        FloatResult(value: environment.isMasked(FPUException.zeroDivide) ? .infinity(sign: sign) : nil,
                    flags: FPUException.zeroDivide)
    }

    /// A rounded register result.
    init(_ rounded: Rounded, flags extra: UInt16 = 0) {
        self.init(value: rounded.value?.extended, flags: rounded.flags | extra, roundedUp: rounded.roundedUp)
    }
}

/// Correctly rounded x87 arithmetic on `Extended80` values (SDM Vol. 1, chapters 4 and 8).
///
/// Every operation screens its operands in the x87's priority order (SDM Vol. 1, 4.9.2):
/// unsupported encodings and signaling NaNs are invalid operations, NaNs propagate by the
/// rules of Table 4-7, other invalid operations and division by zero come next, then the
/// denormal-operand exception, then overflow, underflow and precision from rounding.
enum ExtendedArithmetic {
    // MARK: Operand screening

    /// The NaN result for operands of which at least one is a NaN (SDM Vol. 1, Table 4-7):
    /// a QNaN wins over an SNaN, two of a kind give the one with the larger significand, and
    /// the result is always quiet; an SNaN operand raises the invalid-operation exception.
    static func propagateNaN(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        let flags = a.isSignalingNaN || b.isSignalingNaN ? FPUException.invalid : 0
        let chosen: Extended80
        if a.isNaN && b.isNaN {
            if a.isSignalingNaN != b.isSignalingNaN {
                chosen = a.isSignalingNaN ? b : a
            } else {
                let magnitudeA = a.significand & ~Extended80.quietBit
                let magnitudeB = b.significand & ~Extended80.quietBit
                if magnitudeA != magnitudeB {
                    chosen = magnitudeA > magnitudeB ? a : b
                } else {
                    chosen = a.sign && !b.sign ? b : a
                }
            }
        } else {
            chosen = a.isNaN ? a : b
        }
        if flags != 0 && !environment.isMasked(FPUException.invalid) { return FloatResult(value: nil, flags: flags) }
        return FloatResult(value: chosen.quieted, flags: flags)
    }

    /// Screens one operand: unsupported encodings are invalid and NaNs propagate.
    static func screen(_ a: Extended80, _ environment: FloatEnvironment) -> FloatResult? {
        if a.isUnsupported { return .invalid(environment) }
        if a.isNaN { return propagateNaN(a, a, environment) }
        return nil
    }

    /// Screens two operands: unsupported encodings are invalid and NaNs propagate.
    static func screen(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult? {
        if a.isUnsupported || b.isUnsupported { return .invalid(environment) }
        if a.isNaN || b.isNaN { return propagateNaN(a, b, environment) }
        return nil
    }

    /// The denormal-operand flag for the operands, or a stop when that exception is unmasked.
    static func denormalCheck(_ a: Extended80, _ b: Extended80 = .positiveZero,
                              environment: FloatEnvironment) -> (flags: UInt16, stop: FloatResult?) {
        guard a.isDenormal || b.isDenormal || environment.denormalSource else { return (0, nil) }
        if !environment.isMasked(FPUException.denormal) {
            return (FPUException.denormal, FloatResult(value: nil, flags: FPUException.denormal))
        }
        return (FPUException.denormal, nil)
    }

    /// Rounds an exact finite value to a register result for `environment.format`.
    static func roundResult(_ value: UnpackedFloat, _ environment: FloatEnvironment, flags: UInt16 = 0) -> FloatResult {
        FloatResult(FloatRounding.round(sign: value.sign, scale: value.exponent - 63, magnitude: UInt128(value.significand),
                                        format: environment.format, environment: environment, toRegister: true),
                    flags: flags)
    }

    /// The sign of an exact zero sum of operands of opposite signs: −0 only when rounding down.
    static func zeroSumSign(_ environment: FloatEnvironment) -> Bool { environment.mode == .down }

    // MARK: Add, subtract, multiply, divide, square root

    /// a + b (`b` already negated for a subtraction).
    static func add(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, b, environment) { return result }
        if a.isInfinity && b.isInfinity && a.sign != b.sign { return .invalid(environment) }
        let (flags, stop) = denormalCheck(a, b, environment: environment)
        if let stop { return stop }
        if a.isInfinity || b.isInfinity {
            return FloatResult(value: a.isInfinity ? a : b, flags: flags)
        }
        if a.isZero && b.isZero {
            return FloatResult(value: .zero(sign: a.sign == b.sign ? a.sign : zeroSumSign(environment)), flags: flags)
        }
        if a.isZero { return roundResult(b.unpacked, environment, flags: flags) }
        if b.isZero { return roundResult(a.unpacked, environment, flags: flags) }

        guard let sum = exactSum(a.unpacked, b.unpacked) else {
            return FloatResult(value: .zero(sign: zeroSumSign(environment)), flags: flags)
        }
        return FloatResult(sum.rounded(environment.format, environment, toRegister: true), flags: flags)
    }

    static func subtract(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        // Negating a NaN would change which one propagates only by sign; screen first.
        if let result = screen(a, b, environment) { return result }
        return add(a, b.negated, environment)
    }

    static func multiply(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, b, environment) { return result }
        let sign = a.sign != b.sign
        if (a.isInfinity && b.isZero) || (a.isZero && b.isInfinity) { return .invalid(environment) }
        let (flags, stop) = denormalCheck(a, b, environment: environment)
        if let stop { return stop }
        if a.isInfinity || b.isInfinity { return FloatResult(value: .infinity(sign: sign), flags: flags) }
        if a.isZero || b.isZero { return FloatResult(value: .zero(sign: sign), flags: flags) }
        return FloatResult(exactProduct(a.unpacked, b.unpacked).rounded(environment.format, environment, toRegister: true),
                           flags: flags)
    }

    static func divide(_ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, b, environment) { return result }
        let sign = a.sign != b.sign
        if (a.isInfinity && b.isInfinity) || (a.isZero && b.isZero) { return .invalid(environment) }
        if b.isZero && !a.isInfinity { return .divideByZero(sign: sign, environment) }
        let (flags, stop) = denormalCheck(a, b, environment: environment)
        if let stop { return stop }
        if a.isInfinity || b.isZero { return FloatResult(value: .infinity(sign: sign), flags: flags) }
        if b.isInfinity || a.isZero { return FloatResult(value: .zero(sign: sign), flags: flags) }
        return FloatResult(exactQuotient(a.unpacked, b.unpacked).rounded(environment.format, environment, toRegister: true),
                           flags: flags)
    }

    static func squareRoot(_ a: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, environment) { return result }
        if a.sign && !a.isZero { return .invalid(environment) }
        let (flags, stop) = denormalCheck(a, environment: environment)
        if let stop { return stop }
        if a.isZero || a.isInfinity { return FloatResult(value: a, flags: flags) }
        return FloatResult(exactSquareRoot(a.unpacked).rounded(environment.format, environment, toRegister: true),
                           flags: flags)
    }

    // MARK: Comparison

    enum Ordering: Equatable {
        case less, equal, greater, unordered
    }

    /// Orders two values; NaNs and unsupported encodings are unordered. Zeros compare equal
    /// whatever their signs, denormals by value.
    static func compare(_ a: Extended80, _ b: Extended80) -> Ordering {
        if a.isNaN || b.isNaN || a.isUnsupported || b.isUnsupported { return .unordered }
        if a.isZero && b.isZero { return .equal }
        if a.sign != b.sign { return a.sign ? .less : .greater }
        let magnitude = compareMagnitudes(a, b)
        if magnitude == .equal { return .equal }
        return (magnitude == .less) != a.sign ? .less : .greater
    }

    /// Orders |a| and |b| for supported non-NaN values.
    private static func compareMagnitudes(_ a: Extended80, _ b: Extended80) -> Ordering {
        if a.isInfinity || b.isInfinity {
            if a.isInfinity && b.isInfinity { return .equal }
            return a.isInfinity ? .greater : .less
        }
        if a.isZero || b.isZero { return a.isZero ? .less : .greater }
        let x = a.unpacked
        let y = b.unpacked
        if x.exponent != y.exponent { return x.exponent < y.exponent ? .less : .greater }
        if x.significand != y.significand { return x.significand < y.significand ? .less : .greater }
        return .equal
    }

    // MARK: Integral values and scaling

    /// Rounds to an integral value by the rounding mode (FRNDINT); the precision exception
    /// flags an inexact result.
    static func roundToIntegral(_ a: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, environment) { return result }
        let (flags, stop) = denormalCheck(a, environment: environment)
        if let stop { return stop }
        guard a.isFiniteNonzero else { return FloatResult(value: a, flags: flags) }
        let x = a.unpacked
        if x.exponent >= 63 { return FloatResult(value: a, flags: flags) }
        let (integer, inexact, up) = FloatRounding.roundBits(UInt128(x.significand) << 64, dropping: Int(127 - x.exponent),
                                                             sign: x.sign, mode: environment.mode)
        let result = FloatRounding.round(sign: x.sign, scale: 0, magnitude: integer, format: .extended,
                                         environment: environment, toRegister: true)
        return FloatResult(value: result.value?.extended, flags: flags | (inexact ? FPUException.precision : 0),
                           roundedUp: up)
    }

    /// The integer part of `a` toward zero, clamped to ±2^20 (beyond which any scaling
    /// overflows or underflows an extended value), for FSCALE.
    static func truncatedScale(_ a: Extended80) -> Int32 {
        guard a.isFiniteNonzero else { return 0 }
        let x = a.unpacked
        if x.exponent < 0 { return 0 }
        let magnitude: Int32 = x.exponent >= 20 ? 1 << 20 : Int32(x.significand >> UInt64(63 - x.exponent))
        return x.sign ? -magnitude : magnitude
    }

    /// a × 2^trunc(b) (FSCALE, SDM Vol. 2, FSCALE table).
    static func scale(_ a: Extended80, by b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        if let result = screen(a, b, environment) { return result }
        if b.isInfinity {
            // 0 × 2^+∞ and ∞ × 2^−∞ are invalid; otherwise the infinite scale decides.
            if (a.isZero && !b.sign) || (a.isInfinity && b.sign) { return .invalid(environment) }
        }
        let (flags, stop) = denormalCheck(a, b, environment: environment)
        if let stop { return stop }
        if b.isInfinity && a.isFiniteNonzero {
            return FloatResult(value: b.sign ? .zero(sign: a.sign) : .infinity(sign: a.sign), flags: flags)
        }
        guard a.isFiniteNonzero else { return FloatResult(value: a, flags: flags) }
        let x = a.unpacked
        return FloatResult(FloatRounding.round(sign: x.sign, scale: x.exponent - 63 + truncatedScale(b),
                                               magnitude: UInt128(x.significand), format: .extended,
                                               environment: environment, toRegister: true),
                           flags: flags)
    }

    // MARK: Partial remainder

    /// FPREM/FPREM1's result: the (partial) remainder, the low three quotient bits, and
    /// whether the reduction is complete (C2 clear).
    struct Remainder {
        var result: FloatResult
        var quotientBits: UInt8
        var complete: Bool
    }

    /// The partial remainder of a / b (SDM Vol. 2, FPREM and FPREM1): when the exponents
    /// differ by less than 64 the exact remainder, with the quotient truncated (FPREM) or
    /// rounded to nearest-even (`nearest`, FPREM1); otherwise a partial reduction by a
    /// multiple of b × 2^(D − N) with N = 32 + D mod 32, leaving C2 set for another pass (the
    /// SDM leaves N to the implementation; this is the choice hardware results show).
    static func remainder(_ a: Extended80, _ b: Extended80, nearest: Bool, _ environment: FloatEnvironment) -> Remainder {
        func done(_ result: FloatResult) -> Remainder { Remainder(result: result, quotientBits: 0, complete: true) }
        if let result = screen(a, b, environment) { return done(result) }
        if a.isInfinity || b.isZero { return done(.invalid(environment)) }
        let (flags, stop) = denormalCheck(a, b, environment: environment)
        if let stop { return done(stop) }
        if a.isZero { return done(FloatResult(value: a, flags: flags)) }
        // A dividend smaller than the divisor is the remainder, in canonical encoding (a
        // pseudo-denormal comes back normalized, as on hardware).
        let x = a.unpacked
        if b.isInfinity { return done(roundResult(x, environment, flags: flags)) }
        let y = b.unpacked
        let distance = x.exponent - y.exponent
        if distance < -1 && nearest || distance < 0 && !nearest {
            return done(roundResult(x, environment, flags: flags))
        }
        let complete = distance < 64
        let shift = complete ? distance : 32 + distance % 32
        // Both scaled by 2 so that a distance of −1 (only FPREM1 can round it up) fits.
        let dividend = UInt128(x.significand) << UInt128(shift + 1)
        let divisor = UInt128(y.significand) << 1
        var quotient = dividend / divisor
        var rest = dividend % divisor
        var sign = x.sign
        if nearest && complete && (rest * 2 > divisor || (rest * 2 == divisor && quotient & 1 != 0)) {
            quotient += 1
            rest = divisor - rest
            sign.toggle()
        }
        // The remainder's unit is 2^(exponent of b's last bit + the partial shift − 1).
        let unitScale = y.exponent - 63 - 1 + (complete ? 0 : distance - shift)
        let rounded = FloatRounding.round(sign: sign, scale: unitScale, magnitude: rest, format: .extended,
                                          environment: environment, toRegister: true)
        var result = FloatResult(rounded, flags: flags)
        if rest == 0 { result.value = .zero(sign: x.sign) }
        return Remainder(result: result, quotientBits: UInt8(truncatingIfNeeded: quotient & 7), complete: complete)
    }
}
