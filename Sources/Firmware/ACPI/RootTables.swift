/// The Root System Description Pointer, revision 2 (ACPI 6.5 §5.2.5.3, Table 5.3): 36 bytes
/// that an OS finds on a 16-byte boundary in the BIOS area (E0000h–FFFFFh, §5.2.5.1) and that
/// lead it to the RSDT and XSDT.
enum RSDP {
    static let length = 36
    static let revision: UInt8 = 2
    /// Bytes the first checksum (offset 8) covers: the ACPI 1.0 structure.
    static let firstChecksumLength = 20

    static func bytes(rsdtAddress: UInt32, xsdtAddress: UInt64) -> [UInt8] {
        var bytes = Array("RSD PTR ".utf8)                                   // 0 Signature
        bytes.append(0)                                                      // 8 Checksum, below
        bytes.append(ascii: ACPITableHeader.oemID, size: 6)                  // 9 OEMID
        bytes.append(revision)                                               // 15 Revision
        bytes.append(littleEndian: UInt64(rsdtAddress), size: 4)             // 16 RsdtAddress
        bytes.append(littleEndian: UInt64(length), size: 4)                  // 20 Length
        bytes.append(littleEndian: xsdtAddress, size: 8)                     // 24 XsdtAddress
        bytes.append(0)                                                      // 32 Extended Checksum, below
        bytes += [0, 0, 0]                                                   // 33 reserved
        bytes[8] = ACPIChecksum.byte(making: bytes[..<firstChecksumLength])
        bytes[32] = ACPIChecksum.byte(making: bytes)
        return bytes
    }
}

/// The Root and Extended System Description Tables (ACPI 6.5 §5.2.7 and §5.2.8), revision 1:
/// a header, then the address of every other description table but the DSDT (which the FADT
/// names) — 32-bit in the RSDT, 64-bit in the XSDT.
enum RootTables {
    static func rsdt(entries: [UInt32]) -> ACPITable {
        ACPITable(signature: "RSDT", revision: 1, body: entries.flatMap { littleEndian(UInt64($0), size: 4) })
    }

    static func xsdt(entries: [UInt64]) -> ACPITable {
        ACPITable(signature: "XSDT", revision: 1, body: entries.flatMap { littleEndian($0, size: 8) })
    }
}
