import Firmware
import Foundation
import X86

/// `resetvector bench`: runs fixed workloads on the interpreter and reports guest MIPS.
public enum Benchmark {
    /// One workload's measurement.
    public struct Result: Sendable {
        public let name: String
        public let instructions: UInt64
        public let seconds: Double
        public var mips: Double { Double(instructions) / seconds / 1e6 }
    }

    /// Runs the real-mode workload with `iterations` loop iterations.
    public static func realMode(iterations: UInt32 = BenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "real-mode", program: BenchmarkWorkload.program(iterations: iterations),
                origin: BenchmarkWorkload.origin, ramSize: 1 << 20)
    }

    /// Runs the protected-mode workload with 4 KiB paging over 64 MiB and `iterations` loop iterations.
    public static func protectedPaged(iterations: UInt32 = PagedBenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "protected-paged", program: PagedBenchmarkWorkload.program(iterations: iterations),
                origin: PagedBenchmarkWorkload.origin, ramSize: PagedBenchmarkWorkload.memorySize)
    }

    /// Loads `program` at 0000:`origin` on a bare CPU with `ramSize` bytes of RAM, runs it to its
    /// HLT and times it.
    private static func run(name: String, program: [UInt8], origin: UInt32, ramSize: Int) throws -> Result {
        let memory = try PhysicalMemory(ramSize: ramSize)
        memory.write(program, at: UInt64(origin))
        let cpu = CPU(bus: SystemBus(memory: memory))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(origin)
        let start = ContinuousClock.now
        var stop = StopReason.limitReached
        while stop == .limitReached { stop = cpu.run(limit: 100_000_000) }
        let elapsed = ContinuousClock.now - start
        guard stop == .halted else { throw BenchmarkError.workloadDidNotFinish(stop) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(name: name, instructions: cpu.instructionsRetired, seconds: seconds)
    }
}

public enum BenchmarkError: Error, CustomStringConvertible {
    case workloadDidNotFinish(StopReason)
    public var description: String {
        switch self {
        case .workloadDidNotFinish(let reason): "the benchmark workload stopped early: \(reason)"
        }
    }
}
