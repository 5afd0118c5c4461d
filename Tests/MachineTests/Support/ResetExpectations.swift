import Firmware
import Hardware
import Machine

/// What each built-in guest's reset looks like in the trace, from the facts in the design
/// notes (the port write each path makes, and what each board profile answers).
extension ResetGuest {
    /// The guests whose reset goes through the power & reset controller.
    static let requestingReset: [ResetGuest] = allCases.filter { $0.expectedSource != nil }
    /// Those that boot afresh after their reset (the 286-style guest resumes through CMOS 0Ah instead).
    static let rebootingAfterReset: [ResetGuest] = requestingReset.filter { $0 != .i8042From286ProtectedMode }
    /// Those still in real mode when they reset.
    static let realModeRequestingReset: [ResetGuest] = requestingReset.filter { !$0.entersProtectedMode }

    /// The `source` of the guest's `reset-request`, or `nil` when the path asks for none.
    var expectedSource: ResetSource? {
        switch self {
        case .i8042Pulse, .i8042From286ProtectedMode: .i8042Pulse
        case .i8042OutputPort: .i8042OutputPort
        case .port92: .port92
        case .cf9Warm, .cf9Cold, .multiprocessorStartup, .multiprocessorAPReset: .cf9
        case .tripleFault, .protectedTripleFault, .userTripleFault, .taskGateFault, .longModeTripleFault,
             .multiprocessorWindowsReboot: .tripleFault
        case .resetVectorJump, .ctrlAltDel, .longModeBIOSReboot: nil
        // Abnormal ends with policies of their own (WatchdogTests, PanicTests), not guest resets.
        case .watchdogBite, .panic: nil
        // Paths the FADT and DSDT choose (ACPIDemoGuestTests).
        case .acpiResetIO, .acpiResetMemory, .acpiResetPCI, .acpiPowerOff, .s3Resume: nil
        }
    }

    /// The port whose write caused the request.
    var expectedPort: UInt16? {
        switch self {
        case .i8042Pulse, .i8042From286ProtectedMode: 0x64
        case .i8042OutputPort: 0x60
        case .port92: 0x92
        case .cf9Warm, .cf9Cold, .multiprocessorStartup, .multiprocessorAPReset: 0xCF9
        default: nil
        }
    }

    /// The value written, where the guest fixes it (port 0x92 keeps the register's other bits).
    var expectedValue: UInt64? {
        switch self {
        case .i8042Pulse, .i8042OutputPort, .i8042From286ProtectedMode: 0xFE
        case .cf9Warm, .multiprocessorStartup, .multiprocessorAPReset: 0x06
        case .cf9Cold: 0x0E
        default: nil
        }
    }

    /// The kind the requester itself selects (only 0xCF9 has the bits for it).
    var expectedRequestedKind: ResetKind? {
        switch self {
        case .cf9Warm, .multiprocessorStartup, .multiprocessorAPReset: .hard
        case .cf9Cold: .full
        default: nil
        }
    }

    /// The board's answer: on `pc` the 8042, port 0x92 and a shutdown raise INIT and 0xCF9 does
    /// what its bits say; on `qemu` every reset is a platform reset.
    func expectedAnswer(on board: BoardProfile) -> ResetKind? {
        guard expectedSource != nil else { return nil }
        switch board {
        case .qemu: return .hard
        case .pc: return expectedRequestedKind ?? .initSignal
        }
    }

    var nothingLine: String { "guest \(rawValue): the reset did nothing" }
}
