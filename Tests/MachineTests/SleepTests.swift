import Firmware
import Hardware
@testable import Machine
import Testing
import X86
import X86Asm

/// ACPI S3 on a whole machine with the built-in `s3-resume` guest: it sets the FACS waking
/// vector, arms an RTC alarm with RTC_EN and suspends through `\_S3`; the board sleeps until
/// the alarm (or the power button) wakes it, and the firmware resumes the guest at its vector.
@Suite struct SleepTests {
    static let second: UInt64 = 1_000_000_000

    static func run(smp: Int = 1, powerButtonAt: UInt64? = nil) throws -> GuestRun {
        try TestBoard.run(.s3Resume) { configuration in
            configuration.processorCount = smp
            if let time = powerButtonAt { configuration.userActions = [ScheduledUserAction(time: time, action: .powerButton)] }
        }
    }

    @Test func theRTCAlarmWakesTheBoardAndTheFirmwareResumesTheGuest() throws {
        let run = try Self.run()
        #expect(run.outcome == .allHalted)
        #expect(run.serialText.contains("guest s3-resume: resumed from S3 through the FACS waking vector, woken by the RTC alarm"),
                "\(run.serialText)")
        let records = run.records
        let sleep = try #require(records.named("sleep").first)
        #expect(sleep.event["state"] == "S3")
        let wake = try #require(records.named("wake").first)
        #expect(wake.event["source"] == "rtc-alarm")
        // The alarm is two seconds ahead on whole seconds: time jumped, no instruction ran.
        #expect(wake.time > sleep.time + Self.second && wake.time <= sleep.time + 2 * Self.second + 1)
        #expect(wake.instructionCount == sleep.instructionCount, "no CPU runs in S3")
        let afterWake = records.drop { $0.event.name != "wake" }
        #expect(afterWake.dropFirst().first?.event.name == "cpu-start", "the BSP starts at the reset vector")
        #expect(Array(afterWake).milestones(from: 0).prefix(2) == ["reset-vector", S3Resume.milestone])
        #expect(!Array(afterWake).milestones(from: 0).contains("cold-start"), "a resume is not a boot")
        #expect(run.machine.boots == 2)
        // CMOS kept: the boot counter still says one boot.
        #expect(run.machine.devices.realTimeClock.cmosByte(Int(ResetVectorROM.bootCounterIndex)) == 1)
        // The firmware cleared SLP_TYP and put the board back in ACPI mode; WAK_STS the guest cleared.
        let pm = run.machine.devices.powerManagement!
        #expect(pm.readPort(0x604, size: 2) == 0x0001)
        #expect(!pm.isSleeping)
    }

    @Test func thePowerButtonWakesTheBoardBeforeTheAlarm() throws {
        let run = try Self.run(powerButtonAt: Self.second)
        #expect(run.serialText.contains("woken by the power button"), "\(run.serialText)")
        let wake = try #require(run.records.named("wake").first)
        #expect(wake.event["source"] == "power-button")
        #expect(wake.time == Self.second)
        #expect(run.records.named("wake").count == 1, "the alarm after it wakes nothing: the board is awake")
    }

    @Test func applicationProcessorsStayParkedAfterTheResume() throws {
        let run = try Self.run(smp: 2)
        #expect(run.serialText.contains("woken by the RTC alarm"))
        let afterWake = Array(run.records.drop { $0.event.name != "wake" })
        #expect(afterWake.named("wait-for-sipi").map(\.event.cpu) == [1])
        #expect(afterWake.named("sipi").isEmpty && afterWake.named("init").isEmpty, "the firmware does not start them again")
        #expect(run.machine.cpus[1].activity == .waitingForStartup)
    }

    @Test func aSuspendAndResumeIsDeterministic() throws {
        let first = try Self.run(smp: 2, powerButtonAt: 3 * Self.second / 2)
        let second = try Self.run(smp: 2, powerButtonAt: 3 * Self.second / 2)
        #expect(first.records.named("wake").count == 1)
        #expect(first.records.map(\.line) == second.records.map(\.line))
        #expect(first.serialText == second.serialText)
    }

    /// The user's reset button while the board sleeps: a platform reset, and a normal boot.
    @Test func aResetWhileAsleepBootsTheBoard() throws {
        let run = try TestBoard.run(.s3Resume) {
            $0.userActions = [ScheduledUserAction(time: Self.second / 2, action: .reset)]
        }
        #expect(run.records.named("wake").isEmpty)
        #expect(run.records.named("reset").first?.event["kind"] == "hard")
        #expect(run.serialText.contains("guest s3-resume: booted again instead of resuming"), "\(run.serialText)")
    }

    /// SLP_EN with SLP_TYP values no `\_Sx` package names (1, 2, 4, 6) and S0's: each only
    /// traced, and the guest runs on to its HLT.
    @Test func sleepTypesWithNoPackageAreIgnored() throws {
        let types: [UInt16] = [1, 2, 4, 6, 0]
        let run = try TestBoard.run(payload: try SmallGuest.assemble { a in
            a.mov(.dx, 0x604)
            for type in types {
                a.mov(.ax, Int(type << 10 | 1 << 13))
                a.out(.dx, .ax)
            }
            a.haltLoop(interruptsEnabled: false)
        })
        #expect(run.records.named("sleep-type-ignored").compactMap { $0.event["slp-typ"]?.number } == types.map(UInt64.init))
        #expect(run.records.named("sleep").isEmpty && run.records.named("sleep-request").isEmpty)
        #expect(run.outcome == .allHalted)
    }

    /// A garbage waking vector (above 1 MiB, which real mode cannot reach): the firmware does
    /// not jump there; it says so and boots normally.
    @Test func aWakingVectorRealModeCannotReachBootsNormally() throws {
        let facs = try #require(ACPIBoard.installation(try TestBoard.configuration(payload: []))).layout.baseAddress
        let run = try TestBoard.run(payload: try SmallGuest.assemble { a in
            a.emitUnrealMode([.ds])
            a.mov(.ebx, Int(facs))
            a.mov(Mem(.ebx, disp: 12, size: .dword), Int(0xFFFF_FFF0 as UInt32))
            a.mov(.dx, 0x604)
            a.mov(.ax, 5 << 10 | 1 << 13)
            a.out(.dx, .ax)
            a.haltLoop(interruptsEnabled: false)
        }) {
            $0.userActions = [ScheduledUserAction(time: Self.second, action: .powerButton)]
        }
        let wake = try #require(run.records.firstIndex(of: "wake"))
        #expect(run.records.milestones(from: wake).prefix(4) == ["reset-vector", S3Resume.milestone, S3Resume.noVectorMilestone, "cold-start"])
        #expect(run.records.named("sleep").count == 2, "booted again, the guest sleeps again")
        #expect(run.outcome.pauseReason?.contains("S3") == true, "and nothing wakes it the second time")
    }
}
