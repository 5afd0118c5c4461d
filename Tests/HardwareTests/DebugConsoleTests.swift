import Hardware
import Testing

@Suite struct DebugConsoleTests {
    @Test func writtenBytesGoToTheOutputInOrder() {
        var written: [UInt8] = []
        let console = DebugConsole(port: 0xE9) { written += $0 }
        for byte in "Hi\n".utf8 { console.writePort(0xE9, size: 1, value: UInt32(byte)) }
        #expect(written == Array("Hi\n".utf8))
    }

    @Test func readsReturnE9ForDetection() {
        let console = DebugConsole(port: 0x402) { _ in }
        #expect(console.readPort(0x402, size: 1) == 0xE9)
    }

    @Test func decodesTheConfiguredPort() {
        let console = DebugConsole(port: 0x402) { _ in }
        #expect(console.portRanges == [0x402...0x402])
    }
}
