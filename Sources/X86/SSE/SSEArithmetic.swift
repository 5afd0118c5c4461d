/// Floating-point arithmetic of SSE and SSE2 on one lane: ADD, SUB, MUL, DIV, SQRT, MIN, MAX,
/// the compares and the approximations RCP and RSQRT (SDM Vol. 2, each instruction; Vol. 1,
/// 4.8.3.5 and Table 4-7 for NaNs, 11.5.2 for exceptions).
enum SSEArithmetic {
    /// The operations of 0F 51 and 0F 58–5F, keyed by the opcode's low nibble.
    enum Operation: UInt8 {
        case squareRoot = 0x1, add = 0x8, multiply = 0x9, subtract = 0xC, minimum = 0xD, divide = 0xE, maximum = 0xF
    }

    /// The NaN an operation on NaNs returns (SDM Vol. 1, Table 4-7, SSE column): the first
    /// source's if it is a NaN, else the second's, made quiet; an SNaN flags invalid.
    static func propagateNaN(_ a: UInt64, _ b: UInt64, _ f: LaneFormat) -> LaneResult {
        let invalid = f.isSignalingNaN(a) || f.isSignalingNaN(b)
        return LaneResult(bits: (f.isNaN(a) ? a : b) | f.quietBit, flags: invalid ? FPUException.invalid : 0)
    }

    static let invalid = FPUException.invalid

    /// `a op b` (SQRT: √b) in one lane.
    static func lane(_ op: Operation, _ a: UInt64, _ b: UInt64, _ f: LaneFormat, _ env: SIMDEnvironment) -> LaneResult {
        switch op {
        case .minimum, .maximum: return minMax(maximum: op == .maximum, a, b, f, env)
        case .squareRoot: return squareRoot(b, f, env)
        default: break
        }
        if f.isNaN(a) || f.isNaN(b) { return propagateNaN(a, b, f) }
        let (x, xDenormal) = f.operand(a, daz: env.denormalsAreZero)
        var (y, yDenormal) = f.operand(b, daz: env.denormalsAreZero)
        let denormal = xDenormal || yDenormal ? FPUException.denormal : 0
        let indefinite = LaneResult(bits: f.indefinite, flags: invalid)
        switch op {
        case .add, .subtract:
            if op == .subtract { y = y.negated }
            if x.isInfinity && y.isInfinity && x.sign != y.sign { return indefinite }
            if x.isInfinity || y.isInfinity { return LaneResult(bits: f.infinity(sign: (x.isInfinity ? x : y).sign), flags: denormal) }
            // An exact zero sum of opposite signs is −0 only when rounding down (IEEE 754, 6.3).
            let zeroSign = x.sign == y.sign ? x.sign : env.float.mode == .down
            if x.isZero && y.isZero { return LaneResult(bits: f.zero(sign: zeroSign), flags: denormal) }
            if x.isZero || y.isZero { return env.round(LaneFormat.exact(x.isZero ? y : x), f, flags: denormal) }
            guard let sum = ExtendedArithmetic.exactSum(x.unpacked, y.unpacked) else {
                return LaneResult(bits: f.zero(sign: zeroSign), flags: denormal)
            }
            return env.round(sum, f, flags: denormal)
        case .multiply:
            let sign = x.sign != y.sign
            if (x.isInfinity && y.isZero) || (x.isZero && y.isInfinity) { return indefinite }
            if x.isInfinity || y.isInfinity { return LaneResult(bits: f.infinity(sign: sign), flags: denormal) }
            if x.isZero || y.isZero { return LaneResult(bits: f.zero(sign: sign), flags: denormal) }
            return env.round(ExtendedArithmetic.exactProduct(x.unpacked, y.unpacked), f, flags: denormal)
        default:   // divide
            let sign = x.sign != y.sign
            if (x.isInfinity && y.isInfinity) || (x.isZero && y.isZero) { return indefinite }
            // Division by zero outranks the denormal operand (SDM Vol. 1, 4.9.2).
            if y.isZero && !x.isInfinity { return LaneResult(bits: f.infinity(sign: sign), flags: FPUException.zeroDivide) }
            if x.isInfinity || y.isZero { return LaneResult(bits: f.infinity(sign: sign), flags: denormal) }
            if y.isInfinity || x.isZero { return LaneResult(bits: f.zero(sign: sign), flags: denormal) }
            return env.round(ExtendedArithmetic.exactQuotient(x.unpacked, y.unpacked), f, flags: denormal)
        }
    }

    static func squareRoot(_ b: UInt64, _ f: LaneFormat, _ env: SIMDEnvironment) -> LaneResult {
        if f.isNaN(b) { return propagateNaN(b, b, f) }
        let (y, yDenormal) = f.operand(b, daz: env.denormalsAreZero)
        if y.sign && !y.isZero { return LaneResult(bits: f.indefinite, flags: invalid) }
        let denormal = yDenormal ? FPUException.denormal : 0
        if y.isZero || y.isInfinity { return LaneResult(bits: y.isZero ? f.zero(sign: y.sign) : b, flags: denormal) }
        return env.round(ExtendedArithmetic.exactSquareRoot(y.unpacked), f, flags: denormal)
    }

    /// MIN and MAX return the second operand when either is a NaN (flagging invalid, even for
    /// a QNaN, and without quieting it) and when both are zeros of any sign (SDM Vol. 2, MAXPS).
    static func minMax(maximum: Bool, _ a: UInt64, _ b: UInt64, _ f: LaneFormat, _ env: SIMDEnvironment) -> LaneResult {
        if f.isNaN(a) || f.isNaN(b) { return LaneResult(bits: b, flags: invalid) }
        let (x, xDenormal) = f.operand(a, daz: env.denormalsAreZero)
        let (y, yDenormal) = f.operand(b, daz: env.denormalsAreZero)
        let flags = xDenormal || yDenormal ? FPUException.denormal : 0
        let first = ExtendedArithmetic.compare(x, y) == (maximum ? .greater : .less)
        let chosen = first ? (a, x) : (b, y)
        // A denormal read as zero under DAZ is returned as that zero.
        return LaneResult(bits: chosen.1.isZero ? f.zero(sign: chosen.1.sign) : chosen.0, flags: flags)
    }

    // MARK: Compares

    /// Orders two lanes; `signalingOnQuietNaN` makes a QNaN operand invalid as well as an SNaN
    /// (COMISS and the LT/LE/NLT/NLE predicates). NaNs take precedence over denormals.
    static func order(_ a: UInt64, _ b: UInt64, _ f: LaneFormat, _ env: SIMDEnvironment,
                      signalingOnQuietNaN: Bool) -> (ordering: ExtendedArithmetic.Ordering, flags: UInt16) {
        if f.isNaN(a) || f.isNaN(b) {
            let raise = signalingOnQuietNaN || f.isSignalingNaN(a) || f.isSignalingNaN(b)
            return (.unordered, raise ? invalid : 0)
        }
        let (x, xDenormal) = f.operand(a, daz: env.denormalsAreZero)
        let (y, yDenormal) = f.operand(b, daz: env.denormalsAreZero)
        return (ExtendedArithmetic.compare(x, y), xDenormal || yDenormal ? FPUException.denormal : 0)
    }

    /// CMPPS/PD/SS/SD with predicate `imm8 & 7`: EQ, LT, LE, UNORD, NEQ, NLT, NLE, ORD
    /// (SDM Vol. 2, CMPPS, Table 3-7); all ones when true.
    static func compareLane(predicate: UInt8, _ a: UInt64, _ b: UInt64, _ f: LaneFormat,
                            _ env: SIMDEnvironment) -> LaneResult {
        let p = predicate & 7
        let signaling = p & 3 == 1 || p & 3 == 2
        let (ordering, flags) = order(a, b, f, env, signalingOnQuietNaN: signaling)
        let holds: Bool = switch p & 3 {
        case 0: ordering == .equal
        case 1: ordering == .less
        case 2: ordering == .less || ordering == .equal
        default: ordering == .unordered
        }
        // Predicates 4–7 are the negations of 0–3.
        return LaneResult(bits: holds != (p >= 4) ? f.laneMask : 0, flags: flags)
    }

    // MARK: Approximations

    /// RCPSS/RCPPS (`squareRoot` false) and RSQRTSS/RSQRTPS: the SDM bounds the relative error
    /// by 1.5 × 2^−12 and leaves the exact value to the implementation; here it is the
    /// correctly rounded reciprocal (of the square root), within that bound. Denormal operands
    /// count as zeros and tiny results are flushed to zeros, whatever DAZ and FTZ say; no
    /// exception is ever flagged (SDM Vol. 2, RCPPS, RSQRTPS).
    static func approximateReciprocal(_ b: UInt32, squareRoot: Bool) -> UInt32 {
        let f = LaneFormat.single
        let bits = UInt64(b)
        if f.isNaN(bits) { return b | UInt32(f.quietBit) }
        let negative = b & 0x8000_0000 != 0
        if f.isDenormal(bits) || bits & ~f.signBit == 0 { return UInt32(f.infinity(sign: negative)) }
        if squareRoot && negative { return UInt32(f.indefinite) }
        if bits & ~f.signBit == f.exponentField { return UInt32(f.zero(sign: negative)) }
        // A normal single is exact in a double and so is its reciprocal's magnitude range; the
        // double result, rounded once more to single, is well within the error bound.
        let x = Double(Float(bitPattern: b))
        let result = Float(squareRoot ? 1 / x.squareRoot() : 1 / x)
        return result.isSubnormal ? (negative ? 0x8000_0000 : 0) : result.bitPattern
    }
}
