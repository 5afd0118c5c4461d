import Hardware
import Testing

/// QEMU's pvpanic ISA device: reads give the supported events, writes report them.
@Suite struct PVPanicTests {
    @Test func readsTheSupportedEvents() {
        let panic = PVPanic()
        #expect(panic.portRanges == [0x505...0x505])
        #expect(panic.readPort(0x505, size: 1) == 0x03)
    }

    @Test(arguments: [(UInt32(0x01), UInt8?(0x01)), (0x02, 0x02), (0x03, 0x03), (0xFF, 0x03), (0x00, nil), (0x04, nil), (0xFC, nil)])
    func writesReportTheSupportedBits(value: UInt32, reported: UInt8?) {
        let panic = PVPanic()
        var events: [UInt8] = []
        panic.onEvent = { events.append($0) }
        panic.writePort(0x505, size: 1, value: value)
        #expect(events == (reported.map { [$0] } ?? []))
    }

    @Test func onlyByteAccessesAreDecoded() {
        let panic = PVPanic()
        #expect(panic.decodes(port: 0x505, size: 1))
        #expect(!panic.decodes(port: 0x505, size: 2))
        #expect(!panic.decodes(port: 0x505, size: 4))
    }

    @Test func eventNames() {
        #expect(PVPanic.eventNames(0x03) == ["panicked", "crash-loaded"])
        #expect(PVPanic.eventNames(0x02) == ["crash-loaded"])
    }
}
