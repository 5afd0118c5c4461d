import Foundation
import Testing

/// `resetvector trace render`: a trace that `run --trace-json` wrote becomes an SVG timeline and
/// a Chrome trace; a bad trace file is one line naming the file and line, status 1 (a usage
/// error, status 64).
@Suite(.timeLimit(.minutes(2))) struct TraceRenderCommandTests {
    static let powerOn = #"{"t":0,"icount":0,"cpu":null,"event":"power-on","board":"pc","memory":33554432}"#
    static let start = #"{"t":0,"icount":0,"cpu":0,"event":"cpu-start","cs":61440,"ip":65520}"#

    @Test func theMultiprocessorRebootIsDrawnFromARunsTrace() throws {
        let directory = try TemporaryDirectory()
        let trace = directory.path("t.jsonl"), svg = directory.path("t.svg"), chrome = directory.path("t.json")
        let run = try Invocation.run(["run", "--guest", "mp-windows-reboot", "--smp", "4", "--exit-on-halt", "--serial", "none",
                                      "--trace-json", trace])
        #expect(run.status == 0, "\(run.standardError)")
        let render = try Invocation.run(["trace", "render", trace, "--svg", svg, "--chrome", chrome])
        #expect(render.status == 0 && render.standardOutput.isEmpty && render.standardError.isEmpty, "\(render.standardError)")
        let picture = try String(contentsOfFile: svg, encoding: .utf8)
        for lane in ["cpu0", "cpu1", "cpu2", "cpu3"] { #expect(picture.contains("class=\"lane\" data-lane=\"\(lane)\"")) }
        #expect(picture.contains(">board: INIT reset (triple-fault)</text>"))
        let document = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: chrome))) as? [String: Any]
        let events = try #require(document?["traceEvents"] as? [[String: Any]])
        #expect(events.contains { $0["ph"] as? String == "s" && $0["cat"] as? String == "ipi" })
    }

    @Test func theSVGMayGoToStandardOutput() throws {
        let directory = try TemporaryDirectory()
        let trace = try directory.file("t.jsonl", Array((Self.powerOn + "\n" + Self.start + "\n").utf8))
        let render = try Invocation.run(["trace", "render", trace, "--svg", "-"])
        #expect(render.status == 0)
        #expect(render.standardOutput.hasPrefix("<?xml") && render.standardOutput.contains(">start at F000:FFF0</text>"))
    }

    @Test func unknownEventsAreDrawnNotRefused() throws {
        let directory = try TemporaryDirectory()
        let unknown = #"{"t":7,"icount":7,"cpu":0,"event":"from-the-future","warp":9}"#
        let trace = try directory.file("t.jsonl", Array([Self.powerOn, Self.start, unknown].joined(separator: "\n").utf8))
        let render = try Invocation.run(["trace", "render", trace, "--svg", "-"])
        #expect(render.status == 0, "\(render.standardError)")
        #expect(render.standardOutput.contains("class=\"marker marker-other\" data-label=\"from-the-future (warp=9)\" data-lane=\"cpu0\""))
    }

    /// A trace file's text and the fragment the one error line must contain.
    static let badTraces: [(String, String)] = [
        (powerOn + "\n" + "{\"t\":1,\"icount\":1,\"cpu\":0,\"event\":\"halt\",\"if\":1\n", "line 2: unexpected end of line at column 48"),
        (powerOn + "\n\n" + "not json\n", "line 3: expected '{' at column 1"),
        (start + "\n" + #"{"t":"soon","icount":1,"cpu":0,"event":"halt"}"#, "line 2: \"t\" must be a non-negative integer"),
        (#"{"t":1,"icount":1,"cpu":-1,"event":"halt"}"#, "line 1: expected a non-negative integer, a string, an array of integers or null at column 25"),
        ("\n\n", "no trace events in it"),
    ]

    @Test(arguments: badTraces)
    func aBadTraceIsOneLineWithItsLineNumber(text: String, fragment: String) throws {
        let directory = try TemporaryDirectory()
        let trace = try directory.file("t.jsonl", Array(text.utf8))
        let svg = directory.path("t.svg")
        let render = try Invocation.run(["trace", "render", trace, "--svg", svg])
        #expect(render.status == 1)
        #expect(render.errorLines == ["resetvector: error: trace \(trace): \(fragment)"], "\(render.standardError)")
        #expect(!FileManager.default.fileExists(atPath: svg), "nothing is written for a bad trace")
    }

    @Test func badFilesAndOptionsAreOneLine() throws {
        let directory = try TemporaryDirectory()
        let trace = try directory.file("t.jsonl", Array((Self.powerOn + "\n").utf8))
        let cases: [([String], String, Int32)] = [
            (["trace", "render", directory.path("missing.jsonl"), "--svg", "-"], "trace \(directory.path("missing.jsonl")) does not exist", 1),
            (["trace", "render", directory.path(""), "--svg", "-"], "is a directory", 1),
            (["trace", "render", trace], "give --svg OUT, --chrome OUT or both", 64),
            (["trace", "render", trace, "--chrome", directory.path("no/such/dir.json")],
             "cannot open \(directory.path("no/such/dir.json")) for writing", 1),
        ]
        for (arguments, fragment, status) in cases {
            let render = try Invocation.run(arguments)
            #expect(render.status == status, "\(arguments)")
            #expect(render.errorLines.count == 1 && render.errorLines.first?.contains(fragment) == true, "\(arguments): \(render.standardError)")
            #expect(render.standardOutput.isEmpty)
        }
    }
}
