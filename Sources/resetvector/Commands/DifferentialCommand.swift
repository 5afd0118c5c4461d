import ArgumentParser
import VectorHarness

struct DifferentialCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "differential",
        abstract: "Run differential test cases (Tools/differential/oracle.py, *.jsonl) against the CPU.",
        discussion: """
            Each case is a short instruction stream with unicorn's final state; the CPU runs it in \
            32-bit flat protected mode (CPL 0) or 64-bit mode (CPL 3), as the case says, and must \
            end with the same registers, instruction pointer, defined flags, XMM registers, MXCSR \
            control bits and data window. Prints the first failing cases, then `N passed, N failed`. Exits 0 only \
            when nothing failed.
            """
    )

    @Argument(help: "A JSON Lines file of cases (plain or gzip-compressed).")
    var file: String

    @Option(name: .long, help: "Show up to this many failing cases.")
    var showFailures: Int = 5

    func run() throws {
        let result: DifferentialResult
        do {
            result = try DifferentialRunner(keepFailures: max(showFailures, 0)).run(file: file)
        } catch {
            throw UserError(error.description)
        }
        let out = StandardStreams.output()
        for failure in result.failures { out.writeLine(failure.description) }
        if result.failed > result.failures.count {
            out.writeLine("(\(result.failed - result.failures.count) more failing cases not shown)")
        }
        out.writeLine("\(result.passed) passed, \(result.failed) failed")
        try out.check()
        if result.failed > 0 { throw ExitCode.failure }
    }
}
