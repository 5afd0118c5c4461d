import Foundation
import Testing

/// Outputs a user names (`--serial file:PATH`, `--trace-json PATH`, `--debugcon PORT=PATH`) are
/// opened in place and written as the run goes: a device stays a device, a FIFO's reader gets
/// the bytes, a symlink keeps pointing at its target. A write that fails ends the run with one
/// line and status 74.
@Suite(.timeLimit(.minutes(2))) struct OutputFileTests {
    /// One way of naming an output, and what the run writes there.
    struct OutputOption: CustomTestStringConvertible, Sendable {
        let name: String
        /// The options that send this output to `path`.
        let arguments: @Sendable (String) -> [String]
        /// Text the output must contain after the run.
        let expected: String
        var testDescription: String { name }
    }

    static let message = "to the debug console\n"

    static let options: [OutputOption] = [
        OutputOption(name: "--serial file:", arguments: { ["--serial", "file:\($0)"] }, expected: "ResetVector firmware: boot 1"),
        OutputOption(name: "--trace-json", arguments: { ["--trace-json", $0] }, expected: "\"power-on\""),
        OutputOption(name: "--debugcon", arguments: { ["--debugcon", "0xe9=\($0)"] }, expected: message),
    ]

    /// A run of the debug-console guest, halting at the end, with `output` sent to `path`.
    static func run(_ output: OutputOption, to path: String, in directory: TemporaryDirectory) throws -> Invocation {
        let payload = try directory.file("payload.bin", TestGuest.debugConsoleMessage(message))
        return try Invocation.run(["run", "--payload", payload, "--exit-on-halt", "--serial", "none"] + output.arguments(path))
    }

    @Test(arguments: options)
    func aSymlinkStaysALinkAndItsTargetGetsTheOutput(_ output: OutputOption) throws {
        let directory = try TemporaryDirectory()
        let target = directory.path("target"), link = directory.path("link")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let result = try Self.run(output, to: link, in: directory)
        #expect(result.status == 0, "\(result.standardError)")
        let type = try FileManager.default.attributesOfItem(atPath: link)[.type] as? FileAttributeType
        #expect(type == .typeSymbolicLink)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains(output.expected))
    }

    @Test(arguments: options)
    func aRegularFileIsTruncatedNotAppendedTo(_ output: OutputOption) throws {
        let directory = try TemporaryDirectory()
        let path = try directory.file("out", Array(repeating: UInt8(ascii: "x"), count: 100_000))
        let result = try Self.run(output, to: path, in: directory)
        #expect(result.status == 0)
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(output.expected))
        #expect(!text.contains("x"))
    }

    @Test(arguments: options)
    func aFIFOStaysAFIFOAndItsReaderGetsTheOutput(_ output: OutputOption) throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let reader = FIFOReader(path: fifo)
        let result = try Self.run(output, to: fifo, in: directory)
        #expect(result.status == 0)
        #expect(reader.waitForEnd().contains(output.expected))
        #expect(isFIFO(fifo))
    }

    /// As root, `--serial file:/dev/null` once replaced the system's /dev/null with a regular
    /// file. A private device node with /dev/null's numbers must stay a character device.
    @Test(.enabled(if: getuid() == 0, "mknod needs root"), arguments: options)
    func aCharacterDeviceStaysADevice(_ output: OutputOption) throws {
        let directory = try TemporaryDirectory()
        let node = directory.path("null")
        var null = stat()
        #expect(stat("/dev/null", &null) == 0)
        #expect(mknod(node, S_IFCHR | 0o600, null.st_rdev) == 0)
        let result = try Self.run(output, to: node, in: directory)
        #expect(result.status == 0)
        var status = stat()
        #expect(stat(node, &status) == 0)
        #expect(status.st_mode & S_IFMT == S_IFCHR)
        #expect(status.st_rdev == null.st_rdev)
    }

    /// The serial output reaches a FIFO's reader while the guest is still running (it spins
    /// forever): nothing waits for the end of the run.
    @Test func outputIsWrittenWhileTheRunGoesOn() throws {
        let directory = try TemporaryDirectory()
        let fifo = directory.path("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        let payload = try directory.file("spin.bin", TestGuest.spin())
        let reader = FIFOReader(path: fifo)
        let process = Process()
        process.executableURL = Invocation.executable
        process.arguments = ["run", "--payload", payload, "--serial", "file:\(fifo)"]
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let arrived = reader.waitFor("ResetVector firmware: boot 1", timeout: 60)
        #expect(process.isRunning, "the guest spins, so the run must still be going")
        Invocation.kill(process)
        #expect(arrived)
    }

    // MARK: Failed writes

    @Test(arguments: options)
    func aFullDiskEndsTheRunWithOneLine(_ output: OutputOption) throws {
        let directory = try TemporaryDirectory()
        let result = try Self.run(output, to: "/dev/full", in: directory)
        #expect(result.status == 74)
        #expect(result.errorLines == ["resetvector: stopped: cannot write /dev/full: No space left on device"])
    }

    @Test(arguments: [Invocation.Output.closed, .brokenPipe])
    func aClosedStandardOutputEndsTheRunWithOneLine(_ stdout: Invocation.Output) throws {
        let result = try Invocation.run(["run", "--guest", "cf9-cold", "--exit-on-halt"], output: stdout)
        #expect(result.status == 74)
        let reason = stdout == .closed ? "Bad file descriptor" : "Broken pipe"
        #expect(result.errorLines == ["resetvector: stopped: cannot write standard output: \(reason)"])
    }

    /// `--trace` to a closed standard error: the run stops (status 74); the one line it would
    /// print has nowhere to go, and nothing traps.
    @Test func aClosedStandardErrorEndsATracedRun() throws {
        let result = try Invocation.run(["run", "--guest", "cf9-cold", "--exit-on-halt", "--trace", "--serial", "none"],
                                        output: .capturedWithoutStandardError)
        #expect(result.status == 74)
        #expect(result.standardError.isEmpty)
    }

    @Test(arguments: [Invocation.Output.closed, .brokenPipe])
    func theDemoReportsAClosedStandardOutput(_ stdout: Invocation.Output) throws {
        let result = try Invocation.run(["demo"], output: stdout)
        #expect(result.status == 74)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.hasPrefix("resetvector: error: cannot write standard output") == true)
    }
}

private func isFIFO(_ path: String) -> Bool {
    var status = stat()
    return stat(path, &status) == 0 && status.st_mode & S_IFMT == S_IFIFO
}

/// Reads a FIFO on a thread of its own until its writer closes it.
final class FIFOReader: @unchecked Sendable {
    private let lock = NSCondition()
    private var bytes: [UInt8] = []
    private var ended = false

    init(path: String) {
        let thread = Thread { [self] in
            let descriptor = open(path, O_RDONLY)
            var chunk = [UInt8](repeating: 0, count: 4096)
            while descriptor >= 0 {
                let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if got <= 0 { break }
                lock.lock()
                bytes += chunk[..<got]
                lock.broadcast()
                lock.unlock()
            }
            if descriptor >= 0 { close(descriptor) }
            lock.lock()
            ended = true
            lock.broadcast()
            lock.unlock()
        }
        thread.start()
    }

    var text: String { String(decoding: bytes, as: UTF8.self) }

    /// Everything read, once the writer has closed the FIFO.
    func waitForEnd() -> String {
        lock.lock()
        defer { lock.unlock() }
        while !ended { lock.wait() }
        return text
    }

    /// Whether `needle` arrived within `timeout` seconds.
    func waitFor(_ needle: String, timeout: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        lock.lock()
        defer { lock.unlock() }
        while !text.contains(needle) {
            if ended || !lock.wait(until: deadline) { return text.contains(needle) }
        }
        return true
    }
}
