/// The `PkgLength` encoding that precedes the body of a variable-length AML object (ACPI 6.5
/// §20.2.4): the length counts its own bytes and the body's. Up to 63 it is one byte; above
/// that, bits 7–6 of the lead byte give how many bytes follow (1–3), bits 3–0 of the lead byte
/// are the length's low nibble, and the following bytes hold the rest, least significant first,
/// so two bytes reach 4095, three 1,048,575 and four 268,435,455.
public enum AMLPackageLength {
    /// The largest length the four-byte form holds.
    public static let maximum = 0x0FFF_FFFF

    /// The encoding of the length `value` itself (which must be 0...``maximum``).
    public static func encoding(of value: Int) -> [UInt8] {
        precondition((0...maximum).contains(value), "PkgLength \(value) is out of range")
        if value <= 0x3F { return [UInt8(value)] }
        let following = value <= 0xFFF ? 1 : value <= 0xF_FFFF ? 2 : 3
        var bytes = [UInt8(following << 6) | UInt8(value & 0x0F)]
        for index in 0..<following { bytes.append(UInt8(truncatingIfNeeded: value >> (4 + 8 * index))) }
        return bytes
    }

    /// The encoding that precedes a body of `bodyLength` bytes: the shortest form whose value,
    /// its own size plus `bodyLength`, fits it.
    public static func encoding(forBodyLength bodyLength: Int) -> [UInt8] {
        let size = bodyLength + 1 <= 0x3F ? 1 : bodyLength + 2 <= 0xFFF ? 2 : bodyLength + 3 <= 0xF_FFFF ? 3 : 4
        return encoding(of: bodyLength + size)
    }
}

extension [UInt8] {
    /// Appends `opcode`, then a `PkgLength` covering what `body` appends, then that body.
    mutating func appendPackage(opcode: [UInt8], body: (inout [UInt8]) -> Void) {
        var content: [UInt8] = []
        body(&content)
        append(contentsOf: opcode)
        append(contentsOf: AMLPackageLength.encoding(forBodyLength: content.count))
        append(contentsOf: content)
    }
}
