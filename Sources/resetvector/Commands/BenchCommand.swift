import ArgumentParser
import Firmware
import Machine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the fixed CPU workloads and print guest MIPS (use a release build).",
        discussion: """
            real-mode: about 350 M instructions of 16-bit code mixing ALU work, memory \
            operands in several segments, REP MOVSW, near and far calls and jumps, and INT/IRET.
            """
    )

    @Option(help: "Main-loop iterations of the real-mode workload (the standard run is the default).")
    var iterations: UInt32 = BenchmarkWorkload.standardIterations

    func run() throws {
        #if DEBUG
        print("note: this is a debug build; build with `swift build -c release` for meaningful figures")
        #endif
        let result = try Benchmark.realMode(iterations: iterations)
        print("\(result.name): \(Int(result.mips.rounded())) MIPS  (\(result.instructions) instructions in \(String(format: "%.2f", result.seconds)) s)")
    }
}
