import ArgumentParser
import Foundation
import Hardware
import Machine

/// Options shared by `run` and `demo`: how the board behaves and what the trace shows.
struct BoardOptions: ParsableArguments {
    @Option(help: "Board profile: pc (ICH-class chipset answers) or qemu (every reset is a platform reset).")
    var board: BoardProfile = .pc

    @Flag(help: "Print trace events on stderr as they happen.")
    var trace = false

    @Option(name: .customLong("trace-json"), help: "Write trace events to FILE as JSON Lines.")
    var traceJSON: String?
}

extension BoardProfile: ExpressibleByArgument {}
extension Quirk: ExpressibleByArgument {}
extension ResetPolicy: ExpressibleByArgument {}
extension ShutdownPolicy: ExpressibleByArgument {}
extension PowerCycleMemory: ExpressibleByArgument {}

/// Writes to a file (or stdout for "-"), opened once, closed with the process.
final class OutputFile {
    private let handle: FileHandle

    init(path: String) throws {
        if path == "-" {
            handle = FileHandle.standardOutput
            return
        }
        guard FileManager.default.createFile(atPath: path, contents: nil),
              let handle = FileHandle(forWritingAtPath: path) else {
            throw UserError("cannot write \(path)")
        }
        self.handle = handle
    }

    func write(_ bytes: [UInt8]) { handle.write(Data(bytes)) }
    func writeLine(_ line: String) { handle.write(Data((line + "\n").utf8)) }
}

/// Standard error, unbuffered.
enum StandardError {
    static func writeLine(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}

extension BoardOptions {
    /// Attaches the requested renderers to a machine's trace.
    func attach(to trace: EventTrace) throws {
        if self.trace { trace.humanOutput = { StandardError.writeLine($0) } }
        if let path = traceJSON {
            let file = try OutputFile(path: path)
            trace.jsonOutput = { file.writeLine($0) }
        }
    }
}

/// Parses sizes such as 32M, 512K, 1G or a plain byte count.
struct MemorySize: ExpressibleByArgument, CustomStringConvertible {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    var description: String {
        bytes % (1 << 30) == 0 ? "\(bytes >> 30)G" : bytes % (1 << 20) == 0 ? "\(bytes >> 20)M" : "\(bytes)"
    }
    var defaultValueDescription: String { description }

    init?(argument: String) {
        let text = argument.uppercased()
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30]
        var digits = Substring(text)
        var multiplier = 1
        if let last = text.last, let m = multipliers[last] {
            multiplier = m
            digits = text.dropLast()
        } else if text.hasSuffix("IB"), let m = multipliers[text.dropLast(2).last ?? " "] {
            multiplier = m
            digits = text.dropLast(3)
        }
        guard let value = Int(digits), value > 0, value <= Int.max / multiplier else { return nil }
        bytes = value * multiplier
    }
}

/// `PORT=FILE` for `--debugcon`.
struct DebugConsoleOption: ExpressibleByArgument {
    let port: UInt16
    let path: String

    init?(argument: String) {
        let parts = argument.split(separator: "=", maxSplits: 1).map(String.init)
        guard parts.count == 2, let port = parsePort(parts[0]), !parts[1].isEmpty else { return nil }
        self.port = port
        self.path = parts[1]
    }
}

/// A port number in decimal or 0x-prefixed hexadecimal.
func parsePort(_ text: String) -> UInt16? {
    if text.lowercased().hasPrefix("0x") { return UInt16(text.dropFirst(2), radix: 16) }
    return UInt16(text)
}

struct PortOption: ExpressibleByArgument {
    let port: UInt16
    init?(argument: String) {
        guard let port = parsePort(argument) else { return nil }
        self.port = port
    }
}

/// Where COM1 goes: `stdio`, `file:PATH` or `none`.
enum SerialOption: ExpressibleByArgument {
    case stdio
    case file(String)
    case none

    init?(argument: String) {
        switch argument {
        case "stdio": self = .stdio
        case "none": self = .none
        default:
            guard argument.hasPrefix("file:"), argument.count > 5 else { return nil }
            self = .file(String(argument.dropFirst(5)))
        }
    }
}

/// Reads a whole file, or throws a one-line error naming it.
func readFile(_ path: String, what: String) throws -> [UInt8] {
    guard FileManager.default.fileExists(atPath: path) else { throw UserError("\(what) \(path) does not exist") }
    guard let data = FileManager.default.contents(atPath: path) else { throw UserError("cannot read \(what) \(path)") }
    return [UInt8](data)
}
