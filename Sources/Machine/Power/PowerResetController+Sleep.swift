import Hardware

/// ACPI sleep states (ACPI 6.5 §16.1): S5 powers the board off; S3 suspends it to RAM until a
/// wake event, then the bootstrap processor starts at the reset vector and the firmware
/// resumes the operating system through the FACS waking vector.
extension PowerResetController {
    /// The guest set SLP_EN in PM1_CNT with the SLP_TYP of a sleep state (`sleep-request`).
    ///
    /// Both happen at the next instruction boundary (with several processors, once the
    /// round-robin is back at the one that asked), like a reset; neither is a reset, so
    /// `--on-reset` does not apply. S5: a `power-off` event, and the run ends as
    /// ``RunOutcome/poweredOff`` (status 0). S3: a `sleep` event; every CPU stops, devices take
    /// their S3 state (``ResetKind/sleep``), RAM and CMOS keep theirs, and virtual time runs on
    /// (``passTimeAsleep()``) until the power button or an RTC alarm with RTC_EN wakes the
    /// board (``wake(from:)``).
    func requestSleep(_ request: SleepRequest) {
        let cpu = request.cpu ?? machine.runningCPU
        machine.emit(TraceEvent("sleep-request", cpu: cpu, [
            ("state", .text(request.state.rawValue)), ("slp-typ", .number(UInt64(request.sleepType))),
            ("port", .number(UInt64(request.port))), ("value", .number(UInt64(request.value))),
        ]))
        let kind: ResetKind = request.state == .s5 ? .powerOff : .sleep
        schedule(kind, ResetRequest(source: .acpiSleep, requestedKind: kind, port: request.port,
                                    value: request.value, cpu: cpu))
    }

    /// The board sleeps in S3: a transition asked for meanwhile (the user's reset button or
    /// mechanical off) comes first; otherwise virtual time jumps to the next event that can
    /// wake the board — an RTC alarm (which wakes it only with RTC_EN) or a scheduled user
    /// action (the power button) — and the devices catch up there, which may wake it. With
    /// nothing left that could, the run ends, paused (status 2): the board would sleep forever.
    func passTimeAsleep() {
        if pending != nil {
            performPending(beforeTurnOf: nil)
            return
        }
        let events = [machine.devices.realTimeClock.nextAlarmTime()] + machine.devices.boardEventSources.map { $0.nextDeadline() }
        guard let next = events.compactMap({ $0 }).min() else {
            // A control socket can still wake it (QMP system_wakeup, system_powerdown).
            if let control = machine.control {
                control.waitForCommands(milliseconds: 50)
                return
            }
            machine.finish(.paused(reason: "the board sleeps in S3 and nothing can wake it (no RTC alarm with RTC_EN, no power button scheduled)"))
            return
        }
        machine.jumpClock(to: next)
    }

    /// A wake event ended S3 (the PM block has set WAK_STS): a `wake` event with its source;
    /// the bootstrap processor starts at the reset vector, the others wait for a start-up IPI.
    func wake(from source: WakeSource) {
        machine.emit(TraceEvent("wake", [("source", .text(source.rawValue))]))
        machine.restartCPUs()
    }
}
