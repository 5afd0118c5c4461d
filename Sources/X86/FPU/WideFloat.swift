/// A binary floating-point number with a 128-bit significand, the internal precision the
/// transcendental instructions are evaluated in before one final rounding to extended
/// precision. Operations truncate (each loses under one unit in the 128th bit), which
/// leaves some 120 correct bits after a series of a few dozen terms.
struct WideFloat {
    var sign: Bool
    /// The value is `significand × 2^(exponent − 127)`.
    var exponent: Int32
    /// Normalized (bit 127 set), or zero for the value zero.
    var significand: UInt128

    static let zero = WideFloat(sign: false, exponent: 0, significand: 0)
    static let one = WideFloat(sign: false, exponent: 0, significand: 1 << 127)

    var isZero: Bool { significand == 0 }

    init(sign: Bool, exponent: Int32, significand: UInt128) {
        self.sign = sign
        self.exponent = exponent
        self.significand = significand
    }

    /// A constant given as the top 128 bits of its significand and the exponent of bit 127.
    init(_ significand: UInt128, exponent: Int32) {
        self.init(sign: false, exponent: exponent, significand: significand)
    }

    /// A finite register value, exactly.
    init(_ value: Extended80) {
        if value.isZero {
            self.init(sign: value.sign, exponent: 0, significand: 0)
        } else {
            let x = value.unpacked
            self.init(sign: x.sign, exponent: x.exponent, significand: UInt128(x.significand) << 64)
        }
    }

    /// `sign × magnitude × 2^scale`, normalized.
    init(sign: Bool, magnitude: UInt128, scale: Int32) {
        guard magnitude != 0 else {
            self.init(sign: sign, exponent: 0, significand: 0)
            return
        }
        let shift = magnitude.leadingZeroBitCount
        self.init(sign: sign, exponent: scale + 127 - Int32(shift), significand: magnitude << UInt128(shift))
    }

    init(integer: Int) {
        self.init(sign: integer < 0, magnitude: UInt128(integer.magnitude), scale: 0)
    }

    var negated: WideFloat { WideFloat(sign: !sign, exponent: exponent, significand: significand) }
    var magnitude: WideFloat { WideFloat(sign: false, exponent: exponent, significand: significand) }

    /// × 2^n.
    func scaled(by n: Int32) -> WideFloat {
        isZero ? self : WideFloat(sign: sign, exponent: exponent + n, significand: significand)
    }

    static prefix func - (x: WideFloat) -> WideFloat { x.negated }

    static func + (a: WideFloat, b: WideFloat) -> WideFloat {
        if a.isZero { return b }
        if b.isZero { return a }
        var big = a
        var small = b
        if small.exponent > big.exponent || (small.exponent == big.exponent && small.significand > big.significand) {
            swap(&big, &small)
        }
        let distance = big.exponent - small.exponent
        // One bit of headroom for a carry.
        let aligned = distance >= 127 ? 0 : (small.significand >> 1) >> UInt128(distance)
        let bigBits = big.significand >> 1
        if big.sign == small.sign {
            return WideFloat(sign: big.sign, magnitude: bigBits + aligned, scale: big.exponent - 126)
        }
        return WideFloat(sign: big.sign, magnitude: bigBits - aligned, scale: big.exponent - 126)
    }

    static func - (a: WideFloat, b: WideFloat) -> WideFloat { a + b.negated }

    static func * (a: WideFloat, b: WideFloat) -> WideFloat {
        if a.isZero || b.isZero { return WideFloat(sign: a.sign != b.sign, exponent: 0, significand: 0) }
        let product = a.significand.multipliedFullWidth(by: b.significand)
        return WideFloat(sign: a.sign != b.sign, magnitude: product.high, scale: a.exponent + b.exponent - 126)
    }

    static func / (a: WideFloat, b: WideFloat) -> WideFloat {
        precondition(!b.isZero, "division by zero in WideFloat")
        if a.isZero { return WideFloat(sign: a.sign != b.sign, exponent: 0, significand: 0) }
        // Long division, one bit at a time: a's significand is below 2 × b's.
        var rest = a.significand
        var carry = false
        var quotient: UInt128 = 0
        for _ in 0..<128 {
            quotient <<= 1
            if carry || rest >= b.significand {
                rest &-= b.significand
                quotient |= 1
            }
            carry = rest >> 127 != 0
            rest <<= 1
        }
        return WideFloat(sign: a.sign != b.sign, magnitude: quotient, scale: a.exponent - b.exponent - 127)
    }

    /// Divides by a small positive integer.
    static func / (a: WideFloat, n: UInt64) -> WideFloat {
        let divisor = UInt128(n)
        let quotient = a.significand / divisor
        // One more 64-bit digit keeps 128 bits of precision after normalization.
        let low = (a.significand % divisor) << 64 / divisor
        return WideFloat(sign: a.sign, magnitude: quotient, scale: a.exponent - 127)
            + WideFloat(sign: a.sign, magnitude: low, scale: a.exponent - 127 - 64)
    }

    /// Orders magnitudes.
    static func magnitudeLess(_ a: WideFloat, _ b: WideFloat) -> Bool {
        if a.isZero || b.isZero { return !b.isZero }
        return a.exponent != b.exponent ? a.exponent < b.exponent : a.significand < b.significand
    }

    /// Rounds to a register value (extended precision, the current rounding mode). Unless the
    /// value is known to be `exact`, the truncated bits below the 128th stand for more and the
    /// result is inexact.
    func rounded(_ environment: FloatEnvironment, exact: Bool = false) -> FloatResult {
        if isZero { return FloatResult(value: .zero(sign: sign)) }
        return FloatResult(FloatRounding.round(sign: sign, exponent: exponent, significand: significand | (exact ? 0 : 1),
                                               format: .extended, environment: environment, toRegister: true))
    }
}
