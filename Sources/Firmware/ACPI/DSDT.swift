/// The Differentiated System Description Table, signature `DSDT`, revision 2 (ACPI 6.5
/// §5.2.11.1; revision 2 makes AML integers 64 bits wide): the header, then the AML definition
/// block of the board, whose names are relative to the root —
///
/// ```
/// Name (_S0, Package (4) {S0, S0, 0, 0})      // and _S3, _S5: SLP_TYP for PM1a and PM1b
/// Scope (_SB) {
///     Device (C000) { Name (_HID, "ACPI0007") Name (_UID, 0) }   // one per processor
///     Device (PWRB) { Name (_HID, EISAID ("PNP0C0C")) }          // the power button
///     Device (MBRS) { PNP0C02: the power-management block and a memory-mapped reset register }
///     Device (PCI0) {                                            // the PCI host bridge
///         Name (_HID, EISAID ("PNP0A03")) Name (_UID, 0)          // no _ADR beside a _HID (§6.1)
///         Name (_CRS, ResourceTemplate () { buses 0-FF, ports CF8-CFF, 0-CF7, D00-FFFF,
///                                           memory A0000-BFFFF and the window above RAM })
///         Device (LPCB) { Name (_ADR, ...) COM1, RTC, PIC, TMR, KBD, PEVT }  // the LPC bridge
///     }
/// }
/// ```
enum DSDT {
    static let revision: UInt8 = 2

    static func table(_ configuration: ACPIConfiguration) -> ACPITable {
        ACPITable(signature: "DSDT", revision: revision, body: definitions(configuration).amlBytes)
    }

    /// The definition block's terms.
    static func definitions(_ configuration: ACPIConfiguration) -> [AMLStatement] {
        let sleep = configuration.sleepTypes
        return [
            sleepPackage("_S0", sleep.s0),
            sleepPackage("_S3", sleep.s3),
            sleepPackage("_S5", sleep.s5),
            .scope("_SB", processors(configuration.processorCount) + [
                .device("PWRB", [.name("_HID", .eisaID("PNP0C0C"))]),
                motherboardResources(configuration),
                .device("PCI0", [
                    .name("_HID", .eisaID("PNP0A03")),
                    .name("_UID", 0),
                    .name("_CRS", .resourceTemplate(hostBridgeResources(configuration))),
                    .device("LPCB", [.name("_ADR", .integer(configuration.lpcBridge.acpiAddress))]
                            + LegacyDevices.all + LegacyDevices.panicDevice(configuration.panicDevicePort)),
                ]),
            ]),
        ]
    }

    /// `Name (state, Package (4) {type, type, 0, 0})`: the SLP_TYP values for PM1a_CNT and
    /// PM1b_CNT, then two reserved elements (ACPI 6.5 §7.4.2).
    static func sleepPackage(_ state: AMLNameString, _ type: UInt8) -> AMLStatement {
        .name(state, .package([.integer(UInt64(type)), .integer(UInt64(type)), 0, 0]))
    }

    /// One processor device (`ACPI0007`, ACPI 6.5 §8.4) per processor, named `C` and three
    /// hexadecimal digits, whose `_UID` matches its MADT processor UID.
    static func processors(_ count: Int) -> [AMLStatement] {
        (0..<count).map { index in
            let digits = String(index, radix: 16, uppercase: true)
            let name = AMLNameSegment(stringLiteral: "C" + String(repeating: "0", count: 3 - digits.count) + digits)
            return .device(AMLNameString(segments: [name]), [.name("_HID", "ACPI0007"), .name("_UID", .integer(UInt64(index)))])
        }
    }

    /// The resources the board decodes that no other device claims (`PNP0C02`, "motherboard
    /// resources"), so the OS never hands them to a PCI device: the power-management block and
    /// SMI_CMD, and a reset register in System Memory.
    static func motherboardResources(_ configuration: ACPIConfiguration) -> AMLStatement {
        var resources: [AMLResourceDescriptor] = [
            .fixedIO(configuration.powerManagementBase, length: UInt8(ACPIPowerManagementBlock.size)),
        ]
        if case .smiCommand(let port, _, _) = configuration.modeControl {
            resources.append(.fixedIO(port, length: 1))
        }
        if case .systemMemory(let address, _) = configuration.resetRegister {
            resources.append(.fixedMemory32(base: UInt32(address), length: 1, writable: true))
        }
        return .device("MBRS", [
            .name("_HID", .eisaID("PNP0C02")),
            .name("_UID", 0),
            .name("_CRS", .resourceTemplate(AMLResourceTemplate(resources))),
        ])
    }

    /// What the PCI host bridge decodes and passes on: every bus number, the configuration
    /// ports CF8h–CFFh (which it consumes), the I/O ports below and above them, the legacy
    /// VGA memory A0000h–BFFFFh, and the memory window from the end of RAM to FEBFFFFFh.
    static func hostBridgeResources(_ configuration: ACPIConfiguration) -> AMLResourceTemplate {
        AMLResourceTemplate([
            .wordBusNumber(0x00...0xFF),
            .io(AMLIOPortDescriptor(decodes16Bit: true, minimum: 0xCF8, maximum: 0xCF8, alignment: 1, length: 8)),
            .wordIO(0x0000...0x0CF7),
            .wordIO(0x0D00...0xFFFF),
            .dwordMemory(0x000A_0000...0x000B_FFFF, cacheability: .cacheable),
            .dwordMemory(configuration.pciMemoryWindowStart...ACPIConfiguration.pciMemoryWindowEnd,
                         cacheability: .nonCacheable),
        ])
    }
}

/// The PC's legacy devices behind the LPC bridge, each with its PnP ID and the ports and ISA
/// interrupt it decodes (ACPI 6.5 §6.1.5 `_HID`, §6.2.2 `_CRS`).
enum LegacyDevices {
    static let all: [AMLStatement] = [
        // A 16550A-compatible serial port, COM1.
        device("COM1", "PNP0501", uid: 1, [.fixedIO(0x3F8, length: 8), .irqNoFlags(4)]),
        // The MC146818 real-time clock and CMOS.
        device("RTC", "PNP0B00", [.fixedIO(0x70, length: 2), .irqNoFlags(8)]),
        // The two 8259 interrupt controllers; IRQ 2 is their cascade.
        device("PIC", "PNP0000", [.fixedIO(0x20, length: 2), .fixedIO(0xA0, length: 2), .irqNoFlags(2)]),
        // The 8254 interval timer.
        device("TMR", "PNP0100", [.fixedIO(0x40, length: 4), .irqNoFlags(0)]),
        // The 8042 keyboard controller: data port 60h, command/status port 64h.
        device("KBD", "PNP0303", [.fixedIO(0x60, length: 1), .fixedIO(0x64, length: 1), .irqNoFlags(1)]),
    ]

    /// The pvpanic device at `port`, if there is one: `_HID` "QEMU0001" (a string, as QEMU
    /// gives it), one port.
    static func panicDevice(_ port: UInt16?) -> [AMLStatement] {
        guard let port else { return [] }
        return [.device("PEVT", [
            .name("_HID", "QEMU0001"),
            .name("_CRS", .resourceTemplate(AMLResourceTemplate([.fixedIO(port, length: 1)]))),
        ])]
    }

    static func device(_ name: AMLNameString, _ id: EISAID, uid: UInt64? = nil,
                       _ resources: [AMLResourceDescriptor]) -> AMLStatement {
        .device(name, [.name("_HID", .eisaID(id))] + (uid.map { [.name("_UID", .integer($0))] } ?? [])
                + [.name("_CRS", .resourceTemplate(AMLResourceTemplate(resources)))])
    }
}
