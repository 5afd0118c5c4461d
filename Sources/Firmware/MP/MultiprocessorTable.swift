/// The Intel MultiProcessor Specification 1.4 tables of this board (MP specification,
/// chapter 4), through which a kernel finds the processors, the I/O APIC and the ISA
/// interrupt wiring without ACPI.
///
/// The ROM builds them on every boot in the extended BIOS data area: the floating pointer
/// at its start (where an operating system looks first, section 4), the configuration table
/// after the ACPI RSDP's slot. The parts that do not depend on the processors come from here
/// as bytes; the ROM writes one processor entry per CPU that checked in, then patches the
/// table's length, entry count and checksum (`ProcessorCount.swift`).
///
/// The board is in virtual-wire mode (IMCRP clear): the 8259 reaches the BSP through LINT0
/// in ExtINT mode, as the ROM programs it. ISA IRQ 0 is wired to I/O APIC pin 2, every other
/// ISA IRQ to its own pin, all conforming to the ISA bus (edge, active high).
public enum MultiprocessorTable {
    /// Where the floating pointer structure lies: the start of the EBDA.
    public static let floatingPointerAddress = UInt32(MemoryMap.conventionalMemoryEnd)
    /// Where the configuration table lies: past the floating pointer and the RSDP's slot.
    public static let configurationTableAddress = floatingPointerAddress + 0x40
    public static let localAPICAddress: UInt32 = 0xFEE0_0000
    public static let localAPICVersion: UInt8 = 0x14
    public static let ioAPICID: UInt8 = 0
    public static let ioAPICVersion: UInt8 = 0x20
    public static let ioAPICAddress: UInt32 = 0xFEC0_0000
    /// The ISA bus's ID.
    public static let isaBus: UInt8 = 0

    /// Byte offsets in the configuration table header that the ROM fills in.
    public static let baseTableLengthOffset = 4
    public static let checksumOffset = 7
    public static let entryCountOffset = 34
    /// Bytes of the header, and of a processor entry.
    public static let headerLength = 44
    public static let processorEntryLength = 20

    /// Entry types (MP specification, Table 4-3).
    enum EntryType: UInt8 {
        case processor = 0, bus = 1, ioAPIC = 2, ioInterrupt = 3, localInterrupt = 4
    }

    /// Interrupt types of the interrupt assignment entries (Table 4-9).
    enum InterruptType: UInt8 {
        case vectored = 0, nmi = 1, smi = 2, externalInterrupt = 3
    }

    /// The floating pointer structure (Table 4-1): "_MP_", the configuration table's address,
    /// length 1 (16 bytes), revision 1.4, checksum; no default configuration; IMCRP clear.
    public static var floatingPointer: [UInt8] {
        var bytes = Array("_MP_".utf8)
        bytes.append(uint32: configurationTableAddress)
        bytes += [1, 4, 0, 0, 0, 0, 0, 0]
        bytes[10] = checksum(of: bytes)
        return bytes
    }

    /// The configuration table header (Table 4-2) with its length, entry count and checksum
    /// still zero.
    public static var headerTemplate: [UInt8] {
        var bytes = Array("PCMP".utf8)
        bytes += [0, 0, 4, 0]                             // base table length, revision 1.4, checksum
        bytes += Array("RSTVEC  ".utf8)                   // OEM ID
        bytes += Array("RESETVECTOR ".utf8)               // product ID
        bytes += [0, 0, 0, 0, 0, 0, 0, 0]                 // OEM table pointer, size, entry count
        bytes.append(uint32: localAPICAddress)
        bytes += [0, 0, 0, 0]                             // extended table length, checksum, reserved
        return bytes
    }

    /// A processor entry (Table 4-4): enabled, the BSP flagged, with the CPUID.01H signature
    /// (EAX) and feature flags (EDX) of the processor.
    public static func processorEntry(apicID: UInt8, isBootstrap: Bool, signature: UInt32, features: UInt32) -> [UInt8] {
        var bytes = [EntryType.processor.rawValue, apicID, localAPICVersion, isBootstrap ? 3 : 1]
        bytes.append(uint32: signature)
        bytes.append(uint32: features)
        return bytes + [UInt8](repeating: 0, count: 8)
    }

    /// The entries that follow the processors: the ISA bus (Table 4-5), the I/O APIC
    /// (Table 4-6), an interrupt assignment for each ISA IRQ but the cascade (Table 4-7),
    /// and the local interrupts: ExtINT on the BSP's LINT0, NMI on every LINT1 (Table 4-8).
    public static var fixedEntries: [UInt8] { fixedEntryList.flatMap { $0 } }

    /// How many entries `fixedEntries` holds.
    public static var fixedEntryCount: Int { fixedEntryList.count }

    private static var fixedEntryList: [[UInt8]] {
        var ioAPIC = [EntryType.ioAPIC.rawValue, ioAPICID, ioAPICVersion, 1]
        ioAPIC.append(uint32: ioAPICAddress)
        var entries = [[EntryType.bus.rawValue, isaBus] + Array("ISA   ".utf8), ioAPIC]
        for irq in UInt8(0)..<16 where irq != 2 {
            entries.append([EntryType.ioInterrupt.rawValue, InterruptType.vectored.rawValue, 0, 0, isaBus, irq, ioAPICID,
                            irq == 0 ? 2 : irq])
        }
        entries.append([EntryType.localInterrupt.rawValue, InterruptType.externalInterrupt.rawValue, 0, 0, isaBus, 0, 0, 0])
        entries.append([EntryType.localInterrupt.rawValue, InterruptType.nmi.rawValue, 0, 0, isaBus, 0, 0xFF, 1])
        return entries
    }

    /// The configuration table the ROM builds for `processors` (APIC IDs, the BSP's first).
    public static func configurationTable(processors: [UInt8], signature: UInt32, features: UInt32) -> [UInt8] {
        var bytes = headerTemplate
        for (index, id) in processors.enumerated() {
            bytes += processorEntry(apicID: id, isBootstrap: index == 0, signature: signature, features: features)
        }
        bytes += fixedEntries
        bytes[baseTableLengthOffset] = UInt8(truncatingIfNeeded: bytes.count)
        bytes[baseTableLengthOffset + 1] = UInt8(truncatingIfNeeded: bytes.count >> 8)
        bytes[entryCountOffset] = UInt8(processors.count + fixedEntryCount)
        bytes[checksumOffset] = checksum(of: bytes)
        return bytes
    }

    /// The byte that makes `bytes` sum to zero.
    static func checksum(of bytes: [UInt8]) -> UInt8 {
        0 &- bytes.reduce(0, &+)
    }
}
