import Hardware
import Machine
import Testing

/// Reading `--trace-json` lines back: exactly what `EventTrace.jsonLine` writes, fields in
/// order; anything else is refused with the reason and the line.
@Suite struct TraceLineParserTests {
    @Test func aRecordSurvivesTheRoundTrip() throws {
        let event = TraceEvent("odd", cpu: nil, [("text", "quote \" backslash \\ tab \t é \u{1}"), ("list", .numbers([1, 0xFFFF_FFFF_FFFF_FFFF])),
                                                   ("nothing", .null), ("n", 0)])
        let line = EventTrace.jsonLine(TraceRecord(time: 12, instructionCount: 34, event: event))
        let record = try TraceRecord(jsonLine: line)
        #expect(record.time == 12 && record.instructionCount == 34 && record.event == event)
    }

    @Test func escapesAndSpacesOfOtherWritersAreRead() throws {
        let record = try TraceRecord(jsonLine: #" { "t" : 1 , "icount":2, "cpu":3, "event":"a\/b\u00e9\ud83d\ude00", "v":[ ] } "#)
        #expect(record.event.name == "a/bé😀" && record.event.cpu == 3 && record.event["v"] == .numbers([]))
    }

    static let bad: [(String, String)] = [
        (#"{"t":1,"icount":2,"cpu":0"#, "unexpected end of line at column 26"),
        (#"{"t":-1,"icount":2,"cpu":0,"event":"x"}"#, "expected a non-negative integer, a string, an array of integers or null at column 6"),
        (#"{"t":1.5,"icount":2,"cpu":0,"event":"x"}"#, "expected an integer, not a fraction or exponent at column 7"),
        (#"{"t":1,"icount":2,"cpu":0,"event":"x","k":true}"#, "expected a non-negative integer, a string, an array of integers or null at column 43"),
        (#"{"t":1,"icount":2,"cpu":0,"event":"x"} x"#, "unexpected text after the object at column 40"),
        (#"{"t":1,"icount":2,"cpu":0,"event":"x","t":2}"#, "duplicate key \"t\" at column 42"),
        (#"{"t":99999999999999999999,"icount":2,"cpu":0,"event":"x"}"#, "integer larger than 64 bits at column 6"),
        (#"{"icount":2,"cpu":0,"event":"x"}"#, "\"t\" must be a non-negative integer"),
        (#"{"t":1,"icount":2,"event":"x"}"#, "\"cpu\" must be a CPU number or null"),
        (#"{"t":1,"icount":2,"cpu":"0","event":"x"}"#, "\"cpu\" must be a CPU number or null"),
        (#"{"t":1,"icount":2,"cpu":0,"event":3}"#, "\"event\" must be a string"),
        (#"{"t":1,"icount":2,"cpu":0,"event":"x\q"}"#, "invalid escape in a string at column 38"),
        (#"{"t":1,"icount":2,"cpu":0,"event":"\ud800"}"#, "unpaired surrogate in a string at column 42"),
        (#"[1,2]"#, "expected '{' at column 1"),
    ]

    @Test(arguments: bad)
    func aBadLineIsRefusedWithItsReason(line: String, reason: String) {
        #expect(throws: TraceLineError.self) { try TraceRecord(jsonLine: line) }
        do {
            _ = try TraceRecord(jsonLine: line)
        } catch {
            #expect(error.description == reason)
        }
    }

    @Test func aFileNamesTheFirstBadLine() {
        let text = "{\"t\":0,\"icount\":0,\"cpu\":null,\"event\":\"power-on\"}\n\n{\"t\":1}\n"
        #expect(throws: TraceFileError.badLine(line: 3, .badKey("icount", expected: "a non-negative integer"))) {
            try TraceFile.records(parsing: Array(text.utf8))
        }
        #expect(throws: TraceFileError.empty) { try TraceFile.records(parsing: Array("\n  \n".utf8)) }
        #expect(throws: TraceFileError.notText(line: 1)) { try TraceFile.records(parsing: [0xFF, 0xFE]) }
    }
}
