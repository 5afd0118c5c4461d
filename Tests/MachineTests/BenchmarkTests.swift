import Firmware
import Testing
@testable import Machine
import X86

/// The benchmark workloads must run to their HLT: a workload that faults would measure the wrong thing.
@Suite struct BenchmarkTests {
    @Test func realModeWorkloadHalts() throws {
        let result = try Benchmark.realMode(iterations: 1000)
        #expect(result.instructions > 1000 * 60)
    }

    @Test func protectedPagedWorkloadHaltsWithPagingOn() throws {
        let memory = try PhysicalMemory(ramSize: PagedBenchmarkWorkload.memorySize)
        memory.write(try PagedBenchmarkWorkload.program(iterations: 8_000), at: UInt64(PagedBenchmarkWorkload.origin))
        let cpu = CPU(bus: SystemBus(memory: memory))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(PagedBenchmarkWorkload.origin)
        let stop = cpu.run(limit: 10_000_000)
        #expect(stop == .halted, "stopped: \(stop) chain \(cpu.shutdownChain) at \(cpu.segment(.cs).selector):\(String(cpu.instructionPointer, radix: 16)) CR2 \(String(cpu.controlRegister2, radix: 16))")
        #expect(cpu.controlRegister0 & 0x8000_0001 == 0x8000_0001, "protected mode with paging")
        // Every fourth of 8,000 iterations touched a new page of the 64 MiB region (a 17-page stride): 2,000 got D set.
        let firstTable = 0x10_1000 + (PagedBenchmarkWorkload.walkBase >> 12) * 4
        let dirtyPages = (0..<16384).filter { memory.read(UInt64(firstTable + $0 * 4), count: 1)[0] & 0x40 != 0 }.count
        #expect(dirtyPages == 2000)
    }

    @Test func longModeWorkloadHaltsIn64BitModeWithItsWorkDone() throws {
        let memory = try PhysicalMemory(ramSize: LongModeBenchmarkWorkload.memorySize)
        memory.write(try LongModeBenchmarkWorkload.program(iterations: 8_000), at: UInt64(LongModeBenchmarkWorkload.origin))
        let cpu = CPU(bus: SystemBus(memory: memory))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(LongModeBenchmarkWorkload.origin)
        let stop = cpu.run(limit: 10_000_000)
        #expect(stop == .halted, "stopped: \(stop) chain \(cpu.shutdownChain) at \(String(cpu.instructionPointer, radix: 16))")
        #expect(cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive != 0)
        #expect(cpu.segment(.cs).isLongMode)
        // Each iteration's INT 60h went through the 64-bit gate: its handler counted them all.
        let count = memory.read(0x20_0040, count: 8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        #expect(count == 8_000)
        // Every fourth iteration touched a new page of the 64 MiB region: 2,000 page-table entries
        // (after the PML4, the PDPT and one page of directories) got D set.
        let firstEntry = 0x10_3000 + (PagedBenchmarkWorkload.walkBase >> 12) * 8
        let dirtyPages = (0..<16384).filter { memory.read(UInt64(firstEntry + $0 * 8), count: 1)[0] & 0x40 != 0 }.count
        #expect(dirtyPages == 2000)
    }

    /// `bench --smp`: each machine runs to exactly its instruction budget, busy or not.
    @Test func multiprocessorComparisonRunsEachMachineToItsBudget() throws {
        let comparison = try Benchmark.compareMultiprocessor(processors: 3, instructions: 300_000)
        for result in [comparison.single, comparison.allBusy, comparison.oneBusy] {
            #expect(result.instructions == 300_000, "\(result.name)")
        }
        #expect(comparison.allBusy.name == "smp 3, 3 busy" && comparison.oneBusy.name == "smp 3, 1 busy")
    }

    /// The busy application processors do spin (the BSP's payload starts them after the
    /// firmware parked them) and the idle ones halt.
    @Test(arguments: [3, 1]) func busyProcessorsSpinAndTheOthersHalt(busy: Int) throws {
        let machine = try Benchmark.multiprocessorMachine(processors: 3, busy: busy, instructions: 600_000)
        #expect(machine.run() == .instructionLimit)
        for ap in machine.cpus.dropFirst() {
            #expect(ap.activity == (busy == 3 ? .active : .halted), "AP \(ap.index)")
            #expect((ap.instructionsRetired > 100_000) == (busy == 3), "AP \(ap.index): \(ap.instructionsRetired)")
        }
    }

    @Test func comparisonRunsAlternatingRoundsWithTheirShareOfIterations() throws {
        let comparison = try Benchmark.compare(rounds: 3, realModeIterations: 3_000, pagedIterations: 3_000, realCodeIterations: 30,
                                               longModeIterations: 3_000)
        #expect(comparison.realMode.count == 3 && comparison.protectedPaged.count == 3 && comparison.realCode.count == 3)
        #expect(comparison.longMode.count == 3)
        let single = try Benchmark.realMode(iterations: 1_000)
        #expect(comparison.realMode.allSatisfy { $0.instructions == single.instructions }, "each round ran 1,000 iterations")
    }

    @Test func comparisonReportsMediansAndTheMedianOfTheRoundsRatios() {
        func results(_ mips: [Double]) -> [Benchmark.Result] {
            mips.map { Benchmark.Result(name: "w", instructions: UInt64($0 * 1e6), seconds: 1) }
        }
        let odd = Benchmark.Comparison(realMode: results([10, 30, 20]), protectedPaged: results([5, 30, 10]))
        #expect(odd.realModeMIPS == 20 && odd.protectedPagedMIPS == 10)
        #expect(odd.ratio == 0.5, "ratios 0.5, 1.0, 0.5")
        let even = Benchmark.Comparison(realMode: results([10, 40]), protectedPaged: results([10, 20]))
        #expect(even.realModeMIPS == 25 && even.protectedPagedMIPS == 15)
        #expect(even.ratio == 0.75)
    }

    /// The real-code workload computes what QEMU's CPU computes: unicorn (PyPI), running the same
    /// program through `Tools/workload-oracle/run.py`, gives checksum 52430D70h for 200 iterations.
    @Test func realCodeWorkloadMatchesQEMUsChecksum() throws {
        let result = try Benchmark.realCode(iterations: 200)
        #expect(result.checksum == 0x5243_0D70)
        #expect(result.instructions == 1_111_717)
    }

    /// Its routines' data shares TLB slots with their code and its stack lies on a code page,
    /// yet each block is decoded once: the decoded-code cache never decodes a block twice.
    @Test func realCodeWorkloadDecodesEachBlockOnce() throws {
        let memory = try PhysicalMemory(ramSize: RealCodeBenchmarkWorkload.memorySize)
        memory.write(try RealCodeBenchmarkWorkload.program(iterations: 50), at: UInt64(RealCodeBenchmarkWorkload.origin))
        let cpu = CPU(bus: SystemBus(memory: memory))
        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(RealCodeBenchmarkWorkload.origin)
        #expect(cpu.run(limit: 10_000_000) == .halted)
        #expect(cpu.blocksDecoded < 300, "decoded \(cpu.blocksDecoded) blocks for 50 iterations")
    }
}
