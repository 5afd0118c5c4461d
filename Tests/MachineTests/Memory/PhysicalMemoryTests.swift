import Testing
@testable import Machine

/// Guest RAM as host memory: zero-filled whether populated up front or on first touch.
@Suite struct PhysicalMemoryTests {
    @Test(arguments: [false, true])
    func ramStartsZeroAndKeepsWhatIsWritten(populated: Bool) throws {
        let memory = try PhysicalMemory(ramSize: 4 << 20, populated: populated)
        let probes: [UInt64] = [0, 0xFFF, 0x1000, 0x12_3456, (4 << 20) - 1]
        #expect(probes.allSatisfy { memory.read($0, count: 1) == [0] })
        memory.write([0xAB, 0xCD], at: 0x20_0FFF)
        #expect(memory.read(0x20_0FFF, count: 2) == [0xAB, 0xCD])
        #expect(memory.read(0x20_1001, count: 1) == [0])
    }
}
