/// Where this board's ACPI tables live and how they reach the firmware, which installs them on
/// every boot (`ACPISetup.swift`).
///
/// - The tables go in the last 64 KiB of RAM (``window(ramSize:)``; RAM ends below 4 GiB on
///   this board), above anything a Multiboot kernel or its modules may occupy (the memory map
///   does not offer that RAM to them). The first 4 KiB page holds only the FACS, at its end
///   (offset FC0h), and is ACPI NVS in the memory map; the DSDT, FADT, MADT, RSDT and XSDT
///   follow from offset 1000h, ACPI reclaimable.
/// - The RSDP goes to 9F010h, in the first KiB of the extended BIOS data area (9F000h; the MP
///   floating pointer takes 9F000h–9F00Fh), where an OS searches for it.
/// - Both travel as files of the firmware configuration interface: ``tablesFileName`` and
///   ``rsdpFileName``, each a 32-bit little-endian destination address followed by the bytes.
///   The tables file's destination is the FACS's address: the ROM's S3 resume path finds the
///   waking vector there (``S3Resume``).
public struct ACPIInstallation: Equatable, Sendable {
    public static let tablesFileName = "etc/resetvector/acpi-tables"
    public static let rsdpFileName = "etc/resetvector/acpi-rsdp"
    /// 16 bytes into the EBDA.
    public static let rsdpAddress = UInt32(MemoryMap.conventionalMemoryEnd) + 0x10
    public static let windowSize: UInt64 = 64 << 10
    /// The first page of the window: the FACS's, ACPI NVS.
    public static let nvsSize: UInt64 = 4 << 10
    /// The FACS's offset in the window: its 64 bytes end the first page.
    static let facsOffset: UInt64 = nvsSize - 64

    /// The last 64 KiB of RAM, when RAM reaches that far above 1 MiB; `nil` for a smaller
    /// machine, which then has no ACPI tables.
    public static func window(ramSize: Int) -> Range<UInt64>? {
        let end = UInt64(ramSize)
        guard end >= MemoryMap.extendedMemoryBase + windowSize else { return nil }
        return end - windowSize..<end
    }

    public let layout: ACPITableLayout

    /// The tables laid out in the window of a machine with `ramSize` bytes of RAM, or `nil`
    /// when it has no window.
    public init?(_ tables: ACPITables, ramSize: Int) throws(ACPILayoutError) {
        guard let window = Self.window(ramSize: ramSize) else { return nil }
        layout = try tables.layout(at: UInt32(window.lowerBound + Self.facsOffset), rsdpAddress: Self.rsdpAddress)
        let capacity = Int(window.upperBound - UInt64(layout.baseAddress))
        guard layout.bytes.count <= capacity else { throw .tablesTooLarge(size: layout.bytes.count, capacity: capacity) }
    }

    /// ``tablesFileName``'s bytes: the address, then every table.
    public var tablesFile: [UInt8] { littleEndian(UInt64(layout.baseAddress), size: 4) + layout.bytes }

    /// ``rsdpFileName``'s bytes: the address, then the RSDP.
    public var rsdpFile: [UInt8] { littleEndian(UInt64(layout.rsdpAddress), size: 4) + layout.rsdp }
}
