/// Rounding control, the RC field of the FCW (SDM Vol. 1, 4.8.4, Table 4-8).
enum RoundingMode: UInt8 {
    case nearestEven = 0
    case down = 1
    case up = 2
    case towardZero = 3
}

/// The x87 exception flags as FSW bits 5…0 (and the FCW's mask bits at the same places).
enum FPUException {
    static let invalid: UInt16 = 1 << 0
    static let denormal: UInt16 = 1 << 1
    static let zeroDivide: UInt16 = 1 << 2
    static let overflow: UInt16 = 1 << 3
    static let underflow: UInt16 = 1 << 4
    static let precision: UInt16 = 1 << 5
    static let all: UInt16 = 0x3F
    /// FSW.SF: the invalid operation was a stack overflow or underflow.
    static let stackFault: UInt16 = 1 << 6
}

/// A destination's significand width and normal exponent range (unbiased exponents of the
/// integer bit). The x87's precision control narrows the significand of register results
/// but keeps the extended exponent range (SDM Vol. 1, 8.1.5.2).
struct FloatFormat: Equatable {
    let precision: Int
    let minimumExponent: Int32
    let maximumExponent: Int32

    static let extended = FloatFormat(precision: 64, minimumExponent: -16382, maximumExponent: 16383)
    static let extendedDouble = FloatFormat(precision: 53, minimumExponent: -16382, maximumExponent: 16383)
    static let extendedSingle = FloatFormat(precision: 24, minimumExponent: -16382, maximumExponent: 16383)
    static let double = FloatFormat(precision: 53, minimumExponent: -1022, maximumExponent: 1023)
    static let single = FloatFormat(precision: 24, minimumExponent: -126, maximumExponent: 127)
}

/// What the FCW says about one operation: rounding mode, the precision of results that
/// obey precision control, and the exception masks.
struct FloatEnvironment {
    var mode: RoundingMode
    var format: FloatFormat
    var masks: UInt16
    /// A memory source operand was a single- or double-precision denormal: it is normalized
    /// on conversion but still raises the denormal-operand exception.
    var denormalSource = false

    init(mode: RoundingMode = .nearestEven, format: FloatFormat = .extended, masks: UInt16 = FPUException.all) {
        self.mode = mode
        self.format = format
        self.masks = masks
    }

    @inline(__always) func isMasked(_ flag: UInt16) -> Bool { masks & flag == flag }
}

/// A rounded finite value or infinity, before it is encoded in its destination format.
struct RoundedFloat: Equatable {
    var sign: Bool
    /// Unbiased exponent of significand bit 63 (a denormal result has the format's minimum).
    var exponent: Int32
    /// The significand with its integer bit explicit; zero for a zero result.
    var significand: UInt64
    var isInfinity = false

    static func infinity(sign: Bool) -> RoundedFloat {
        RoundedFloat(sign: sign, exponent: 0, significand: Extended80.integerBit, isInfinity: true)
    }

    var extended: Extended80 {
        if isInfinity { return .infinity(sign: sign) }
        if significand == 0 { return .zero(sign: sign) }
        let biased = significand & Extended80.integerBit != 0 ? exponent + Extended80.exponentBias : 0
        return Extended80(sign: sign, biasedExponent: UInt16(biased), significand: significand)
    }

    var doubleBits: UInt64 {
        let signBit: UInt64 = sign ? 1 << 63 : 0
        if isInfinity { return signBit | 0x7FF0_0000_0000_0000 }
        let biased: UInt64 = significand & Extended80.integerBit != 0 ? UInt64(exponent + 1023) : 0
        return signBit | biased << 52 | (significand >> 11) & 0x000F_FFFF_FFFF_FFFF
    }

    var singleBits: UInt32 {
        let signBit: UInt32 = sign ? 1 << 31 : 0
        if isInfinity { return signBit | 0x7F80_0000 }
        let biased: UInt32 = significand & Extended80.integerBit != 0 ? UInt32(exponent + 127) : 0
        return signBit | biased << 23 | UInt32(truncatingIfNeeded: significand >> 40) & 0x007F_FFFF
    }
}

/// The outcome of rounding a result for a destination.
struct Rounded {
    /// `nil` when an unmasked overflow or underflow forbids the store (memory destinations).
    var value: RoundedFloat?
    var flags: UInt16
    /// The significand was incremented (the x87 reports it in C1).
    var roundedUp: Bool
}

enum FloatRounding {
    /// The x87's bias adjustment for unmasked overflow and underflow results (SDM Vol. 1, 8.5.4–8.5.5).
    static let biasAdjust: Int32 = 24576

    /// Keeps `sig` shifted right by `n` (≥ 1) bits, rounded by `mode`; reports inexactness and
    /// whether the kept value was incremented.
    @inline(__always)
    static func roundBits(_ sig: UInt128, dropping n: Int, sign: Bool,
                          mode: RoundingMode) -> (kept: UInt128, inexact: Bool, incremented: Bool) {
        let kept: UInt128
        let half: Bool
        let sticky: Bool
        if n > 128 {
            (kept, half, sticky) = (0, false, sig != 0)
        } else if n == 128 {
            (kept, half, sticky) = (0, sig >> 127 != 0, sig << 1 != 0)
        } else {
            kept = sig >> UInt128(n)
            half = (sig >> UInt128(n - 1)) & 1 != 0
            sticky = n > 1 && sig << UInt128(129 - n) != 0
        }
        let inexact = half || sticky
        let increment: Bool
        switch mode {
        case .nearestEven: increment = half && (sticky || kept & 1 != 0)
        case .down: increment = sign && inexact
        case .up: increment = !sign && inexact
        case .towardZero: increment = false
        }
        return (increment ? kept &+ 1 : kept, inexact, increment)
    }

    /// Rounds `(magnitude + ε) × 2^scale`, where ε ∈ (0, 1) stands for discarded nonzero bits
    /// when `sticky` is set, to `format`. A zero magnitude is an exact zero of the given sign.
    static func round(sign: Bool, scale: Int32, magnitude: UInt128, sticky: Bool = false, format: FloatFormat,
                      environment: FloatEnvironment, toRegister: Bool) -> Rounded {
        if magnitude == 0 {
            return Rounded(value: RoundedFloat(sign: sign, exponent: 0, significand: 0), flags: 0, roundedUp: false)
        }
        let shift = magnitude.leadingZeroBitCount
        let significand = magnitude << UInt128(shift) | (sticky ? 1 : 0)
        return round(sign: sign, exponent: scale + 127 - Int32(shift), significand: significand, format: format,
                     environment: environment, toRegister: toRegister)
    }

    /// Rounds `sign × significand × 2^(exponent − 127)` (bit 127 set) to `format` with the x87
    /// responses to overflow and underflow (SDM Vol. 1, 4.9.1.4, 4.9.1.5, 8.5.4, 8.5.5): masked,
    /// an overflow gives ∞ or the largest finite value by rounding mode and a tiny result is
    /// denormalized (underflow is flagged when it is also inexact; tininess is detected after
    /// rounding); unmasked, a register destination receives the rounded result with its
    /// exponent adjusted by 24576 and a memory destination receives nothing.
    static func round(sign: Bool, exponent: Int32, significand: UInt128, format: FloatFormat,
                      environment: FloatEnvironment, toRegister: Bool) -> Rounded {
        let p = format.precision
        let mode = environment.mode
        // Rounded with an unbounded exponent range.
        var (kept, inexact, up) = roundBits(significand, dropping: 128 - p, sign: sign, mode: mode)
        var roundedExponent = exponent
        if kept >> UInt128(p) != 0 {
            kept >>= 1
            roundedExponent += 1
        }
        let unbounded = RoundedFloat(sign: sign, exponent: roundedExponent, significand: UInt64(kept) << UInt64(64 - p))

        if roundedExponent > format.maximumExponent {
            if !environment.isMasked(FPUException.overflow) {
                let flags = FPUException.overflow | (inexact ? FPUException.precision : 0)
                guard toRegister, roundedExponent - biasAdjust <= format.maximumExponent else {
                    return Rounded(value: nil, flags: flags, roundedUp: up)
                }
                var adjusted = unbounded
                adjusted.exponent -= biasAdjust
                return Rounded(value: adjusted, flags: flags, roundedUp: up)
            }
            let toInfinity: Bool = switch mode {
            case .nearestEven: true
            case .down: sign
            case .up: !sign
            case .towardZero: false
            }
            let largest = RoundedFloat(sign: sign, exponent: format.maximumExponent,
                                       significand: ~0 << UInt64(64 - p))
            return Rounded(value: toInfinity ? .infinity(sign: sign) : largest,
                           flags: FPUException.overflow | FPUException.precision, roundedUp: toInfinity)
        }

        let tiny = roundedExponent < format.minimumExponent
        if tiny && !environment.isMasked(FPUException.underflow) {
            let flags = FPUException.underflow | (inexact ? FPUException.precision : 0)
            guard toRegister, roundedExponent + biasAdjust >= format.minimumExponent else {
                return Rounded(value: nil, flags: flags, roundedUp: up)
            }
            var adjusted = unbounded
            adjusted.exponent += biasAdjust
            return Rounded(value: adjusted, flags: flags, roundedUp: up)
        }
        if exponent < format.minimumExponent {
            // Denormalize: fewer significant bits are left above the format's minimum exponent.
            let keep = p - Int(format.minimumExponent - exponent)
            let (denormal, lost, incremented) = roundBits(significand, dropping: 128 - keep, sign: sign, mode: mode)
            let value = RoundedFloat(sign: sign, exponent: format.minimumExponent,
                                     significand: UInt64(denormal) << UInt64(64 - p))
            var flags: UInt16 = lost ? FPUException.precision : 0
            if tiny && lost { flags |= FPUException.underflow }
            return Rounded(value: value, flags: flags, roundedUp: incremented)
        }
        return Rounded(value: unbounded, flags: inexact ? FPUException.precision : 0, roundedUp: up)
    }
}
