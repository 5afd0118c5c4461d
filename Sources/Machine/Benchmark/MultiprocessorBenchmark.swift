import Firmware
import Foundation
import X86

/// `resetvector bench --smp N`: what the round-robin of several processors costs. The whole
/// machine runs (firmware, devices, the scheduler) with a fixed number of instructions in all;
/// `busy` processors spin in a register-only loop, the others halt. Aggregate guest MIPS with
/// every processor busy, and with one busy and the rest halted, are compared with one busy
/// processor alone.
extension Benchmark {
    /// The three runs of the comparison.
    public struct MultiprocessorComparison: Sendable {
        public let single: Result
        public let allBusy: Result
        public let oneBusy: Result
        /// Aggregate MIPS with every processor busy, relative to one processor alone.
        public var allBusyRatio: Double { allBusy.mips / single.mips }
        /// MIPS with one busy processor and the others halted, relative to one processor alone.
        public var oneBusyRatio: Double { oneBusy.mips / single.mips }
    }

    /// Instructions each run executes in all.
    public static let multiprocessorInstructions: UInt64 = 200_000_000

    public static func compareMultiprocessor(processors: Int,
                                             instructions: UInt64 = multiprocessorInstructions) throws -> MultiprocessorComparison {
        MultiprocessorComparison(
            single: try multiprocessor(processors: 1, busy: 1, instructions: instructions),
            allBusy: try multiprocessor(processors: processors, busy: processors, instructions: instructions),
            oneBusy: try multiprocessor(processors: processors, busy: 1, instructions: instructions))
    }

    /// A machine with `processors` CPUs, of which the first `busy` spin and the others halt,
    /// run until `instructions` instructions retired in all.
    static func multiprocessor(processors: Int, busy: Int, instructions: UInt64) throws -> Result {
        let machine = try multiprocessorMachine(processors: processors, busy: busy, instructions: instructions)
        let start = ContinuousClock.now
        let outcome = machine.run()
        let elapsed = ContinuousClock.now - start
        guard outcome == .instructionLimit else { throw BenchmarkError.machineDidNotFinish(outcome) }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        return Result(name: "smp \(processors), \(busy) busy", instructions: machine.instructionCount, seconds: seconds)
    }

    /// The machine of `multiprocessor`, at power-on: the BSP's payload starts the APs (the
    /// firmware parks them first), busy ones at the spin loop, the others at the idle loop.
    static func multiprocessorMachine(processors: Int, busy: Int, instructions: UInt64) throws -> Machine {
        var configuration = MachineConfiguration(firmware: try ResetVectorROM.image())
        configuration.processorCount = processors
        let workload = MultiprocessorBenchmarkWorkload.self
        configuration.bootPayload = try workload.bootstrap(processors: processors, busy: busy)
        configuration.maxInstructions = instructions
        let machine = try Machine(configuration)
        machine.writeMemory(try workload.spin(origin: 0), at: workload.spinAddress)
        machine.writeMemory(try workload.park(origin: 0), at: workload.parkAddress)
        return machine
    }
}
