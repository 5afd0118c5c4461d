import Firmware
import Hardware
import Machine
import Testing
import X86Asm

/// The `panic` guest reports PANICKED through pvpanic (port 505h); `--on-panic` answers. A
/// panic is the abnormal end: it follows `--on-panic`, never `--on-reset`.
@Suite struct PanicTests {
    static let stillRunning = "guest panic: still running after the panic report"

    @Test func pauseStopsRightAfterTheWriteWithStateIntact() throws {
        let payload = try ResetGuest.panic.program()
        let run = try TestBoard.run(.panic)      // pause is the default
        let reason = try #require(run.outcome.pauseReason, "\(run.outcome)")
        #expect(reason.contains("panicked"))
        #expect(run.outcome.exitStatus == 2)
        let panic = try #require(run.records.named("panic").first)
        #expect(panic.event["events"] == 1)
        #expect(panic.event["names"] == "panicked")
        #expect(panic.event["action"] == "pause")
        #expect(panic.event.cpu == 0)
        #expect(!run.serialText.contains(Self.stillRunning))
        // Stopped at the instruction after `out dx, al` (EE), the port still in DX.
        let cpu = run.machine.cpus[0]
        let ip = Int(cpu.instructionPointer) - Int(SmallGuest.origin)
        try #require(ip > 0 && ip <= payload.count)
        #expect(payload[ip - 1] == 0xEE)
        #expect(cpu.register(.rdx) & 0xFFFF == 0x505)
        #expect(cpu.register(.rax) & 0xFF == 0x01)
    }

    @Test func exitEndsTheRunWithStatus10() throws {
        let run = try TestBoard.run(.panic) { $0.onPanic = .exit }
        #expect(run.outcome == .guestPanicked(events: 1))
        #expect(run.outcome.exitStatus == 10)
        #expect(run.outcome.summary.contains("panicked"))
        #expect(run.machine.boots == 1)
    }

    @Test(arguments: BoardProfile.allCases)
    func rebootIsAHardResetWithSourcePanic(board: BoardProfile) throws {
        let run = try TestBoard.run(.panic, board: board) { $0.onPanic = .reboot }
        #expect(run.outcome == .allHalted)
        let request = try #require(run.records.named("reset-request").first)
        #expect(request.event["source"] == "panic")
        #expect(request.event["requested"] == "hard")
        #expect(request.event.cpu == 0)
        #expect(run.records.named("reset").first?.event["kind"] == "hard")
        #expect(run.machine.boots == 2)
        #expect(run.serialText.contains(ResetGuest.panic.backLine))
    }

    /// The split: clean resets pause for a debugger, a panic still reboots (and the other way round).
    @Test func aPanicFollowsOnPanicNotOnReset() throws {
        let reboots = try TestBoard.run(.panic) {
            $0.onReset = .pause
            $0.onPanic = .reboot
        }
        #expect(reboots.machine.boots == 2)
        #expect(reboots.outcome == .allHalted)

        let pauses = try TestBoard.run(.panic) {
            $0.onReset = .reboot
            $0.onPanic = .pause
        }
        #expect(pauses.outcome.pauseReason != nil)
        #expect(pauses.machine.boots == 1)
    }

    @Test func noneOnlyTracesAndTheGuestRunsOn() throws {
        let run = try TestBoard.run(.panic) { $0.onPanic = .none }
        #expect(run.outcome == .allHalted)
        #expect(run.records.named("panic").first?.event["action"] == "none")
        #expect(run.serialText.contains(Self.stillRunning))
    }

    /// CRASH_LOADED alone: the guest handles its crash; the host records it and lets it run,
    /// whatever `--on-panic` says.
    @Test(arguments: PanicPolicy.allCases)
    func crashLoadedIsOnlyRecorded(policy: PanicPolicy) throws {
        let payload = try SmallGuest.assemble { a in
            a.mov(.dx, 0x505)
            a.mov(.al, 0x02)
            a.out(.dx, .al)
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload) { $0.onPanic = policy }
        #expect(run.outcome == .allHalted)
        let panic = try #require(run.records.named("panic").first)
        #expect(panic.event["events"] == 2)
        #expect(panic.event["names"] == "crash-loaded")
        #expect(panic.event["action"] == "none")
    }

    /// Reads give the supported events; writes of unknown bits report nothing.
    @Test func theDeviceAnswersTheGuest() throws {
        let capture = ByteCapture()
        let payload = try SmallGuest.assemble { a in
            a.mov(.dx, 0x505)
            a.in(.al, .dx)
            a.out(SmallGuest.debugPortImmediate, .al)
            a.mov(.al, 0xFC)
            a.mov(.dx, 0x505)
            a.out(.dx, .al)
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload) { $0.attachDebugConsole(capture) }
        #expect(capture.bytes == [0x03])
        #expect(run.records.named("panic").isEmpty)
        #expect(run.outcome == .allHalted)
    }

    @Test func withoutThePanicDeviceTheGuestFindsNothing() throws {
        let run = try TestBoard.run(payload: ResetGuest.panic.program()) { $0.panicDevice = false }
        #expect(run.outcome == .allHalted)
        #expect(run.serialText.contains("no pvpanic device at port 505h"))
        #expect(run.records.named("panic").isEmpty)
    }

    /// The DSDT lists the pvpanic device (`QEMU0001`) at the device's port, and only when the
    /// board has it.
    @Test func theDSDTPortIsTheDevicePort() throws {
        var configuration = MachineConfiguration(firmware: try ResetVectorROM.image())
        #expect(configuration.panicDevicePort == 0x505)
        #expect(PVPanic.defaultPort == ResetGuest.panicPort)
        #expect(ACPIBoard.acpiConfiguration(configuration).panicDevicePort == PVPanic.defaultPort)
        let tables = try #require(ACPIBoard.installation(configuration)).tablesFile
        #expect(tables.contains(Array("QEMU0001".utf8)))
        configuration.panicDevice = false
        #expect(configuration.panicDevicePort == nil)
        let without = try #require(ACPIBoard.installation(configuration)).tablesFile
        #expect(!without.contains(Array("QEMU0001".utf8)))
    }
}

extension SmallGuest {
    static var debugPortImmediate: Port { .immediate(UInt8(debugPort)) }
}
