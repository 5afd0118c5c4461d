import Machine

/// The serial console's escape keys, as QEMU's: Ctrl-A, then a key. Ctrl-A X ends the run,
/// Ctrl-A R and Ctrl-A P press the reset and power buttons, Ctrl-A H prints the keys, and
/// Ctrl-A Ctrl-A sends one Ctrl-A to the guest. Any other key after Ctrl-A is dropped, with
/// the Ctrl-A. Letters may be given in either case.
struct TerminalEscape {
    /// Ctrl-A.
    static let prefix: UInt8 = 0x01

    /// What a byte typed on the terminal comes to.
    enum Result: Equatable {
        /// A byte for the guest.
        case byte(UInt8)
        /// A command for the machine.
        case command(SerialInputCommand)
        /// The escape keys' help is to be printed.
        case help
        /// Nothing (the prefix, waiting for its key; an unknown key).
        case none
    }

    /// The keys after the prefix, what each does, and its line in the help.
    static let keys: [(key: Character, result: Result, help: String)] = [
        ("x", .command(.stop(reason: "the user (Ctrl-A X)")), "end the run (exit status 12; the run's report is printed)"),
        ("r", .command(.perform(.reset)), "press the reset button (a hard reset)"),
        ("p", .command(.perform(.powerButton)), "press the power button (an ACPI power-button event)"),
        ("h", .help, "print this help"),
    ]

    /// The help, one line per key, ending with a newline.
    static var help: String {
        keys.map { "Ctrl-A \($0.key.uppercased())  \($0.help)\n" }.joined() + "Ctrl-A Ctrl-A  send Ctrl-A to the guest\n"
    }

    private var afterPrefix = false

    /// Decodes the next byte typed.
    mutating func decode(_ byte: UInt8) -> Result {
        guard afterPrefix else {
            if byte == Self.prefix {
                afterPrefix = true
                return .none
            }
            return .byte(byte)
        }
        afterPrefix = false
        if byte == Self.prefix { return .byte(byte) }
        let key = Character(Unicode.Scalar(byte)).lowercased()
        return Self.keys.first { String($0.key) == key }?.result ?? .none
    }
}
