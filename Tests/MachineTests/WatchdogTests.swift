import Firmware
import Hardware
import Machine
import Testing

/// The `watchdog-bite` guest on a board with the 6300ESB: it arms the watchdog, stops feeding
/// it (halts with interrupts off), and each `--watchdog-action` answers the expiry of stage 2.
@Suite struct WatchdogTests {
    /// One stage of the guest's preload at 1 kHz: ticks × 2^15 PCI clocks of 30 ns.
    static let stageLength = (UInt64(ResetGuest.watchdogStageTicks) << 15) * 30

    static let timedOutLine = "\(ResetGuest.watchdogBite.backLine); the watchdog's timeout status is set"

    @Test(arguments: BoardProfile.allCases)
    func resetActionRebootsAndTheGuestSeesTheTimeoutStatus(board: BoardProfile) throws {
        let run = try TestBoard.run(.watchdogBite, board: board)
        let records = run.records
        #expect(run.outcome == .allHalted)
        #expect(run.machine.boots == 2)
        #expect(run.serialText.contains("guest watchdog-bite: armed"))
        #expect(run.serialText.contains(Self.timedOutLine), "\(run.serialText)")

        let stages = records.named("watchdog")
        try #require(stages.count == 2, "\(stages.map(\.line))")
        #expect(stages[0].event["stage"] == 1)
        #expect(stages[0].event["action"] == "none")       // configuration 0003h: no stage-1 interrupt
        #expect(stages[1].event["stage"] == 2)
        #expect(stages[1].event["action"] == "reset")
        // The two stages follow each other by exactly one stage length of virtual time.
        #expect(stages[1].time - stages[0].time == Self.stageLength)

        let request = try #require(records.named("reset-request").first)
        #expect(request.event["source"] == "watchdog")
        #expect(request.time == stages[1].time)
        let reset = try #require(records.named("reset").first)
        #expect(reset.event["kind"] == "hard")
        #expect(reset.event["cause"] == "watchdog")
        let order = ["watchdog", "reset-request", "reset", "cpu-start"].map { name in
            records.lastIndex { $0.event.name == name }!
        }
        #expect(order == order.sorted())
    }

    /// The watchdog's action is its own policy: `--on-reset pause` (for the guest's clean
    /// resets) does not hold back its reset.
    @Test func theWatchdogResetDoesNotFollowOnReset() throws {
        let run = try TestBoard.run(.watchdogBite) { $0.onReset = .pause }
        #expect(run.outcome == .allHalted)
        #expect(run.serialText.contains(Self.timedOutLine))
    }

    @Test func powerOffActionEndsTheRun() throws {
        let run = try TestBoard.run(.watchdogBite) { $0.watchdogAction = .powerOff }
        #expect(run.outcome == .poweredOff)
        #expect(run.outcome.exitStatus == 0)
        #expect(run.records.named("reset-request").first?.event["requested"] == "power-off")
        #expect(run.records.named("power-off").first?.event["cause"] == "watchdog")
        #expect(run.records.named("reset").isEmpty)
        #expect(run.machine.boots == 1)
    }

    @Test func pauseActionStopsWithStateIntact() throws {
        let run = try TestBoard.run(.watchdogBite) { $0.watchdogAction = .pause }
        let reason = try #require(run.outcome.pauseReason, "\(run.outcome)")
        #expect(reason.contains("watchdog"))
        #expect(run.outcome.exitStatus == 2)
        #expect(run.records.named("reset-request").isEmpty)
        #expect(run.machine.boots == 1)
        #expect(run.machine.cpus[0].activity == .halted, "still in the guest's cli; hlt")
        #expect(run.records.named("watchdog").last?.event["action"] == "pause")
    }

    @Test func nmiActionInterruptsTheProcessorsAndNothingResets() throws {
        let run = try TestBoard.run(.watchdogBite) { $0.watchdogAction = .nmi }
        #expect(run.outcome == .allHalted)
        let nmi = try #require(run.records.named("nmi-line").first)
        #expect(nmi.event["cause"] == "watchdog")
        #expect(nmi.event["to"] == .numbers([0]), "the firmware leaves the BSP's LINT1 as NMI")
        #expect(run.records.named("reset-request").isEmpty)
        #expect(run.machine.boots == 1)
        #expect(run.machine.cpus[0].instructionsRetired > 0)
    }

    @Test func noneActionOnlyTraces() throws {
        let run = try TestBoard.run(.watchdogBite) { $0.watchdogAction = .none }
        #expect(run.outcome == .allHalted)
        #expect(run.records.named("watchdog").map { $0.event["action"] } == ["none", "none"])
        #expect(run.records.named("reset-request").isEmpty)
        #expect(run.machine.boots == 1)
    }

    /// Without `watchdog` the board has nothing at 00:05.0 and the guest says so.
    @Test func withoutTheWatchdogTheGuestFindsNothing() throws {
        let run = try TestBoard.run(payload: ResetGuest.watchdogBite.program())
        #expect(run.outcome == .allHalted)
        #expect(run.serialText.contains("no 6300ESB watchdog at PCI 00:05.0"))
        #expect(run.records.named("watchdog").isEmpty)
    }

    /// A clean reset (the user's reset button at 1 ms, before the watchdog expires): the
    /// guest's second boot sees the status clear, and the reset disarmed the watchdog.
    @Test func aCleanResetLeavesTheTimeoutStatusClear() throws {
        let clean = try TestBoard.run(.watchdogBite) {
            $0.watchdogAction = .none
            $0.userActions = [ScheduledUserAction(time: 1_000_000, action: .reset)]
        }
        #expect(clean.serialText.contains("\(ResetGuest.watchdogBite.backLine), but the watchdog's timeout status is clear"),
                "\(clean.serialText)")
        #expect(clean.records.named("watchdog").isEmpty)
    }

    @Test func theWatchdogBiteIsDeterministic() throws {
        let first = try TestBoard.run(.watchdogBite).records
        let second = try TestBoard.run(.watchdogBite).records
        #expect(first == second)
    }
}
