import ArgumentParser
import Firmware
import Machine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the fixed CPU workloads and print guest MIPS (use a release build).",
        discussion: """
            real-mode: about 311 M instructions of 16-bit code mixing ALU work, memory \
            operands in several segments, REP MOVSW, near and far calls and jumps, and INT/IRET. \
            protected-paged: about 274 M instructions of the same kind of loop as flat 32-bit \
            code with 4 KiB paging over 96 MiB, INT/IRETD through the IDT, and an access to a new \
            page of a 64 MiB region every fourth iteration (a TLB miss each time). \
            real-code: about 300 M instructions of flat 32-bit paged code calling eight routines \
            through function pointers (CRC-32, a hash, a matrix multiply, a linked-list walk, \
            string copy, divisions, a bitmap allocator, a sort) on five code pages, with their \
            data on pages that share TLB slots with their code and the stack on a code page. \
            long-mode: about 290 M instructions of the protected-paged loop as flat 64-bit code \
            with 4-level paging, REP MOVSQ, SSE2 moves and INT/IRETQ through a 64-bit gate. \
            The iterations are split over alternating rounds of the four workloads; each figure \
            is the median of its rounds, a ratio the median of the rounds' ratios.
            """
    )

    @Option(parsing: .unconditional, help: "Main-loop iterations of the real-mode workload, over all rounds (the standard run is the default).")
    var iterations: UInt32 = BenchmarkWorkload.standardIterations

    @Option(name: .customLong("paged-iterations"), parsing: .unconditional, help: "Main-loop iterations of the protected-paged workload, over all rounds.")
    var pagedIterations: UInt32 = PagedBenchmarkWorkload.standardIterations

    @Option(name: .customLong("real-code-iterations"), parsing: .unconditional,
            help: "Main-loop iterations of the real-code workload, over all rounds.")
    var realCodeIterations: UInt32 = RealCodeBenchmarkWorkload.standardIterations

    @Option(name: .customLong("long-mode-iterations"), parsing: .unconditional,
            help: "Main-loop iterations of the long-mode workload, over all rounds.")
    var longModeIterations: UInt32 = LongModeBenchmarkWorkload.standardIterations

    @Option(parsing: .unconditional,
            help: "Instead of the workloads: a whole machine with N processors (2 to 64), all busy and one busy, against one processor alone.")
    var smp: Int?

    @Option(parsing: .unconditional, help: "Alternating rounds of the four workloads.")
    var rounds: Int = 5

    @Option(help: ArgumentHelp("Write each workload's program (standard iterations) to DIR/NAME.bin and exit: raw bytes to load at 0000:1000 and enter in real mode, for running the same guest on another emulator.",
                               valueName: "dir"))
    var export: String?

    func validate() throws {
        guard rounds > 0 else { throw ValidationError("--rounds must be at least 1") }
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard pagedIterations > 0 else { throw ValidationError("--paged-iterations must be at least 1") }
        guard realCodeIterations > 0 else { throw ValidationError("--real-code-iterations must be at least 1") }
        guard longModeIterations > 0 else { throw ValidationError("--long-mode-iterations must be at least 1") }
        if let smp, !(2...64).contains(smp) { throw ValidationError("--smp must be from 2 to 64") }
    }

    func run() throws {
        let out = StandardStreams.output()
        if let directory = export {
            for (name, program) in try Benchmark.standardPrograms() {
                let file = try OutputFile.open(directory + "/" + name + ".bin")
                file.write(program)
                try file.check()
                out.writeLine("\(directory)/\(name).bin: \(program.count) bytes")
            }
            try out.check()
            return
        }
        #if DEBUG
        out.writeLine("note: this is a debug build; build with `swift build -c release` for meaningful figures")
        #endif
        if let smp {
            let comparison = try Benchmark.compareMultiprocessor(processors: smp)
            for (result, ratio) in [(comparison.single, 1.0), (comparison.allBusy, comparison.allBusyRatio),
                                    (comparison.oneBusy, comparison.oneBusyRatio)] {
                out.writeLine("\(result.name): \(Int(result.mips.rounded())) MIPS  (\(result.instructions) instructions in "
                              + "\(String(format: "%.2f", result.seconds)) s; \(Int((ratio * 100).rounded()))% of one processor)")
            }
            try out.check()
            return
        }
        let comparison = try Benchmark.compare(rounds: rounds, realModeIterations: iterations,
                                               pagedIterations: pagedIterations, realCodeIterations: realCodeIterations,
                                               longModeIterations: longModeIterations)
        report("real-mode", comparison.realMode, median: comparison.realModeMIPS, to: out)
        report("protected-paged", comparison.protectedPaged, median: comparison.protectedPagedMIPS, to: out)
        report("real-code", comparison.realCode, median: comparison.realCodeMIPS, to: out)
        report("long-mode", comparison.longMode, median: comparison.longModeMIPS, to: out)
        out.writeLine("protected-paged / real-mode: \(Int((comparison.ratio * 100).rounded()))%")
        out.writeLine("long-mode / real-mode: \(Int((comparison.longModeRatio * 100).rounded()))%")
        try out.check()
    }

    private func report(_ name: String, _ rounds: [Benchmark.Result], median: Double, to out: OutputFile) {
        let instructions = rounds.reduce(0) { $0 + $1.instructions }
        let seconds = rounds.reduce(0) { $0 + $1.seconds }
        let perRound = rounds.map { String(Int($0.mips.rounded())) }.joined(separator: " ")
        let checksum = rounds.last?.checksum.map { "; checksum " + String(format: "0x%08x", $0) } ?? ""
        out.writeLine("\(name): \(Int(median.rounded())) MIPS  (\(instructions) instructions in \(String(format: "%.2f", seconds)) s; "
              + "rounds: \(perRound)\(checksum))")
    }
}
