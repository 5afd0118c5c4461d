/// The ACPI tables of one board, built from its configuration: the DSDT, MADT and FACS, whose
/// bytes do not depend on where they go, ready to be laid out at an address.
public struct ACPITables: Hashable, Sendable {
    public let configuration: ACPIConfiguration
    public let dsdt: ACPITable
    public let madt: ACPITable
    public let facs: ACPITable

    /// The tables `configuration` describes, once it is valid.
    public init(_ configuration: ACPIConfiguration) throws(ACPIConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        dsdt = DSDT.table(configuration)
        madt = MADT.table(configuration)
        facs = FACS.table(hardwareSignature: FACS.hardwareSignature(of: [dsdt, madt]))
    }

    /// Every table placed from `baseAddress` up, and the RSDP for `rsdpAddress`.
    ///
    /// The FACS comes first, on the first 64-byte boundary at or above `baseAddress` (ACPI 6.5
    /// §5.2.10); the DSDT, FADT, MADT, RSDT and XSDT follow, each on an 8-byte boundary. Each
    /// table is built knowing the others' addresses: the FADT names the FACS and DSDT (in its
    /// 32-bit and 64-bit fields), the RSDT and XSDT name the FADT and MADT, the RSDP names the
    /// RSDT and XSDT, and every checksum covers the final bytes. Everything must lie below
    /// 4 GiB (the RSDT's pointers are 32-bit); the RSDP goes on a 16-byte boundary where an
    /// OS searches for it (ACPI 6.5 §5.2.5.1): in the first KiB of the extended BIOS data area
    /// (this board's is at ``MemoryMap/conventionalMemoryEnd``) or in E0000h–FFFFFh.
    public func layout(at baseAddress: UInt32, rsdpAddress: UInt32) throws(ACPILayoutError) -> ACPITableLayout {
        let ebda = UInt32(MemoryMap.conventionalMemoryEnd)
        guard rsdpAddress % 16 == 0,
              (0xE_0000...0x10_0000 - UInt32(RSDP.length)).contains(rsdpAddress)
                || (ebda...ebda + 0x400 - UInt32(RSDP.length)).contains(rsdpAddress) else {
            throw .rsdpAddress(rsdpAddress)
        }
        let facsAddress = ACPITables.align(UInt64(baseAddress), to: FACS.alignment)
        let dsdtAddress = ACPITables.align(facsAddress + UInt64(facs.bytes.count), to: 8)
        let fadtAddress = ACPITables.align(dsdtAddress + UInt64(dsdt.bytes.count), to: 8)
        let madtAddress = ACPITables.align(fadtAddress + UInt64(FADT.length), to: 8)
        let entries = [fadtAddress, madtAddress]
        let rsdtAddress = ACPITables.align(madtAddress + UInt64(madt.bytes.count), to: 8)
        let xsdtAddress = ACPITables.align(rsdtAddress + UInt64(ACPITableHeader.size + 4 * entries.count), to: 8)
        let end = xsdtAddress + UInt64(ACPITableHeader.size + 8 * entries.count)
        guard end <= 1 << 32 else { throw .tablesPast4GiB(end: end) }

        let fadt = FADT.table(configuration, facsAddress: UInt32(facsAddress), dsdtAddress: UInt32(dsdtAddress))
        let rsdt = RootTables.rsdt(entries: entries.map { UInt32($0) })
        let xsdt = RootTables.xsdt(entries: entries)
        let placed = [(facs, facsAddress), (dsdt, dsdtAddress), (fadt, fadtAddress), (madt, madtAddress),
                      (rsdt, rsdtAddress), (xsdt, xsdtAddress)]
        var bytes = [UInt8](repeating: 0, count: Int(end - UInt64(baseAddress)))
        for (table, address) in placed {
            let offset = Int(address - UInt64(baseAddress))
            bytes.replaceSubrange(offset..<offset + table.bytes.count, with: table.bytes)
        }
        return ACPITableLayout(
            baseAddress: baseAddress, bytes: bytes,
            tables: placed.map { ACPITableLayout.Placement(table: $0.0, address: UInt32($0.1)) },
            rsdpAddress: rsdpAddress, rsdp: RSDP.bytes(rsdtAddress: UInt32(rsdtAddress), xsdtAddress: xsdtAddress))
    }

    static func align(_ address: UInt64, to alignment: Int) -> UInt64 {
        let alignment = UInt64(alignment)
        return (address + alignment - 1) / alignment * alignment
    }
}

/// The tables laid out in memory: one block of bytes for RAM and the RSDP for the BIOS area.
public struct ACPITableLayout: Hashable, Sendable {
    /// One table and where it sits.
    public struct Placement: Hashable, Sendable {
        public let table: ACPITable
        public let address: UInt32
    }

    /// Where ``bytes`` go.
    public let baseAddress: UInt32
    /// Every table at its address, zeros between (alignment padding).
    public let bytes: [UInt8]
    /// The tables in address order: FACS, DSDT, FACP (the FADT), APIC (the MADT), RSDT, XSDT.
    public let tables: [Placement]
    /// Where ``rsdp`` goes.
    public let rsdpAddress: UInt32
    /// The RSDP's 36 bytes.
    public let rsdp: [UInt8]

    /// The address of the table with `signature`, if there is one.
    public func address(of signature: String) -> UInt32? {
        tables.first { $0.table.signature == signature }?.address
    }
}

/// Where the tables cannot go.
public enum ACPILayoutError: Error, Equatable, Sendable {
    /// The RSDP is not on a 16-byte boundary inside the EBDA's first KiB or E0000h–FFFFFh.
    case rsdpAddress(UInt32)
    /// The tables would end past 4 GiB, where the RSDT and the FADT's 32-bit fields cannot
    /// reach them.
    case tablesPast4GiB(end: UInt64)
    /// The tables need more bytes than the space set aside for them.
    case tablesTooLarge(size: Int, capacity: Int)
}
