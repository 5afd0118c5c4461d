/// One built ACPI table: its signature and its bytes, checksum included.
public struct ACPITable: Hashable, Sendable {
    /// The four-character signature (`FACP`, `APIC`, `DSDT`, `FACS`, ...).
    public let signature: String
    public let bytes: [UInt8]

    /// A system description table (ACPI 6.5 §5.2.6): the 36-byte header, then `body`. The
    /// header's length is the whole table's, its checksum (offset 9) makes every byte of the
    /// table sum to zero, and its identity is ``ACPITableHeader``'s.
    init(signature: String, revision: UInt8, body: [UInt8]) {
        var bytes = Array(signature.utf8)
        precondition(bytes.count == 4, "a table signature has four characters")
        bytes.append(littleEndian: UInt64(ACPITableHeader.size + body.count), size: 4)
        bytes.append(revision)
        bytes.append(0)   // checksum, below
        bytes.append(ascii: ACPITableHeader.oemID, size: 6)
        bytes.append(ascii: ACPITableHeader.oemTableID, size: 8)
        bytes.append(littleEndian: UInt64(ACPITableHeader.oemRevision), size: 4)
        bytes.append(ascii: ACPITableHeader.creatorID, size: 4)
        bytes.append(littleEndian: UInt64(ACPITableHeader.creatorRevision), size: 4)
        bytes += body
        bytes[ACPITableHeader.checksumOffset] = ACPIChecksum.byte(making: bytes)
        self.signature = signature
        self.bytes = bytes
    }

    /// A structure that has no description-table header (the FACS): `bytes` as they are.
    init(signature: String, rawBytes bytes: [UInt8]) {
        self.signature = signature
        self.bytes = bytes
    }
}

/// The header every system description table starts with (ACPI 6.5 §5.2.6, Table 5.4):
/// signature (4 bytes), length (4), revision (1), checksum (1), OEM ID (6), OEM table ID (8),
/// OEM revision (4), creator ID (4), creator revision (4). This project's tables name it
/// (`RSTVEC`, table `RVPC`, padded with spaces) as their OEM and creator (`RSTV`).
public enum ACPITableHeader {
    /// Bytes in the header.
    public static let size = 36
    /// Where the checksum byte sits.
    public static let checksumOffset = 9
    public static let oemID = "RSTVEC"
    public static let oemTableID = "RVPC    "
    public static let oemRevision: UInt32 = 1
    /// The creator (ACPI calls it the ASL compiler vendor): this project's table builder.
    public static let creatorID = "RSTV"
    public static let creatorRevision: UInt32 = 1
}

/// ACPI's checksums: a byte chosen so that the bytes covered sum to zero, modulo 256.
public enum ACPIChecksum {
    /// The sum of `bytes`, modulo 256; zero when the checksum they hold is right.
    public static func sum(_ bytes: some Sequence<UInt8>) -> UInt8 {
        bytes.reduce(0, &+)
    }

    /// The byte that, added to `bytes` (whose own checksum byte is still zero), makes them sum
    /// to zero.
    static func byte(making bytes: some Sequence<UInt8>) -> UInt8 {
        0 &- sum(bytes)
    }
}

extension [UInt8] {
    /// Appends `text` as ASCII, padded with spaces to `size` bytes (it must not be longer).
    mutating func append(ascii text: String, size: Int) {
        let characters = Array(text.utf8)
        precondition(characters.count <= size, "\(text) is longer than \(size) bytes")
        append(contentsOf: characters + Array(repeating: UInt8(ascii: " "), count: size - characters.count))
    }
}
