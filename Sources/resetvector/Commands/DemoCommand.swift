import ArgumentParser
import Firmware
import Foundation
import Hardware
import Machine

struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Reboot a PC through every legacy reset path and show what happened.",
        discussion: """
            Runs each built-in guest on the built-in firmware: the guest resets the machine its \
            way, the board answers as its profile says, the firmware boots again and the guest \
            reports that it is back. Prints each reset story (the trace from the request to the \
            bootstrap processor's first instruction at F000:FFF0) and a summary table.
            """
    )

    @OptionGroup var boardOptions: BoardOptions

    /// Never set here: `demo --linux` is routed to `LinuxMatrixCommand` before parsing
    /// (`CommandLineArguments.normalized`); declared so `demo --help` lists it.
    @Flag(help: "Run Debian's Linux kernels down every reboot path instead (resetvector demo --linux --help).")
    var linux = false

    @Option(parsing: .unconditional, help: "Processors, 1 to 64 (the mp-* guests wake the others).", transform: parseProcessorCount)
    var smp = 1

    /// Generous cap per guest; each needs well under a million instructions.
    static let instructionCap: UInt64 = 50_000_000

    struct Row {
        let guest: ResetGuest
        let answer: String
        let boots: Int
        let instructions: UInt64
        let virtualTime: UInt64
        let outcome: String
    }

    func run() throws {
        let rom = try ResetVectorROM.image()
        var rows: [Row] = []
        let out = StandardStreams.output()
        let traceOutputs = try boardOptions.openTraceOutputs()
        for guest in ResetGuest.allCases {
            var configuration = MachineConfiguration(firmware: rom)
            configuration.board = boardOptions.board
            configuration.processorCount = smp
            configuration.bootPayload = try guest.program()
            configuration.exitOnHalt = true
            configuration.keepTrace = true
            configuration.maxInstructions = DemoCommand.instructionCap
            configuration.label = guest.rawValue
            configuration.addDevices(neededBy: guest)
            // The panic row shows a production answer to a panic: a reboot (the default pauses).
            if guest == .panic { configuration.onPanic = .reboot }
            var serial: [UInt8] = []
            configuration.serialOutput = { serial.append($0) }
            let machine = try Machine(configuration)
            traceOutputs.attach(to: machine.trace)
            machine.stopOnFailure(of: traceOutputs.all)
            var typed = false
            machine.onHalt = { machine, cpu in
                // The Ctrl-Alt-Del guest waits in HLT with interrupts on: type the keys then.
                if !typed, !guest.scancodesToType.isEmpty, machine.cpus[cpu].eflags & (1 << 9) != 0 {
                    typed = true
                    machine.typeScancodes(guest.scancodesToType)
                }
            }
            let outcome = machine.run()
            for output in traceOutputs.all { try output.check() }
            let records = machine.trace.kept ?? []
            out.writeLine("== \(guest.rawValue): \(guest.method)")
            for line in String(decoding: serial, as: UTF8.self).split(separator: "\r\n", omittingEmptySubsequences: true)
                where line.hasPrefix("guest") {
                out.writeLine("   serial: \(line.trimmingCharacters(in: .whitespacesAndNewlines))")
            }
            for record in DemoCommand.resetStory(records) {
                out.writeLine("   " + EventTrace.humanLine(record))
            }
            let answer = DemoCommand.boardAnswer(records)
            rows.append(Row(guest: guest, answer: answer, boots: DemoCommand.firmwareEntries(records).count,
                            instructions: machine.instructionCount,
                            virtualTime: machine.now, outcome: outcome.summary))
            out.writeLine("")
            try out.check()
        }
        printTable(rows, to: out)
        try out.check()
    }

    /// Where the firmware began at its reset vector (its first milestone).
    static func firmwareEntries(_ records: [TraceRecord]) -> [Int] {
        records.indices.filter {
            records[$0].event.name == "firmware" && records[$0].event["milestone"] == .text("reset-vector")
        }
    }

    /// The reset story: from the guest's entry into protected mode (if any), or else its first
    /// reset request, shutdown or typed key, to the bootstrap
    /// processor's first start after it and the application processors' wait for a start-up
    /// IPI that comes with it (or, for a path with no reset, the firmware's second entry at its
    /// reset vector).
    static func resetStory(_ records: [TraceRecord]) -> [TraceRecord] {
        let triggers: Set<String> = ["mode", "task-switch", "reset-request", "shutdown", "key", "quirk", "watchdog", "panic",
                                     "sleep-request"]
        let entries = firmwareEntries(records)
        guard entries.count >= 2 || records.contains(where: { triggers.contains($0.event.name) }) else { return [] }
        let secondEntry = entries.count >= 2 ? entries[1] : records.endIndex - 1
        // The guest's story starts when the firmware hands over (its own mode switches and
        // start-up IPIs are not part of it).
        let handOver = records.firstIndex {
            $0.event.name == "firmware" && [.text("boot"), .text("multiboot")].contains($0.event["milestone"])
        } ?? records.startIndex
        let guestPart = records[min(handOver, secondEntry)..<secondEntry]
        let first = guestPart.firstIndex { triggers.contains($0.event.name) } ?? max(0, secondEntry - 1)
        var end = min(records[first...].firstIndex { $0.event.name == "cpu-start" } ?? secondEntry, secondEntry)
        while end + 1 < secondEntry, records[end + 1].event.name == "wait-for-sipi" { end += 1 }
        return Array(records[first...end])
    }

    /// What the board did: the first reset's kind, a power-off, or a sleep and its wake.
    static func boardAnswer(_ records: [TraceRecord]) -> String {
        for record in records {
            switch (record.event.name, record.event["kind"], record.event["source"]) {
            case ("reset", .text(let kind)?, _): return kind
            case ("power-off", _, _): return "power-off"
            case ("wake", _, .text(let source)?): return "S3, woken by \(source)"
            default: continue
            }
        }
        return "no reset (firmware re-entered)"
    }

    private func printTable(_ rows: [Row], to out: OutputFile) {
        let header = ["method", "board answer", "boots", "instructions", "virtual time", "outcome"]
        let cells = rows.map { row in
            [row.guest.rawValue, row.answer, String(row.boots), String(row.instructions),
             String(format: "%.3f ms", Double(row.virtualTime) / 1e6), row.outcome]
        }
        let widths = header.indices.map { column in
            max(header[column].count, cells.map { $0[column].count }.max() ?? 0)
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ")
        }
        out.writeLine("board: \(boardOptions.board.rawValue)")
        out.writeLine(line(header))
        out.writeLine(line(widths.map { String(repeating: "-", count: $0) }))
        for row in cells { out.writeLine(line(row)) }
    }
}
