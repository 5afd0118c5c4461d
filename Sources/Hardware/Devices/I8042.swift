/// The Intel 8042 keyboard controller of a PC/AT, with a PS/2 keyboard on its first port
/// and a minimal PS/2 mouse on its auxiliary port.
///
/// Port 0x60 is the data port (output buffer on read, input buffer on write); port 0x64
/// reads the status register and takes controller commands on write. Commands complete
/// at once, so the input buffer is never seen full.
///
/// Two of the controller's output-port pins matter beyond the keyboard: bit 0 drives the
/// CPU reset line (RCIN# on ICH-class boards) and bit 1 is an input of the A20 gate. The
/// controller never resets anything itself: asserting the reset line becomes a
/// `ResetRequest` to the board's power & reset controller.
///
/// Bytes for the host wait in three queues (controller replies, keyboard, mouse) and
/// reach the output buffer one at a time; IRQ 1 or IRQ 12 is raised for each byte loaded
/// while the command byte enables that interrupt, and lowered when port 0x60 is read.
public final class I8042: Device {
    public let name = "8042"
    public let portRanges: [ClosedRange<UInt16>] = [
        I8042.dataPort...I8042.dataPort, I8042.commandPort...I8042.commandPort,
    ]

    /// The reset line (output-port bit 0 and the reset pulses); a quirk can break it.
    public let resetOutput = ResetOutput()

    /// Output buffer (read) and input buffer for data (write).
    public static let dataPort: UInt16 = 0x60
    /// Status register (read) and controller commands (write).
    public static let commandPort: UInt16 = 0x64
    /// The keyboard's interrupt request line.
    public static let keyboardIRQ = 1
    /// The auxiliary (mouse) port's interrupt request line.
    public static let auxIRQ = 12

    /// Which of the controller's two serial ports a byte in the output buffer came from.
    private enum Channel {
        case keyboard, aux
    }

    /// What the next byte written to port 0x60 is for, after a controller command that
    /// takes a data byte.
    private enum DataTarget {
        case internalRAM(Int)
        case outputPort
        case keyboardOutputBuffer
        case auxOutputBuffer
        case auxDevice
    }

    /// The controller's state after power-on, replaced wholesale by a platform reset.
    private struct State {
        /// Internal RAM as seen through commands 0x20–0x3F / 0x60–0x7F; byte 0 is the
        /// command byte. An AT BIOS expects it zero until it writes it.
        var internalRAM = [UInt8](repeating: 0, count: 32)
        /// Bit 0: reset line (0 asserts it); bit 1: A20 gate; bits 2–7 the PS/2 clock,
        /// data and interrupt lines, idle. A20 starts disabled.
        var outputPort: UInt8 = 0xCD
        /// Status bit 2: cleared by power-on, set by a passed self-test or command byte bit 2.
        var systemFlag = false
        /// Status bit 3 (the A2 address line of the last write): 1 = command, 0 = data.
        var lastWriteWasCommand = false
        var pendingDataTarget: DataTarget?
        /// The output register; it keeps its last value after the host reads it.
        var outputRegister: UInt8 = 0
        /// The channel of the byte in the output buffer, or `nil` when the buffer is empty.
        var outputChannel: Channel?
        /// Replies of the controller itself, and bytes written with 0xD2/0xD3.
        var controllerOutput: [(UInt8, Channel)] = []
        var keyboardReplies: [UInt8] = []
        var auxReplies: [UInt8] = []
        /// Key presses the user made that the keyboard has not sent yet.
        var typedScancodes: [UInt8] = []
        var keyboard = Keyboard()

        var commandByte: UInt8 { internalRAM[0] }
    }

    /// The PS/2 keyboard's side of the conversation: the commands it answers.
    private struct Keyboard {
        var scanning = true
        var scancodeSet: UInt8 = 2
        /// A command that takes a parameter byte, waiting for it.
        var commandAwaitingParameter: UInt8?

        static let acknowledge: UInt8 = 0xFA
        static let resend: UInt8 = 0xFE
        static let selfTestPassed: UInt8 = 0xAA

        /// Handles a byte sent by the host and returns the keyboard's reply bytes.
        mutating func receive(_ byte: UInt8) -> [UInt8] {
            if let command = commandAwaitingParameter {
                commandAwaitingParameter = nil
                return receiveParameter(byte, of: command)
            }
            switch byte {
            case 0xFF:  // reset: acknowledge, then the basic assurance test result
                self = Keyboard()
                return [Self.acknowledge, Self.selfTestPassed]
            case 0xF6:  // set defaults, keep scanning
                self = Keyboard()
                return [Self.acknowledge]
            case 0xF5:  // set defaults and stop scanning
                self = Keyboard()
                scanning = false
                return [Self.acknowledge]
            case 0xF4:
                scanning = true
                return [Self.acknowledge]
            case 0xF3, 0xF0, 0xED:  // typematic rate, scancode set, LEDs: one parameter byte
                commandAwaitingParameter = byte
                return [Self.acknowledge]
            case 0xF2:  // identify: an MF2 keyboard answers AB 83
                return [Self.acknowledge, 0xAB, 0x83]
            case 0xEE:
                return [0xEE]
            default:
                return [Self.resend]
            }
        }

        private mutating func receiveParameter(_ parameter: UInt8, of command: UInt8) -> [UInt8] {
            guard command == 0xF0 else { return [Self.acknowledge] }
            switch parameter {
            case 0:
                return [Self.acknowledge, scancodeSet]
            case 1...3:
                scancodeSet = parameter
                return [Self.acknowledge]
            default:
                return [Self.resend]
            }
        }
    }

    // Command byte bits.
    private static let keyboardInterruptEnabled: UInt8 = 0x01
    private static let auxInterruptEnabled: UInt8 = 0x02
    private static let systemFlagBit: UInt8 = 0x04
    private static let keyboardDisabled: UInt8 = 0x10
    private static let auxDisabled: UInt8 = 0x20

    // Output port bits.
    private static let resetLine: UInt8 = 0x01
    private static let a20Gate: UInt8 = 0x02

    /// Input port (command 0xC0) per the AT technical reference: bit 7 keyboard not
    /// inhibited, bit 6 clear (colour primary display), bit 5 set (no manufacturing jumper).
    private static let inputPort: UInt8 = 0xA0

    private unowned let platform: any Platform
    private var state = State()
    private var keyboardLineHigh = false
    private var auxLineHigh = false

    /// Creates the controller in its power-on state. The platform owns the device; the
    /// machine calls `reset(.full)` at power-on to drive the A20 input low.
    public init(platform: any Platform) {
        self.platform = platform
    }

    /// Queues key presses from the user. The codes are what port 0x60 shows (scan code
    /// set 1, as after the controller's translation); Ctrl-Alt-Del is
    /// `[0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D]`. They wait while the keyboard is disabled
    /// or not scanning, or while the output buffer is full.
    public func typeScancodes(_ codes: [UInt8]) {
        state.typedScancodes.append(contentsOf: codes)
        loadOutputBuffer()
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        port == Self.commandPort ? UInt32(status) : UInt32(readData())
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        if port == Self.commandPort {
            state.lastWriteWasCommand = true
            execute(command: byte)
        } else {
            state.lastWriteWasCommand = false
            writeData(byte)
        }
        loadOutputBuffer()
    }

    /// A platform reset (PLTRST#), power cycle or power-off returns the controller to its
    /// power-on state; INIT reaches CPUs only.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        state = State()
        platform.setA20(.keyboardController, enabled: state.outputPort & Self.a20Gate != 0)
        updateInterruptLines()
    }

    // MARK: - Status and output buffer

    private var status: UInt8 {
        // Bit 1 (input buffer full) and bits 6–7 (timeout, parity error) are always 0 here.
        var value: UInt8 = 0x10  // bit 4: keyboard not inhibited (keylock switch open)
        if state.outputChannel != nil { value |= 0x01 }  // bit 0: output buffer full
        if state.systemFlag { value |= 0x04 }  // bit 2: system flag
        if state.lastWriteWasCommand { value |= 0x08 }  // bit 3: last write was a command
        if state.outputChannel == .aux { value |= 0x20 }  // bit 5: the byte is from the aux port
        return value
    }

    private func readData() -> UInt8 {
        let value = state.outputRegister
        state.outputChannel = nil
        updateInterruptLines()
        loadOutputBuffer()
        return value
    }

    /// Moves the next waiting byte into an empty output buffer. Controller replies come
    /// first; keyboard and mouse bytes wait while their interface is disabled.
    private func loadOutputBuffer() {
        guard state.outputChannel == nil else { return }
        let keyboardEnabled = state.commandByte & Self.keyboardDisabled == 0
        let auxEnabled = state.commandByte & Self.auxDisabled == 0
        if !state.controllerOutput.isEmpty {
            let (byte, channel) = state.controllerOutput.removeFirst()
            load(byte, from: channel)
        } else if keyboardEnabled, !state.keyboardReplies.isEmpty {
            load(state.keyboardReplies.removeFirst(), from: .keyboard)
        } else if keyboardEnabled, state.keyboard.scanning, !state.typedScancodes.isEmpty {
            load(state.typedScancodes.removeFirst(), from: .keyboard)
        } else if auxEnabled, !state.auxReplies.isEmpty {
            load(state.auxReplies.removeFirst(), from: .aux)
        }
    }

    private func load(_ byte: UInt8, from channel: Channel) {
        state.outputRegister = byte
        state.outputChannel = channel
        updateInterruptLines()
    }

    /// IRQ 1 / IRQ 12 follow "output buffer full with a byte from that port, and its
    /// interrupt enabled in the command byte".
    private func updateInterruptLines() {
        let keyboardHigh = state.outputChannel == .keyboard
            && state.commandByte & Self.keyboardInterruptEnabled != 0
        let auxHigh = state.outputChannel == .aux && state.commandByte & Self.auxInterruptEnabled != 0
        if keyboardHigh != keyboardLineHigh {
            keyboardLineHigh = keyboardHigh
            platform.setInterruptLine(Self.keyboardIRQ, high: keyboardHigh)
        }
        if auxHigh != auxLineHigh {
            auxLineHigh = auxHigh
            platform.setInterruptLine(Self.auxIRQ, high: auxHigh)
        }
    }

    private func reply(_ byte: UInt8) {
        state.controllerOutput.append((byte, .keyboard))
    }

    // MARK: - Controller commands (port 0x64)

    private func execute(command: UInt8) {
        state.pendingDataTarget = nil
        switch command {
        case 0x20...0x3F:  // read internal RAM; 0x20 is the command byte
            reply(state.internalRAM[Int(command & 0x1F)])
        case 0x60...0x7F:  // write internal RAM with the next data byte
            state.pendingDataTarget = .internalRAM(Int(command & 0x1F))
        case 0xA7:
            setCommandByte(state.commandByte | Self.auxDisabled)
        case 0xA8:
            setCommandByte(state.commandByte & ~Self.auxDisabled)
        case 0xA9, 0xAB:  // auxiliary / keyboard interface test: 00 = no error
            reply(0x00)
        case 0xAA:  // controller self-test: 55 = passed, and the system flag is set
            state.systemFlag = true
            reply(0x55)
        case 0xAD:
            setCommandByte(state.commandByte | Self.keyboardDisabled)
        case 0xAE:
            setCommandByte(state.commandByte & ~Self.keyboardDisabled)
        case 0xC0:
            reply(Self.inputPort)
        case 0xD0:
            reply(state.outputPort)
        case 0xD1:
            state.pendingDataTarget = .outputPort
        case 0xD2:
            state.pendingDataTarget = .keyboardOutputBuffer
        case 0xD3:
            state.pendingDataTarget = .auxOutputBuffer
        case 0xD4:
            state.pendingDataTarget = .auxDevice
        case 0xDD:  // A20 off / on (vendor commands found on most AT-compatible controllers)
            writeOutputPort(state.outputPort & ~Self.a20Gate)
        case 0xDF:
            writeOutputPort(state.outputPort | Self.a20Gate)
        case 0xE0:  // test inputs T0/T1 (keyboard clock and data): no line activity here
            reply(0x00)
        case 0xF0...0xFF:
            pulseOutputPort(command)
        default:
            break
        }
    }

    /// Commands 0xF0–0xFF pulse the output-port bits whose low-nibble bit is clear low for
    /// about 6 µs. Only the reset line's pulse has an effect a guest can observe.
    private func pulseOutputPort(_ command: UInt8) {
        guard command & Self.resetLine == 0 else { return }
        resetOutput.assert(to: platform, ResetRequest(source: .i8042Pulse, port: Self.commandPort, value: UInt32(command)))
    }

    private func setCommandByte(_ value: UInt8) {
        state.internalRAM[0] = value
        updateInterruptLines()
    }

    // MARK: - Data bytes (port 0x60)

    private func writeData(_ byte: UInt8) {
        guard let target = state.pendingDataTarget else {
            state.keyboardReplies.append(contentsOf: state.keyboard.receive(byte))
            return
        }
        state.pendingDataTarget = nil
        switch target {
        case .internalRAM(0):
            state.systemFlag = byte & Self.systemFlagBit != 0
            setCommandByte(byte)
        case .internalRAM(let index):
            state.internalRAM[index] = byte
        case .outputPort:
            writeOutputPort(byte)
        case .keyboardOutputBuffer:
            state.controllerOutput.append((byte, .keyboard))
        case .auxOutputBuffer:
            state.controllerOutput.append((byte, .aux))
        case .auxDevice:
            state.auxReplies.append(contentsOf: Self.mouseReply(to: byte))
        }
    }

    /// A minimal PS/2 mouse: every byte is acknowledged; identify answers device ID 00
    /// (a standard mouse) and reset answers the self-test result AA and the ID.
    private static func mouseReply(to byte: UInt8) -> [UInt8] {
        switch byte {
        case 0xF2: [Keyboard.acknowledge, 0x00]
        case 0xFF: [Keyboard.acknowledge, Keyboard.selfTestPassed, 0x00]
        default: [Keyboard.acknowledge]
        }
    }

    /// Drives the output port. A20 follows bit 1; bit 0 written 0 asserts the reset line.
    private func writeOutputPort(_ value: UInt8) {
        let changed = state.outputPort ^ value
        state.outputPort = value
        if changed & Self.a20Gate != 0 {
            platform.setA20(.keyboardController, enabled: value & Self.a20Gate != 0)
        }
        if value & Self.resetLine == 0 {
            resetOutput.assert(to: platform, ResetRequest(source: .i8042OutputPort, port: Self.dataPort, value: UInt32(value)))
        }
    }
}
