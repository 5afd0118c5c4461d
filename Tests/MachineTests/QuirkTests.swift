import Firmware
import Hardware
import Machine
import Testing
import X86

/// Reset paths broken on purpose: the write is recorded as swallowed by the quirk and the
/// guest finds that its reset did nothing; other paths keep working.
@Suite struct QuirkTests {
    static let blockingCases: [(Quirk, ResetGuest)] = [
        (.no8042Reset, .i8042Pulse), (.no8042Reset, .i8042OutputPort), (.noPort92Reset, .port92),
        (.noCF9, .cf9Warm), (.noCF9, .cf9Cold),
    ]

    @Test(arguments: blockingCases, BoardProfile.allCases)
    func quirkBlocksItsPath(path: (quirk: Quirk, guest: ResetGuest), board: BoardProfile) throws {
        let (quirk, guest) = path
        let run = try TestBoard.run(guest, board: board) { $0.quirks = [quirk] }
        let records = run.records
        let quirks = records.named("quirk")
        try #require(quirks.count == 1, "quirk events: \(quirks.map(\.line))")
        let event = quirks[0].event
        #expect(event["quirk"] == .text(quirk.rawValue))
        #expect(event["source"] == .text(guest.expectedSource!.rawValue))
        #expect(event["port"]?.number == guest.expectedPort.map(UInt64.init))
        if let value = guest.expectedValue { #expect(event["value"] == .number(value)) }
        #expect(event.cpu == 0)

        #expect(records.named("reset-request").isEmpty)
        #expect(records.named("reset").isEmpty)
        #expect(records.firmwareEntries.count == 1)
        #expect(run.machine.boots == 1)
        #expect(run.serialText.contains(guest.nothingLine))
        #expect(!run.serialText.contains(guest.backLine))
        #expect(run.outcome == .allHalted)
    }

    /// A quirk breaks only its own path.
    @Test(arguments: [(Quirk.noCF9, ResetGuest.i8042Pulse), (.no8042Reset, .cf9Warm), (.noPort92Reset, .i8042OutputPort),
                      (.no8042Reset, .port92), (.noCF9, .tripleFault)])
    func quirkLeavesOtherPathsWorking(quirk: Quirk, guest: ResetGuest) throws {
        let run = try TestBoard.run(guest) { $0.quirks = [quirk] }
        #expect(run.records.named("quirk").isEmpty)
        #expect(run.records.named("reset").count == 1)
        #expect(run.serialText.contains(guest.backLine))
    }

    /// `8042-reset-hangs`: the request is recorded, then the machine locks up (exit status 6)
    /// at once instead of resetting.
    @Test(arguments: [ResetGuest.i8042Pulse, .i8042OutputPort])
    func i8042ResetHangsTheMachine(guest: ResetGuest) throws {
        let run = try TestBoard.run(guest) { $0.quirks = [.i8042ResetHangs] }
        let reason = try #require(run.outcome.hangReason, "expected a hang, got \(run.outcome)")
        #expect(reason.contains(Quirk.i8042ResetHangs.rawValue))
        #expect(run.outcome.exitStatus == 6)
        let records = run.records
        let request = try #require(records.firstIndex(of: "reset-request"))
        let quirk = try #require(records.firstIndex(of: "quirk", from: request))
        #expect(records[quirk].event["quirk"] == .text(Quirk.i8042ResetHangs.rawValue))
        #expect(records.named("reset").isEmpty)
        #expect(!run.serialText.contains(guest.nothingLine))
        // It stops at the write, not after a spin to the instruction cap.
        #expect(run.machine.instructionCount < TestBoard.instructionCap / 10)
    }

    /// `shutdown-ignored`: nobody answers the shutdown cycle, the CPU stays in shutdown, and
    /// since nothing can wake it the run ends as if every CPU were halted with interrupts off.
    @Test(arguments: [true, false])
    func shutdownIgnoredLeavesTheCPUInShutdown(exitOnHalt: Bool) throws {
        let run = try TestBoard.run(.tripleFault) {
            $0.quirks = [.shutdownIgnored]
            $0.exitOnHalt = exitOnHalt
        }
        if exitOnHalt {
            #expect(run.outcome == .allHalted)
        } else {
            let reason = try #require(run.outcome.pauseReason, "expected a pause, got \(run.outcome)")
            #expect(reason.contains("nothing can wake it"))
        }
        let records = run.records
        #expect(records.named("shutdown").count == 1)
        let quirk = try #require(records.named("quirk").first)
        #expect(quirk.event["quirk"] == .text(Quirk.shutdownIgnored.rawValue))
        #expect(records.named("reset-request").isEmpty)
        #expect(records.named("reset").isEmpty)
        #expect(run.machine.cpus[0].activity == .shutdown)
        #expect(run.machine.instructionCount < TestBoard.instructionCap / 10)
    }
}
