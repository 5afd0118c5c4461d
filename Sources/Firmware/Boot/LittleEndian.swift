/// Little-endian fields in byte images: reading a file's headers, writing boot structures.
extension [UInt8] {
    /// The 16-bit little-endian value at `offset`, or `nil` when it runs past the end.
    func uint16(at offset: Int) -> UInt16? {
        guard offset >= 0, offset <= count - 2 else { return nil }
        return UInt16(self[offset]) | UInt16(self[offset + 1]) << 8
    }

    /// The 32-bit little-endian value at `offset`, or `nil` when it runs past the end.
    func uint32(at offset: Int) -> UInt32? {
        guard offset >= 0, offset <= count - 4 else { return nil }
        return (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    /// Appends `value` as 4 little-endian bytes.
    mutating func append(uint32 value: UInt32) {
        append(contentsOf: (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }

    /// Appends `value` as 8 little-endian bytes.
    mutating func append(uint64 value: UInt64) {
        append(contentsOf: (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) })
    }

    /// Overwrites the 4 bytes at `offset` with `value`, little-endian.
    mutating func set(uint32 value: UInt32, at offset: Int) {
        for i in 0..<4 { self[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
}
