import ArgumentParser
import Machine

struct TraceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace",
        abstract: "Work with a trace written by --trace-json.",
        subcommands: [TraceRenderCommand.self]
    )
}

struct TraceRenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Draw a JSON Lines trace as a per-CPU timeline (SVG) and/or a Chrome trace-event file (Perfetto).",
        discussion: """
            One lane per CPU (and one for the board) over virtual time, on a compressed axis: \
            mode bands, halts, task switches, IPIs as arrows, shutdown chains, reset requests \
            with their source, the board's answer and each CPU's restart. Events the renderer \
            does not know are drawn as generic markers. Exit status: 0; 1 for a trace that cannot be \
            read (one line names the file and line) or an output that cannot be created; 64 for a \
            usage error; 74 when an output could not be written.
            """
    )

    /// A trace of a Linux boot is a few megabytes; this bounds what is held in memory.
    static let maximumTraceSize = 1 << 30

    @Argument(help: ArgumentHelp("A trace written by `resetvector run --trace-json FILE` (JSON Lines).", valueName: "FILE"))
    var file: String

    @Option(help: ArgumentHelp("Write the timeline as an SVG picture to OUT ('-' for standard output).", valueName: "OUT"))
    var svg: String?

    @Option(help: ArgumentHelp("Write the Chrome trace-event format (JSON, opens in Perfetto) to OUT ('-' for standard output).",
                                valueName: "OUT"))
    var chrome: String?

    func validate() throws {
        if svg == nil && chrome == nil { throw ValidationError("give --svg OUT, --chrome OUT or both") }
    }

    func run() throws {
        let bytes = try readFile(file, what: "trace", maximumSize: Self.maximumTraceSize)
        let timeline: Timeline
        do {
            timeline = Timeline(records: try TraceFile.records(parsing: bytes))
        } catch {
            throw UserError("trace \(file): \(error)")
        }
        // Both outputs are opened before anything is written, so a bad path writes nothing.
        let svgOutput = try svg.map(OutputFile.open)
        let chromeOutput = try chrome.map(OutputFile.open)
        if let svgOutput {
            svgOutput.write(TimelineSVG(timeline).render())
            try svgOutput.check()
        }
        if let chromeOutput {
            chromeOutput.write(ChromeTrace(timeline).render())
            try chromeOutput.check()
        }
    }
}
