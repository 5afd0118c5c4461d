import Hardware
import Testing

/// PC16550D behaviour as seen through COM1's ports.
@Suite struct Uart16550Tests {
    let platform = FakePlatform()
    let uart: Uart16550
    /// Every byte the UART transmitted.
    let transmitted = Transmitted()

    final class Transmitted {
        var bytes: [UInt8] = []
    }

    // Register offsets.
    static let data: UInt16 = 0, interruptEnable: UInt16 = 1, interruptIdentification: UInt16 = 2
    static let fifoControl: UInt16 = 2, lineControl: UInt16 = 3, modemControl: UInt16 = 4
    static let lineStatus: UInt16 = 5, modemStatus: UInt16 = 6, scratch: UInt16 = 7

    init() {
        uart = Uart16550(platform: platform)
        uart.output = { [transmitted] in transmitted.bytes.append($0) }
    }

    private func write(_ offset: UInt16, _ value: UInt8) {
        uart.writePort(0x3F8 + offset, size: 1, value: UInt32(value))
    }

    private func read(_ offset: UInt16) -> UInt8 {
        UInt8(truncatingIfNeeded: uart.readPort(0x3F8 + offset, size: 1))
    }

    private var irq4: Bool { platform.interruptLines[4] }

    /// 9600 baud (divisor 12), 8 data bits, no parity, 1 stop bit: 10 bits per character.
    private func program9600EightNOne() {
        write(Self.lineControl, 0x80)
        write(Self.data, 12)
        write(Self.interruptEnable, 0)  // DLM
        write(Self.lineControl, 0x03)
    }

    @Test func decodesEightPortsFromTheBase() {
        #expect(uart.portRanges == [0x3F8...0x3FF])
        let com2 = Uart16550(platform: platform, basePort: 0x2F8, irq: 3)
        #expect(com2.portRanges == [0x2F8...0x2FF])
    }

    @Test func bytesWrittenToTHRReachTheOutputMaskedToTheWordLength() {
        program9600EightNOne()
        for byte in Array("Hi\n".utf8) + [0xC3] { write(Self.data, byte) }
        #expect(transmitted.bytes == [0x48, 0x69, 0x0A, 0xC3])
        write(Self.lineControl, 0x02)  // 7 data bits: bit 7 is not sent
        write(Self.data, 0xC3)
        #expect(transmitted.bytes.last == 0x43)
        #expect(read(Self.lineStatus) == 0x60, "instant transmission: THRE and TEMT stay set")
    }

    @Test func powerOnAndResetRegisterValues() {
        #expect(read(Self.interruptEnable) == 0)
        #expect(read(Self.interruptIdentification) == 0x01)
        #expect(read(Self.lineControl) == 0)
        #expect(read(Self.modemControl) == 0)
        #expect(read(Self.lineStatus) == 0x60)

        write(Self.interruptEnable, 0x0F)
        write(Self.fifoControl, 0xC1)
        write(Self.lineControl, 0x1B)
        write(Self.modemControl, 0x0B)
        write(Self.scratch, 0x5A)
        uart.receive([1, 2])
        #expect(irq4)
        uart.reset(.initSignal)
        #expect(read(Self.lineControl) == 0x1B, "INIT does not reach the UART")

        uart.reset(.hard)
        #expect(!irq4)
        #expect(read(Self.interruptEnable) == 0)
        #expect(read(Self.interruptIdentification) == 0x01, "FIFOs off: IIR bits 7-6 clear")
        #expect(read(Self.lineControl) == 0)
        #expect(read(Self.modemControl) == 0)
        #expect(read(Self.lineStatus) == 0x60, "receiver emptied")
        #expect(read(Self.scratch) == 0x5A, "master reset leaves the scratch register")
        uart.reset(.full)
        #expect(read(Self.scratch) == 0)
    }

    @Test func divisorLatchIsReachedThroughDLAB() {
        write(Self.interruptEnable, 0x05)
        write(Self.lineControl, 0x83)
        write(Self.data, 0x34)
        write(Self.interruptEnable, 0x12)
        #expect(read(Self.data) == 0x34)
        #expect(read(Self.interruptEnable) == 0x12)
        #expect(transmitted.bytes.isEmpty, "a DLL write is not a THR write")
        write(Self.lineControl, 0x03)
        #expect(read(Self.interruptEnable) == 0x05, "IER untouched by the DLM write")
        write(Self.data, 0x41)
        #expect(transmitted.bytes == [0x41])
        write(Self.lineControl, 0x83)
        #expect(read(Self.data) == 0x34 && read(Self.interruptEnable) == 0x12)
    }

    @Test func scratchRegisterHoldsAnyByte() {
        write(Self.scratch, 0xA5)
        #expect(read(Self.scratch) == 0xA5)
    }

    @Test func interruptIdentificationFollowsDatasheetPriority() {
        // Loopback gives modem-status changes and lets THR writes reach the receiver.
        write(Self.lineControl, 0x03)
        write(Self.interruptEnable, 0x0F)
        write(Self.modemControl, 0x11)
        write(Self.data, 0x61)
        write(Self.data, 0x62)  // second character without FIFOs: overrun
        #expect(read(Self.interruptIdentification) == 0x06, "receiver line status first")
        #expect(read(Self.lineStatus) == 0x63, "DR, OE, THRE, TEMT")
        #expect(read(Self.interruptIdentification) == 0x04, "then received data available")
        #expect(read(Self.data) == 0x62, "the overrun overwrote the RBR")
        #expect(read(Self.interruptIdentification) == 0x02, "then THR empty")
        #expect(read(Self.interruptIdentification) == 0x00, "the IIR read cleared THRE; modem status last")
        #expect(read(Self.modemStatus) == 0x29, "DSR on; DCTS and DDCD as CTS and DCD dropped")
        #expect(read(Self.interruptIdentification) == 0x01)
    }

    @Test func transmitterEmptyInterruptRaisedByEnablingClearedByIIRRead() {
        write(Self.modemControl, 0x08)
        #expect(!irq4)
        write(Self.interruptEnable, 0x02)
        #expect(irq4, "enabling ETBEI while THR is empty interrupts")
        #expect(read(Self.interruptIdentification) == 0x02)
        #expect(!irq4)
        #expect(read(Self.interruptIdentification) == 0x01)
        write(Self.data, 0x41)
        #expect(irq4, "the THR empties again at once after a write")
        write(Self.interruptEnable, 0x00)
        #expect(!irq4)
        write(Self.interruptEnable, 0x02)
        #expect(read(Self.interruptIdentification) == 0x02, "toggling IER re-arms it")
    }

    @Test func receivedDataInterruptLastsUntilRBRIsRead() {
        write(Self.lineControl, 0x03)
        write(Self.modemControl, 0x08)
        write(Self.interruptEnable, 0x01)
        uart.receive([0x7A])
        #expect(irq4)
        #expect(read(Self.lineStatus) == 0x61)
        #expect(read(Self.interruptIdentification) == 0x04)
        #expect(read(Self.interruptIdentification) == 0x04, "an IIR read does not clear it")
        #expect(irq4)
        #expect(read(Self.data) == 0x7A)
        #expect(!irq4)
        #expect(read(Self.interruptIdentification) == 0x01)
        #expect(read(Self.lineStatus) == 0x60)
    }

    @Test func fifoModeShowsInIIRAndFillsToTriggerLevels() {
        write(Self.interruptEnable, 0x01)
        for (bits, level) in [(0x00, 1), (0x40, 4), (0x80, 8), (0xC0, 14)] as [(UInt8, Int)] {
            write(Self.fifoControl, bits | 0x03)  // enable, reset the receiver FIFO
            #expect(read(Self.interruptIdentification) == 0xC1)
            uart.receive([UInt8](repeating: 0x55, count: level - 1))
            #expect(read(Self.interruptIdentification) == 0xC1, "level \(level): below the trigger")
            uart.receive([0x55])
            #expect(read(Self.interruptIdentification) == 0xC4, "level \(level): trigger reached")
            _ = read(Self.data)
            #expect(read(Self.interruptIdentification) == 0xC1, "level \(level): below again")
        }
        write(Self.fifoControl, 0x00)
        #expect(read(Self.interruptIdentification) == 0x01)
        #expect(read(Self.lineStatus) & 0x01 == 0, "turning the FIFOs off empties them")
    }

    @Test func characterTimeoutAfterFourCharacterTimes() {
        program9600EightNOne()
        write(Self.modemControl, 0x08)
        write(Self.fifoControl, 0x41)  // FIFOs on, trigger level 4
        write(Self.interruptEnable, 0x01)
        // 4 characters × 10 bits × 16 × 12 / 1.8432 MHz = 4 166 666 ns.
        let fourCharacters: UInt64 = 4_166_666
        platform.now = 1_000
        uart.receive([0x31, 0x32])
        #expect(uart.nextDeadline() == 1_000 + fourCharacters)
        platform.advance(uart, by: fourCharacters - 1)
        #expect(!irq4)
        #expect(read(Self.interruptIdentification) == 0xC1)
        platform.advance(uart, by: 1)
        #expect(irq4)
        #expect(read(Self.interruptIdentification) == 0xCC)
        #expect(uart.nextDeadline() == nil)

        #expect(read(Self.data) == 0x31)
        #expect(!irq4, "reading RBR clears the timeout and restarts its timer")
        #expect(uart.nextDeadline() == platform.now + fourCharacters)
        platform.advance(uart, by: fourCharacters)
        #expect(read(Self.interruptIdentification) == 0xCC)
        #expect(read(Self.data) == 0x32)
        #expect(uart.nextDeadline() == nil, "empty FIFO: no timeout")
    }

    @Test func characterTimeoutScalesWithFrameFormat() {
        write(Self.lineControl, 0x80)
        write(Self.data, 1)  // 115200 baud
        write(Self.lineControl, 0x0F)  // 8 data bits, parity, 2 stop bits: 12 bits per character
        write(Self.fifoControl, 0xC1)
        write(Self.interruptEnable, 0x01)
        uart.receive([0x31])
        // 4 × 12 × 16 / 1.8432 MHz = 416 666 ns.
        #expect(uart.nextDeadline() == 416_666)
    }

    @Test func overrunSetsOEAndReadingLSRClearsIt() {
        uart.receive([0x01, 0x02])
        #expect(read(Self.lineStatus) == 0x63)
        #expect(read(Self.lineStatus) == 0x61, "OE cleared by the read, data still there")
        #expect(read(Self.data) == 0x02)

        write(Self.fifoControl, 0x01)
        #expect(uart.receiverSpace == 16)
        uart.receive(Array(1...16))
        #expect(uart.receiverSpace == 0)
        #expect(read(Self.lineStatus) == 0x61, "exactly full: no overrun")
        uart.receive([17])
        #expect(read(Self.lineStatus) == 0x63)
        #expect(read(Self.lineStatus) == 0x61)
        #expect((0..<16).map { _ in read(Self.data) } == Array(1...16), "the FIFO kept its contents")
        #expect(read(Self.lineStatus) == 0x60)
    }

    @Test func overrunRaisesALineStatusInterrupt() {
        write(Self.modemControl, 0x08)
        write(Self.interruptEnable, 0x04)
        uart.receive([0x01])
        #expect(!irq4)
        uart.receive([0x02])
        #expect(irq4)
        #expect(read(Self.interruptIdentification) == 0x06)
        _ = read(Self.lineStatus)
        #expect(!irq4)
    }

    @Test func loopbackFeedsTransmitterToReceiverAndControlsToModemInputs() {
        #expect(read(Self.modemStatus) & 0xF0 == 0xB0, "a connected peer: DCD, DSR, CTS")
        write(Self.modemControl, 0x10)
        #expect(read(Self.modemStatus) == 0x0B, "all inputs dropped: DDCD, DDSR, DCTS")
        write(Self.modemControl, 0x1F)  // DTR, RTS, OUT1, OUT2 on
        #expect(read(Self.modemStatus) == 0xFB, "DCD, RI, DSR, CTS on; DDCD, DDSR, DCTS (RI rising is no TERI)")
        write(Self.modemControl, 0x1B)  // OUT1 off: RI trailing edge
        #expect(read(Self.modemStatus) == 0xB4)
        #expect(read(Self.modemStatus) == 0xB0, "reading MSR cleared the deltas")

        write(Self.lineControl, 0x03)
        write(Self.data, 0x5A)
        #expect(transmitted.bytes.isEmpty, "the serial output stays marking")
        #expect(read(Self.lineStatus) == 0x61)
        #expect(read(Self.data) == 0x5A)
        #expect(uart.receiverSpace == 0)
        uart.receive([0x01])
        #expect(read(Self.lineStatus) == 0x60, "the serial input is disconnected")

        write(Self.modemControl, 0x00)
        write(Self.data, 0x5B)
        #expect(transmitted.bytes == [0x5B])
    }

    @Test func out2GatesTheInterruptOntoTheBus() {
        write(Self.interruptEnable, 0x01)
        uart.receive([0x41])
        #expect(read(Self.interruptIdentification) == 0x04)
        #expect(!irq4, "OUT2 clear")
        write(Self.modemControl, 0x08)
        #expect(irq4)
        write(Self.modemControl, 0x18)
        #expect(!irq4, "loopback forces OUT2's pin inactive")
        write(Self.modemControl, 0x08)
        #expect(irq4)
        _ = read(Self.data)
        #expect(!irq4)
        #expect(platform.interruptChanges.map { "\($0.0):\($0.1)" } == ["4:true", "4:false", "4:true", "4:false"])
    }
}
