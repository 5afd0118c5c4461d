import Firmware
import Hardware
@testable import Machine
import Testing

/// ACPI on a whole machine: the tables the ROM installs on every boot, the reset register in
/// each address space (and the quirks that break it), the PM timer's rate, and S5/S3, each
/// seen by a guest that uses the tables as an operating system does.
@Suite struct ACPIGuestTests {
    struct Run {
        let run: GuestRun
        let console: ByteCapture
        var text: String { console.text }
    }

    static func run(_ action: ACPIGuest.Action, board: BoardProfile = .pc,
                    configure: (inout MachineConfiguration) -> Void = { _ in }) throws -> Run {
        let console = ByteCapture()
        let run = try TestBoard.run(payload: try ACPIGuest.program(action), board: board) { configuration in
            configuration.attachDebugConsole(console)
            configure(&configuration)
        }
        return Run(run: run, console: console)
    }

    // MARK: Tables

    @Test func theROMInstallsTheTablesAndTheRSDPInTheEBDA() throws {
        let run = try TestBoard.run(payload: try SmallGuest.haltForever(interruptsEnabled: false))
        let installation = try #require(ACPIBoard.installation(run.machine.configuration))
        let layout = installation.layout
        #expect(run.machine.readMemory(0x9F010, count: 36) == layout.rsdp)
        #expect(run.machine.readMemory(UInt64(layout.baseAddress), count: layout.bytes.count) == layout.bytes)
        #expect(layout.baseAddress == UInt32(32 << 20) - 0x1_0000 + 0xFC0, "the FACS ends the NVS page")
        #expect(layout.address(of: "DSDT") == UInt32(32 << 20) - 0xF000)
        // Nothing of the ACPI step shows on a normal boot but the POST it leaves untouched.
        #expect(!run.records.contains { $0.event["milestone"] == .text(ACPISetup.failureMilestone) })
    }

    @Test func theTablesFollowTheConfiguration() throws {
        var configuration = try TestBoard.configuration(payload: [0xF4])
        configuration.processorCount = 3
        configuration.acpiReset = .pci
        let acpi = ACPIBoard.acpiConfiguration(configuration)
        #expect(acpi.processorCount == 3)
        #expect(acpi.resetRegister == .pciConfiguration(PCIFunctionAddress(device: 0x1F, function: 0), offset: 0x50, value: 6))
        #expect(acpi.powerManagementBase == 0x600)
        #expect(acpi.pciMemoryWindowStart == 32 << 20)
        configuration.acpiReset = .mmio
        configuration.quirks = [.acpiResetWrongValue]
        #expect(ACPIBoard.acpiConfiguration(configuration).resetRegister == .systemMemory(address: 0xFEDF_0000, value: 2))
        configuration.acpiReset = .none
        #expect(ACPIBoard.acpiConfiguration(configuration).resetRegister == ACPIResetRegister.none)
        configuration.memorySize = 1 << 20
        #expect(ACPIBoard.installation(configuration) == nil, "no room for tables above 1 MiB")
    }

    /// A power cycle that clears RAM: the firmware installs the tables again.
    @Test func theTablesComeBackAfterAResetThatClearsRAM() throws {
        let run = try TestBoard.run(.cf9Cold) { $0.powerCycleMemory = .clear }
        #expect(run.records.named("reset").first?.event["kind"] == "full")
        let layout = try #require(ACPIBoard.installation(run.machine.configuration)).layout
        #expect(run.machine.readMemory(0x9F010, count: 36) == layout.rsdp)
        #expect(run.machine.readMemory(UInt64(layout.baseAddress), count: layout.bytes.count) == layout.bytes)
    }

    @Test func theROMProgramsTheLPCBridge() throws {
        let run = try TestBoard.run(payload: try SmallGuest.haltForever(interruptsEnabled: false))
        let lpc = run.machine.devices.lpcBridge!
        #expect(lpc.powerManagementBase == 0x600)
        #expect(lpc.sciLine == 9)
        #expect(run.machine.devices.powerManagement.base == 0x600)
    }

    // MARK: The reset register

    static let spaces: [ACPIResetChoice] = [.io, .mmio, .pci]

    @Test(arguments: spaces, BoardProfile.allCases)
    func aGuestWritesResetValueToResetRegister(choice: ACPIResetChoice, board: BoardProfile) throws {
        let guest = try Self.run(.resetRegister, board: board) { $0.acpiReset = choice }
        #expect(guest.text == "rsdp fadt back", "\(guest.run.records.map(\.line))")
        #expect(guest.run.outcome == .allHalted)
        let requests = guest.run.records.named("reset-request")
        try #require(requests.count == 1, "\(requests.map(\.line))")
        let request = requests[0].event
        switch choice {
        case .io:
            // The hardware cannot know the write came through the FADT: it is 0xCF9's.
            #expect(request["source"] == "cf9")
            #expect(request["port"] == 0xCF9)
            #expect(request["value"] == 6)
        case .mmio:
            #expect(request["source"] == "acpi-reset-reg")
            #expect(request["space"] == "memory")
            #expect(request["address"] == .number(ACPIBoard.memoryResetAddress))
            #expect(request["value"] == 6)
        case .pci:
            #expect(request["source"] == "acpi-reset-reg")
            #expect(request["space"] == "pci")
            #expect(request["address"] == .number(0x1F_0000_0050))
            #expect(request["value"] == 6)
        case .none:
            Issue.record("not a space")
        }
        #expect(guest.run.records.named("reset").first?.event["kind"] == "hard")
        #expect(guest.run.machine.boots == 2)
    }

    @Test func withoutAResetRegisterTheFADTSaysSo() throws {
        let guest = try Self.run(.resetRegister) { $0.acpiReset = .none }
        #expect(guest.text == "rsdp fadt no-reset-reg")
        #expect(guest.run.records.named("reset-request").isEmpty)
    }

    @Test(arguments: spaces)
    func noACPIResetBreaksTheRegister(choice: ACPIResetChoice) throws {
        let guest = try Self.run(.resetRegister) {
            $0.acpiReset = choice
            $0.quirks = [.noACPIReset]
        }
        #expect(guest.text == "rsdp fadt no-reset")
        #expect(guest.run.records.named("reset-request").isEmpty)
        let quirk = try #require(guest.run.records.named("quirk").first).event
        #expect(quirk["quirk"] == "no-acpi-reset")
        #expect(quirk["source"] == (choice == .io ? "cf9" : "acpi-reset-reg"))
    }

    @Test(arguments: spaces)
    func aWrongResetValueIsIgnored(choice: ACPIResetChoice) throws {
        let guest = try Self.run(.resetRegister) {
            $0.acpiReset = choice
            $0.quirks = [.acpiResetWrongValue]
        }
        #expect(guest.text == "rsdp fadt no-reset")
        #expect(guest.run.records.named("reset-request").isEmpty)
        if choice != .io {
            #expect(guest.run.records.named("acpi-reset-ignored").first?.event["value"] == 2)
        }
    }

    /// The 0xCF9 path itself still works when only the FADT's value is wrong.
    @Test func theWrongValueQuirkLeavesOtherPathsAlone() throws {
        let run = try TestBoard.run(.cf9Warm) { $0.quirks = [.acpiResetWrongValue] }
        #expect(run.records.named("reset-request").count == 1)
    }

    // MARK: The PM timer

    @Test func thePMTimerRunsAt3579545HzOfVirtualTime() throws {
        let loops = 1_000_000
        let guest = try Self.run(.timer(loopCount: loops))
        let bytes = guest.console.bytes
        try #require(bytes.count == "rsdp fadt tmr ".utf8.count + 8, "\(guest.text)")
        let counts = bytes.suffix(8)
        func dword(_ at: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 | UInt32(counts[counts.startIndex + at + $1]) << (8 * UInt32($1)) }
        }
        let first = dword(0), second = dword(4)
        let elapsed = second &- first & 0xFF_FFFF
        let nanoseconds = Double(1 + 2 * loops)                  // one instruction, one ns
        let expected = nanoseconds * 3_579_545 / 1e9             // ≈ 7159 ticks
        #expect(abs(Double(elapsed) - expected) <= 1, "elapsed \(elapsed) ticks, expected \(expected)")
        #expect(first > 0, "the timer ran through POST")
    }

    // MARK: Sleep states

    @Test(arguments: BoardProfile.allCases)
    func s5PowersTheMachineOff(board: BoardProfile) throws {
        let guest = try Self.run(.sleep(state: "S5"), board: board)
        #expect(guest.text == "rsdp fadt ")
        #expect(guest.run.outcome == .poweredOff)
        #expect(guest.run.outcome.exitStatus == 0)
        let records = guest.run.records
        #expect(records.named("acpi-mode").first?.event["sci-en"] == 1)
        let request = try #require(records.named("sleep-request").first).event
        #expect(request["state"] == "S5")
        #expect(request["slp-typ"] == 7)
        #expect(request["port"] == 0x604)
        #expect(request["value"] == 0x3C00)
        let powerOff = try #require(records.named("power-off").first).event
        #expect(powerOff["cause"] == "acpi-sleep")
        #expect(records.named("reset").isEmpty)
        #expect(guest.run.machine.boots == 1)
    }

    /// Power-off is not a reset: `--on-reset` does not stop it.
    @Test(arguments: [ResetPolicy.exit, .pause])
    func s5IgnoresTheResetPolicy(policy: ResetPolicy) throws {
        let guest = try Self.run(.sleep(state: "S5")) { $0.onReset = policy }
        #expect(guest.run.outcome == .poweredOff)
    }

    /// The test guest sets no waking vector and arms no alarm: the board sleeps with nothing
    /// that can wake it, and the run ends paused.
    @Test func s3WithNothingToWakeTheBoardEndsTheRun() throws {
        let guest = try Self.run(.sleep(state: "S3"))
        #expect(guest.text == "rsdp fadt ")
        #expect(guest.run.outcome.pauseReason?.contains("S3") == true)
        #expect(guest.run.records.named("sleep").first?.event["state"] == "S3")
        #expect(guest.run.records.named("sleep-request").first?.event["slp-typ"] == 5)
        #expect(guest.run.records.named("wake").isEmpty)
    }

    /// A wake with no waking vector in the FACS: the firmware says so and boots normally.
    @Test func aWakeWithoutAWakingVectorBootsNormally() throws {
        let guest = try Self.run(.sleep(state: "S3")) {
            $0.userActions = [ScheduledUserAction(time: 1_000_000_000, action: .powerButton)]
        }
        let records = guest.run.records
        #expect(records.named("wake").first?.event["source"] == "power-button")
        let milestones = records.milestones(from: try #require(records.firstIndex(of: "wake")))
        #expect(milestones.prefix(4) == ["reset-vector", S3Resume.milestone, S3Resume.noVectorMilestone, "cold-start"],
                "the second boot is a boot")
        #expect(guest.text == "rsdp fadt rsdp fadt ", "the guest ran again from the start and slept again")
        #expect(records.named("sleep").count == 2)
    }
}
