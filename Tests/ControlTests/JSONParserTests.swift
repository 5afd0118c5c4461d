import Control
import Testing

@Suite struct JSONParserTests {
    @Test func parsesWhatQMPClientsSend() throws {
        let value = try JSONParser.parse(Array(#"{"execute": "send-key", "arguments": {"keys": [{"type": "qcode", "data": "ctrl"}], "hold-time": 100}, "id": 7}"#.utf8))
        #expect(value["execute"]?.stringValue == "send-key")
        #expect(value["arguments"]?["hold-time"]?.integerValue == 100)
        #expect(value["id"] == .number(7))
    }

    @Test func stringsKeepEscapesAndUnicode() throws {
        let value = try JSONParser.parse(Array(#""a\"b\\c\n\u00e9\ud83d\ude00""#.utf8))
        #expect(value == .string("a\"b\\c\né😀"))
        #expect(JSONValue.string("a\"b\n\u{01}").text == #""a\"b\n\u0001""#)
    }

    @Test func numbersLiteralsAndNesting() throws {
        #expect(try JSONParser.parse(Array("[-1.5e3, 0, true, false, null]".utf8))
                == .array([.number(-1500), .number(0), .bool(true), .bool(false), .null]))
        #expect(JSONValue.object([("a", .array([.integer(1), .null]))]).text == #"{"a": [1, null]}"#)
    }

    @Test(arguments: ["", "{", "{\"a\" 1}", "[1,]", "tru", "\"abc", "01x", "{\"a\":1}}", "\"\u{01}\"", "{'a': 1}"])
    func rejectsMalformedText(_ text: String) {
        #expect(throws: JSONParseError.self) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test func deepNestingIsAnErrorNotACrash() {
        let deep = Array(repeating: UInt8(ascii: "["), count: 1_000_000)
        #expect(throws: JSONParseError.self) { try JSONParser.parse(deep) }
        let allowed = String(repeating: "[", count: JSONParser.maximumDepth) + String(repeating: "]", count: JSONParser.maximumDepth)
        #expect((try? JSONParser.parse(Array(allowed.utf8))) != nil)
    }
}

@Suite struct JSONStreamSplitterTests {
    @Test func messagesArriveInPiecesAndBackToBack() {
        var splitter = JSONStreamSplitter()
        #expect(splitter.feed(Array(#"{"execute": "st"#.utf8)).isEmpty)
        let pieces = splitter.feed(Array(#"op"}{"a": "}{"}"#.utf8) + [0x0A])
        #expect(pieces == [.message(Array(#"{"execute": "stop"}"#.utf8)), .message(Array(#"{"a": "}{"}"#.utf8))])
    }

    @Test func garbageIsReportedOncePerRun() {
        var splitter = JSONStreamSplitter()
        let pieces = splitter.feed(Array("xyz 12 {}".utf8))
        #expect(pieces == [.garbage, .garbage, .message(Array("{}".utf8))])
    }

    @Test func oversizeMessagesAreDroppedAndTheStreamResynchronises() {
        var splitter = JSONStreamSplitter(maximumMessageSize: 16)
        let pieces = splitter.feed(Array(#"{"a": "0123456789012345678901234"} {"b": 1}"#.utf8))
        #expect(pieces == [.tooLarge, .message(Array(#"{"b": 1}"#.utf8))])
    }
}
