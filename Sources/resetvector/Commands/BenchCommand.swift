import ArgumentParser
import Firmware
import Machine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the fixed CPU workloads and print guest MIPS (use a release build).",
        discussion: """
            real-mode: about 350 M instructions of 16-bit code mixing ALU work, memory \
            operands in several segments, REP MOVSW, near and far calls and jumps, and INT/IRET. \
            protected-paged: the same kind of loop as flat 32-bit code with 4 KiB paging over \
            96 MiB, INT/IRETD through the IDT, and one access to a new page of a 64 MiB region per \
            iteration (a TLB miss each time).
            """
    )

    @Option(help: "Main-loop iterations of the real-mode workload (the standard run is the default).")
    var iterations: UInt32 = BenchmarkWorkload.standardIterations

    @Option(name: .customLong("paged-iterations"), help: "Main-loop iterations of the protected-paged workload.")
    var pagedIterations: UInt32 = PagedBenchmarkWorkload.standardIterations

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for meaningful figures")
        #endif
        let realMode = try Benchmark.realMode(iterations: iterations)
        report(realMode)
        let paged = try Benchmark.protectedPaged(iterations: pagedIterations)
        report(paged)
        print("protected-paged / real-mode: \(Int((paged.mips / realMode.mips * 100).rounded()))%")
    }

    private func report(_ result: Benchmark.Result) {
        print("\(result.name): \(Int(result.mips.rounded())) MIPS  (\(result.instructions) instructions in \(String(format: "%.2f", result.seconds)) s)")
    }
}
