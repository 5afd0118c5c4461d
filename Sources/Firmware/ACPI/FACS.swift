/// The Firmware ACPI Control Structure, signature `FACS`, version 2 (ACPI 6.5 §5.2.10, Table
/// 5.14): 64 bytes, 64-byte aligned, with no checksum, that the OS writes at run time — the
/// waking vectors it sets before sleeping and the global lock it shares with the firmware.
enum FACS {
    static let length = 64
    static let alignment = 64
    static let version: UInt8 = 2

    /// The structure with `hardwareSignature`, waking vectors zero (the OS sets them), the
    /// global lock free, no S4BIOS and no 64-bit waking (flags zero).
    static func table(hardwareSignature: UInt32) -> ACPITable {
        var bytes = Array("FACS".utf8)
        bytes.append(littleEndian: UInt64(length), size: 4)              // 4 Length
        bytes.append(littleEndian: UInt64(hardwareSignature), size: 4)   // 8 Hardware Signature
        bytes.append(littleEndian: 0, size: 4)                           // 12 Firmware Waking Vector
        bytes.append(littleEndian: 0, size: 4)                           // 16 Global Lock
        bytes.append(littleEndian: 0, size: 4)                           // 20 Flags
        bytes.append(littleEndian: 0, size: 8)                           // 24 X_Firmware Waking Vector
        bytes.append(version)                                            // 32 Version
        bytes += Array(repeating: 0, count: 3)                           // 33 reserved
        bytes.append(littleEndian: 0, size: 4)                           // 36 OSPM Flags
        bytes += Array(repeating: 0, count: 24)                          // 40 reserved
        return ACPITable(signature: "FACS", rawBytes: bytes)
    }

    /// A signature of the hardware the tables describe (FNV-1a over `tables`), so an OS resuming
    /// from S4 sees a change of configuration (ACPI 6.5 §5.2.10: "Hardware Signature").
    static func hardwareSignature(of tables: [ACPITable]) -> UInt32 {
        tables.flatMap(\.bytes).reduce(0x811C_9DC5 as UInt32) { ($0 ^ UInt32($1)) &* 0x0100_0193 }
    }
}
