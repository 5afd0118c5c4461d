import Firmware
import Machine
import Testing
import X86

/// The firmware counts the processors with INIT and start-up IPIs, parks them, and publishes
/// MP specification 1.4 tables in the EBDA on every boot.
@Suite struct MultiprocessorTableTests {
    static let ebda = 0x9_F000

    /// The tables as an operating system finds them: the floating pointer in the EBDA's first
    /// KiB (which BDA 40Eh points at), checksummed, naming a checksummed configuration table
    /// with one enabled processor entry per CPU (the BSP flagged), the ISA bus, the I/O APIC
    /// and the ISA interrupt wiring; every AP is back waiting for a start-up IPI.
    @Test(arguments: [1, 2, 4, 16])
    func firmwarePublishesEveryProcessor(count: Int) throws {
        let run = try TestBoard.run(payload: SmallGuest.haltForever(interruptsEnabled: false)) {
            $0.processorCount = count
        }
        let memory = run.machine
        let bda = memory.readMemory(0x40E, count: 8)
        #expect(Int(bda[0]) | Int(bda[1]) << 8 == Self.ebda >> 4)
        #expect(Int(bda[5]) | Int(bda[6]) << 8 == 636, "base memory in KiB at 413h")

        let pointer = memory.readMemory(UInt64(Self.ebda), count: 16)
        #expect(Array(pointer[0..<4]) == Array("_MP_".utf8))
        #expect(pointer.reduce(0, &+) == 0, "floating pointer checksum")
        #expect(pointer[8] == 1 && pointer[9] == 4 && pointer[11...].allSatisfy { $0 == 0 }, "length, revision, virtual wire")
        let tableAddress = UInt64(pointer.le32(at: 4))
        #expect(tableAddress == UInt64(Self.ebda + 0x40))

        let header = memory.readMemory(tableAddress, count: 44)
        #expect(Array(header[0..<4]) == Array("PCMP".utf8))
        let length = Int(header[4]) | Int(header[5]) << 8
        let table = memory.readMemory(tableAddress, count: length)
        #expect(table.reduce(0, &+) == 0, "configuration table checksum")
        #expect(length == 44 + 20 * count + 8 + 8 + 15 * 8 + 2 * 8)
        #expect(Int(table[34]) | Int(table[35]) << 8 == count + 19, "entry count")
        #expect(table.le32(at: 36) == 0xFEE0_0000)

        let identity = CPUIDIdentity.leaf(1, apicID: 0, localAPIC: true)
        for index in 0..<count {
            let entry = Array(table[(44 + 20 * index)..<(64 + 20 * index)])
            #expect(entry[0] == 0 && entry[1] == UInt8(index) && entry[2] == 0x14)
            #expect(entry[3] == (index == 0 ? 3 : 1), "enabled, BSP flag on the first only")
            #expect(entry.le32(at: 4) == identity.eax && entry.le32(at: 8) == identity.edx)
        }
        // The firmware's own rendering of the whole table, to the byte.
        #expect(table == MultiprocessorTable.configurationTable(processors: (0..<count).map(UInt8.init),
                                                                signature: identity.eax, features: identity.edx))
        let ioAPIC = 44 + 20 * count + 8
        #expect(Array(table[ioAPIC..<ioAPIC + 8]) == [2, 0, 0x20, 1, 0x00, 0x00, 0xC0, 0xFE])
        let irq0 = ioAPIC + 8
        #expect(Array(table[irq0..<irq0 + 8]) == [3, 0, 0, 0, 0, 0, 0, 2], "ISA IRQ 0 on I/O APIC pin 2")

        for ap in run.machine.cpus.dropFirst() { #expect(ap.activity == .waitingForStartup) }
        let milestone = try #require(run.records.firstIndex { $0.event["milestone"] == "processors" })
        let startUps = run.records[..<milestone].filter { $0.event.name == "sipi" }.map(\.event.cpu)
        #expect(startUps == (1..<count).map(Optional.init), "one start-up IPI took every AP")
    }
}
