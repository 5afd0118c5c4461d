import Hardware
import Testing

@Suite struct PCTestDeviceTests {
    let platform = FakePlatform()
    /// Every call the device made for lines 16–23 (I/O APIC pins), in order.
    let pins = PinCalls()
    let device: PCTestDevice

    final class PinCalls {
        var calls: [(pin: Int, asserted: Bool)] = []
    }

    init() {
        let pins = pins
        device = PCTestDevice(platform: platform) { pins.calls.append(($0, $1)) }
    }

    // MARK: The echo latch

    /// One read of the latch (holding 44332211h) and what QEMU gives for it: each port
    /// reads its own byte, an unaligned or overlong access the bytes at the ports it covers
    /// (0 from the flush-page port at E4h, a floating 0xFF past EBh).
    struct LatchRead: CustomTestStringConvertible, Sendable {
        let port: UInt16
        let size: Int
        let value: UInt32
        var testDescription: String { "\(size)-byte read at \(String(port, radix: 16))h" }
        init(_ port: UInt16, _ size: Int, _ value: UInt32) {
            self.port = port
            self.size = size
            self.value = value
        }
    }

    static let latchReads: [LatchRead] = [
        LatchRead(0xE0, 1, 0x11), LatchRead(0xE1, 1, 0x22), LatchRead(0xE2, 1, 0x33), LatchRead(0xE3, 1, 0x44),
        LatchRead(0xE0, 2, 0x2211), LatchRead(0xE1, 2, 0x3322), LatchRead(0xE2, 2, 0x4433), LatchRead(0xE3, 2, 0x0044),
        LatchRead(0xE0, 4, 0x4433_2211), LatchRead(0xE1, 4, 0x0044_3322), LatchRead(0xE2, 4, 0x0000_4433),
        LatchRead(0xE3, 4, 0x0000_0044),
        // The byte-at-a-time region at E8h shows the same latch.
        LatchRead(0xE8, 1, 0x11), LatchRead(0xE9, 1, 0x22), LatchRead(0xEA, 1, 0x33), LatchRead(0xEB, 1, 0x44),
        LatchRead(0xE8, 2, 0x2211), LatchRead(0xE9, 2, 0x3322), LatchRead(0xEA, 2, 0x4433), LatchRead(0xEB, 2, 0xFF44),
        LatchRead(0xE8, 4, 0x4433_2211), LatchRead(0xE9, 4, 0xFF44_3322), LatchRead(0xEA, 4, 0xFFFF_4433),
        LatchRead(0xEB, 4, 0xFFFF_FF44),
        // From the flush-page port into the second latch.
        LatchRead(0xE6, 4, 0x2211_0000), LatchRead(0xE7, 2, 0x1100),
    ]

    @Test(arguments: latchReads)
    func theLatchReadsAtEverySizeAndOffset(_ read: LatchRead) {
        device.writePort(0xE0, size: 4, value: 0x4433_2211)
        #expect(device.readPort(read.port, size: read.size) == read.value)
    }

    @Test func aWriteReplacesOnlyTheBytesItCovers() {
        device.writePort(0xE0, size: 4, value: 0x4433_2211)
        device.writePort(0xE2, size: 1, value: 0xAB)
        #expect(device.latch == 0x44AB_2211)
        device.writePort(0xE1, size: 2, value: 0xCDEF)
        #expect(device.latch == 0x44CD_EF11)
        device.writePort(0xE2, size: 2, value: 0x1234)
        #expect(device.latch == 0x1234_EF11)
        device.writePort(0xE3, size: 4, value: 0x5566_7788)     // one byte in the latch, the rest ignored
        #expect(device.latch == 0x8834_EF11)
    }

    @Test func bothWindowsShareTheLatch() {
        device.writePort(0xE8, size: 4, value: 0xCAFE_F00D)
        #expect(device.readPort(0xE0, size: 4) == 0xCAFE_F00D)
        device.writePort(0xE1, size: 1, value: 0x42)
        #expect(device.readPort(0xE8, size: 4) == 0xCAFE_420D)
    }

    /// kvm-unit-tests' string I/O test: `rep outsb` to E0h, then `in al, E0h` reads the last byte.
    @Test func successiveByteWritesLeaveTheLastByte() {
        for byte in "abcdefghijklmnop".utf8 { device.writePort(0xE0, size: 1, value: UInt32(byte)) }
        #expect(device.readPort(0xE0, size: 1) == UInt32(UInt8(ascii: "p")))
    }

    // MARK: The flush-page port

    @Test func theFlushPagePortTakesADwordAndChangesNothing() {
        device.writePort(0xE0, size: 4, value: 0x4433_2211)
        device.writePort(0xE4, size: 4, value: 0x0012_3456)
        #expect(platform.events(named: "testdev-flush").map { $0["page"] } == [.number(0x12_3000)])
        #expect(device.latch == 0x4433_2211)
        #expect(platform.interruptChanges.isEmpty)
        for port: UInt16 in 0xE4...0xE7 {
            #expect(device.readPort(port, size: 1) == 0)
        }
        #expect(device.readPort(0xE4, size: 2) == 0)
        #expect(device.readPort(0xE4, size: 4) == 0)
    }

    @Test(arguments: [(UInt16(0xE4), 1), (0xE4, 2), (0xE5, 1), (0xE6, 2), (0xE5, 4)])
    func narrowOrUnalignedFlushWritesAreIgnored(port: UInt16, size: Int) {
        device.writePort(0xE0, size: 4, value: 0x4433_2211)
        device.writePort(port, size: size, value: 0x1234_5678)
        #expect(platform.events(named: "testdev-flush").isEmpty)
        // A dword at E5h ends on E8h: its top byte lands in the latch's low byte.
        #expect(device.latch == (port == 0xE5 && size == 4 ? 0x4433_2212 : 0x4433_2211))
    }

    // MARK: Interrupt lines

    @Test(arguments: 0..<16)
    func aByteWriteDrivesISALine(_ line: Int) {
        let port = 0x2000 + UInt16(line)
        device.writePort(port, size: 1, value: 1)
        #expect(platform.interruptLines[line])
        #expect(platform.interruptLines.enumerated().allSatisfy { $0.offset == line || !$0.element })
        device.writePort(port, size: 1, value: 0)
        #expect(!platform.interruptLines[line])
        #expect(platform.interruptChanges.map { $0.0 } == [line, line])
        #expect(platform.interruptChanges.map { $0.1 } == [true, false])
        #expect(pins.calls.isEmpty)
    }

    @Test func anyNonzeroValueRaisesTheLine() {
        device.writePort(0x2007, size: 1, value: 0x80)
        #expect(platform.interruptLines[7])
        device.writePort(0x2007, size: 1, value: 0x00)
        #expect(!platform.interruptLines[7])
        device.writePort(0x2007, size: 1, value: 0xFF)
        #expect(platform.interruptLines[7])
    }

    /// QEMU sets the IRQ on every write; the trace shows only changes of level.
    @Test func everyWriteReachesTheLineAndChangesAreTraced() {
        device.writePort(0x200E, size: 1, value: 1)
        device.writePort(0x200E, size: 1, value: 1)
        device.writePort(0x200E, size: 1, value: 0)
        #expect(platform.interruptChanges.count == 3)
        let traced = platform.events(named: "testdev-irq")
        #expect(traced.map { $0["line"] } == [.number(14), .number(14)])
        #expect(traced.map { $0["level"] } == [.number(1), .number(0)])
        #expect(device.lineLevels[14] == false)
    }

    @Test func aWideWriteDrivesOneLinePerByte() {
        device.writePort(0x2003, size: 2, value: 0x0100)
        #expect(!platform.interruptLines[3])
        #expect(platform.interruptLines[4])
        device.writePort(0x2008, size: 4, value: 0x0101_0001)
        #expect(platform.interruptLines[8] && !platform.interruptLines[9])
        #expect(platform.interruptLines[10] && platform.interruptLines[11])
    }

    @Test func linesSixteenToTwentyThreeAreIOAPICPins() {
        for line in 16..<24 { device.writePort(0x2000 + UInt16(line), size: 1, value: 1) }
        device.writePort(0x2013, size: 1, value: 0)
        #expect(pins.calls.map(\.pin) == Array(16..<24) + [19])
        #expect(pins.calls.map(\.asserted) == Array(repeating: true, count: 8) + [false])
        #expect(platform.interruptChanges.isEmpty, "no ISA line moved")
    }

    @Test func theLinePortsReadZero() {
        device.writePort(0x2001, size: 1, value: 1)
        #expect(device.readPort(0x2000, size: 1) == 0)
        #expect(device.readPort(0x2001, size: 1) == 0)
        #expect(device.readPort(0x2000, size: 4) == 0)
        #expect(device.readPort(0x2016, size: 2) == 0)
        #expect(device.readPort(0x2017, size: 2) == 0xFF00, "port 2018h is past the device")
    }

    @Test func theDeviceDecodesQEMUsPortsAndMemory() {
        #expect(device.portRanges == [0xE0...0xEB, 0x2000...0x2017])
        #expect(device.memoryRanges == [0xFF00_0000...0xFF00_FFFF])
    }

    // MARK: I/O memory

    @Test func theIOMemoryHoldsWhatIsWritten() {
        let base = PCTestDevice.memoryBase
        #expect(device.readMemory(base, size: 8) == 0, "zero at power-on")
        device.writeMemory(base + 0x10, size: 4, value: 0xDDCC_BBAA)
        #expect(device.readMemory(base + 0x10, size: 1) == 0xAA)
        #expect(device.readMemory(base + 0x11, size: 2) == 0xCCBB)
        #expect(device.readMemory(base + 0x0E, size: 8) == 0x0000_DDCC_BBAA_0000)
        device.writeMemory(base + 0x13, size: 8, value: 0x1122_3344_5566_7788)
        #expect(device.readMemory(base + 0x10, size: 4) == 0x88CC_BBAA)
        #expect(device.readMemory(base + 0x14, size: 8) == 0x0011_2233_4455_6677)
        device.writeMemory(base + 0xFFFF, size: 1, value: 0x5A)
        #expect(device.readMemory(base + 0xFFFF, size: 1) == 0x5A)
        #expect(device.readMemory(base + 0xFFFE, size: 4) == 0xFFFF_5A00, "past the end floats")
    }

    // MARK: Reset

    @Test func aHardResetLowersTheLinesAndKeepsTheLatchAndMemory() {
        device.writePort(0xE0, size: 4, value: 0x1234_5678)
        device.writeMemory(PCTestDevice.memoryBase, size: 4, value: 0xFEED_FACE)
        device.writePort(0x2005, size: 1, value: 1)
        device.writePort(0x2014, size: 1, value: 1)
        device.reset(.hard)
        #expect(!platform.interruptLines[5])
        #expect(pins.calls.last.map { $0.pin == 20 && !$0.asserted } == true)
        #expect(device.lineLevels.allSatisfy { !$0 })
        #expect(device.readPort(0xE0, size: 4) == 0x1234_5678)
        #expect(device.readMemory(PCTestDevice.memoryBase, size: 4) == 0xFEED_FACE)
    }

    @Test func aPowerCycleClearsTheLatchAndMemory() {
        device.writePort(0xE0, size: 4, value: 0x1234_5678)
        device.writeMemory(PCTestDevice.memoryBase + 0x100, size: 2, value: 0xBEEF)
        device.writePort(0x2003, size: 1, value: 1)
        device.reset(.full)
        #expect(device.latch == 0)
        #expect(device.readMemory(PCTestDevice.memoryBase + 0x100, size: 2) == 0)
        #expect(!platform.interruptLines[3])
    }

    @Test func INITLeavesEverything() {
        device.writePort(0xE0, size: 4, value: 0x1234_5678)
        device.writePort(0x2003, size: 1, value: 1)
        device.reset(.initSignal)
        #expect(device.latch == 0x1234_5678)
        #expect(platform.interruptLines[3])
        #expect(platform.interruptChanges.count == 1)
    }
}
