#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A write to an output failed.
struct OutputFailure: Error, CustomStringConvertible {
    /// The output's name: its path, or "standard output".
    let output: String
    /// The system's reason (`strerror`).
    let reason: String
    var description: String { "cannot write \(output): \(reason)" }
}

/// Where the emulator writes what a user asked for: a file or device they named (serial
/// output, the JSON trace, a debug console), or standard output or error.
///
/// A path is opened in place: created if missing, truncated if it is a regular file, and
/// never replaced, so a device node, a FIFO or a symlink stays what it is (writes reach the
/// device, the reader, the link's target). Every write goes straight to the descriptor, so a
/// user can follow the output while the run goes on. The first write that fails (a full disk,
/// a closed pipe or descriptor) is kept in `failure` and reported once to `onFailure`; later
/// writes are dropped.
final class OutputFile {
    /// The path, or "standard output" / "standard error".
    let name: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    /// The first failed write, if any.
    private(set) var failure: OutputFailure?
    /// Told about the first failed write (a run ends there).
    var onFailure: ((OutputFailure) -> Void)?

    private init(name: String, descriptor: Int32, ownsDescriptor: Bool) {
        self.name = name
        self.descriptor = descriptor
        self.ownsDescriptor = ownsDescriptor
    }

    /// Opens `path` for writing in place, or standard output for "-".
    static func open(_ path: String) throws(UserError) -> OutputFile {
        if path == "-" { return StandardStreams.output() }
        let descriptor = openForWriting(path)
        guard descriptor >= 0 else { throw UserError("cannot open \(path) for writing: \(systemError())") }
        return OutputFile(name: path, descriptor: descriptor, ownsDescriptor: true)
    }

    /// An unnamed file in the temporary directory (`TMPDIR`, else /tmp), gone once closed:
    /// output held on disk until it can be copied elsewhere (`copyContents(to:)`).
    static func temporary() throws(UserError) -> OutputFile {
        let directory = getenv("TMPDIR").map { String(cString: $0) } ?? "/tmp"
        var template = Array("\(directory)/resetvector-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else { throw UserError("cannot create a temporary file in \(directory): \(systemError())") }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        return OutputFile(name: "a temporary file in \(directory)", descriptor: descriptor, ownsDescriptor: true)
    }

    /// Copies everything written so far to this file (a ``temporary()`` one, read back from
    /// its start) to `output`.
    func copyContents(to output: OutputFile) throws(OutputFailure) {
        try check()
        guard lseek(descriptor, 0, SEEK_SET) == 0 else { throw OutputFailure(output: name, reason: systemError()) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw OutputFailure(output: name, reason: systemError())
            }
            if got == 0 { return }
            chunk.withUnsafeBytes { output.write(UnsafeRawBufferPointer(rebasing: $0[..<got])) }
            try output.check()
        }
    }

    /// An output on one of the process's standard descriptors (not closed with this object).
    static func standard(_ descriptor: Int32, name: String) -> OutputFile {
        OutputFile(name: name, descriptor: descriptor, ownsDescriptor: false)
    }

    deinit {
        if ownsDescriptor { close(descriptor) }
    }

    func write(_ bytes: UnsafeRawBufferPointer) {
        guard failure == nil, var next = bytes.baseAddress else { return }
        var left = bytes.count
        while left > 0 {
            let written = systemWrite(descriptor, next, left)
            if written < 0 {
                if errno == EINTR { continue }
                fail(systemError())
                return
            }
            next += written
            left -= written
        }
    }

    func write(_ bytes: [UInt8]) { bytes.withUnsafeBytes { write($0) } }

    func write(byte: UInt8) { withUnsafeBytes(of: byte) { write($0) } }

    func write(_ text: String) {
        var text = text
        text.withUTF8 { write(UnsafeRawBufferPointer($0)) }
    }

    func writeLine(_ line: String) { write(line + "\n") }

    /// Throws the first failed write, if there was one.
    func check() throws(OutputFailure) {
        if let failure { throw failure }
    }

    private func fail(_ reason: String) {
        let failure = OutputFailure(output: name, reason: reason)
        self.failure = failure
        onFailure?(failure)
    }
}

/// The process's standard streams as outputs, and the guard that keeps a closed one closed.
enum StandardStreams {
    static func output() -> OutputFile { .standard(STDOUT_FILENO, name: "standard output") }
    static func error() -> OutputFile { .standard(STDERR_FILENO, name: "standard error") }

    /// A standard descriptor the process was started without (`>&-`) gets a placeholder that
    /// fails every access as a closed one would (/dev/null opened the other way round), so no
    /// file the run opens can take its number and receive what was meant for the terminal.
    static func holdClosedDescriptors() {
        for descriptor in [STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO] where fcntl(descriptor, F_GETFD) < 0 {
            let placeholder = open("/dev/null", descriptor == STDIN_FILENO ? O_WRONLY : O_RDONLY)
            if placeholder >= 0 && placeholder != descriptor {
                dup2(placeholder, descriptor)
                close(placeholder)
            }
        }
    }
}

/// `open(2)` for writing in place: create (mode 0666 less the umask), truncate a regular file.
private func openForWriting(_ path: String) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o666)
}

private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

/// The text of the current `errno`.
func systemError() -> String { String(cString: strerror(errno)) }
