import Testing

/// What `resetvector demo` prints for each guest.
@Suite struct DemoCommandTests {
    /// A reset story starts with the guest's own action, not with the firmware's set-up
    /// before it (its unreal-mode switch, its start-up IPIs): here the 8042 request, with
    /// four processors, followed by the board's answer and every CPU's restart.
    @Test func theResetStoryStartsWithTheGuest() throws {
        let result = try Invocation.run(["demo", "--smp", "4"])
        #expect(result.status == 0)
        let lines = result.standardOutput.split(separator: "\n").map(String.init)
        let heading = try #require(lines.firstIndex { $0.hasPrefix("== 8042-pulse:") })
        let story = lines[(heading + 1)...].prefix { !$0.hasPrefix("==") && !$0.isEmpty }.filter { !$0.contains("serial:") }
        #expect(story.count == 6, "\(story)")
        #expect(story.first?.hasSuffix("cpu0 reset-request source=8042-pulse port=0x64 value=0xfe answer=init") == true, "\(story)")
        #expect(story.dropFirst().first?.hasSuffix("reset kind=init cause=8042-pulse") == true)
        #expect(story.last?.hasSuffix("cpu3 wait-for-sipi") == true)
    }

    /// The ACPI rows: each reset register space with its board option, S5 and S3.
    @Test func theACPIRowsShowWhatTheBoardDid() throws {
        let result = try Invocation.run(["demo"])
        #expect(result.status == 0)
        let rows = result.standardOutput.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        func row(_ name: String) -> [String]? { rows.first { $0.first == name } }
        for name in ["acpi-reset-io", "acpi-reset-mmio", "acpi-reset-pci"] {
            #expect(row(name)?.dropFirst().first == "hard", "\(name)")
        }
        #expect(row("acpi-poweroff")?.dropFirst().first == "power-off")
        #expect(row("acpi-poweroff")?.suffix(2) == ["powered", "off"])
        #expect(row("s3-resume")?.dropFirst().prefix(4) == ["S3,", "woken", "by", "rtc-alarm"])
        #expect(result.standardOutput.contains("serial: guest s3-resume: resumed from S3 through the FACS waking vector, woken by the RTC alarm"))
        #expect(result.standardOutput.contains("serial: guest acpi-reset-mmio: writing RESET_VALUE to RESET_REG in System Memory"))
    }

    /// `run --guest s3-resume --trace`, as the README suggests: sleep, wake, resume.
    @Test func runningTheS3GuestShowsTheSleepAndTheWake() throws {
        let result = try Invocation.run(["run", "--guest", "s3-resume", "--trace", "--exit-on-halt"])
        #expect(result.status == 0)
        #expect(result.standardOutput.contains("guest s3-resume: resumed from S3 through the FACS waking vector"))
        // The human trace goes to standard error.
        #expect(result.standardError.contains("sleep state=S3"))
        #expect(result.standardError.contains("wake source=rtc-alarm"))
        #expect(result.standardError.contains("firmware milestone=s3-resume"))
    }
}
