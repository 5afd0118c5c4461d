import Firmware
import Testing

/// The tables' checksums, and their fields at the offsets ACPI 6.5 §5.2 gives.
@Suite struct ACPITableTests {
    /// Four processors, RAM to 128 MiB, ICH-class defaults.
    static let configuration = ACPIConfiguration(processorCount: 4, pciMemoryWindowStart: 0x0800_0000)
    static let tablesBase: UInt32 = 0x07FE_0010   // not 64-byte aligned: the FACS moves up to 0x07FE0040
    static let rsdpAddress: UInt32 = 0x000F_6A40

    static func layout(_ configuration: ACPIConfiguration = configuration) throws -> ACPITableLayout {
        try ACPITables(configuration).layout(at: tablesBase, rsdpAddress: rsdpAddress)
    }

    static func table(_ signature: String, in layout: ACPITableLayout) throws -> [UInt8] {
        try #require(layout.tables.first { $0.table.signature == signature }).table.bytes
    }

    // MARK: Checksums and placement

    @Test func everyTableSumsToZeroAndSitsInTheBlockAtItsAddress() throws {
        let layout = try Self.layout()
        #expect(layout.tables.map(\.table.signature) == ["FACS", "DSDT", "FACP", "APIC", "RSDT", "XSDT"])
        for placement in layout.tables {
            let bytes = placement.table.bytes
            let offset = Int(placement.address - layout.baseAddress)
            #expect(Array(layout.bytes[offset..<offset + bytes.count]) == bytes, "\(placement.table.signature)")
            #expect(Array(bytes.prefix(4)) == Array(placement.table.signature.utf8))
            #expect(u32(bytes, 4) == UInt32(bytes.count), "\(placement.table.signature) length")
            if placement.table.signature != "FACS" {   // the FACS has no checksum
                #expect(ACPIChecksum.sum(bytes) == 0, "\(placement.table.signature) checksum")
                #expect(Array(bytes[10..<16]) == Array("RSTVEC".utf8))
                #expect(Array(bytes[16..<24]) == Array("RVPC    ".utf8))
                #expect(Array(bytes[28..<32]) == Array("RSTV".utf8))
            }
            #expect(placement.address % (placement.table.signature == "FACS" ? 64 : 8) == 0)
        }
        #expect(layout.address(of: "FACS") == 0x07FE_0040)
        #expect(layout.bytes.count == Int(layout.tables.last!.address - layout.baseAddress) + 36 + 2 * 8)
    }

    /// RSDP (§5.2.5.3): "RSD PTR ", checksum of bytes 0-19 at 8, OEMID at 9, revision 2 at 15,
    /// RsdtAddress at 16, length 36 at 20, XsdtAddress at 24, extended checksum of all 36 at 32.
    @Test func theRSDP() throws {
        let layout = try Self.layout()
        let rsdp = layout.rsdp
        #expect(rsdp.count == 36)
        #expect(Array(rsdp[0..<8]) == Array("RSD PTR ".utf8))
        #expect(ACPIChecksum.sum(rsdp[0..<20]) == 0)
        #expect(ACPIChecksum.sum(rsdp) == 0)
        #expect(Array(rsdp[9..<15]) == Array("RSTVEC".utf8))
        #expect(rsdp[15] == 2)
        #expect(u32(rsdp, 16) == layout.address(of: "RSDT"))
        #expect(u32(rsdp, 20) == 36)
        #expect(u64(rsdp, 24) == UInt64(try #require(layout.address(of: "XSDT"))))
        #expect(rsdp[33..<36].allSatisfy { $0 == 0 })
        #expect(layout.rsdpAddress == Self.rsdpAddress)
    }

    /// RSDT and XSDT list the FADT and the MADT, 32-bit and 64-bit.
    @Test func theRootTablesNameTheFADTAndMADT() throws {
        let layout = try Self.layout()
        let fadt = try #require(layout.address(of: "FACP")), madt = try #require(layout.address(of: "APIC"))
        let rsdt = try Self.table("RSDT", in: layout), xsdt = try Self.table("XSDT", in: layout)
        #expect(rsdt.count == 36 + 8 && rsdt[8] == 1)
        #expect([u32(rsdt, 36), u32(rsdt, 40)] == [fadt, madt])
        #expect(xsdt.count == 36 + 16 && xsdt[8] == 1)
        #expect([u64(xsdt, 36), u64(xsdt, 44)] == [UInt64(fadt), UInt64(madt)])
    }

    // MARK: FADT (§5.2.9, Table 5.9)

    @Test func theFADTFields() throws {
        let layout = try Self.layout()
        let fadt = try Self.table("FACP", in: layout)
        let facs = try #require(layout.address(of: "FACS")), dsdt = try #require(layout.address(of: "DSDT"))
        #expect(fadt.count == 276)
        #expect(fadt[8] == 6)                                   // revision
        #expect(fadt[131] == 5)                                 // FADT minor version (ACPI 6.5)
        #expect(u32(fadt, 36) == facs && u64(fadt, 132) == UInt64(facs))    // FIRMWARE_CTRL, X_FIRMWARE_CTRL
        #expect(u32(fadt, 40) == dsdt && u64(fadt, 140) == UInt64(dsdt))    // DSDT, X_DSDT
        #expect(fadt[45] == 1)                                  // Preferred_PM_Profile: desktop
        #expect(u16(fadt, 46) == 9)                             // SCI_INT
        #expect(u32(fadt, 48) == 0xB2 && fadt[52] == 0x02 && fadt[53] == 0x03)  // SMI_CMD, ACPI_ENABLE, ACPI_DISABLE
        #expect(u32(fadt, 56) == 0x600 && u32(fadt, 60) == 0)   // PM1a_EVT_BLK, PM1b_EVT_BLK
        #expect(u32(fadt, 64) == 0x604 && u32(fadt, 68) == 0)   // PM1a_CNT_BLK, PM1b_CNT_BLK
        #expect(u32(fadt, 72) == 0)                             // PM2_CNT_BLK
        #expect(u32(fadt, 76) == 0x608)                         // PM_TMR_BLK
        #expect(u32(fadt, 80) == 0x620 && u32(fadt, 84) == 0)   // GPE0_BLK, GPE1_BLK
        #expect(Array(fadt[88..<94]) == [4, 2, 0, 4, 16, 0])    // PM1_EVT_LEN ... GPE1_BLK_LEN
        #expect(u16(fadt, 96) > 100 && u16(fadt, 98) > 1000)    // no C2, no C3
        #expect(fadt[108] == 0x32)                              // CENTURY
        #expect(u16(fadt, 109) == 0x0003)                       // IAPC_BOOT_ARCH: legacy devices, 8042
        let flags = u32(fadt, 112)
        #expect(flags & 1 << 10 != 0)                           // RESET_REG_SUP
        #expect(flags & 1 << 0 != 0 && flags & 1 << 2 != 0)     // WBINVD, PROC_C1
        #expect(flags & 1 << 4 == 0)                            // PWR_BUTTON clear: a fixed-feature power button
        #expect(flags & 1 << 8 == 0)                            // TMR_VAL_EXT clear: a 24-bit timer
        #expect(flags & 1 << 20 == 0)                           // not hardware-reduced
        #expect(Array(fadt[116..<120]) == [1, 8, 0, 1])         // RESET_REG: System I/O, 8 bits, offset 0, byte access
        #expect(u64(fadt, 120) == 0xCF9)
        #expect(fadt[128] == 0x06)                              // RESET_VALUE
        #expect(Array(fadt[148..<152]) == [1, 32, 0, 2] && u64(fadt, 152) == 0x600)  // X_PM1a_EVT_BLK
        #expect(fadt[160..<172].allSatisfy { $0 == 0 })         // X_PM1b_EVT_BLK
        #expect(Array(fadt[172..<176]) == [1, 16, 0, 2] && u64(fadt, 176) == 0x604)  // X_PM1a_CNT_BLK
        #expect(Array(fadt[208..<212]) == [1, 32, 0, 3] && u64(fadt, 212) == 0x608)  // X_PM_TMR_BLK
        #expect(Array(fadt[220..<224]) == [1, 128, 0, 1] && u64(fadt, 224) == 0x620) // X_GPE0_BLK
        #expect(fadt[232..<276].allSatisfy { $0 == 0 })         // X_GPE1_BLK, sleep registers, hypervisor ID
    }

    /// RESET_REG in each address space; in PCI configuration space the address holds the device
    /// in bits 47-32, the function in 31-16 and the offset in 15-0 (§5.2.3.2).
    @Test(arguments: [
        (ACPIResetRegister.systemIO(port: 0xCF9, value: 0x0E), [1, 8, 0, 1], 0xCF9, 0x0E),
        (.systemMemory(address: 0xFEDC_0000, value: 0x01), [0, 8, 0, 1], 0xFEDC_0000, 0x01),
        (.pciConfiguration(PCIFunctionAddress(device: 0x1F, function: 3), offset: 0xAC, value: 0x06),
         [2, 8, 0, 1], 0x0000_001F_0003_00AC, 0x06),
    ] as [(ACPIResetRegister, [UInt8], UInt64, UInt8)])
    func theResetRegisterInEachSpace(register: ACPIResetRegister, head: [UInt8], address: UInt64, value: UInt8) throws {
        var configuration = Self.configuration
        configuration.resetRegister = register
        let fadt = try Self.table("FACP", in: try Self.layout(configuration))
        #expect(u32(fadt, 112) & 1 << 10 != 0)
        #expect(Array(fadt[116..<120]) == head)
        #expect(u64(fadt, 120) == address)
        #expect(fadt[128] == value)
        #expect(ACPIChecksum.sum(fadt) == 0)
    }

    @Test func noResetRegister() throws {
        var configuration = Self.configuration
        configuration.resetRegister = .none
        let fadt = try Self.table("FACP", in: try Self.layout(configuration))
        #expect(u32(fadt, 112) & 1 << 10 == 0)
        #expect(fadt[116..<129].allSatisfy { $0 == 0 })
    }

    @Test func aBoardAlwaysInACPIModeHasNoSMICommand() throws {
        var configuration = Self.configuration
        configuration.modeControl = .alwaysEnabled
        let fadt = try Self.table("FACP", in: try Self.layout(configuration))
        #expect(u32(fadt, 48) == 0 && fadt[52] == 0 && fadt[53] == 0)
    }

    // MARK: MADT (§5.2.12)

    @Test func theMADT() throws {
        let madt = try Self.table("APIC", in: try Self.layout())
        #expect(madt[8] == 6)
        #expect(u32(madt, 36) == 0xFEE0_0000)                   // local APIC address
        #expect(u32(madt, 40) == 1)                             // PCAT_COMPAT
        var offset = 44
        for processor in 0..<4 {                                // Processor Local APIC: UID, APIC ID, enabled
            #expect(Array(madt[offset..<offset + 8]) == [0, 8, UInt8(processor), UInt8(processor), 1, 0, 0, 0])
            offset += 8
        }
        #expect(Array(madt[offset..<offset + 12]) == [1, 12, 0, 0, 0x00, 0x00, 0xC0, 0xFE, 0, 0, 0, 0])  // I/O APIC, GSI base 0
        offset += 12
        #expect(Array(madt[offset..<offset + 10]) == [2, 10, 0, 0, 2, 0, 0, 0, 0x00, 0x00])  // ISA IRQ 0 -> GSI 2
        offset += 10
        #expect(Array(madt[offset..<offset + 10]) == [2, 10, 0, 9, 9, 0, 0, 0, 0x0F, 0x00])  // SCI: level, active low
        offset += 10
        #expect(Array(madt[offset..<offset + 6]) == [4, 6, 0xFF, 0x05, 0x00, 1])  // every LINT1 is NMI
        #expect(offset + 6 == madt.count)
    }

    @Test(arguments: [1, 2, 255])
    func theMADTListsEveryProcessor(count: Int) throws {
        var configuration = Self.configuration
        configuration.processorCount = count
        let madt = try Self.table("APIC", in: try Self.layout(configuration))
        #expect(madt.count == 44 + 8 * count + 12 + 10 + 10 + 6)
        #expect(Array(madt[44 + 8 * (count - 1)..<44 + 8 * count]) == [0, 8, UInt8(count - 1), UInt8(count - 1), 1, 0, 0, 0])
    }

    // MARK: FACS (§5.2.10)

    @Test func theFACS() throws {
        let layout = try Self.layout()
        let facs = try Self.table("FACS", in: layout)
        #expect(facs.count == 64)
        #expect(u32(facs, 4) == 64)
        #expect(u32(facs, 12) == 0 && u64(facs, 24) == 0)       // waking vectors
        #expect(u32(facs, 16) == 0)                             // global lock free
        #expect(u32(facs, 20) == 0)                             // flags
        #expect(facs[32] == 2)                                  // version
        #expect(try #require(layout.address(of: "FACS")) % 64 == 0)
        var other = Self.configuration
        other.processorCount = 2
        #expect(u32(facs, 8) != u32(try Self.table("FACS", in: try Self.layout(other)), 8), "hardware signature")
    }

    // MARK: DSDT

    /// `\_S0`, `\_S3`, `\_S5` give the configured SLP_TYP for PM1a and PM1b.
    @Test func theSleepPackages() throws {
        var configuration = Self.configuration
        configuration.sleepTypes = ACPISleepTypes(s0: 0, s3: 1, s5: 2)
        let dsdt = try Self.table("DSDT", in: try Self.layout(configuration))
        #expect(dsdt[8] == 2)
        for (state, type) in [("0", 0x00), ("3", 0x01), ("5", 0x0A)] as [(String, UInt8)] {
            let element: [UInt8] = type == 0 ? [0x00] : type == 1 ? [0x01] : [0x0A, 0x02]
            let package = [0x12, UInt8(4 + 2 * element.count), 0x04] + element + element + [0x00, 0x00]
            let name = [0x08] + Array("_S\(state)_".utf8)
            #expect(contains(dsdt, name + package), "\\_S\(state)")
        }
    }

    /// A configured panic device appears under the LPC bridge as `PEVT`, `_HID` "QEMU0001",
    /// with its port; without one there is no `PEVT`.
    @Test func thePanicDevice() throws {
        var configuration = Self.configuration
        #expect(!contains(try Self.table("DSDT", in: try Self.layout(configuration)), Array("PEVT".utf8)))
        configuration.panicDevicePort = 0x505
        let dsdt = try Self.table("DSDT", in: try Self.layout(configuration))
        let device: [UInt8] = Array("PEVT".utf8) + [0x08] + Array("_HID".utf8) + [0x0D] + Array("QEMU0001".utf8) + [0x00]
            + [0x08] + Array("_CRS".utf8) + [0x11, 0x0D, 0x0A, 0x0A, 0x47, 0x01, 0x05, 0x05, 0x05, 0x05, 0x01, 0x01, 0x79, 0x00]
        #expect(contains(dsdt, device))
    }

    // MARK: Bad configurations and placements

    @Test(arguments: [
        (changed { $0.processorCount = 0 }, ACPIConfigurationError.processorCount(0)),
        (changed { $0.processorCount = 256 }, .processorCount(256)),
        (changed { $0.resetRegister = .pciConfiguration(PCIFunctionAddress(device: 32, function: 0), offset: 0, value: 6) },
         .pciFunction(PCIFunctionAddress(device: 32, function: 0))),
        (changed { $0.resetRegister = .pciConfiguration(PCIFunctionAddress(device: 31, function: 0), offset: 0x100, value: 6) },
         .pciConfigurationOffset(0x100)),
        (changed { $0.resetRegister = .systemMemory(address: 1 << 32, value: 1) }, .resetRegisterAddress(1 << 32)),
        (changed { $0.powerManagementBase = 0 }, .powerManagementBase(0)),
        (changed { $0.powerManagementBase = 0xFFE0 }, .powerManagementBase(0xFFE0)),
        (changed { $0.sciInterrupt = 2 }, .sciInterrupt(2)),
        (changed { $0.sciInterrupt = 16 }, .sciInterrupt(16)),
        (changed { $0.modeControl = .smiCommand(port: 0, enable: 1, disable: 2) }, .modeControl(.smiCommand(port: 0, enable: 1, disable: 2))),
        (changed { $0.modeControl = .smiCommand(port: 0xB2, enable: 1, disable: 1) }, .modeControl(.smiCommand(port: 0xB2, enable: 1, disable: 1))),
        (changed { $0.sleepTypes = ACPISleepTypes(s0: 0, s3: 8, s5: 7) }, .sleepType(state: 3, value: 8)),
        (changed { $0.sleepTypes = ACPISleepTypes(s0: 0, s3: 5, s5: 5) }, .duplicateSleepTypes(ACPISleepTypes(s0: 0, s3: 5, s5: 5))),
        (changed { $0.pciMemoryWindowStart = 0xFFFF }, .pciMemoryWindowStart(0xFFFF)),
        (changed { $0.pciMemoryWindowStart = 0xFEC0_0000 }, .pciMemoryWindowStart(0xFEC0_0000)),
        (changed { $0.centuryIndex = 0x0D }, .centuryIndex(0x0D)),
        (changed { $0.ioAPICID = 16 }, .ioAPICID(16)),
        (changed { $0.lpcBridge = PCIFunctionAddress(device: 31, function: 8) }, .pciFunction(PCIFunctionAddress(device: 31, function: 8))),
    ] as [(ACPIConfiguration, ACPIConfigurationError)])
    func aConfigurationTheTablesCannotDescribeIsRejected(configuration: ACPIConfiguration, error: ACPIConfigurationError) {
        #expect(throws: error) { try ACPITables(configuration) }
    }

    /// The test configuration with `change` made.
    static func changed(_ change: (inout ACPIConfiguration) -> Void) -> ACPIConfiguration {
        var configuration = configuration
        change(&configuration)
        return configuration
    }

    @Test(arguments: [0xF_6A48, 0xD_FFF0, 0xF_FFE0, 0xFFFF_FFF0] as [UInt32])
    func theRSDPMustBeOnA16ByteBoundaryInTheBIOSArea(address: UInt32) throws {
        let tables = try ACPITables(Self.configuration)
        #expect(throws: ACPILayoutError.rsdpAddress(address)) { try tables.layout(at: Self.tablesBase, rsdpAddress: address) }
        #expect(throws: Never.self) { try tables.layout(at: Self.tablesBase, rsdpAddress: 0xF_FFD0) }
    }

    @Test func theTablesMustEndBelow4GiB() throws {
        let tables = try ACPITables(Self.configuration)
        #expect(throws: ACPILayoutError.self) { try tables.layout(at: 0xFFFF_FF00, rsdpAddress: Self.rsdpAddress) }
    }
}

func u16(_ bytes: [UInt8], _ offset: Int) -> UInt16 {
    UInt16(bytes[offset]) | UInt16(bytes[offset + 1]) << 8
}

func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
}

func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
    (0..<8).reduce(0) { $0 | UInt64(bytes[offset + $1]) << (8 * $1) }
}

func contains(_ bytes: [UInt8], _ sequence: [UInt8]) -> Bool {
    bytes.indices.contains { bytes[$0...].starts(with: sequence) }
}
