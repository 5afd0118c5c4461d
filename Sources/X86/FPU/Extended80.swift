/// An x87 double extended-precision value as a data register holds it (SDM Vol. 1, 4.2.2):
/// a sign, a 15-bit biased exponent and a 64-bit significand whose bit 63 is the explicit
/// integer bit. Every bit pattern is representable, including the encodings the x87 no longer
/// supports (SDM Vol. 1, 8.2.2), so registers round-trip through FSTP m80 and FXSAVE exactly.
///
/// Arithmetic on these values lives in the soft-float files beside this one; nothing here
/// uses the host's floating point.
struct Extended80: Equatable, Sendable {
    /// Bits 63…0: the integer bit and the 63-bit fraction.
    var significand: UInt64
    /// Bits 79…64: the sign (bit 15) and the biased exponent (bits 14…0).
    var signExponent: UInt16

    static let exponentBias: Int32 = 16383
    static let maximumBiasedExponent: UInt16 = 0x7FFF
    static let integerBit: UInt64 = 1 << 63
    /// The quiet bit of a NaN's significand (bit 62).
    static let quietBit: UInt64 = 1 << 62

    init(significand: UInt64, signExponent: UInt16) {
        self.significand = significand
        self.signExponent = signExponent
    }

    init(sign: Bool, biasedExponent: UInt16, significand: UInt64) {
        self.significand = significand
        self.signExponent = (sign ? 0x8000 : 0) | (biasedExponent & 0x7FFF)
    }

    var sign: Bool { signExponent & 0x8000 != 0 }
    var biasedExponent: UInt16 { signExponent & 0x7FFF }

    static let positiveZero = Extended80(sign: false, biasedExponent: 0, significand: 0)
    static let one = Extended80(sign: false, biasedExponent: 0x3FFF, significand: integerBit)
    /// The "real indefinite" QNaN, the masked response to an invalid operation (SDM Vol. 1, 4.8.3.7).
    static let indefinite = Extended80(sign: true, biasedExponent: 0x7FFF, significand: 0xC000_0000_0000_0000)

    static func zero(sign: Bool) -> Extended80 { Extended80(sign: sign, biasedExponent: 0, significand: 0) }
    static func infinity(sign: Bool) -> Extended80 {
        Extended80(sign: sign, biasedExponent: 0x7FFF, significand: integerBit)
    }

    /// The encodings of SDM Vol. 1, Table 8-3 (with the unsupported ones of 8.2.2).
    enum Kind: Equatable {
        case zero
        /// Exponent 0, integer bit 0, fraction nonzero.
        case denormal
        /// Exponent 0 with the integer bit set: still accepted as an operand (denormal exception).
        case pseudoDenormal
        case normal
        /// Exponent neither 0 nor all ones with the integer bit clear: unsupported.
        case unnormal
        case infinity
        /// Exponent all ones, integer bit clear, fraction zero: unsupported.
        case pseudoInfinity
        case quietNaN
        case signalingNaN
        /// Exponent all ones, integer bit clear, fraction nonzero: unsupported.
        case pseudoNaN
    }

    var kind: Kind {
        let exponent = biasedExponent
        let integer = significand & Extended80.integerBit != 0
        let fraction = significand & ~Extended80.integerBit
        switch exponent {
        case 0:
            if integer { return .pseudoDenormal }
            return fraction == 0 ? .zero : .denormal
        case Extended80.maximumBiasedExponent:
            if !integer { return fraction == 0 ? .pseudoInfinity : .pseudoNaN }
            if fraction == 0 { return .infinity }
            return fraction & Extended80.quietBit != 0 ? .quietNaN : .signalingNaN
        default:
            return integer ? .normal : .unnormal
        }
    }

    var isZero: Bool { biasedExponent == 0 && significand == 0 }
    var isNaN: Bool { kind == .quietNaN || kind == .signalingNaN }
    var isSignalingNaN: Bool { kind == .signalingNaN }
    var isInfinity: Bool { kind == .infinity }
    /// Unnormals, pseudo-NaNs and pseudo-infinities raise the invalid-operation exception as operands.
    var isUnsupported: Bool {
        switch kind {
        case .unnormal, .pseudoInfinity, .pseudoNaN: true
        default: false
        }
    }
    /// Denormals and pseudo-denormals raise the denormal-operand exception as operands.
    var isDenormal: Bool { biasedExponent == 0 && significand != 0 }
    /// A finite nonzero supported value (normal, denormal or pseudo-denormal).
    var isFiniteNonzero: Bool {
        switch kind {
        case .normal, .denormal, .pseudoDenormal: true
        default: false
        }
    }

    /// The NaN with its quiet bit set.
    var quieted: Extended80 { Extended80(significand: significand | Extended80.quietBit, signExponent: signExponent) }
    var negated: Extended80 { Extended80(significand: significand, signExponent: signExponent ^ 0x8000) }
    var magnitude: Extended80 { Extended80(significand: significand, signExponent: signExponent & 0x7FFF) }
    func withSign(_ sign: Bool) -> Extended80 {
        Extended80(significand: significand, signExponent: (signExponent & 0x7FFF) | (sign ? 0x8000 : 0))
    }

    /// The value as `sign × significand × 2^(exponent − 63)` with bit 63 of the significand set;
    /// valid for finite nonzero supported values. Denormals (exponent field 0) weigh like
    /// exponent 1 and are normalized here (SDM Vol. 1, 4.8.3.2).
    var unpacked: UnpackedFloat {
        let exponent = Int32(max(biasedExponent, 1)) - Extended80.exponentBias
        let shift = significand.leadingZeroBitCount
        return UnpackedFloat(sign: sign, exponent: exponent - Int32(shift), significand: significand << UInt64(shift))
    }

    /// The x87 tag of a non-empty register (SDM Vol. 1, 8.1.7): 0 valid, 1 zero, 2 special.
    var tag: UInt16 {
        switch kind {
        case .normal: 0
        case .zero: 1
        default: 2
        }
    }
}

/// A finite nonzero value `sign × significand × 2^(exponent − 63)`; the significand is
/// normalized (bit 63 set) and the exponent unbounded.
struct UnpackedFloat: Equatable {
    var sign: Bool
    var exponent: Int32
    var significand: UInt64
}
