import Firmware
import Hardware
import Machine
import Testing

/// The protected-mode reset guests: what each one's story looks like in the trace.
@Suite struct ProtectedModeGuestTests {
    /// Triple faults from ring 0, from ring 3 and from inside a task-gate handler: the mode
    /// change, the exception chain of the shutdown, the board's INIT and the guest back.
    @Test(arguments: [
        (ResetGuest.protectedTripleFault, [6, 13, 8, 13] as [UInt64]),
        (.longModeTripleFault, [6, 13, 8, 13]),
        (.userTripleFault, [13, 8, 11]),
        (.taskGateFault, [13, 8, 11]),
    ])
    func tripleFaultChain(guest: ResetGuest, chain: [UInt64]) throws {
        let run = try TestBoard.run(guest)
        let records = run.records
        #expect(run.outcome == .allHalted)
        let guestRecords = records.firstGuestRecords
        try #require(!guestRecords.isEmpty)
        let guestStart = guestRecords.startIndex
        let modeIndex = try #require(records.firstIndex(of: "mode", from: guestStart))
        #expect(records[modeIndex].event["pe"] == 1)
        #expect(records[modeIndex].event["pg"] == 0)
        #expect(records.named("mode").contains { $0.event["lma"] == 1 } == (guest == .longModeTripleFault))
        let shutdownIndex = try #require(records.firstIndex(of: "shutdown", from: modeIndex))
        #expect(records[shutdownIndex].event["vector"] == .numbers(chain))
        let resetIndex = try #require(records.firstIndex(of: "reset", from: shutdownIndex))
        #expect(records[resetIndex].event["kind"] == .text(ResetKind.initSignal.rawValue))
        #expect(run.machine.boots == 2)
        #expect(run.serialText.contains(guest.backLine))
    }

    /// Linux's `reboot=b` from 64-bit mode goes into IA-32e mode and out of it through
    /// compatibility mode (CR0.PG off clears EFER.LMA, then LME is cleared) to real mode before
    /// its jump to F000:FFF0 (the firmware's side is in `ResetPathTests`).
    @Test func biosRebootLeavesLongModeBeforeTheResetVector() throws {
        let run = try TestBoard.run(.longModeBIOSReboot)
        let modes = run.records.firstGuestRecords.filter { $0.event.name == "mode" }.map { record in ["pe", "pg", "lma"].map { record.event[$0] } }
        #expect(modes == [[1, 0, 0], [1, 1, 1], [1, 0, 0], [0, 0, 0]])
        #expect(run.records.named("shutdown").isEmpty)
        #expect(run.machine.cpus[0].extendedFeatureEnable == 0)
        #expect(!run.machine.cpus[0].isProtectedMode)
    }

    /// The task-gate guest's #UD switches tasks (a `task-switch` event naming both TSSs, the
    /// reason and the vector) before the handler task's fault escalates.
    @Test func taskSwitchPrecedesTheShutdown() throws {
        let records = try TestBoard.run(.taskGateFault).records
        let switches = records.named("task-switch")
        try #require(switches.count == 1)
        let event = switches[0].event
        #expect(event["from"] == 0x38)
        #expect(event["to"] == 0x40)
        #expect(event["reason"] == "exception")
        #expect(event["vector"] == 6)
        let switchIndex = try #require(records.firstIndex(of: "task-switch"))
        #expect(records.firstIndex(of: "shutdown", from: switchIndex) != nil)
    }

    /// `--on-reset pause` after a ring-3 triple fault: the CPU stops in shutdown with the
    /// state it faulted in — CS the ring-3 selector, protected mode on.
    @Test func pauseKeepsTheRing3State() throws {
        let run = try TestBoard.run(.userTripleFault) { $0.onReset = .pause }
        #expect(run.outcome.exitStatus == 2)
        let cpu = run.machine.cpus[0]
        #expect(cpu.isProtectedMode)
        #expect(cpu.segment(.cs).selector == 0x2B)
        #expect(cpu.activity == .shutdown)
    }

    /// The 286 BIOS way back to real mode: CMOS shutdown code 0Ah, then the 8042's reset line
    /// while in 16-bit protected mode. INIT lands in the firmware, which resumes the guest
    /// through 0040:0067 without booting again.
    @Test func i8042ResetFrom286ProtectedModeResumesThroughCMOS() throws {
        let guest = ResetGuest.i8042From286ProtectedMode
        let run = try TestBoard.run(guest)
        let records = run.records
        #expect(run.outcome == .allHalted)
        let guestRecords = records.firstGuestRecords
        try #require(!guestRecords.isEmpty)
        let guestStart = guestRecords.startIndex
        let modeIndex = try #require(records.firstIndex(of: "mode", from: guestStart))
        let requestIndex = try #require(records.firstIndex(of: "reset-request", from: modeIndex))
        #expect(records[requestIndex].event["source"] == .text(ResetSource.i8042Pulse.rawValue))
        let resetIndex = try #require(records.firstIndex(of: "reset", from: requestIndex))
        #expect(records[resetIndex].event["kind"] == .text(ResetKind.initSignal.rawValue))
        let entries = records.firmwareEntries
        try #require(entries.count == 2)
        #expect(records.milestones(from: entries[1]) == ["reset-vector", "resume"])
        #expect(run.serialText.contains(guest.backLine))
        #expect(!run.serialText.contains("boot 2"))
        #expect(!run.machine.cpus[0].isProtectedMode)
    }
}
