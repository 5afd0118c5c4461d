import Hardware
import Machine

/// Questions the tests ask of a kept trace.
extension Array where Element == TraceRecord {
    func named(_ name: String) -> [TraceRecord] {
        filter { $0.event.name == name }
    }

    func firstIndex(of name: String, from start: Int = 0) -> Int? {
        guard start < endIndex else { return nil }
        return self[start...].firstIndex { $0.event.name == name }
    }

    /// Indices where the firmware began at its reset vector (its first milestone).
    var firmwareEntries: [Int] {
        indices.filter { self[$0].event.name == "firmware" && self[$0].event["milestone"] == "reset-vector" }
    }

    /// The records of the first guest the firmware started: from its `boot` or `multiboot`
    /// milestone up to the firmware's next entry (the firmware's own mode switches, for its
    /// local APIC set-up, stay out).
    var firstGuestRecords: ArraySlice<TraceRecord> {
        let handOver = firstIndex { $0.event.name == "firmware" && ["boot", "multiboot"].contains($0.event["milestone"]?.text) }
        guard let start = handOver else { return [] }
        let end = firmwareEntries.first { $0 > start } ?? endIndex
        return self[start..<end]
    }

    /// The firmware milestones from `start` up to the next firmware entry (or the end).
    func milestones(from start: Int) -> [String] {
        var result: [String] = []
        for record in self[start...] where record.event.name == "firmware" {
            guard case .text(let milestone)? = record.event["milestone"] else { continue }
            if milestone == "reset-vector", !result.isEmpty { break }
            result.append(milestone)
        }
        return result
    }
}

extension TraceValue {
    var number: UInt64? {
        if case .number(let n) = self { return n }
        return nil
    }

    var text: String? {
        if case .text(let t) = self { return t }
        return nil
    }
}

extension TraceRecord {
    /// The human rendering, for failure messages.
    var line: String { EventTrace.humanLine(self) }
}
