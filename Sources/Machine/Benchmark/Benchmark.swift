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
        let memory = PhysicalMemory(ramSize: 1 << 20)
        let program = try BenchmarkWorkload.program(iterations: iterations)
        memory.write(program, at: UInt64(BenchmarkWorkload.origin))
        let cpu = CPU(bus: SystemBus(memory: memory))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(BenchmarkWorkload.origin)
        let start = ContinuousClock.now
        var stop = StopReason.limitReached
        while stop == .limitReached { stop = cpu.run(limit: 100_000_000) }
        let elapsed = ContinuousClock.now - start
        guard stop == .halted else { throw BenchmarkError.workloadDidNotFinish(stop) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(name: "real-mode", instructions: cpu.instructionsRetired, seconds: seconds)
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
