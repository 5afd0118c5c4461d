/// Single- and double-precision lanes of the SSE registers, evaluated with the soft-float
/// cores of the x87 (exact results rounded once, `ExactValue`), so that every rounding mode,
/// every exception flag and every special value is as the SDM defines it for SSE (Vol. 1,
/// 4.8, 4.9, 10.2.3, 11.5) rather than as the host's floating point happens to do it.

/// A lane's floating-point format.
struct LaneFormat {
    let format: FloatFormat
    /// Bits in the lane: 32 or 64.
    let width: Int

    static let single = LaneFormat(format: .single, width: 32)
    static let double = LaneFormat(format: .double, width: 64)

    var fractionBits: Int { format.precision - 1 }
    var laneMask: UInt64 { width == 64 ? ~0 : (1 << UInt64(width)) - 1 }
    var signBit: UInt64 { 1 << UInt64(width - 1) }
    var exponentField: UInt64 { (laneMask >> 1) & ~fractionMask }
    var fractionMask: UInt64 { (1 << UInt64(fractionBits)) - 1 }
    var quietBit: UInt64 { 1 << UInt64(fractionBits - 1) }
    /// The QNaN floating-point indefinite, the masked response to an invalid operation:
    /// FFC00000h or FFF8000000000000h (SDM Vol. 1, 4.8.3.7, Table 4-3).
    var indefinite: UInt64 { signBit | exponentField | quietBit }

    func isNaN(_ bits: UInt64) -> Bool { bits & exponentField == exponentField && bits & fractionMask != 0 }
    func isSignalingNaN(_ bits: UInt64) -> Bool { isNaN(bits) && bits & quietBit == 0 }
    func isDenormal(_ bits: UInt64) -> Bool { bits & exponentField == 0 && bits & fractionMask != 0 }
    func zero(sign: Bool) -> UInt64 { sign ? signBit : 0 }
    func infinity(sign: Bool) -> UInt64 { zero(sign: sign) | exponentField }

    /// A lane as an exact extended value. With DAZ a denormal reads as a zero of its sign
    /// (SDM Vol. 1, 10.2.3.4); otherwise it is reported, for the denormal-operand exception.
    func operand(_ bits: UInt64, daz: Bool) -> (value: Extended80, denormal: Bool) {
        if isDenormal(bits) && daz { return (.zero(sign: bits & signBit != 0), false) }
        return ExtendedConversions.fromBinary(bits, format: format)
    }

    func encode(_ value: RoundedFloat) -> UInt64 { width == 32 ? UInt64(value.singleBits) : value.doubleBits }

    /// An exact finite nonzero extended value, to be rounded to this format.
    static func exact(_ value: Extended80) -> ExactValue {
        let x = value.unpacked
        return ExactValue(sign: x.sign, scale: x.exponent - 63, magnitude: UInt128(x.significand))
    }
}

/// A lane's result: its bits (meaningless when an unmasked exception suppresses it) and the
/// exception flags it raised (MXCSR bits 5–0).
struct LaneResult {
    var bits: UInt64
    var flags: UInt16 = 0
}

/// What MXCSR says about an operation.
struct SIMDEnvironment {
    var float: FloatEnvironment
    var denormalsAreZero: Bool
    var flushToZero: Bool

    init(mxcsr: UInt32) {
        float = FloatEnvironment(mode: RoundingMode(rawValue: UInt8(mxcsr >> MXCSR.roundingShift & 3))!,
                                 masks: UInt16(mxcsr >> MXCSR.maskShift & MXCSR.flags))
        denormalsAreZero = mxcsr & MXCSR.denormalsAreZero != 0
        flushToZero = mxcsr & MXCSR.flushToZero != 0
    }

    /// The environment with another rounding mode (the truncating conversions).
    func with(mode: RoundingMode) -> SIMDEnvironment {
        var copy = self
        copy.float.mode = mode
        return copy
    }

    /// Rounds an exact value to `format`. Overflow and underflow follow SSE's rules (SDM Vol. 1,
    /// 4.9.1.4–4.9.1.5, 10.2.3.3): masked, ∞ or the largest finite value and a denormalized
    /// (tininess after rounding) result; with FTZ and underflow masked a tiny result becomes a
    /// zero of its sign with UE and PE set; unmasked, only the flags (nothing is stored).
    func round(_ value: ExactValue, _ f: LaneFormat, flags: UInt16 = 0) -> LaneResult {
        let rounded = value.rounded(f.format, float, toRegister: false)
        let flags = flags | rounded.flags
        guard let result = rounded.value else { return LaneResult(bits: 0, flags: flags) }
        let tiny = rounded.flags & FPUException.underflow != 0
            || (result.significand != 0 && result.significand & Extended80.integerBit == 0 && !result.isInfinity)
        if tiny && flushToZero && float.isMasked(FPUException.underflow) {
            return LaneResult(bits: f.zero(sign: value.sign),
                              flags: flags | FPUException.underflow | FPUException.precision)
        }
        return LaneResult(bits: f.encode(result), flags: flags)
    }
}

/// The lanes of a 128-bit value.
enum Lanes {
    @inline(__always) static func get(_ value: UInt128, _ i: Int, _ f: LaneFormat) -> UInt64 {
        UInt64(truncatingIfNeeded: value >> UInt128(i * f.width)) & f.laneMask
    }

    @inline(__always) static func set(_ value: inout UInt128, _ i: Int, _ f: LaneFormat, _ bits: UInt64) {
        let shift = UInt128(i * f.width)
        value = value & ~(UInt128(f.laneMask) << shift) | UInt128(bits & f.laneMask) << shift
    }

    /// Applies `lane` to the first `count` lanes of `a` and `b` (the others keep `a`'s), and
    /// collects the flags: packed operations use every lane, scalar ones lane 0.
    @inline(__always)
    static func map(_ a: UInt128, _ b: UInt128, _ f: LaneFormat, count: Int,
                    _ lane: (UInt64, UInt64) -> LaneResult) -> (value: UInt128, flags: UInt16) {
        var result = a
        var flags: UInt16 = 0
        for i in 0..<count {
            let r = lane(get(a, i, f), get(b, i, f))
            set(&result, i, f, r.bits)
            flags |= r.flags
        }
        return (result, flags)
    }
}

extension CPU {
    /// The MXCSR environment of the current instruction.
    var simdEnvironment: SIMDEnvironment { SIMDEnvironment(mxcsr: sse.mxcsr) }

    /// Records an instruction's exception flags in MXCSR and decides whether its result may be
    /// stored (`nil`) or an exception stops it (SDM Vol. 1, 11.5.2.1 and 11.5.3): an unmasked
    /// pre-computation exception (invalid, denormal, divide-by-zero) in any lane reports only
    /// the pre-computation flags; otherwise every flag is recorded and any unmasked one stops
    /// the instruction. Stopped, the destination is unchanged and the processor raises #XM
    /// when CR4.OSXMMEXCPT is set, #UD otherwise.
    func commitSIMDFlags(_ flags: UInt16) -> Step? {
        let masks = UInt16(sse.mxcsr >> MXCSR.maskShift & MXCSR.flags)
        let preComputation = flags & (FPUException.invalid | FPUException.denormal | FPUException.zeroDivide)
        let recorded = preComputation & ~masks != 0 ? preComputation : flags
        sse.mxcsr |= UInt32(recorded)
        guard recorded & ~masks != 0 else { return nil }
        return raiseFault(cr4 & ControlRegister4.osxmmexcpt != 0 ? .simdFloatingPoint : .invalidOpcode)
    }
}
