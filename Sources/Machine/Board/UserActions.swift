import Hardware

/// What the user can do to the machine from outside (`--at TIME=ACTION`; later the control
/// socket sends the same actions live).
public enum UserAction: String, Sendable, CaseIterable {
    /// Presses the power button: the ACPI PM block's PWRBTN_STS (``Machine/pressPowerButton()``).
    case powerButton = "power-button"
    /// Presses the reset button: a hard reset, source `user` (``Machine/pressResetButton()``).
    case reset
    /// Types Ctrl-Alt-Del (set-1 makes and breaks) on the keyboard.
    case ctrlAltDel = "ctrl-alt-del"
    /// An NMI on every processor's LINT1, as QEMU's `inject-nmi` (``Machine/injectNMI(cause:)``).
    case nmi
    /// Mechanical off (G3): the power is cut and the run ends as powered off.
    case powerOff = "power-off"

    /// Ctrl down, Alt down, Del down, Del up, Alt up, Ctrl up.
    public static let ctrlAltDelScancodes: [UInt8] = [0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D]
}

/// A user action at a virtual time (nanoseconds since power-on).
public struct ScheduledUserAction: Sendable, Equatable {
    public var time: UInt64
    public var action: UserAction

    public init(time: UInt64, action: UserAction) {
        self.time = time
        self.action = action
    }
}

/// The user's scripted actions as deadlines on the machine's virtual clock: a slice ends at
/// the next one, an idle machine's clock jumps to it, and it is performed there (between two
/// instructions), so a script gives the same run every time. Not on any bus; resets leave it
/// alone (the script goes on across the resets it causes).
final class UserActionSchedule: TimedDevice {
    let name = "user-actions"
    private unowned let machine: Machine
    /// Actions not yet performed, in time order (stable: the order given for equal times).
    private var pending: [ScheduledUserAction]

    init(machine: Machine, actions: [ScheduledUserAction]) {
        self.machine = machine
        pending = actions.enumerated().sorted { ($0.element.time, $0.offset) < ($1.element.time, $1.offset) }.map(\.element)
    }

    func nextDeadline() -> UInt64? { pending.first?.time }

    /// Never skipped: an action can do more than interrupt.
    var interruptLine: Int? { nil }

    func advance(to now: UInt64) {
        while let next = pending.first, next.time <= now {
            pending.removeFirst()
            machine.perform(next)
        }
    }
}

extension Machine {
    /// Performs a scheduled user action (traced as `user-action` with its scheduled time).
    func perform(_ scheduled: ScheduledUserAction) {
        perform(scheduled.action, traceFields: [("at", .number(scheduled.time))])
    }

    /// Performs a user action now, between two instructions, as the control socket's commands
    /// do (traced as `user-action` with `from`, e.g. `qmp`).
    public func perform(_ action: UserAction, from origin: String) {
        perform(action, traceFields: [("from", .text(origin))])
    }

    private func perform(_ action: UserAction, traceFields: [(String, TraceValue)]) {
        emit(TraceEvent("user-action", [("action", .text(action.rawValue))] + traceFields))
        switch action {
        case .powerButton: pressPowerButton()
        case .reset: pressResetButton()
        case .ctrlAltDel: typeScancodes(UserAction.ctrlAltDelScancodes)
        case .nmi: injectNMI(cause: "user")
        case .powerOff: controller.mechanicalOff()
        }
    }

    /// Pulses the board's NMI line, wired to LINT1 of every processor (MP specification 1.4,
    /// 3.6.2): each CPU whose LINT1 entry is an unmasked NMI (or whose local APIC is globally
    /// disabled) takes an NMI. QEMU's `inject-nmi` and its watchdog's `inject-nmi` action do
    /// the same (every CPU, through LINT1). Traced as `nmi-line` with the cause and the CPUs
    /// whose LINT1 took it as an NMI, then `nmi` (source `lint1`) on each of them.
    public func injectNMI(cause: String = "user") {
        let signals = devices.localAPICs.map { apic in
            defer { apic.setLocalInterruptLine(1, level: false) }
            return apic.setLocalInterruptLine(1, level: true)
        }
        let takers = signals.indices.filter { signals[$0] == .nmi }.map(UInt64.init)
        emit(TraceEvent("nmi-line", [("cause", .text(cause)), ("to", .numbers(takers))]))
        for (index, signal) in signals.enumerated() {
            if let signal { apply(signal, toCPU: index, source: .localInterrupt(pin: 1)) }
        }
        updateInterruptRequests()
    }
}
