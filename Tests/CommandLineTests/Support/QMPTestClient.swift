import Foundation
import Glibc
import Testing

/// `resetvector ARGUMENTS` in the background, its standard error kept in a file.
final class BackgroundRun {
    let directory: TemporaryDirectory
    let process: Process
    private let stderrPath: String

    init(_ arguments: [String]) throws {
        directory = try TemporaryDirectory()
        stderrPath = directory.path("stderr")
        FileManager.default.createFile(atPath: stderrPath, contents: nil)
        process = Process()
        process.executableURL = Invocation.executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
    }

    deinit { if process.isRunning { Invocation.kill(process) } }

    var standardError: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    /// Waits for the emulator to exit; its status.
    func exitStatus(timeout: Double = 30) throws -> Int32 {
        try Invocation.wait(for: process, timeout: timeout)
        return process.terminationStatus
    }
}

/// `resetvector run ... --qmp unix:PATH` in the background, and raw QMP clients for it:
/// what goes over the socket is checked byte for byte as a script would see it.
final class QMPSession {
    let run: BackgroundRun
    let socketPath: String

    /// Starts the emulator with `arguments` plus `--qmp unix:PATH --serial none`.
    init(_ arguments: [String]) throws {
        let directory = try TemporaryDirectory()
        socketPath = directory.path("qmp.sock")
        run = try BackgroundRun(["run", "--qmp", "unix:\(socketPath)", "--serial", "none"] + arguments)
        socketDirectory = directory
    }

    private let socketDirectory: TemporaryDirectory

    /// A new connection to the socket (retried while the emulator starts).
    func connect() throws -> QMPTestClient {
        for _ in 0..<400 {
            if let client = QMPTestClient(path: socketPath) { return client }
            usleep(10_000)
        }
        throw QMPTestFailure("no QMP socket at \(socketPath): \(run.standardError)")
    }

    func exitStatus(timeout: Double = 30) throws -> Int32 { try run.exitStatus(timeout: timeout) }
}

struct QMPTestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// One client connection: send text, read the server's messages (one JSON object per line).
final class QMPTestClient {
    let descriptor: Int32
    private var pending: [UInt8] = []
    /// Asynchronous events received while waiting for replies, in order.
    private(set) var events: [[String: Any]] = []

    init?(path: String) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: Array(path.utf8))
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(descriptor)
            return nil
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { close(descriptor) }

    func send(_ text: String) {
        send(bytes: Array(text.utf8))
    }

    func send(bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard sent > 0 else { return }
            offset += sent
        }
    }

    /// The next message from the server; nil at end of stream or after the receive timeout.
    func receive() -> [String: Any]? {
        while true {
            if let newline = pending.firstIndex(of: 0x0A) {
                let line = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                return (try? JSONSerialization.jsonObject(with: Data(line))) as? [String: Any]
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            guard got > 0 else { return nil }
            pending += chunk[..<got]
        }
    }

    /// Reads the greeting and negotiates capabilities.
    func negotiate() throws {
        guard let greeting = receive(), greeting["QMP"] != nil else { throw QMPTestFailure("no greeting") }
        let reply = try execute(#"{"execute": "qmp_capabilities"}"#)
        guard reply["return"] != nil else { throw QMPTestFailure("negotiation failed: \(reply)") }
    }

    /// Sends `text` and returns the next reply (`return` or `error`), keeping events aside.
    func execute(_ text: String) throws -> [String: Any] {
        send(text)
        return try reply()
    }

    func reply() throws -> [String: Any] {
        while let message = receive() {
            if message["event"] != nil { events.append(message) } else { return message }
        }
        throw QMPTestFailure("the server closed the connection or did not reply")
    }

    /// Waits (at most the receive timeout) for event `name`; returns it.
    func waitForEvent(_ name: String) throws -> [String: Any] {
        if let index = events.firstIndex(where: { $0["event"] as? String == name }) {
            return events.remove(at: index)
        }
        while let message = receive() {
            if message["event"] as? String == name { return message }
            if message["event"] != nil { events.append(message) }
        }
        throw QMPTestFailure("no \(name) event; saw \(events.map { $0["event"] as? String ?? "?" })")
    }
}

extension Dictionary where Key == String, Value == Any {
    /// `error.class` of a QMP error reply.
    var errorClass: String? { (self["error"] as? [String: Any])?["class"] as? String }
    var errorText: String? { (self["error"] as? [String: Any])?["desc"] as? String }
    var data: [String: Any] { self["data"] as? [String: Any] ?? [:] }
}
