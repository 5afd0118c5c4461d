/// A timeline in the Chrome trace-event format (the JSON object form, `traceEvents`), which
/// Perfetto (ui.perfetto.dev) and chrome://tracing open. One process (pid 1) holds a thread
/// per lane: the board, then each CPU, and for each CPU a second thread for its firmware and
/// local APIC timer spans (they overlap the mode bands, which Chrome slices may not).
/// Spans are complete events (`X`), markers instant events (`i`; the board's answer global),
/// arrows flow events (`s` on the sender, `f` on the target). Times are microseconds with
/// nanosecond precision, as the virtual clock counts them.
public struct ChromeTrace: Sendable {
    public let timeline: Timeline

    public init(_ timeline: Timeline) { self.timeline = timeline }

    /// The thread id of a lane: 0 for the board, CPU n is n + 1.
    public static func threadID(_ lane: TimelineLane) -> Int {
        switch lane {
        case .board: 0
        case .cpu(let n): n + 1
        }
    }

    /// The thread id of a CPU lane's firmware and timer spans.
    public static func activityThreadID(_ lane: TimelineLane) -> Int { 10_000 + threadID(lane) }

    /// The whole document.
    public func render() -> String {
        var events: [String] = [
            object(["name": .text("process_name"), "ph": .text("M"), "pid": .number(1), "args": .raw(object(["name": .text("resetvector")]))]),
        ]
        for lane in timeline.lanes {
            let name = switch lane {
            case .board: "board"
            case .cpu(let n): "CPU \(n)"
            }
            events.append(threadName(Self.threadID(lane), name, sortIndex: 2 * Self.threadID(lane)))
            if lane != .board {
                events.append(threadName(Self.activityThreadID(lane), name + " firmware, timer", sortIndex: 2 * Self.threadID(lane) + 1))
            }
        }
        for span in timeline.spans {
            let thread = span.isBand || span.kind.isHalt ? Self.threadID(span.lane) : Self.activityThreadID(span.lane)
            events.append(object([
                "name": .text(span.label), "cat": .text(span.isBand ? "mode" : span.kind.isHalt ? "halt" : "activity"),
                "ph": .text("X"), "pid": .number(1), "tid": .number(UInt64(thread)),
                "ts": .raw(microseconds(span.start)), "dur": .raw(microseconds(span.end - span.start)),
                "args": .raw(object(["detail": .text(span.detail)])),
            ]))
        }
        for marker in timeline.markers {
            events.append(object([
                "name": .text(marker.label), "cat": .text(marker.kind.rawValue), "ph": .text("i"),
                "s": .text(marker.kind == .boardAnswer ? "g" : "t"),
                "pid": .number(1), "tid": .number(UInt64(Self.threadID(marker.lane))), "ts": .raw(microseconds(marker.time)),
                "args": .raw(object(["event": .text(marker.detail)])),
            ]))
        }
        for (id, arrow) in timeline.arrows.enumerated() {
            let name = arrow.kind == .answer ? "reset answered" : arrow.label
            let common: [String: ChromeValue] = ["name": .text(name), "cat": .text(arrow.kind == .answer ? "answer" : "ipi"),
                                                 "id": .number(UInt64(id + 1)), "pid": .number(1)]
            events.append(object(common.merging(["ph": .text("s"), "tid": .number(UInt64(Self.threadID(arrow.from))),
                                                 "ts": .raw(microseconds(arrow.time))]) { $1 }))
            events.append(object(common.merging(["ph": .text("f"), "bp": .text("e"), "tid": .number(UInt64(Self.threadID(arrow.to))),
                                                 "ts": .raw(microseconds(arrow.arrival))]) { $1 }))
        }
        return "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n" + events.joined(separator: ",\n") + "\n]}\n"
    }

    private func threadName(_ thread: Int, _ name: String, sortIndex: Int) -> String {
        object(["name": .text("thread_name"), "ph": .text("M"), "pid": .number(1), "tid": .number(UInt64(thread)),
                "args": .raw(object(["name": .text(name)]))])
        + ",\n" + object(["name": .text("thread_sort_index"), "ph": .text("M"), "pid": .number(1), "tid": .number(UInt64(thread)),
                          "args": .raw(object(["sort_index": .number(UInt64(sortIndex))]))])
    }

    /// `836.125`: nanoseconds as microseconds, exactly.
    private func microseconds(_ nanoseconds: UInt64) -> String {
        let fraction = String(nanoseconds % 1000)
        return "\(nanoseconds / 1000)." + String(repeating: "0", count: 3 - fraction.count) + fraction
    }

    private enum ChromeValue {
        case text(String)
        case number(UInt64)
        /// Already JSON.
        case raw(String)
    }

    /// A JSON object with its keys in name order, so the same timeline gives the same bytes.
    private func object(_ members: [String: ChromeValue]) -> String {
        "{" + members.sorted { $0.key < $1.key }.map { key, value in
            let json = switch value {
            case .text(let text): EventTrace.jsonString(text)
            case .number(let n): String(n)
            case .raw(let raw): raw
            }
            return EventTrace.jsonString(key) + ":" + json
        }.joined(separator: ",") + "}"
    }
}

extension TimelineSpan.Kind {
    var isHalt: Bool {
        if case .halted = self { return true }
        return false
    }
}
