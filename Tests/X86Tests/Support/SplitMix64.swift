/// A tiny deterministic PRNG (Steele, Lea and Flood's SplitMix64), so every random run
/// can be reproduced from its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func next16() -> UInt16 { UInt16(truncatingIfNeeded: next()) }
    mutating func next32() -> UInt32 { UInt32(truncatingIfNeeded: next()) }
    /// A value in `range` (modulo bias is irrelevant here).
    mutating func next(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }
}
