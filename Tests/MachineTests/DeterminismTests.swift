import Firmware
import Foundation
import Hardware
import Machine
import Testing

/// The same configuration gives the same trace, byte for byte, and the JSON Lines rendering
/// is JSON a tool can read.
@Suite struct DeterminismTests {
    static func jsonLines(_ run: GuestRun) -> [String] {
        run.records.map(EventTrace.jsonLine)
    }

    @Test(arguments: [ResetGuest.tripleFault, .ctrlAltDel, .cf9Cold, .i8042OutputPort], BoardProfile.allCases)
    func sameConfigurationGivesTheSameTrace(guest: ResetGuest, board: BoardProfile) throws {
        let first = try TestBoard.run(guest, board: board)
        let second = try TestBoard.run(guest, board: board)
        let a = Self.jsonLines(first), b = Self.jsonLines(second)
        #expect(a.count > 20)
        #expect(a.count == b.count)
        if let difference = zip(a, b).enumerated().first(where: { $0.element.0 != $0.element.1 }) {
            Issue.record("record \(difference.offset) differs:\n\(difference.element.0)\n\(difference.element.1)")
        }
        #expect(first.serial.bytes == second.serial.bytes)
        #expect(first.outcome == second.outcome)
        #expect(first.machine.now == second.machine.now)
        #expect(first.machine.instructionCount == second.machine.instructionCount)
    }

    /// Every line parses as a JSON object with `t`, `icount`, `cpu` and `event`, numbers as
    /// JSON numbers equal to the record's, and the event's fields after them.
    @Test(arguments: [ResetGuest.tripleFault, .ctrlAltDel, .cf9Warm])
    func jsonLinesAreValidJSON(guest: ResetGuest) throws {
        let run = try TestBoard.run(guest)
        #expect(!run.records.isEmpty)
        for record in run.records {
            let line = EventTrace.jsonLine(record)
            #expect(!line.contains("\n"))
            let parsed = try JSONSerialization.jsonObject(with: Data(line.utf8))
            let object = try #require(parsed as? [String: Any], "not an object: \(line)")
            for key in ["t", "icount", "cpu", "event"] {
                #expect(object[key] != nil, "\(key) missing in \(line)")
            }
            let time = try #require(object["t"] as? NSNumber, "t is not a number: \(line)")
            let count = try #require(object["icount"] as? NSNumber, "icount is not a number: \(line)")
            #expect(time.uint64Value == record.time)
            #expect(count.uint64Value == record.instructionCount)
            #expect(object["event"] as? String == record.event.name)
            if let cpu = record.event.cpu {
                #expect((object["cpu"] as? NSNumber)?.intValue == cpu, "\(line)")
            } else {
                #expect(object["cpu"] is NSNull, "\(line)")
            }
            #expect(object.count == 4 + record.event.fields.count, "\(line)")
            for (key, value) in record.event.fields {
                switch value {
                case .number(let n): #expect((object[key] as? NSNumber)?.uint64Value == n, "\(key) in \(line)")
                case .text(let t): #expect(object[key] as? String == t, "\(key) in \(line)")
                case .numbers(let ns): #expect((object[key] as? [NSNumber])?.map(\.uint64Value) == ns, "\(key) in \(line)")
                case .null: #expect(object[key] is NSNull, "\(key) in \(line)")
                }
            }
        }
    }

    /// Text needing escapes (the run's label) survives the JSON rendering.
    @Test func jsonStringsAreEscaped() throws {
        let text = "quote \" backslash \\ newline \n tab \t bell \u{7} é"
        let run = try TestBoard.run(payload: SmallGuest.haltForever(interruptsEnabled: false)) { $0.label = text }
        let powerOn = try #require(run.records.first)
        let line = EventTrace.jsonLine(powerOn)
        #expect(!line.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["event"] as? String == "power-on")
        #expect(object["label"] as? String == text)
    }

    /// What a JSON Lines renderer receives while the machine runs is what `kept` holds.
    @Test func streamedJSONMatchesTheKeptRecords() throws {
        var streamed: [String] = []
        let run = try TestBoard.run(.port92) { _ in } prepare: { machine in
            machine.trace.jsonOutput = { streamed.append($0) }
        }
        #expect(streamed == Self.jsonLines(run))
    }

    /// A label is recorded in the power-on event, and changing only the label changes only that.
    @Test func labelAppearsOnlyInThePowerOnEvent() throws {
        let plain = try TestBoard.run(.port92)
        let labelled = try TestBoard.run(.port92) { $0.label = "labelled run" }
        let a = Self.jsonLines(plain), b = Self.jsonLines(labelled)
        #expect(labelled.records.first?.event.name == "power-on")
        #expect(labelled.records.first?.event["label"] == "labelled run")
        #expect(a.count == b.count)
        #expect(Array(a.dropFirst()) == Array(b.dropFirst()))
    }
}
