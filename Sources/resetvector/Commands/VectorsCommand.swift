import ArgumentParser
import VectorHarness

struct VectorsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Run single-instruction test vectors (SingleStepTests format, *.jsonl.gz) against the CPU.",
        discussion: """
            Prints one line per instruction form, `NAME passed failed`, then `N passed, N failed`. \
            Failures explained by a documented 80286-versus-386 difference are not counted as \
            failed; they are totalled on a separate line. Exits 0 only when nothing failed.
            """
    )

    @Argument(help: "A directory of *.jsonl.gz files (a metadata.json there supplies undefined-flag masks).")
    var directory: String

    @Option(name: .long, help: "Show up to this many failing tests per form.")
    var showFailures: Int = 0

    func run() throws {
        let files: [String]
        do {
            files = try VectorRunner.vectorFiles(in: directory)
        } catch {
            throw UserError(error.description)
        }
        let runner = VectorRunner(metadataDirectory: directory, keepFailures: showFailures)
        let out = StandardStreams.output()
        var passed = 0, failed = 0, documented = 0
        for file in files {
            let result: FormResult
            do {
                result = try runner.run(file: file)
            } catch {
                throw UserError(error.description)
            }
            out.writeLine("\(result.name) \(result.passed) \(result.failed)")
            for failure in result.failures { out.writeLine("    \(failure)") }
            passed += result.passed
            failed += result.failed
            documented += result.documented
        }
        if documented > 0 {
            out.writeLine("(\(documented) tests differ as documented 286-versus-386 differences: see KnownDifferences.swift)")
        }
        out.writeLine("\(passed) passed, \(failed) failed")
        try out.check()
        if failed > 0 { throw ExitCode.failure }
    }
}

