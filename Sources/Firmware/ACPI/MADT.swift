/// The Multiple APIC Description Table, signature `APIC`, revision 6 (ACPI 6.5 §5.2.12): the
/// local APIC address, the PCAT_COMPAT flag (the board also has dual 8259s), then one
/// structure per interrupt controller and routing exception.
enum MADT {
    static let revision: UInt8 = 6
    /// Flags bit 0: dual 8259 PICs are present too (the OS must mask them in APIC mode).
    static let pcatCompatible: UInt32 = 1
    /// MPS INTI flags (ACPI 6.5 Table 5.26): bits 1–0 polarity (01b active high, 11b active
    /// low), bits 3–2 trigger mode (01b edge, 11b level); 0 conforms to the bus (ISA: edge,
    /// active high).
    static let conformsToBus: UInt16 = 0x0000
    static let levelActiveLow: UInt16 = 0x000F
    static let edgeActiveHigh: UInt16 = 0x0005
    /// "Every processor" as a processor UID in a local APIC NMI structure.
    static let allProcessors: UInt8 = 0xFF

    /// The table for `configuration`: a Processor Local APIC (type 0, ACPI 6.5 §5.2.12.2) for
    /// each processor, enabled; the I/O APIC (type 1, §5.2.12.3) with global system interrupts
    /// from 0; Interrupt Source Overrides (type 2, §5.2.12.5) for ISA IRQ 0 → GSI 2 (the
    /// 8254 on I/O APIC pin 2) and for the SCI (level, active low); and a Local APIC NMI
    /// (type 4, §5.2.12.7) saying every processor's LINT1 is wired to NMI.
    static func table(_ configuration: ACPIConfiguration) -> ACPITable {
        var body: [UInt8] = []
        body.append(littleEndian: UInt64(configuration.localAPICAddress), size: 4)
        body.append(littleEndian: UInt64(pcatCompatible), size: 4)
        for processor in 0..<configuration.processorCount {
            body += [0, 8, UInt8(processor), UInt8(processor)] + littleEndian(1, size: 4)
        }
        body += [1, 12, configuration.ioAPICID, 0] + littleEndian(UInt64(configuration.ioAPICAddress), size: 4)
            + littleEndian(0, size: 4)
        for (irq, gsi, flags) in [(UInt8(0), UInt32(2), conformsToBus),
                                  (configuration.sciInterrupt, UInt32(configuration.sciInterrupt), levelActiveLow)] {
            body += [2, 10, 0, irq] + littleEndian(UInt64(gsi), size: 4) + littleEndian(UInt64(flags), size: 2)
        }
        body += [4, 6, allProcessors] + littleEndian(UInt64(edgeActiveHigh), size: 2) + [1]
        return ACPITable(signature: "APIC", revision: revision, body: body)
    }
}
