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
extension ACPIResetChoice: ExpressibleByArgument {}
extension ClockMode: ExpressibleByArgument {}

extension BoardOptions {
    /// Opens what `--trace` and `--trace-json` write to (once per command).
    func openTraceOutputs() throws(UserError) -> TraceOutputs {
        TraceOutputs(human: trace ? StandardStreams.error() : nil, json: try traceJSON.map(OutputFile.open))
    }
}

/// The outputs the trace is rendered to: human lines on standard error, JSON Lines to a file.
struct TraceOutputs {
    var human: OutputFile?
    var json: OutputFile?

    var all: [OutputFile] { [human, json].compactMap { $0 } }

    /// Attaches the renderers to a machine's trace.
    func attach(to trace: EventTrace) {
        if let human { trace.humanOutput = { human.writeLine($0) } }
        if let json { trace.jsonOutput = { json.writeLine($0) } }
    }
}

extension Machine {
    /// A failed write to any of `outputs` ends this machine's run (status 74).
    func stopOnFailure(of outputs: [OutputFile]) {
        for output in outputs {
            output.onFailure = { [unowned self] failure in finish(.outputFailed(reason: failure.description)) }
        }
    }
}

/// A guest RAM size such as 32M, 512K, 1G or a plain byte count, within what a machine takes.
struct MemorySize: CustomStringConvertible {
    let bytes: Int

    init(bytes: Int) { self.bytes = bytes }

    var description: String {
        bytes % (1 << 30) == 0 ? "\(bytes >> 30)G" : bytes % (1 << 20) == 0 ? "\(bytes >> 20)M" : "\(bytes)"
    }

    /// Parses `--memory`'s value; the error says what is wrong with it.
    init(parsing argument: String) throws(ValidationError) {
        let text = argument.uppercased()
        let multipliers: [Character: Int] = ["K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40]
        var digits = Substring(text)
        if text.hasSuffix("IB") { digits = digits.dropLast(2) }
        var multiplier = 1
        if let last = digits.last, let m = multipliers[last] {
            multiplier = m
            digits = digits.dropLast()
        }
        guard let value = Int(digits), value >= 0 else {
            throw ValidationError("not a size (use a number of bytes or one with K, M or G, e.g. 32M)")
        }
        let range = MachineConfiguration.memorySizeRange
        guard value <= range.upperBound / multiplier, range.contains(value * multiplier) else {
            throw ValidationError("guest RAM must be from 1M to 3G")
        }
        guard (value * multiplier) % 4096 == 0 else { throw ValidationError("guest RAM must be a multiple of 4K") }
        bytes = value * multiplier
    }
}

/// `PORT=FILE` for `--debugcon`.
struct DebugConsoleOption {
    let port: UInt16
    let path: String

    init(parsing argument: String) throws(ValidationError) {
        let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[1].isEmpty else { throw ValidationError("expected PORT=FILE, e.g. 0xe9=-") }
        port = try parsePort(parts[0])
        path = parts[1]
    }
}

/// A port number in decimal or 0x-prefixed hexadecimal.
func parsePort(_ text: String) throws(ValidationError) -> UInt16 {
    let hex = text.lowercased().hasPrefix("0x")
    guard let value = Int(hex ? text.dropFirst(2) : Substring(text), radix: hex ? 16 : 10), value >= 0 else {
        throw ValidationError("'\(text)' is not a port number")
    }
    guard value <= Int(UInt16.max) else { throw ValidationError("port \(text) is above 0xFFFF") }
    return UInt16(value)
}

/// `--smp N`: a number of processors a machine takes (1 to 64).
func parseProcessorCount(_ text: String) throws(ValidationError) -> Int {
    guard let count = Int(text) else { throw ValidationError("'\(text)' is not a number of processors") }
    guard MachineConfiguration.processorCountRange.contains(count) else {
        throw ValidationError(MachineError.processorCountOutOfRange(count).description)
    }
    return count
}

/// Where COM1 goes: `stdio`, `file:PATH` or `none`.
enum SerialOption {
    case stdio
    case file(String)
    case none

    init(parsing argument: String) throws(ValidationError) {
        switch argument {
        case "stdio": self = .stdio
        case "none": self = .none
        default:
            guard argument.hasPrefix("file:"), argument.count > 5 else {
                throw ValidationError("expected stdio, file:PATH or none")
            }
            self = .file(String(argument.dropFirst(5)))
        }
    }
}

/// A `--device` value, in QEMU's `-device NAME[,PROPERTY=VALUE...]` form.
enum DeviceOption: Equatable {
    /// `pc-testdev`: QEMU's test device (no properties).
    case pcTestDevice
    /// `isa-debug-exit[,iobase=PORT][,iosize=N]`: an exit window on iobase...iobase+iosize-1
    /// (QEMU's defaults: iobase 0x501, iosize 2).
    case debugExit(ports: ClosedRange<UInt16>)
    /// `i6300esb`: the Intel 6300ESB PCI watchdog at 00:05.0 (no properties).
    case watchdog

    static let names = ["pc-testdev", "isa-debug-exit", "i6300esb"]

    init(parsing argument: String) throws(ValidationError) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let name = parts[0]
        guard Self.names.contains(name) else {
            throw ValidationError("unknown device '\(name)' (known: \(Self.names.joined(separator: ", ")))")
        }
        var properties: [(key: String, value: String)] = []
        for part in parts.dropFirst() {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw ValidationError("expected PROPERTY=VALUE after '\(name),', got '\(part)'")
            }
            properties.append((pair[0], pair[1]))
        }
        switch name {
        case "pc-testdev":
            guard properties.isEmpty else { throw ValidationError("pc-testdev takes no properties") }
            self = .pcTestDevice
        case "i6300esb":
            guard properties.isEmpty else { throw ValidationError("i6300esb takes no properties") }
            self = .watchdog
        case "isa-debug-exit":
            var base: UInt16 = 0x501, size = 2
            var seen: Set<String> = []
            for (key, value) in properties {
                guard seen.insert(key).inserted else { throw ValidationError("isa-debug-exit: \(key) given twice") }
                switch key {
                case "iobase":
                    do { base = try parsePort(value) } catch { throw ValidationError("isa-debug-exit: iobase: \(error.message)") }
                case "iosize":
                    guard let count = parseCount(value), count >= 1 else {
                        throw ValidationError("isa-debug-exit: iosize '\(value)' is not a number of ports (1 to 0x10000)")
                    }
                    size = count
                default:
                    throw ValidationError("isa-debug-exit has no property '\(key)' (it has iobase and iosize)")
                }
            }
            guard Int(base) + size - 1 <= Int(UInt16.max) else {
                throw ValidationError("isa-debug-exit: iobase \(hex(base)) with iosize \(size) runs past port 0xffff")
            }
            self = .debugExit(ports: base...UInt16(Int(base) + size - 1))
        default:
            preconditionFailure("a name in DeviceOption.names without a case")
        }
    }
}

/// A count in decimal or 0x-prefixed hexadecimal, up to 0x10000; `nil` when it is not one.
private func parseCount(_ text: String) -> Int? {
    let hex = text.lowercased().hasPrefix("0x")
    guard let value = Int(hex ? text.dropFirst(2) : Substring(text), radix: hex ? 16 : 10),
          value >= 0, value <= 0x1_0000 else { return nil }
    return value
}

private func hex(_ port: UInt16) -> String { "0x" + String(port, radix: 16) }
