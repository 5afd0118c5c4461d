import Hardware
import Machine

/// Turns the machine's trace into QMP events: QEMU's (RESET, SHUTDOWN, POWERDOWN, STOP,
/// RESUME, SUSPEND, WAKEUP, WATCHDOG, GUEST_PANICKED, with the fields qapi/run-state.json
/// gives them) and this emulator's own X_RV_RESET_REQUEST, which says what QEMU cannot:
/// who asked for a reset, through which port and value, and what the board answered.
struct QMPEventMapper {
    /// Resets the control socket itself asked for (`system_reset`) not yet seen performed:
    /// their RESET says `host-qmp-system-reset`, a scheduled `--at` reset's `host-ui`.
    var pendingSystemResets = 0

    /// A QMP event: its name and its `data` (nil when QEMU's event has none).
    struct Event: Equatable {
        let name: String
        let data: JSONValue?
    }

    mutating func events(for record: TraceRecord) -> [Event] {
        let event = record.event
        switch event.name {
        case "reset":
            let cause = event.text("cause") ?? ""
            return [Event(name: "RESET", data: shutdownData(cause: cause))]
        case "power-off":
            return [Event(name: "SHUTDOWN", data: shutdownData(cause: event.text("cause") ?? ""))]
        case "power-button":
            return [Event(name: "POWERDOWN", data: nil)]
        case "stop":
            return [Event(name: "STOP", data: nil)]
        case "resume":
            return [Event(name: "RESUME", data: nil)]
        case "sleep" where event["state"] == "S3":
            return [Event(name: "SUSPEND", data: nil)]
        case "wake":
            return [Event(name: "WAKEUP", data: nil)]
        case "watchdog" where event["stage"] == 2:
            return [Event(name: "WATCHDOG", data: .object([("action", .string(Self.qemuWatchdogAction(event.text("action") ?? "")))]))]
        case "panic" where (event.text("names") ?? "").contains("panicked"):
            return [Event(name: "GUEST_PANICKED", data: .object([("action", .string(Self.qemuPanicAction(event.text("action") ?? "")))]))]
        case "reset-request":
            return [Event(name: "X_RV_RESET_REQUEST", data: .object(Self.requestFields(record) + [("answer", .string(event.text("answer") ?? ""))]))]
        case "quirk" where event["source"] != nil:
            // A path a quirk broke: the request never reached the controller.
            return [Event(name: "X_RV_RESET_REQUEST",
                          data: .object(Self.requestFields(record) + [("answer", .string("ignored")), ("quirk", .string(event.text("quirk") ?? ""))]))]
        default:
            return []
        }
    }

    /// The `guest` and `reason` (QEMU's ShutdownCause) of RESET and SHUTDOWN.
    private mutating func shutdownData(cause: String) -> JSONValue {
        let reason: String
        switch cause {
        case "user":
            if pendingSystemResets > 0 {
                pendingSystemResets -= 1
                reason = "host-qmp-system-reset"
            } else {
                reason = "host-ui"
            }
        case "acpi-sleep": reason = "guest-shutdown"
        case "panic": reason = "guest-panic"
        default: reason = "guest-reset"
        }
        return Self.shutdownData(guest: !reason.hasPrefix("host"), reason: reason)
    }

    static func shutdownData(guest: Bool, reason: String) -> JSONValue {
        .object([("guest", .bool(guest)), ("reason", .string(reason))])
    }

    /// The events that say how the run ended, sent before the socket closes.
    static func finalEvents(for outcome: RunOutcome) -> [Event] {
        switch outcome {
        case .quit: [Event(name: "SHUTDOWN", data: shutdownData(guest: false, reason: "host-qmp-quit"))]
        case .stopped: [Event(name: "SHUTDOWN", data: shutdownData(guest: false, reason: "host-ui"))]
        case .endedAtReset, .endedAtShutdown: [Event(name: "SHUTDOWN", data: shutdownData(guest: true, reason: "guest-reset"))]
        case .guestPanicked: [Event(name: "SHUTDOWN", data: shutdownData(guest: true, reason: "guest-panic"))]
        case .allHalted, .exitRequested: [Event(name: "SHUTDOWN", data: shutdownData(guest: true, reason: "guest-shutdown"))]
        case .paused, .hung: [Event(name: "STOP", data: nil)]
        case .poweredOff, .instructionLimit, .outputFailed: []
        }
    }

    private static func requestFields(_ record: TraceRecord) -> [(String, JSONValue)] {
        var fields: [(String, JSONValue)] = [("cpu", record.event.cpu.map { .integer($0) } ?? .null)]
        for (key, value) in record.event.fields where ["source", "requested", "port", "value", "space", "address"].contains(key) {
            switch value {
            case .number(let n): fields.append((key, .integer(n)))
            case .text(let text): fields.append((key, .string(text)))
            case .numbers, .null: break
            }
        }
        fields.append(("time-ns", .integer(record.time)))
        return fields
    }

    private static func qemuWatchdogAction(_ action: String) -> String {
        switch action {
        case "power-off": "poweroff"
        case "nmi": "inject-nmi"
        default: action
        }
    }

    private static func qemuPanicAction(_ action: String) -> String {
        switch action {
        case "pause": "pause"
        case "exit": "poweroff"
        default: "run"
        }
    }
}

extension TraceEvent {
    /// A field as text (a number in decimal), or nil when absent.
    fileprivate func text(_ key: String) -> String? {
        switch self[key] {
        case .text(let text): text
        case .number(let number): String(number)
        case .numbers, .null, nil: nil
        }
    }
}
