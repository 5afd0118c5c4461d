import Foundation
import Machine
import Testing

/// The multiprocessor reboot in the Chrome trace-event format, read back with JSONSerialization.
@Suite struct ChromeTraceTests {
    static func events() throws -> [[String: Any]] {
        let data = Data(ChromeTrace(TimelineTests.timeline).render().utf8)
        let document = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        return try #require(document["traceEvents"] as? [[String: Any]])
    }

    @Test func eachLaneIsANamedThread() throws {
        let names = try Self.events().filter { $0["ph"] as? String == "M" && $0["name"] as? String == "thread_name" }
            .compactMap { ($0["tid"] as? Int, ($0["args"] as? [String: Any])?["name"] as? String) }
        let lanes = names.filter { $0.0 ?? 99 < 10_000 }
        #expect(lanes.map(\.0) == [0, 1, 2, 3, 4] && lanes.map(\.1) == ["board", "CPU 0", "CPU 1", "CPU 2", "CPU 3"])
    }

    @Test func spansMarkersAndFlowsCarryTheStory() throws {
        let events = try Self.events()
        let resetTime = try #require(TimelineTests.resetTime)
        let resetMicroseconds = Double(resetTime) / 1000
        // Shutdown on CPU 1 (tid 2) as a complete event ending at the board's answer.
        let shutdown = try #require(events.first { $0["ph"] as? String == "X" && $0["name"] as? String == "shutdown" && $0["tid"] as? Int == 2 })
        let start = try #require(shutdown["ts"] as? Double), duration = try #require(shutdown["dur"] as? Double)
        #expect(abs(start + duration - resetMicroseconds) < 1e-6)
        // The board's answer: a global instant at the reset's time.
        let answer = try #require(events.first { $0["ph"] as? String == "i" && $0["cat"] as? String == "board-answer" })
        #expect(answer["name"] as? String == "board: INIT reset (triple-fault)" && answer["s"] as? String == "g")
        #expect(abs((answer["ts"] as? Double ?? 0) - resetMicroseconds) < 1e-6)
        #expect(events.contains { $0["ph"] as? String == "i" && $0["name"] as? String == "reset request: triple-fault" && $0["tid"] as? Int == 4 })
        // The NMI from CPU 0 to CPU 1: a flow that starts on tid 1 and finishes on tid 2.
        let starts = events.filter { $0["ph"] as? String == "s" && $0["name"] as? String == "NMI (all-but-self)" && $0["tid"] as? Int == 1 }
        let finishes = events.filter { $0["ph"] as? String == "f" && $0["tid"] as? Int == 2 }
        #expect(starts.contains { s in finishes.contains { $0["id"] as? Int == s["id"] as? Int && $0["name"] as? String == s["name"] as? String } })
        // Flow ids pair one start with one finish.
        let ids = events.filter { $0["ph"] as? String == "s" }.compactMap { $0["id"] as? Int }
        #expect(Set(ids).count == ids.count && ids.count == events.filter { $0["ph"] as? String == "f" }.count)
    }

    /// Complete events on one thread nest (Perfetto drops slices that overlap partly).
    @Test func slicesOnAThreadNest() throws {
        var byThread: [Int: [(start: Double, end: Double)]] = [:]
        for event in try Self.events() where event["ph"] as? String == "X" {
            let start = try #require(event["ts"] as? Double), duration = try #require(event["dur"] as? Double)
            byThread[event["tid"] as? Int ?? -1, default: []].append((start, start + duration))
        }
        for (thread, slices) in byThread {
            var open: [Double] = []
            for slice in slices.sorted(by: { ($0.start, -$0.end) < ($1.start, -$1.end) }) {
                // Microseconds with three decimals: compare to well under a nanosecond.
                while let end = open.last, end <= slice.start + 1e-6 { open.removeLast() }
                #expect(open.last.map { slice.end <= $0 + 1e-6 } ?? true, "thread \(thread): \(slice) overlaps its parent")
                open.append(slice.end)
            }
        }
    }
}
