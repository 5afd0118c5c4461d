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
        var passed = 0, failed = 0, documented = 0
        for file in files {
            let result: FormResult
            do {
                result = try runner.run(file: file)
            } catch {
                throw UserError(error.description)
            }
            print("\(result.name) \(result.passed) \(result.failed)")
            for failure in result.failures { print("    \(failure)") }
            passed += result.passed
            failed += result.failed
            documented += result.documented
        }
        if documented > 0 {
            print("(\(documented) tests differ as documented 286-versus-386 differences: see KnownDifferences.swift)")
        }
        print("\(passed) passed, \(failed) failed")
        if failed > 0 { throw ExitCode.failure }
    }
}

extension UserError {
    init(_ error: Error) { self.init("\(error)") }
}
