import Firmware
import Hardware
import Machine
import Testing

/// Bytes a machine sends out (COM1, a debug console), collected for assertions.
final class ByteCapture {
    private(set) var bytes: [UInt8] = []

    func append(_ byte: UInt8) { bytes.append(byte) }
    func append(contentsOf more: [UInt8]) { bytes.append(contentsOf: more) }

    var text: String { String(decoding: bytes, as: UTF8.self) }
}

/// A weak handle on the machine for callbacks wired into its configuration before the
/// machine exists (a debug console that timestamps its bytes with `Machine.now`).
final class MachineHandle {
    weak var machine: Machine?
}

/// A finished run of a whole machine: what it said on COM1 and what its trace kept.
struct GuestRun {
    let machine: Machine
    let outcome: RunOutcome
    let serial: ByteCapture

    var serialText: String { serial.text }
    var records: [TraceRecord] { machine.trace.kept ?? [] }
}

/// How the machine tests build and run machines.
enum TestBoard {
    /// Generous for one reset story (a guest needs well under a million instructions per boot),
    /// small enough that a runaway guest fails quickly.
    static let instructionCap: UInt64 = 20_000_000

    /// A machine with the built-in firmware and `payload`, keeping its trace, ending quietly
    /// when every CPU halts with interrupts off, and capped at `instructionCap`.
    static func configuration(payload: [UInt8], board: BoardProfile = .pc) throws -> MachineConfiguration {
        var configuration = MachineConfiguration(firmware: try ResetVectorROM.image())
        configuration.board = board
        configuration.bootPayload = payload
        configuration.keepTrace = true
        configuration.exitOnHalt = true
        configuration.maxInstructions = instructionCap
        return configuration
    }

    /// Builds the machine (COM1 captured), lets `prepare` touch it before power-on, and runs it.
    static func run(payload: [UInt8], board: BoardProfile = .pc,
                    configure: (inout MachineConfiguration) -> Void = { _ in },
                    prepare: (Machine) -> Void = { _ in }) throws -> GuestRun {
        var configuration = try configuration(payload: payload, board: board)
        let serial = ByteCapture()
        configuration.serialOutput = { serial.append($0) }
        configure(&configuration)
        let machine = try Machine(configuration)
        prepare(machine)
        let outcome = machine.run()
        return GuestRun(machine: machine, outcome: outcome, serial: serial)
    }

    /// Runs a built-in reset guest. A guest that waits for keys (Ctrl-Alt-Del) gets them typed
    /// the first time it halts with interrupts enabled, as `resetvector demo` does.
    static func run(_ guest: ResetGuest, board: BoardProfile = .pc,
                    configure: (inout MachineConfiguration) -> Void = { _ in },
                    prepare: (Machine) -> Void = { _ in }) throws -> GuestRun {
        try run(payload: guest.program(), board: board, configure: {
            $0.addDevices(neededBy: guest)
            configure(&$0)
        }) { machine in
            var typed = false
            machine.onHalt = { machine, cpu in
                if !typed, !guest.scancodesToType.isEmpty, machine.cpus[cpu].eflags & (1 << 9) != 0 {
                    typed = true
                    machine.typeScancodes(guest.scancodesToType)
                }
            }
            prepare(machine)
        }
    }
}

extension MachineConfiguration {
    /// Adds a debug console at `port` whose bytes go to `capture`.
    mutating func attachDebugConsole(_ capture: ByteCapture, port: UInt16 = SmallGuest.debugPort) {
        debugConsoles.append((port: port, output: { capture.append(contentsOf: $0) }))
    }
}

extension RunOutcome {
    /// The reason, if the run paused.
    var pauseReason: String? {
        if case .paused(let reason) = self { return reason }
        return nil
    }

    /// The reason, if a quirk hung the machine.
    var hangReason: String? {
        if case .hung(let reason) = self { return reason }
        return nil
    }
}
