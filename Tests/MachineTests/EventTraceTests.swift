import Firmware
import Machine
import Testing

/// What the event trace keeps (`MachineConfiguration.keepTrace`, `keptTraceEvents`).
@Suite struct EventTraceTests {
    /// Keeping only some events keeps exactly the full trace's records of those events, in
    /// order, while every event still reaches the trace's renderers and its recent ring.
    @Test func keptEventsAreTheFullTracesRecordsOfThoseEvents() throws {
        let names: Set<String> = ["firmware", "reset-request", "reset"]
        let full = try TestBoard.run(.cf9Warm)
        var rendered = 0
        let some = try TestBoard.run(.cf9Warm, configure: { $0.keptTraceEvents = names }) { machine in
            machine.trace.jsonOutput = { _ in rendered += 1 }
        }
        let expected = full.records.filter { names.contains($0.event.name) }
        #expect(expected.count >= 3)
        #expect(expected.count < full.records.count)
        #expect(some.records == expected)
        #expect(rendered == full.records.count)
        #expect(some.machine.trace.recent == full.machine.trace.recent)
    }
}
