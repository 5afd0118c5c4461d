/// An exact finite nonzero result before rounding: `sign × (magnitude + ε) × 2^scale`, where
/// ε ∈ (0, 1) stands for discarded nonzero bits when `sticky` is set. The x87 rounds it to a
/// register format, SSE to single or double precision.
struct ExactValue {
    var sign: Bool
    var scale: Int32
    var magnitude: UInt128
    var sticky = false

    func rounded(_ format: FloatFormat, _ environment: FloatEnvironment, toRegister: Bool) -> Rounded {
        FloatRounding.round(sign: sign, scale: scale, magnitude: magnitude, sticky: sticky, format: format,
                            environment: environment, toRegister: toRegister)
    }
}

/// The exact cores of the four basic operations and the square root on finite nonzero
/// operands (zeros, infinities and NaNs are the callers' business).
extension ExtendedArithmetic {
    /// x + y; `nil` when the sum is an exact zero (operands of opposite signs cancel).
    static func exactSum(_ x: UnpackedFloat, _ y: UnpackedFloat) -> ExactValue? {
        var big = x
        var small = y
        if small.exponent > big.exponent || (small.exponent == big.exponent && small.significand > big.significand) {
            swap(&big, &small)
        }
        // Bit 126 holds the larger operand's integer bit; bit 127 takes a carry.
        let distance = Int(big.exponent - small.exponent)
        let bigBits = UInt128(big.significand) << 63
        let smallBits = UInt128(small.significand) << 63
        let aligned: UInt128
        let sticky: Bool
        if distance >= 127 {
            (aligned, sticky) = (0, true)
        } else {
            aligned = smallBits >> UInt128(distance)
            sticky = distance > 0 && smallBits << UInt128(128 - distance) != 0
        }
        let magnitude: UInt128
        if big.sign == small.sign {
            magnitude = bigBits + aligned
        } else {
            // The discarded bits of the smaller operand borrow one unit from the kept ones.
            magnitude = bigBits - aligned - (sticky ? 1 : 0)
            if magnitude == 0 { return nil }
        }
        return ExactValue(sign: big.sign, scale: big.exponent - 126, magnitude: magnitude, sticky: sticky)
    }

    static func exactProduct(_ x: UnpackedFloat, _ y: UnpackedFloat) -> ExactValue {
        let product = x.significand.multipliedFullWidth(by: y.significand)
        return ExactValue(sign: x.sign != y.sign, scale: x.exponent + y.exponent - 126,
                          magnitude: UInt128(product.high) << 64 | UInt128(product.low))
    }

    static func exactQuotient(_ x: UnpackedFloat, _ y: UnpackedFloat) -> ExactValue {
        // Two 64-bit quotient digits of x/y; their 2 lowest bits and the remainder are sticky.
        let dividend = UInt128(x.significand) << 64
        let divisor = UInt128(y.significand)
        let high = dividend / divisor
        let remainder = dividend % divisor
        let low = (remainder << 64) / divisor
        let rest = (remainder << 64) % divisor
        return ExactValue(sign: x.sign != y.sign, scale: x.exponent - y.exponent - 126, magnitude: high << 62 | low >> 2,
                          sticky: low & 3 != 0 || rest != 0)
    }

    /// √x of a positive x.
    static func exactSquareRoot(_ x: UnpackedFloat) -> ExactValue {
        // value = radicand × 2^k with k even.
        var k = x.exponent - 63
        var radicand = UInt128(x.significand)
        if k & 1 != 0 {
            radicand <<= 1
            k -= 1
        }
        // Digit-by-digit root of radicand × 2^68: 33 bit pairs of the radicand, 34 of zeros.
        var pending = radicand << 62
        var root: UInt128 = 0
        var rest: UInt128 = 0
        for _ in 0..<67 {
            rest = rest << 2 | pending >> 126
            pending <<= 2
            let trial = root << 2 | 1
            if rest >= trial {
                rest -= trial
                root = root << 1 | 1
            } else {
                root <<= 1
            }
        }
        return ExactValue(sign: false, scale: (k - 68) / 2, magnitude: root, sticky: rest != 0)
    }
}
