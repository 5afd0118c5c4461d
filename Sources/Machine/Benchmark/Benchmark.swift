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
        /// What the guest computed, where the workload keeps a checksum (real-code does), so that
        /// another emulator running the same program can be checked against it.
        public var checksum: UInt32? = nil
        public var mips: Double { Double(instructions) / seconds / 1e6 }
    }

    /// The workloads measured in alternating rounds, so that a change in the host's load (other
    /// processes, a noisy neighbour on a shared machine) falls on all alike.
    public struct Comparison: Sendable {
        /// One result per round, in order.
        public let realMode: [Result]
        public let protectedPaged: [Result]
        public let realCode: [Result]
        public let longMode: [Result]

        public init(realMode: [Result], protectedPaged: [Result], realCode: [Result] = [], longMode: [Result] = []) {
            self.realMode = realMode
            self.protectedPaged = protectedPaged
            self.realCode = realCode
            self.longMode = longMode
        }

        /// The median of the rounds' figures.
        public var realModeMIPS: Double { median(realMode.map(\.mips)) }
        public var protectedPagedMIPS: Double { median(protectedPaged.map(\.mips)) }
        public var realCodeMIPS: Double { median(realCode.map(\.mips)) }
        public var longModeMIPS: Double { median(longMode.map(\.mips)) }
        /// The median of each round's protected-paged / real-mode ratio: the two runs of a round
        /// are neighbours in time, so their ratio is steadier than the ratio of the medians.
        public var ratio: Double { median(zip(protectedPaged, realMode).map { $0.mips / $1.mips }) }
        /// The median of each round's long-mode / real-mode ratio.
        public var longModeRatio: Double { median(zip(longMode, realMode).map { $0.mips / $1.mips }) }

        private func median(_ values: [Double]) -> Double {
            guard !values.isEmpty else { return 0 }
            let sorted = values.sorted()
            let middle = sorted.count / 2
            return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
        }
    }

    /// Runs `rounds` rounds of real-mode, protected-paged, real-code and long-mode, each round
    /// with its share of the iterations (at least one).
    public static func compare(rounds: Int, realModeIterations: UInt32 = BenchmarkWorkload.standardIterations,
                               pagedIterations: UInt32 = PagedBenchmarkWorkload.standardIterations,
                               realCodeIterations: UInt32 = RealCodeBenchmarkWorkload.standardIterations,
                               longModeIterations: UInt32 = LongModeBenchmarkWorkload.standardIterations) throws -> Comparison {
        precondition(rounds > 0, "at least one round")
        let share = { (total: UInt32) in max(1, total / UInt32(rounds)) }
        var realMode: [Result] = [], paged: [Result] = [], realCode: [Result] = [], longMode: [Result] = []
        for _ in 0..<rounds {
            realMode.append(try Benchmark.realMode(iterations: share(realModeIterations)))
            paged.append(try protectedPaged(iterations: share(pagedIterations)))
            realCode.append(try Benchmark.realCode(iterations: share(realCodeIterations)))
            longMode.append(try Benchmark.longMode(iterations: share(longModeIterations)))
        }
        return Comparison(realMode: realMode, protectedPaged: paged, realCode: realCode, longMode: longMode)
    }

    /// Runs the real-mode workload with `iterations` loop iterations.
    public static func realMode(iterations: UInt32 = BenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "real-mode", program: BenchmarkWorkload.program(iterations: iterations),
                origin: BenchmarkWorkload.origin, ramSize: 1 << 20)
    }

    /// Runs the protected-mode workload (4 KiB paging over 96 MiB, walks across 64 MiB) with `iterations` loop iterations.
    public static func protectedPaged(iterations: UInt32 = PagedBenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "protected-paged", program: PagedBenchmarkWorkload.program(iterations: iterations),
                origin: PagedBenchmarkWorkload.origin, ramSize: PagedBenchmarkWorkload.memorySize)
    }

    /// Runs the real-code workload (routines on several code pages whose data shares TLB slots
    /// with them, the stack on a code page) with `iterations` loop iterations.
    public static func realCode(iterations: UInt32 = RealCodeBenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "real-code", program: RealCodeBenchmarkWorkload.program(iterations: iterations),
                origin: RealCodeBenchmarkWorkload.origin, ramSize: RealCodeBenchmarkWorkload.memorySize,
                checksumAddress: RealCodeBenchmarkWorkload.checksumAddress)
    }

    /// Runs the 64-bit workload (4-level paging over 96 MiB, SSE2 moves, walks across 64 MiB)
    /// with `iterations` loop iterations.
    public static func longMode(iterations: UInt32 = LongModeBenchmarkWorkload.standardIterations) throws -> Result {
        try run(name: "long-mode", program: LongModeBenchmarkWorkload.program(iterations: iterations),
                origin: LongModeBenchmarkWorkload.origin, ramSize: LongModeBenchmarkWorkload.memorySize)
    }

    /// Each workload's program with its standard iterations, by name: raw bytes to load at
    /// 0000:1000 and enter in real mode, so that another emulator can run the same guest.
    public static func standardPrograms() throws -> [(name: String, program: [UInt8])] {
        [("real-mode", try BenchmarkWorkload.program(iterations: BenchmarkWorkload.standardIterations)),
         ("protected-paged", try PagedBenchmarkWorkload.program(iterations: PagedBenchmarkWorkload.standardIterations)),
         ("real-code", try RealCodeBenchmarkWorkload.program(iterations: RealCodeBenchmarkWorkload.standardIterations)),
         ("long-mode", try LongModeBenchmarkWorkload.program(iterations: LongModeBenchmarkWorkload.standardIterations))]
    }

    /// Loads `program` at 0000:`origin` on a bare CPU with `ramSize` bytes of RAM, runs it to its
    /// HLT and times it.
    private static func run(name: String, program: [UInt8], origin: UInt32, ramSize: Int,
                            checksumAddress: Int? = nil) throws -> Result {
        let memory = try PhysicalMemory(ramSize: ramSize, populated: true)
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
        let checksum = checksumAddress.map { memory.read(UInt64($0), count: 4).reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) } }
        return Result(name: name, instructions: cpu.instructionsRetired, seconds: seconds, checksum: checksum)
    }
}

public enum BenchmarkError: Error, CustomStringConvertible {
    case workloadDidNotFinish(StopReason)
    case machineDidNotFinish(RunOutcome)
    public var description: String {
        switch self {
        case .workloadDidNotFinish(let reason): "the benchmark workload stopped early: \(reason)"
        case .machineDidNotFinish(let outcome): "the multiprocessor benchmark ended early: \(outcome)"
        }
    }
}
