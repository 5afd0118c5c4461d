import Firmware
import Hardware
import Machine
import Testing
import X86

/// `--at TIME=ACTION`: the user's actions as deadlines on the virtual clock, performed between
/// two instructions at exactly their time, in a run that is the same every time.
@Suite struct UserActionTests {
    static func at(_ milliseconds: UInt64, _ action: UserAction) -> ScheduledUserAction {
        ScheduledUserAction(time: milliseconds * 1_000_000, action: action)
    }

    /// A guest that spins (`jmp $`) or halts; the actions interrupt it.
    static func run(_ actions: [ScheduledUserAction], payload: [UInt8]? = nil,
                    configure: (inout MachineConfiguration) -> Void = { _ in }) throws -> GuestRun {
        try TestBoard.run(payload: payload ?? SmallGuest.spin()) {
            $0.userActions = actions
            $0.maxInstructions = 40_000_000
            configure(&$0)
        }
    }

    @Test func anActionHappensAtExactlyItsTimeWhileACPURuns() throws {
        let run = try Self.run([Self.at(3, .reset), Self.at(7, .powerOff)])
        let actions = run.records.named("user-action")
        #expect(actions.map(\.time) == [3_000_000, 7_000_000])
        #expect(actions.map { $0.event["action"] } == ["reset", "power-off"])
        #expect(actions.map { $0.event["at"] } == [3_000_000, 7_000_000])
        let request = try #require(run.records.named("reset-request").first)
        #expect(request.event["source"] == "user")
        #expect(request.event["requested"] == "hard")
        #expect(request.time == 3_000_000)
        #expect(run.machine.boots == 2)
        #expect(run.outcome == .poweredOff)
        #expect(run.machine.now == 7_000_000)
    }

    @Test func actionsWaitForAnIdleMachine() throws {
        // Halted with interrupts off: the run would end at once; the script goes on.
        let run = try Self.run([Self.at(50, .reset)], payload: SmallGuest.haltForever(interruptsEnabled: false))
        #expect(run.records.named("user-action").first?.time == 50_000_000)
        #expect(run.machine.boots == 2)
        #expect(run.outcome == .allHalted)
    }

    @Test func theScheduleIsDeterministic() throws {
        let script = [Self.at(2, .nmi), Self.at(4, .ctrlAltDel), Self.at(6, .reset), Self.at(6, .nmi),
                      Self.at(8, .powerButton), Self.at(9, .powerOff)]
        let first = try Self.run(script)
        let second = try Self.run(script)
        #expect(first.records == second.records)
        #expect(first.outcome == second.outcome)
        #expect(first.machine.instructionCount == second.machine.instructionCount)
    }

    @Test func actionsAtTheSameTimeKeepTheirOrder() throws {
        let run = try Self.run([Self.at(5, .powerOff), Self.at(2, .nmi), Self.at(5, .ctrlAltDel)])
        #expect(run.records.named("user-action").map { $0.event["action"] } == ["nmi", "power-off", "ctrl-alt-del"])
    }

    @Test func anActionAtTimeZeroComesBeforeTheFirstInstruction() throws {
        let run = try Self.run([ScheduledUserAction(time: 0, action: .powerOff)])
        #expect(run.outcome == .poweredOff)
        #expect(run.machine.instructionCount == 0)
    }

    @Test func nmiReachesTheBootstrapProcessorThroughLINT1() throws {
        let run = try Self.run([Self.at(1, .nmi)])
        let nmi = try #require(run.records.named("nmi-line").first)
        #expect(nmi.event["cause"] == "user")
        #expect(nmi.event["to"] == .numbers([0]))
        let taken = try #require(run.records.named("nmi").first)
        #expect(taken.event.cpu == 0)
        #expect(taken.event["source"] == "lint1")
    }

    @Test func ctrlAltDelTypesTheKeys() throws {
        let run = try Self.run([Self.at(1, .ctrlAltDel)])
        #expect(run.records.named("key").first?.event["scancodes"] == .numbers([0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D]))
    }

    @Test func theCtrlAltDelGuestRebootsOnTheScriptedKeys() throws {
        let run = try TestBoard.run(payload: ResetGuest.ctrlAltDel.program()) {
            $0.userActions = [Self.at(5, .ctrlAltDel)]
        }
        // The guest's INT 9 handler warm-boots through FFFF:0000: the firmware runs again.
        #expect(run.serialText.contains(ResetGuest.ctrlAltDel.backLine))
        #expect(run.records.firmwareEntries.count == 2)
        #expect(run.records.named("user-action").first?.time == 5_000_000)
    }

    @Test func powerOffIsMechanicalAndIgnoresOnReset() throws {
        let run = try Self.run([Self.at(1, .powerOff)]) { $0.onReset = .pause }
        #expect(run.outcome == .poweredOff)
        #expect(run.records.named("power-off").first?.event["cause"] == "user")
    }

    @Test func theResetButtonFollowsOnReset() throws {
        let run = try Self.run([Self.at(1, .reset)]) { $0.onReset = .pause }
        #expect(run.outcome.pauseReason?.contains("user") == true)
    }

    @Test func powerButtonIsTraced() throws {
        let run = try Self.run([Self.at(1, .powerButton), Self.at(2, .powerOff)])
        #expect(run.records.named("power-button").count == 1)
    }
}
