#if canImport(Glibc)
import Glibc
#endif
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

/// A power cycle that clears RAM gives the pages back to the host rather than writing zeros
/// over every one: RAM reads zero again and none of it stays resident.
@Suite struct ClearedRAMTests {
    @Test func clearingRAMReadsZeroAndReleasesThePages() throws {
        let size = 64 << 20
        let memory = try PhysicalMemory(ramSize: size, populated: true)
        let probes: [UInt64] = [0, 0x1000, 0x12_3456, UInt64(size) - 2]
        for probe in probes { memory.write([0x5A, 0xA5], at: probe) }
        #expect(ClearedRAMTests.residentPages(memory, size: size) == size / 4096)
        memory.clearRAM()
        #expect(probes.allSatisfy { memory.read($0, count: 2) == [0, 0] })
        // The reads touched at most one transparent huge page (2 MiB) each.
        #expect(ClearedRAMTests.residentPages(memory, size: size) <= probes.count * 512)
    }

    /// Host pages of guest RAM that are resident (mincore).
    static func residentPages(_ memory: PhysicalMemory, size: Int) -> Int {
        var vector = [UInt8](repeating: 0, count: size / 4096)
        let status = mincore(UnsafeMutableRawPointer(memory.ram), size, &vector)
        #expect(status == 0)
        return vector.filter { $0 & 1 != 0 }.count
    }
}
