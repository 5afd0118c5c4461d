import ArgumentParser
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@main
struct ResetVector: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resetvector",
        abstract: "A full-system x86 PC emulator that shows every way a machine resets.",
        discussion: """
            ResetVector runs x86 guests on a software CPU. Every reset, reboot, halt and \
            power path behaves as real hardware does and is recorded in a deterministic trace.
            """,
        subcommands: [DemoCommand.self, LinuxMatrixCommand.self, RunCommand.self, TraceCommand.self, BenchCommand.self, VectorsCommand.self, DifferentialCommand.self]
    )

    /// Parses and runs a command. Whatever goes wrong ends in one line on standard error and a
    /// documented status (`ExitStatus`): a usage error, something named that cannot be used,
    /// an output that cannot be written; never a trap or a fatal signal.
    static func main() {
        // A closed pipe is a failed write that the command reports (EPIPE), not a fatal signal.
        signal(SIGPIPE, SIG_IGN)
        StandardStreams.holdClosedDescriptors()
        var command: any ParsableCommand
        do {
            command = try parseAsRoot(CommandLineArguments.normalized(Array(CommandLine.arguments.dropFirst())))
        } catch {
            failArguments(error)
        }
        do {
            try command.run()
        } catch let code as ExitCode {
            endProcess(code.rawValue)
        } catch let error as UserError {
            fail(error.description, status: ExitStatus.unusableInput)
        } catch let failure as OutputFailure {
            fail(failure.description, status: ExitStatus.outputFailed)
        } catch {
            failArguments(error)
        }
        endProcess(0)
    }

    /// An error for ArgumentParser to classify: --help and its kind are not failures
    /// (ArgumentParser prints them); anything else is reported in one line with ArgumentParser's
    /// status: `ExitStatus.usage` for a usage error (a parse or validation error), 1 for
    /// any other.
    private static func failArguments(_ error: Error) -> Never {
        let status = exitCode(for: error)
        if status == .success { exit(withError: error) }
        fail(CommandLineArguments.oneLine(message(for: error)), status: status.rawValue)
    }

    private static func fail(_ message: String, status: Int32) -> Never {
        StandardStreams.error().writeLine("resetvector: error: \(message)")
        endProcess(status)
    }
}
