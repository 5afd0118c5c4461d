import Foundation
import Testing

/// One run of the `resetvector` executable that `swift test` built beside the tests.
struct Invocation {
    let status: Int32
    let standardOutput: String
    let standardError: String

    var errorLines: [Substring] { standardError.split(separator: "\n") }

    /// Where the command's standard output goes.
    enum Output {
        /// Into `standardOutput`.
        case captured
        /// A descriptor that was closed before the command started (`>&-`).
        case closed
        /// Captured, with standard error closed before the command started (`2>&-`).
        case capturedWithoutStandardError
        /// A pipe whose reader has gone (writes fail with EPIPE).
        case brokenPipe
    }

    /// The executable, beside the test bundle in the build directory.
    static let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("resetvector")

    /// Runs `resetvector arguments` (the build beside the tests, or `executable`, with
    /// `environment` added to the tests' own) and waits for it (at most `timeout` seconds, then
    /// it is killed and the test fails).
    static func run(_ arguments: [String], output: Output = .captured, timeout: Double = 120,
                    executable: URL = Invocation.executable, environment: [String: String] = [:]) throws -> Invocation {
        let directory = try TemporaryDirectory()
        let outPath = directory.path("stdout"), errPath = directory.path("stderr")
        FileManager.default.createFile(atPath: outPath, contents: nil)
        FileManager.default.createFile(atPath: errPath, contents: nil)
        let process = Process()
        switch output {
        case .closed:
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$0\" \"$@\" >&-", executable.path] + arguments
        case .capturedWithoutStandardError:
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "exec \"$0\" \"$@\" 2>&-", executable.path] + arguments
        case .captured, .brokenPipe:
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        process.standardError = errorFile
        process.standardInput = FileHandle.nullDevice
        var pipe: Pipe?
        switch output {
        case .captured, .closed, .capturedWithoutStandardError:
            process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: outPath))
        case .brokenPipe:
            pipe = Pipe()
            try pipe!.fileHandleForReading.close()
            process.standardOutput = pipe
        }
        try process.run()
        try wait(for: process, timeout: timeout)
        return Invocation(status: process.terminationStatus,
                          standardOutput: try String(contentsOfFile: outPath, encoding: .utf8),
                          standardError: try String(contentsOfFile: errPath, encoding: .utf8))
    }

    /// Ends `process` with SIGKILL (a test runner may start children with SIGTERM blocked).
    static func kill(_ process: Process) {
        _ = Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// Waits for `process`; kills it and records a failure after `timeout` seconds.
    static func wait(for process: Process, timeout: Double) throws {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning {
            if Date() > deadline {
                kill(process)
                Issue.record("resetvector \(process.arguments ?? []) did not finish within \(timeout) s")
                return
            }
            usleep(5_000)
        }
    }
}

/// A private directory under the system's temporary directory, removed with this object.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        var template = Array((NSTemporaryDirectory() + "/resetvector-test-XXXXXX").utf8CString)
        guard let created = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        url = URL(fileURLWithPath: String(cString: created))
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    /// Writes `bytes` to a new file `name`; returns its path.
    func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = path(name)
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }
}
