import Foundation
import Firmware
import Hardware
import Machine
import Testing
import X86

/// What resets and CPU shutdowns do to the emulator: reboot (covered by `ResetPathTests`),
/// end the run, or stop before the transition with all state intact.
@Suite struct PolicyTests {
    static let exitCases: [(ResetGuest, BoardProfile)] = [
        (.i8042Pulse, .pc), (.i8042OutputPort, .pc), (.port92, .pc), (.cf9Warm, .pc), (.cf9Cold, .pc),
        (.tripleFault, .pc), (.port92, .qemu), (.cf9Cold, .qemu),
    ]

    /// `--on-reset exit`: the run ends at the request with the board's answer; nothing is reset.
    @Test(arguments: exitCases)
    func onResetExitEndsTheRunAtTheRequest(guest: ResetGuest, board: BoardProfile) throws {
        let run = try TestBoard.run(guest, board: board) { $0.onReset = .exit }
        let kind = try #require(guest.expectedAnswer(on: board))
        let source = try #require(guest.expectedSource)
        #expect(run.outcome == .endedAtReset(kind: kind, source: source))
        #expect(run.outcome.exitStatus == 8)
        #expect(run.records.named("reset-request").count == 1)
        #expect(run.records.named("reset").isEmpty)
        #expect(run.records.named("cpu-start").count == 1)
        #expect(run.machine.boots == 1)
        #expect(!run.serialText.contains(guest.backLine))
    }

    /// `--on-reset pause`: the run stops before the reset, the CPU still inside the guest
    /// (CS = 0, IP within the guest's bytes at 7C00h), and the state report shows it.
    @Test(arguments: ResetGuest.realModeRequestingReset)
    func onResetPauseStopsBeforeTheResetWithStateIntact(guest: ResetGuest) throws {
        let payload = try guest.program()
        let run = try TestBoard.run(guest) { $0.onReset = .pause }
        let reason = try #require(run.outcome.pauseReason, "expected a pause, got \(run.outcome)")
        #expect(reason.contains(guest.expectedSource!.rawValue))
        #expect(run.outcome.exitStatus == 2)
        #expect(run.records.named("reset").isEmpty)
        #expect(run.machine.boots == 1)

        let cpu = run.machine.cpus[0]
        let guestRange = UInt64(SmallGuest.origin)..<UInt64(SmallGuest.origin) + UInt64(payload.count)
        #expect(cpu.segment(.cs).selector == 0)
        #expect(guestRange.contains(cpu.instructionPointer), "IP = \(String(cpu.instructionPointer, radix: 16))")
        // The guest's own stack: SS = 0, SP at or below 7C00h.
        #expect(cpu.segment(.ss).selector == 0)
        #expect(cpu.register(.rsp) & 0xFFFF <= 0x7C00)

        let report = run.machine.stateReport()
        for expected in ["cpu0", "EAX=", "EIP=00007", "cs=0000", "reset-request"] {
            #expect(report.contains(expected), "state report lacks \(expected):\n\(report)")
        }
        // The code line: 16 bytes before CS:IP, then the next instruction's first byte in angle
        // brackets, as the guest's memory holds them.
        let ip = Int(cpu.instructionPointer)
        let memory = try #require(run.machine.debugRead(linear: UInt64(ip - 16), count: 32, cpu: 0))
        let bytes = memory.enumerated().map { index, byte in
            let hex = String(format: "%02X", byte)
            return index == 16 ? "<\(hex)>" : hex
        }
        #expect(report.contains("  code: " + bytes.joined(separator: " ")), "\(report)")
    }

    /// `--on-shutdown`: the triple-fault guest's shutdown is answered by the board (a reset),
    /// pauses with the CPU still in shutdown, or ends the run.
    @Test(arguments: ShutdownPolicy.allCases)
    func onShutdownPolicy(_ policy: ShutdownPolicy) throws {
        let run = try TestBoard.run(.tripleFault) { $0.onShutdown = policy }
        let records = run.records
        #expect(records.named("shutdown").count == 1)
        let cpu = run.machine.cpus[0]
        switch policy {
        case .board:
            #expect(run.outcome == .allHalted)
            #expect(records.named("reset-request").first?.event["source"] == "triple-fault")
            #expect(records.named("reset").first?.event["kind"] == "init")
            #expect(run.serialText.contains(ResetGuest.tripleFault.backLine))
        case .pause:
            let reason = try #require(run.outcome.pauseReason, "expected a pause, got \(run.outcome)")
            #expect(reason.contains("shutdown"))
            #expect(run.outcome.exitStatus == 2)
            #expect(cpu.activity == .shutdown)
            #expect(cpu.shutdownChain == [3, 13, 8, 13])
            #expect(records.named("reset-request").isEmpty)
            #expect(run.machine.stateReport().contains("shutdown chain=[3, 13, 8, 13]"))
        case .exit:
            #expect(run.outcome == .endedAtShutdown(cpu: 0))
            #expect(run.outcome.exitStatus == 8)
            #expect(cpu.activity == .shutdown)
            #expect(records.named("reset-request").isEmpty)
        }
        if policy != .board {
            #expect(records.named("reset").isEmpty)
            #expect(run.machine.boots == 1)
            #expect(!run.serialText.contains(ResetGuest.tripleFault.backLine))
        }
    }

    /// The shutdown policy `board` hands the shutdown to the reset policy: with
    /// `--on-reset exit` the run ends at the INIT the board would raise.
    @Test func shutdownAnsweredByTheBoardMeetsTheResetPolicy() throws {
        let run = try TestBoard.run(.tripleFault) { $0.onReset = .exit }
        #expect(run.outcome == .endedAtReset(kind: .initSignal, source: .tripleFault))
    }

    /// The user's reset button asks the same controller for a hard reset, under the same policy.
    @Test(arguments: ResetPolicy.allCases, BoardProfile.allCases)
    func resetButtonMeetsTheResetPolicy(policy: ResetPolicy, board: BoardProfile) throws {
        let run = try TestBoard.run(payload: SmallGuest.haltForever(interruptsEnabled: false), board: board) {
            $0.onReset = policy
        } prepare: { machine in
            var pressed = false
            machine.onHalt = { machine, _ in
                if !pressed { machine.pressResetButton() }
                pressed = true
            }
        }
        let records = run.records
        #expect(records.named("reset-request").first?.event["source"] == "user")
        #expect(records.named("reset-request").first?.event["requested"] == "hard")
        switch policy {
        case .reboot:
            #expect(run.outcome == .allHalted)
            #expect(records.named("reset").map(\.event) == [TraceEvent("reset", [("kind", "hard"), ("cause", "user")])])
            #expect(records.firmwareEntries.count == 2)
            #expect(run.machine.boots == 2)
        case .exit:
            #expect(run.outcome == .endedAtReset(kind: .hard, source: .user))
        case .pause:
            #expect(run.outcome.pauseReason?.contains("user") == true, "\(run.outcome)")
        }
    }
}
