/// The result of converting a register value to a memory format.
struct MemoryConversion<Bits> {
    /// `nil` when an unmasked exception forbids the store.
    var bits: Bits?
    var flags: UInt16
    var roundedUp = false
}

/// Conversions between `Extended80` and the x87's memory formats: integers, single and
/// double precision, and 18-digit packed BCD (SDM Vol. 1, 4.2, 4.7, 8.2).
enum ExtendedConversions {
    // MARK: Integers

    /// An integer as an extended value; every 64-bit integer is exact.
    static func fromInteger(_ value: Int64) -> Extended80 {
        if value == 0 { return .positiveZero }
        let magnitude = value.magnitude
        let shift = magnitude.leadingZeroBitCount
        return Extended80(sign: value < 0, biasedExponent: UInt16(Extended80.exponentBias + 63 - Int32(shift)),
                          significand: magnitude << UInt64(shift))
    }

    /// Rounds to a signed integer of `bits` bits by the rounding mode (FIST/FISTP). NaNs,
    /// infinities, unsupported encodings and values out of range are invalid: the caller
    /// stores the integer indefinite when that exception is masked.
    static func toInteger(_ a: Extended80, bits: Int, _ environment: FloatEnvironment) -> MemoryConversion<Int64> {
        let invalid = MemoryConversion<Int64>(bits: nil, flags: FPUException.invalid)
        if a.isZero { return MemoryConversion(bits: 0, flags: 0) }
        guard a.isFiniteNonzero else { return invalid }
        let x = a.unpacked
        if x.exponent >= 64 { return invalid }
        let (magnitude, inexact, up) = FloatRounding.roundBits(UInt128(x.significand) << 64, dropping: Int(127 - x.exponent),
                                                               sign: x.sign, mode: environment.mode)
        let limit = UInt128(1) << UInt128(bits - 1)
        if magnitude > (x.sign ? limit : limit - 1) { return invalid }
        let value = x.sign ? Int64(truncatingIfNeeded: 0 &- UInt64(magnitude)) : Int64(magnitude)
        return MemoryConversion(bits: value, flags: inexact ? FPUException.precision : 0, roundedUp: up)
    }

    /// The integer indefinite of a width: only the sign bit set.
    static func integerIndefinite(bits: Int) -> UInt64 { 1 << UInt64(bits - 1) }

    // MARK: Single and double precision

    /// Converts a single- or double-precision value exactly (FLD m32/m64 and arithmetic with
    /// a memory operand). Denormals are normalized and reported, so the caller can raise the
    /// denormal-operand exception; a signaling NaN stays signaling for the caller to screen.
    static func fromBinary(_ bits: UInt64, format: FloatFormat) -> (value: Extended80, denormal: Bool) {
        let fractionBits = UInt64(format.precision - 1)
        let exponentBits = format.precision == 24 ? UInt64(8) : UInt64(11)
        let sign = bits >> (fractionBits + exponentBits) & 1 != 0
        let exponentField = bits >> fractionBits & (1 << exponentBits - 1)
        let fraction = bits & (1 << fractionBits - 1)
        let aligned = fraction << (63 - fractionBits)
        if exponentField == 1 << exponentBits - 1 {
            if fraction == 0 { return (.infinity(sign: sign), false) }
            return (Extended80(sign: sign, biasedExponent: 0x7FFF, significand: Extended80.integerBit | aligned), false)
        }
        if exponentField == 0 {
            if fraction == 0 { return (.zero(sign: sign), false) }
            let shift = aligned.leadingZeroBitCount
            let exponent = format.minimumExponent - Int32(shift) + Extended80.exponentBias
            return (Extended80(sign: sign, biasedExponent: UInt16(exponent), significand: aligned << UInt64(shift)), true)
        }
        let exponent = Int32(exponentField) - format.maximumExponent + Extended80.exponentBias
        return (Extended80(sign: sign, biasedExponent: UInt16(exponent), significand: Extended80.integerBit | aligned), false)
    }

    /// Rounds to single or double precision for a store (FST/FSTP m32/m64). NaNs keep the top
    /// of their payload and become quiet (an SNaN flags invalid); unsupported encodings store
    /// the format's indefinite; overflow and underflow follow the x87's memory-destination rules.
    static func toBinary(_ a: Extended80, format: FloatFormat, _ environment: FloatEnvironment) -> MemoryConversion<UInt64> {
        let invalidMasked = environment.isMasked(FPUException.invalid)
        if a.isUnsupported {
            return MemoryConversion(bits: invalidMasked ? binaryNaN(.indefinite, format: format) : nil,
                                    flags: FPUException.invalid)
        }
        if a.isNaN {
            if a.isSignalingNaN {
                return MemoryConversion(bits: invalidMasked ? binaryNaN(a, format: format) : nil, flags: FPUException.invalid)
            }
            return MemoryConversion(bits: binaryNaN(a, format: format), flags: 0)
        }
        if a.isInfinity { return MemoryConversion(bits: encode(.infinity(sign: a.sign), format: format), flags: 0) }
        if a.isZero {
            return MemoryConversion(bits: encode(RoundedFloat(sign: a.sign, exponent: 0, significand: 0), format: format), flags: 0)
        }
        let x = a.unpacked
        let rounded = FloatRounding.round(sign: x.sign, scale: x.exponent - 63, magnitude: UInt128(x.significand),
                                          format: format, environment: environment, toRegister: false)
        return MemoryConversion(bits: rounded.value.map { encode($0, format: format) }, flags: rounded.flags,
                                roundedUp: rounded.roundedUp)
    }

    private static func encode(_ value: RoundedFloat, format: FloatFormat) -> UInt64 {
        format.precision == 24 ? UInt64(value.singleBits) : value.doubleBits
    }

    /// A quiet NaN in single or double precision with the top of `a`'s fraction as payload.
    private static func binaryNaN(_ a: Extended80, format: FloatFormat) -> UInt64 {
        let fractionBits = UInt64(format.precision - 1)
        let exponentBits = format.precision == 24 ? UInt64(8) : UInt64(11)
        let fraction = ((a.significand | Extended80.quietBit) << 1) >> (64 - fractionBits)
        return (a.sign ? 1 << (fractionBits + exponentBits) : 0) | (1 << exponentBits - 1) << fractionBits | fraction
    }

    // MARK: Packed BCD

    /// The packed BCD indefinite (SDM Vol. 1, Table 4-4): FFFF C000 0000 0000 0000h.
    static let bcdIndefinite = (low: UInt64(0xC000_0000_0000_0000), high: UInt16(0xFFFF))

    /// Loads an 18-digit packed BCD integer (FBLD): digits in bytes 0…8, sign in bit 79.
    /// Digits above 9 are not checked (the result is undefined on hardware).
    static func fromPackedBCD(low: UInt64, high: UInt16) -> Extended80 {
        var value: UInt64 = 0
        var scale: UInt64 = 1
        var digits = low
        for _ in 0..<16 {
            value &+= (digits & 0xF) &* scale
            digits >>= 4
            scale &*= 10
        }
        value &+= UInt64(high & 0xF) &* scale &+ UInt64(high >> 4 & 0xF) &* scale &* 10
        let sign = high & 0x8000 != 0
        return fromInteger(Int64(bitPattern: value)).withSign(sign)
    }

    /// Rounds to an integer and stores it as packed BCD (FBSTP); magnitudes of 10^18 and more,
    /// NaNs, infinities and unsupported encodings are invalid.
    static func toPackedBCD(_ a: Extended80, _ environment: FloatEnvironment) -> MemoryConversion<(low: UInt64, high: UInt16)> {
        let integer = toInteger(a, bits: 64, environment)
        guard let value = integer.bits, value.magnitude < 1_000_000_000_000_000_000 else {
            return MemoryConversion(bits: nil, flags: FPUException.invalid)
        }
        var magnitude = value.magnitude
        var low: UInt64 = 0
        for digit in 0..<16 {
            low |= (magnitude % 10) << UInt64(4 * digit)
            magnitude /= 10
        }
        let high = UInt16(magnitude % 10) | UInt16(magnitude / 10) << 4 | (a.sign ? 0x8000 : 0)
        return MemoryConversion(bits: (low, high), flags: integer.flags, roundedUp: integer.roundedUp)
    }
}
