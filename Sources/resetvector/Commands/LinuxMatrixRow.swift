import Firmware
import Foundation
import Hardware
import Machine

/// One row of the Linux matrix: a path on one kernel, board and processor count, run on its
/// own machine, and what happened.
struct LinuxMatrixRow: Sendable {
    struct Key: Sendable {
        let architecture: LinuxMatrixArchitecture
        let board: BoardProfile
        let processors: Int
        let path: LinuxPath
    }

    let key: Key
    /// Why the row did not run (the path does not exist on this kernel), if it did not.
    var skipped: String?
    /// The attempts Linux made, in order, each with the board's answer.
    var attempts: [String] = []
    /// How many times the initramfs's marker appeared.
    var markers = 0
    var outcome = ""
    var passed = false
    var instructions: UInt64 = 0
    var wallSeconds = 0.0
    /// Serial lines that tell the path's story (reboot, panic, watchdog, the markers).
    var story: [String] = []
    /// Every CPU's state, when the run stopped with the machine intact (a pause, the cap).
    var stateReport: String?
    /// The trace events the attempts and the checks read (``keptEvents``).
    var records: [TraceRecord] = []
    /// The whole trace as JSON Lines, when `--trace-json` asked for it.
    var trace: TraceSpool?

    /// What a row keeps of its trace: the firmware's milestones and the reset story's events,
    /// not the millions of POST codes a 32-bit kernel writes to port 80h.
    static let keptEvents: Set<String> = ["firmware", "reset-request", "sleep-request", "quirk", "panic", "watchdog",
                                          "reset", "power-off"]

    static let marker = "RESETVECTOR-INIT-OK"
    /// What the matrix keeps of the serial output.
    static let storyPrefixes = [marker, "RESETVECTOR-", "reboot:", "ACPI: PM: Preparing", "Kernel panic",
                                "---[ end Kernel panic", "Rebooting in", "i6300esb", "watchdog: watchdog0",
                                "pvpanic", "sysrq: Trigger a crash"]

    /// A console line without the kernel's "[    1.234567] " timestamp.
    static func kernelMessage(_ line: String) -> Substring {
        guard line.hasPrefix("["), let close = line.firstIndex(of: "]") else { return Substring(line) }
        return line[line.index(after: close)...].drop { $0 == " " }
    }

    /// Runs `key`'s path on a fresh machine booting `kernel` and `initrd`; its whole trace goes
    /// to `trace` when there is one.
    static func run(_ key: Key, kernel: [UInt8], initrd: [UInt8], rom: [UInt8], trace: TraceSpool?) throws(MachineError)
        -> LinuxMatrixRow {
        var row = LinuxMatrixRow(key: key)
        if let reason = key.path.unavailable[key.architecture] {
            row.skipped = reason
            return row
        }
        let path = key.path
        var configuration = configuration(for: key, kernel: kernel, initrd: initrd, rom: rom)
        let serial = SerialLines()
        configuration.serialOutput = { serial.take($0) }
        let machine = try Machine(configuration)
        trace?.attach(to: machine.trace)
        row.trace = trace
        // A reboot path is done when the second boot prints the marker.
        var secondBoot = false
        serial.onLine = { [unowned machine, unowned serial] line in
            if line.hasPrefix(marker), serial.lines.filter({ $0.hasPrefix(marker) }).count == 2 {
                secondBoot = true
                machine.finish(.paused(reason: "the second boot reached init"))
            }
        }
        let started = ContinuousClock.now
        let outcome = machine.run()
        let elapsed = ContinuousClock.now - started
        row.wallSeconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        row.records = machine.trace.kept ?? []
        row.attempts = attempts(in: row.records, processors: key.processors)
        row.markers = serial.lines.filter { $0.hasPrefix(marker) }.count
        row.instructions = machine.instructionCount
        row.story = serial.lines.filter { line in storyPrefixes.contains { kernelMessage(line).hasPrefix($0) } }
        row.outcome = secondBoot ? "stopped at the second boot's init marker" : outcome.summary
        switch outcome {
        case .paused where !secondBoot, .instructionLimit, .hung: row.stateReport = machine.stateReport()
        default: break
        }
        row.passed = passes(path.expectation, outcome: outcome, row: row, serial: serial.lines)
        return row
    }

    /// The machine for `key`'s path, without its serial output.
    static func configuration(for key: Key, kernel: [UInt8], initrd: [UInt8], rom: [UInt8]) -> MachineConfiguration {
        let path = key.path
        var configuration = MachineConfiguration(firmware: rom)
        configuration.memorySize = 256 << 20
        configuration.processorCount = key.processors
        configuration.board = key.board
        configuration.quirks = Set(path.quirks)
        configuration.acpiReset = path.acpiReset
        configuration.watchdog = path.watchdog
        configuration.onPanic = path.onPanic
        configuration.exitOnHalt = true
        configuration.keepTrace = true
        configuration.keptTraceEvents = keptEvents
        configuration.maxInstructions = cap(for: key)
        configuration.label = "\(key.architecture.rawValue) \(key.board.rawValue) smp\(key.processors) \(path.name)"
        configuration.linux = LinuxBoot(kernel: kernel, initrd: initrd, commandLine: path.commandLine)
        return configuration
    }

    /// The row's instruction cap: boots' worth of instructions for what the path needs (two
    /// boots for a reboot; a panic that hangs spins until the cap), half as much again with
    /// several processors.
    static func cap(for key: Key) -> UInt64 {
        let boots: UInt64 = switch key.path.expectation {
        case .reboots, .watchdogReboots: 3
        case .powersOff, .halts, .pausesAtPanic: 2
        case .hangsAfterPanic: 1
        }
        let unit = key.architecture.bootInstructions
        return (boots * unit + (key.path.expectation == .hangsAfterPanic ? unit / 4 : 0)) * (key.processors > 1 ? 3 : 2) / 2
    }

    private static func passes(_ expectation: LinuxPath.Expectation, outcome: RunOutcome, row: LinuxMatrixRow,
                               serial: [String]) -> Bool {
        switch expectation {
        case .reboots:
            return row.markers == 2
        case .powersOff:
            return outcome == .poweredOff
        case .halts:
            return outcome == .allHalted
        case .hangsAfterPanic:
            return outcome == .instructionLimit && serial.contains { kernelMessage($0).hasPrefix("---[ end Kernel panic") }
                && !row.records.contains { $0.event.name == "reset-request" }
        case .pausesAtPanic:
            if case .paused = outcome { return row.records.contains { $0.event.name == "panic" } }
            return false
        case .watchdogReboots:
            // WDIOF_CARDRESET (0x20): the driver found WDT_TIMEOUT set at probe.
            return row.markers == 2 && serial.contains("RESETVECTOR-WATCHDOG-BOOTSTATUS 32")
                && row.records.contains { $0.event.name == "reset-request" && $0.event["source"] == .text("watchdog") }
        }
    }

    /// The attempts of the first boot, in order, from the firmware's hand-over to Linux until the
    /// first reset, power-off or pause, or the firmware's next start: each reset request with
    /// the board's answer (the `reset` that followed it, else "no reset"), each request a quirk
    /// ignored, a panic report, the watchdog's expiry, a sleep request; and "firmware
    /// re-entered" when the firmware started again with no reset (Linux's BIOS method jumps to
    /// FFFF:0000). Runs of the same attempt are counted ("×10").
    static func attempts(in records: [TraceRecord], processors: Int) -> [String] {
        let handOver = records.firstIndex { $0.event.name == "firmware" && $0.event["milestone"] == .text(LinuxEntry.milestone) }
        guard let handOver else { return [] }
        let next = records[handOver...].firstIndex {
            $0.event.name == "firmware" && $0.event["milestone"] == .text("reset-vector")
        } ?? records.endIndex
        var attempts: [String] = []
        var answered = false
        for index in handOver..<next {
            let event = records[index].event
            let cpu = processors > 1 ? event.cpu.map { "cpu\($0) " } ?? "" : ""
            switch event.name {
            case "reset-request", "sleep-request":
                let answer = records[(index + 1)..<next].first {
                    ["reset", "power-off", "reset-request", "sleep-request", "quirk"].contains($0.event.name)
                }
                var text = cpu + request(event)
                switch answer?.event.name {
                case "reset": text += " → " + (answer!.event["kind"].flatMap(Self.text) ?? "reset")
                case "power-off": text += " → power-off"
                default: text += " → no reset"
                }
                attempts.append(text)
            case "quirk" where event["source"] != nil:
                attempts.append(cpu + request(event) + " → ignored (\(event["quirk"].flatMap(Self.text) ?? "quirk"))")
            case "panic":
                attempts.append(cpu + "pvpanic \(event["names"].flatMap(Self.text) ?? "") → \(event["action"].flatMap(Self.text) ?? "")")
            case "watchdog":
                let stage = event["stage"].map { if case .number(let n) = $0 { " stage \(n)" } else { "" } } ?? ""
                let action = event["action"].flatMap(Self.text) ?? ""
                attempts.append("watchdog\(stage) expired → \(action == "none" ? "nothing" : action)")
            case "reset", "power-off":
                answered = true
            default:
                break
            }
            if answered { break }
        }
        if !answered && next < records.endIndex {
            attempts.append("firmware re-entered at its reset vector (no reset)")
        }
        return counted(attempts)
    }

    /// A request's source, its register's space and the value written ("cf9 06h").
    private static func request(_ event: TraceEvent) -> String {
        var words: [String] = []
        if event.name == "sleep-request" {
            words = ["ACPI \(event["state"].flatMap(Self.text) ?? "") PM1_CNT"]
        } else {
            words.append(event["source"].flatMap(Self.text) ?? event.name)
            if let space = event["space"].flatMap(Self.text) { words.append(space) }
        }
        if case .number(let value)? = event["value"] {
            words.append(String(value, radix: 16, uppercase: true).leftPadded(to: 2) + "h")
        }
        return words.joined(separator: " ")
    }

    private static func text(_ value: TraceValue) -> String? {
        if case .text(let text) = value { return text }
        return nil
    }

    /// Runs of equal attempts as one entry with a count.
    private static func counted(_ attempts: [String]) -> [String] {
        var result: [(String, Int)] = []
        for attempt in attempts {
            if let last = result.last, last.0 == attempt {
                result[result.count - 1].1 += 1
            } else {
                result.append((attempt, 1))
            }
        }
        return result.map { $0.1 > 1 ? "\($0.0) ×\($0.1)" : $0.0 }
    }
}

/// COM1's output split into lines (carriage returns dropped), with a hook per line.
final class SerialLines {
    private(set) var lines: [String] = []
    private var current: [UInt8] = []
    var onLine: ((String) -> Void)?

    func take(_ byte: UInt8) {
        switch byte {
        case 0x0A:
            let line = String(decoding: current, as: UTF8.self)
            current.removeAll(keepingCapacity: true)
            lines.append(line)
            onLine?(line)
        case 0x0D:
            break
        default:
            current.append(byte)
        }
    }
}

private extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
