import Hardware

/// The abnormal events and the user's power switch: each has its own policy, chosen by the
/// user for that event (`--watchdog-action`, `--on-panic`), so the transition it asks for is
/// performed as asked; `--on-reset` governs the guest's clean resets only.
extension PowerResetController {
    /// The watchdog's stage 2 expired with its output enabled (WDT_TOUT#).
    func watchdogExpired() {
        let action = machine.configuration.watchdogAction
        machine.emit(TraceEvent("watchdog", [("stage", 2), ("action", .text(action.rawValue))]))
        switch action {
        case .reset:
            perform(ResetRequest(source: .watchdog))
        case .powerOff:
            perform(ResetRequest(source: .watchdog, requestedKind: .powerOff))
        case .pause:
            machine.finish(.paused(reason: "the watchdog expired (stage 2); stopped before anything else ran"))
        case .nmi:
            machine.injectNMI(cause: "watchdog")
        case .none:
            break
        }
    }

    /// The guest wrote pvpanic event bits (``PVPanic``): traced with the policy's answer;
    /// PANICKED gets the policy, CRASH_LOADED alone (the guest handles it) only the event.
    func guestPanicked(events: UInt8, cpu: Int?) {
        let policy: PanicPolicy = events & PVPanic.panicked != 0 ? machine.configuration.onPanic : .none
        machine.emit(TraceEvent("panic", cpu: cpu, [
            ("events", .number(UInt64(events))), ("names", .text(PVPanic.eventNames(events).joined(separator: ","))),
            ("action", .text(policy.rawValue)),
        ]))
        switch policy {
        case .pause:
            machine.finish(.paused(reason: "the guest panicked (pvpanic events 0x\(String(events, radix: 16))); stopped with its state intact"))
        case .exit:
            machine.finish(.guestPanicked(events: events))
        case .reboot:
            perform(ResetRequest(source: .panic, requestedKind: .hard, cpu: cpu))
        case .none:
            break
        }
    }

    /// Mechanical off (G3): the user cuts the power; the run ends as powered off.
    func mechanicalOff() {
        perform(ResetRequest(source: .user, requestedKind: .powerOff))
    }

    /// Records the request and schedules the board's answer to it, whatever `--on-reset` says.
    private func perform(_ request: ResetRequest) {
        var fields: [(String, TraceValue)] = [("source", .text(request.source.rawValue))]
        if let kind = request.requestedKind { fields.append(("requested", .text(kind.rawValue))) }
        machine.emit(TraceEvent("reset-request", cpu: request.cpu, fields))
        schedule(board.answer(to: request), request)
    }
}
