/// A National Semiconductor / TI PC16550D UART wired as a PC serial port: eight byte
/// registers at `basePort` and an interrupt on the ISA line `irq`.
///
/// Registers by offset (DLAB is LCR bit 7):
///
/// | offset | read | write |
/// | --- | --- | --- |
/// | 0 | RBR (DLAB 0) / DLL (DLAB 1) | THR (DLAB 0) / DLL (DLAB 1) |
/// | 1 | IER (DLAB 0) / DLM (DLAB 1) | same |
/// | 2 | IIR | FCR |
/// | 3 | LCR | LCR |
/// | 4 | MCR | MCR |
/// | 5 | LSR | ignored (factory test) |
/// | 6 | MSR | ignored |
/// | 7 | SCR | SCR |
///
/// Modelling choices:
/// - Transmission is instant: a byte written to THR reaches `output` at once, so THRE and
///   TEMT in the LSR always read 1 and the transmitter FIFO is never seen holding data.
/// - Reception is instant too: `receive(_:)` places bytes in the receiver (its holding
///   register, or its 16-byte FIFO when FIFOs are enabled) without a baud-rate delay; the
///   caller paces input with `receiverSpace`. The divisor and LCR still set the character
///   time that the FIFO's character-timeout interrupt counts in.
/// - The line is error-free: no parity, framing or break conditions; overrun is the only
///   receiver error.
/// - The modem inputs present a connected, ready peer: CTS, DSR and DCD asserted, RI not.
/// - The chip's INTRPT output reaches the ISA bus only while MCR bit 3 (OUT2) is set, as
///   on PC serial cards where OUT2 enables the interrupt driver. In loopback mode the
///   datasheet forces the OUT pins inactive, so no interrupt reaches the bus then.
/// - Each port access is a byte access to the addressed register (an 8-bit ISA device).
public final class Uart16550: TimedDevice {
    public let name: String
    /// The first of the UART's eight I/O ports (COM1 0x3F8, COM2 0x2F8, COM3 0x3E8, COM4 0x2E8).
    public let basePort: UInt16
    /// The ISA interrupt request line the UART drives (COM1 and COM3: 4; COM2 and COM4: 3).
    public let irq: Int
    public var portRanges: [ClosedRange<UInt16>] { [basePort...basePort + 7] }

    /// Receives each character the UART transmits, masked to the word length in LCR.
    /// Set by the machine; discards by default. Not called in loopback mode.
    public var output: (UInt8) -> Void = { _ in }

    /// The UART's input clock on PC serial cards; the baud rate is this / (16 × divisor).
    public static let oscillatorHertz: UInt64 = 1_843_200
    /// The receiver FIFO's depth.
    public static let fifoDepth = 16

    /// Interrupt sources in the order of IIR priority, with their IIR bits 3–0 (PC16550D
    /// Table IV): line status, received data or character timeout, THR empty, modem status.
    private enum InterruptSource: UInt8 {
        case receiverLineStatus = 0x06
        case receivedDataAvailable = 0x04
        case characterTimeout = 0x0C
        case transmitterHoldingRegisterEmpty = 0x02
        case modemStatus = 0x00
    }

    // IER bits.
    private static let receivedDataInterrupt: UInt8 = 0x01
    private static let transmitterEmptyInterrupt: UInt8 = 0x02
    private static let lineStatusInterrupt: UInt8 = 0x04
    private static let modemStatusInterrupt: UInt8 = 0x08
    // FCR bits.
    private static let fifoEnable: UInt8 = 0x01
    private static let receiverFIFOReset: UInt8 = 0x02
    // LCR bits.
    private static let divisorLatchAccess: UInt8 = 0x80
    private static let parityEnable: UInt8 = 0x08
    private static let twoStopBits: UInt8 = 0x04
    // MCR bits.
    private static let out2: UInt8 = 0x08
    private static let loopback: UInt8 = 0x10
    // LSR bits.
    private static let dataReady: UInt8 = 0x01
    private static let overrunErrorBit: UInt8 = 0x02
    private static let transmitterIdle: UInt8 = 0x60  // THRE | TEMT
    // IIR.
    private static let noInterruptPending: UInt8 = 0x01
    private static let fifosEnabledIdentification: UInt8 = 0xC0
    // MSR bits 7–4: DCD, RI, DSR, CTS.
    private static let connectedPeerSignals: UInt8 = 0xB0
    private static let ringIndicator: UInt8 = 0x40

    /// 9600 baud. The datasheet leaves the divisor latch undefined at power-on.
    private static let powerOnDivisor: UInt16 = 12
    private static let triggerLevels = [1, 4, 8, 14]

    private unowned let platform: any Platform

    private var interruptEnable: UInt8 = 0
    private var lineControl: UInt8 = 0
    private var modemControl: UInt8 = 0
    private var scratch: UInt8 = 0
    private var divisor = Uart16550.powerOnDivisor
    private var fifosEnabled = false
    private var receiveTriggerLevel = 1

    /// The receiver holding register (one byte) or, with FIFOs enabled, the receiver FIFO.
    private var receiveBuffer: [UInt8] = []
    private var overrunError = false
    /// The THR-empty interrupt condition; IER bit 1 decides whether it is reported.
    private var transmitterEmptyPending = false
    /// MSR bits 3–0: DCTS, DDSR, TERI, DDCD.
    private var modemStatusChanges: UInt8 = 0
    /// When a character last entered or left the receiver (the character-timeout timer).
    private var lastReceiverActivity: UInt64
    private var interruptLineHigh = false

    /// Creates a UART in its power-on state. The platform owns the device.
    public init(platform: any Platform, basePort: UInt16 = 0x3F8, irq: Int = 4, name: String = "16550") {
        precondition(basePort <= UInt16.max - 7, "the UART's eight ports must fit in the I/O space")
        self.platform = platform
        self.basePort = basePort
        self.irq = irq
        self.name = name
        lastReceiverActivity = platform.now
    }

    /// How many bytes `receive(_:)` can take now without an overrun: the free room in the
    /// receiver, or 0 in loopback mode, where the serial input is disconnected.
    public var receiverSpace: Int {
        isLoopback ? 0 : receiveCapacity - receiveBuffer.count
    }

    /// Characters arriving on the serial input. Each enters the receiver at once; one that
    /// finds the receiver full is an overrun (LSR.OE). In loopback mode the input is
    /// disconnected and the bytes are dropped.
    public func receive(_ bytes: [UInt8]) {
        guard !isLoopback else { return }
        let now = platform.now
        for byte in bytes {
            store(byte, at: now)
        }
        updateInterruptLine(at: now)
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        let now = platform.now
        let value = readRegister(at: port &- basePort, now: now)
        updateInterruptLine(at: now)
        return UInt32(value)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let now = platform.now
        writeRegister(at: port &- basePort, UInt8(truncatingIfNeeded: value), now: now)
        updateInterruptLine(at: now)
    }

    /// The character-timeout interrupt's due time, while one is pending that would change
    /// what the IIR reports.
    public func nextDeadline() -> UInt64? {
        guard interruptEnable & Self.receivedDataInterrupt != 0, !receivedDataAtTriggerLevel,
              let deadline = characterTimeoutDeadline, deadline > platform.now else { return nil }
        return deadline
    }

    public func advance(to now: UInt64) {
        updateInterruptLine(at: now)
    }

    public var interruptLine: Int? { irq }

    /// A platform reset drives the chip's MR pin: IER, FCR, LCR and MCR clear, both FIFOs
    /// empty, IIR reads 0x01 and LSR 0x60 (PC16550D master-reset table). The divisor latch
    /// and scratch register are not on that list and survive; power-on (`.full`, and
    /// `.powerOff` and `.sleep`, after which the chip has lost power) also sets them to 9600
    /// baud and 0.
    /// INIT does not reach the UART.
    public func reset(_ kind: ResetKind) {
        switch kind {
        case .initSignal:
            return
        case .hard:
            break
        case .full, .powerOff, .sleep:
            divisor = Self.powerOnDivisor
            scratch = 0
        }
        let now = platform.now
        interruptEnable = 0
        lineControl = 0
        modemControl = 0
        fifosEnabled = false
        receiveTriggerLevel = 1
        receiveBuffer.removeAll()
        overrunError = false
        transmitterEmptyPending = false
        modemStatusChanges = 0
        lastReceiverActivity = now
        updateInterruptLine(at: now)
    }

    // MARK: Registers

    private var divisorLatchSelected: Bool { lineControl & Self.divisorLatchAccess != 0 }
    private var isLoopback: Bool { modemControl & Self.loopback != 0 }
    private var receiveCapacity: Int { fifosEnabled ? Self.fifoDepth : 1 }
    /// Bits beyond the word length set in LCR bits 1–0 are neither sent nor received.
    private var wordMask: UInt8 { 0xFF >> (3 - (lineControl & 0x03)) }

    private func readRegister(at offset: UInt16, now: UInt64) -> UInt8 {
        switch offset {
        case 0 where divisorLatchSelected:
            return UInt8(truncatingIfNeeded: divisor)
        case 0:
            return readReceiverBuffer(now: now)
        case 1 where divisorLatchSelected:
            return UInt8(truncatingIfNeeded: divisor >> 8)
        case 1:
            return interruptEnable
        case 2:
            return readInterruptIdentification(now: now)
        case 3:
            return lineControl
        case 4:
            return modemControl
        case 5:
            return readLineStatus()
        case 6:
            return readModemStatus()
        case 7:
            return scratch
        default:
            return 0xFF
        }
    }

    private func writeRegister(at offset: UInt16, _ value: UInt8, now: UInt64) {
        switch offset {
        case 0 where divisorLatchSelected:
            divisor = divisor & 0xFF00 | UInt16(value)
        case 0:
            transmit(value, now: now)
        case 1 where divisorLatchSelected:
            divisor = divisor & 0x00FF | UInt16(value) << 8
        case 1:
            writeInterruptEnable(value)
        case 2:
            writeFIFOControl(value)
        case 3:
            lineControl = value
        case 4:
            writeModemControl(value)
        case 7:
            scratch = value
        default:
            break  // LSR and MSR are read-only here
        }
    }

    /// Reading RBR takes the oldest character and restarts the character-timeout timer.
    /// An empty receiver reads 0.
    private func readReceiverBuffer(now: UInt64) -> UInt8 {
        guard !receiveBuffer.isEmpty else { return 0 }
        lastReceiverActivity = now
        return receiveBuffer.removeFirst()
    }

    /// Reading the IIR acknowledges a THR-empty interrupt, but only when that is the
    /// source it reports (PC16550D Table IV, "interrupt reset control").
    private func readInterruptIdentification(now: UInt64) -> UInt8 {
        let source = pendingInterrupt(at: now)
        if source == .transmitterHoldingRegisterEmpty {
            transmitterEmptyPending = false
        }
        return (source?.rawValue ?? Self.noInterruptPending) | (fifosEnabled ? Self.fifosEnabledIdentification : 0)
    }

    /// Reading the LSR clears the error bits (here OE), which acknowledges a line-status interrupt.
    private func readLineStatus() -> UInt8 {
        var status = Self.transmitterIdle
        if !receiveBuffer.isEmpty { status |= Self.dataReady }
        if overrunError { status |= Self.overrunErrorBit }
        overrunError = false
        return status
    }

    /// Reading the MSR clears its delta bits, which acknowledges a modem-status interrupt.
    private func readModemStatus() -> UInt8 {
        let status = modemSignals | modemStatusChanges
        modemStatusChanges = 0
        return status
    }

    /// Writing THR acknowledges a THR-empty interrupt; the character leaves at once, the
    /// THR is empty again and the condition returns, as it would when a real THR empties.
    private func transmit(_ value: UInt8, now: UInt64) {
        let character = value & wordMask
        transmitterEmptyPending = true
        if isLoopback {
            store(character, at: now)
        } else {
            output(character)
        }
    }

    /// Setting IER bit 1 while the THR is empty (here: always) raises the THR-empty
    /// interrupt even if an IIR read had acknowledged it before; clearing the bit drops it.
    /// Software that toggles IER to re-arm the interrupt (Windows, Linux's THRE test)
    /// depends on this; like QEMU and Bochs, only a 0→1 change re-arms it.
    private func writeInterruptEnable(_ value: UInt8) {
        let enabled = value & 0x0F
        if (enabled ^ interruptEnable) & Self.transmitterEmptyInterrupt != 0 {
            transmitterEmptyPending = enabled & Self.transmitterEmptyInterrupt != 0
        }
        interruptEnable = enabled
    }

    /// FCR bit 0 enables the FIFOs; changing it empties them. The other bits take effect
    /// only when bit 0 is written as 1 (PC16550D: "FCR0 must be 1 when other FCR bits are
    /// written to or they will not be programmed"). Bit 2 resets the transmitter FIFO,
    /// which instant transmission keeps empty; bit 3 (DMA mode) only changes pins.
    private func writeFIFOControl(_ value: UInt8) {
        let enable = value & Self.fifoEnable != 0
        if enable != fifosEnabled {
            receiveBuffer.removeAll()
            fifosEnabled = enable
        }
        guard enable else { return }
        if value & Self.receiverFIFOReset != 0 {
            receiveBuffer.removeAll()
        }
        receiveTriggerLevel = Self.triggerLevels[Int(value >> 6)]
    }

    private func writeModemControl(_ value: UInt8) {
        let signalsBefore = modemSignals
        modemControl = value & 0x1F
        noteModemSignalChanges(from: signalsBefore)
    }

    // MARK: Receiver

    private func store(_ character: UInt8, at now: UInt64) {
        lastReceiverActivity = now
        if receiveBuffer.count < receiveCapacity {
            receiveBuffer.append(character & wordMask)
            return
        }
        overrunError = true
        // PC16550D, LSR bit 1: without FIFOs the new character overwrites the one in the
        // RBR; with FIFOs it is lost and the FIFO keeps its 16 characters.
        if !fifosEnabled {
            receiveBuffer[0] = character & wordMask
        }
    }

    private var receivedDataAtTriggerLevel: Bool {
        receiveBuffer.count >= (fifosEnabled ? receiveTriggerLevel : 1)
    }

    /// Four character times of the current frame format at the current baud rate; `nil`
    /// when the divisor is 0 and the baud generator has no output.
    private var fourCharacterTimes: UInt64? {
        guard divisor != 0 else { return nil }
        let wordBits = 5 + UInt64(lineControl & 0x03)
        let parityBits: UInt64 = lineControl & Self.parityEnable != 0 ? 1 : 0
        // Stop bits in half bits: 1, or with LCR bit 2 set 1.5 for 5-bit words and 2 otherwise.
        let stopHalfBits: UInt64 = lineControl & Self.twoStopBits == 0 ? 2 : (wordBits == 5 ? 3 : 4)
        let halfBitsPerCharacter = 2 * (1 + wordBits + parityBits) + stopHalfBits
        // 4 characters × halfBits / 2 bits × 16 × divisor / oscillator seconds.
        return halfBitsPerCharacter * UInt64(divisor) * 32_000_000_000 / Self.oscillatorHertz
    }

    /// PC16550D character timeout: FIFOs on, at least one character in the receiver FIFO,
    /// and none put in or taken out for four character times.
    private var characterTimeoutDeadline: UInt64? {
        guard fifosEnabled, !receiveBuffer.isEmpty, let span = fourCharacterTimes else { return nil }
        return lastReceiverActivity + span
    }

    // MARK: Modem signals

    /// MSR bits 7–4. In loopback mode the datasheet connects the modem-control outputs to
    /// the inputs: DTR→DSR, RTS→CTS, OUT1→RI, OUT2→DCD.
    private var modemSignals: UInt8 {
        guard isLoopback else { return Self.connectedPeerSignals }
        let control = modemControl
        return (control & 0x02) << 3 | (control & 0x01) << 5 | (control & 0x0C) << 4
    }

    /// Sets DCTS, DDSR and DDCD for inputs that changed, and TERI when RI went from on to off.
    private func noteModemSignalChanges(from before: UInt8) {
        let after = modemSignals
        let changed = before ^ after
        modemStatusChanges |= (changed >> 4) & 0x0B | (before & ~after & Self.ringIndicator) >> 4
    }

    // MARK: Interrupts

    private func pendingInterrupt(at now: UInt64) -> InterruptSource? {
        if interruptEnable & Self.lineStatusInterrupt != 0, overrunError {
            return .receiverLineStatus
        }
        if interruptEnable & Self.receivedDataInterrupt != 0 {
            if receivedDataAtTriggerLevel { return .receivedDataAvailable }
            if let deadline = characterTimeoutDeadline, now >= deadline { return .characterTimeout }
        }
        if interruptEnable & Self.transmitterEmptyInterrupt != 0, transmitterEmptyPending {
            return .transmitterHoldingRegisterEmpty
        }
        if interruptEnable & Self.modemStatusInterrupt != 0, modemStatusChanges != 0 {
            return .modemStatus
        }
        return nil
    }

    /// The ISA line is high while an enabled interrupt is pending and OUT2 drives the
    /// card's interrupt buffer (OUT2 set, not in loopback).
    private func updateInterruptLine(at now: UInt64) {
        let gateOpen = modemControl & (Self.out2 | Self.loopback) == Self.out2
        let high = gateOpen && pendingInterrupt(at: now) != nil
        guard high != interruptLineHigh else { return }
        interruptLineHigh = high
        platform.setInterruptLine(irq, high: high)
    }
}
