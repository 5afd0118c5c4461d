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
}
