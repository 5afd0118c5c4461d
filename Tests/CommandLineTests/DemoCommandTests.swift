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
}
