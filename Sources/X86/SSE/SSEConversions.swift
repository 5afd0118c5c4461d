/// The conversions of SSE and SSE2 between 32-bit (and, with REX.W, 64-bit) integers, single and double precision
/// (SDM Vol. 2, CVT*; Vol. 1, 11.5.2.4 for their exceptions).
enum SSEConversions {
    /// A lane's type.
    enum Kind {
        /// `int64` only in the scalar conversions with REX.W (CVTSI2SS/SD r/m64, CVT(T)SS2SI/SD2SI r64).
        case int32, int64, single, double

        var width: Int { self == .double || self == .int64 ? 64 : 32 }
        var isInteger: Bool { self == .int32 || self == .int64 }
        var float: LaneFormat { self == .double ? .double : .single }
        var laneMask: UInt64 { width == 64 ? ~0 : 0xFFFF_FFFF }
    }

    /// Converts one lane. Integers to floating point round by MXCSR.RC and flag only
    /// precision. Floating point to integers round by MXCSR.RC (or truncate) and flag
    /// invalid for NaNs and out-of-range values and precision; they do not flag denormal
    /// operands. Single to double is exact; double to single rounds with every exception.
    static func lane(_ bits: UInt64, from: Kind, to: Kind, truncate: Bool, _ env: SIMDEnvironment) -> LaneResult {
        if from.isInteger {
            let value = from == .int64 ? Int64(bitPattern: bits) : Int64(Int32(truncatingIfNeeded: bits))
            if value == 0 { return LaneResult(bits: 0) }
            let exact = ExactValue(sign: value < 0, scale: 0, magnitude: UInt128(value.magnitude))
            return env.round(exact, to.float)
        }
        let f = from.float
        if to.isInteger {
            // A NaN or out-of-range value gives the integer indefinite when invalid is masked
            // (SDM Vol. 1, 4.8.3.7): the sign bit alone, 32 or 64 bits wide.
            let mode = truncate ? RoundingMode.towardZero : env.float.mode
            let (x, _) = f.operand(bits, daz: env.denormalsAreZero)
            let result = ExtendedConversions.toInteger(x, bits: to.width, FloatEnvironment(mode: mode))
            guard let value = result.bits else {
                return LaneResult(bits: ExtendedConversions.integerIndefinite(bits: to.width), flags: FPUException.invalid)
            }
            return LaneResult(bits: UInt64(bitPattern: value) & to.laneMask, flags: result.flags)
        }
        let g = to.float
        if f.isNaN(bits) {
            // The payload keeps its top bits (SDM Vol. 1, 4.8.3.5); an SNaN becomes quiet.
            let fraction = bits & f.fractionMask
            let moved = g.fractionBits > f.fractionBits ? fraction << UInt64(g.fractionBits - f.fractionBits)
                : fraction >> UInt64(f.fractionBits - g.fractionBits)
            let sign = bits & f.signBit != 0
            return LaneResult(bits: g.infinity(sign: sign) | moved | g.quietBit,
                              flags: f.isSignalingNaN(bits) ? FPUException.invalid : 0)
        }
        let (x, denormal) = f.operand(bits, daz: env.denormalsAreZero)
        let flags = denormal ? FPUException.denormal : 0
        if x.isZero { return LaneResult(bits: g.zero(sign: x.sign), flags: flags) }
        if x.isInfinity { return LaneResult(bits: g.infinity(sign: x.sign), flags: flags) }
        return env.round(LaneFormat.exact(x), g, flags: flags)
    }

    /// Converts the first `count` lanes of `source`, packing the results from bit 0.
    static func lanes(_ source: UInt128, count: Int, from: Kind, to: Kind, truncate: Bool,
                      _ env: SIMDEnvironment) -> (value: UInt128, flags: UInt16) {
        var value: UInt128 = 0
        var flags: UInt16 = 0
        let sourceMask: UInt128 = from.width == 64 ? UInt128(UInt64.max) : UInt128(UInt32.max)
        for i in 0..<count {
            let bits = UInt64(truncatingIfNeeded: source >> UInt128(i * from.width) & sourceMask)
            let r = lane(bits, from: from, to: to, truncate: truncate, env)
            value |= UInt128(r.bits & (to.isInteger ? to.laneMask : to.float.laneMask)) << UInt128(i * to.width)
            flags |= r.flags
        }
        return (value, flags)
    }
}
