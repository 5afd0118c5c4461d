import Hardware
import Testing

@Suite struct I8254Tests {
    let platform = FakePlatform()
    let pit: I8254

    init() {
        pit = I8254(platform: platform)
    }

    /// When CLK edge `edge` falls: ⌈edge · 10⁹ / 1 193 182⌉ ns (edge 0 is at power-on).
    private func timeOfEdge(_ edge: UInt64) -> UInt64 { (edge * 1_000_000_000 + 1_193_181) / 1_193_182 }

    private func out(_ port: UInt16, _ value: UInt8) { pit.writePort(port, size: 1, value: UInt32(value)) }
    private func inb(_ port: UInt16) -> UInt8 { UInt8(pit.readPort(port, size: 1)) }

    /// Writes a two-byte count, least significant byte first.
    private func writeCount(_ count: UInt16, channel: UInt16 = 0) {
        out(0x40 + channel, UInt8(count & 0xFF))
        out(0x40 + channel, UInt8(count >> 8))
    }

    /// Latches and reads a counter programmed for LSB-then-MSB access.
    private func latchedCount(channel: UInt16 = 0) -> UInt16 {
        out(0x43, UInt8(channel) << 6)
        let low = inb(0x40 + channel)
        return UInt16(inb(0x40 + channel)) << 8 | UInt16(low)
    }

    private func readBackStatus(channel: UInt16) -> UInt8 {
        out(0x43, 0xE0 | 2 << UInt8(channel))
        return inb(0x40 + channel)
    }

    /// Jumps from deadline to deadline, as the machine does while every CPU is halted,
    /// and returns each change of IRQ 0 with its time.
    private func runDeadlines(until end: UInt64) -> [(time: UInt64, high: Bool)] {
        var changes: [(time: UInt64, high: Bool)] = []
        while let deadline = pit.nextDeadline(), deadline <= end {
            let seen = platform.interruptChanges.count
            platform.now = deadline
            pit.advance(to: deadline)
            for (irq, high) in platform.interruptChanges[seen...] where irq == 0 {
                changes.append((deadline, high))
            }
        }
        return changes
    }

    // MARK: Mode 0

    @Test func mode0CountsDownFromTheClockAndLatchesAStableValue() {
        out(0x43, 0x30)  // counter 0, LSB then MSB, mode 0, binary
        writeCount(10_000)
        // Loaded on the first CLK edge (839 ns), one count per edge after it.
        platform.now = 1_000_000  // 1193 edges
        #expect(latchedCount() == 10_000 - 1192)
        out(0x43, 0x00)
        platform.now = 2_000_000
        out(0x43, 0x00)  // ignored: the first latched count is unread
        #expect(inb(0x40) == UInt8((10_000 - 1192) & 0xFF))
        #expect(inb(0x40) == UInt8((10_000 - 1192) >> 8))
        #expect(latchedCount() == 10_000 - 2385)
    }

    @Test func mode0RaisesIRQ0AtTerminalCountAfterNPlusOneClocks() {
        out(0x43, 0x30)
        writeCount(10_000)
        #expect(platform.interruptLines[0] == false)
        #expect(pit.nextDeadline() == 8_381_790)  // edge 10 001
        platform.now = 8_381_789
        pit.advance(to: platform.now)
        #expect(platform.interruptChanges.isEmpty)
        platform.now = 8_381_790
        pit.advance(to: platform.now)
        #expect(platform.interruptChanges.map(\.1) == [true])
        #expect(pit.nextDeadline() == nil)  // OUT stays high until reprogrammed
        // The element wraps past zero and keeps counting.
        platform.now = timeOfEdge(10_003)
        #expect(latchedCount() == 0xFFFE)
    }

    @Test func mode0FirstByteOfANewCountStopsCountingAndDropsOUT() {
        out(0x43, 0x30)
        writeCount(10)
        platform.now = timeOfEdge(20)
        pit.advance(to: platform.now)
        #expect(platform.interruptLines[0])
        out(0x40, 0x64)  // LSB of 100
        #expect(!platform.interruptLines[0])
        let held = latchedCount()
        platform.now = timeOfEdge(40)
        #expect(latchedCount() == held)
        out(0x40, 0x00)  // MSB: loaded on the next edge, 41
        #expect(pit.nextDeadline() == timeOfEdge(141))
    }

    @Test func aCountOfZeroMeans65536() {
        out(0x43, 0x30)
        writeCount(0)
        platform.now = 1_000_000
        #expect(latchedCount() == UInt16(65_536 - 1192))
        #expect(pit.nextDeadline() == 54_926_240)  // edge 65 537
    }

    @Test func bcdCountsInDecimalDigits() {
        out(0x43, 0x31)  // mode 0, BCD
        writeCount(0x9999)
        platform.now = 1_000_000
        #expect(latchedCount() == 0x8807)  // 9999 − 1192
    }

    // MARK: Periodic modes

    @Test func mode2With11932RaisesIRQ0Every10Milliseconds() {
        out(0x43, 0x34)  // counter 0, LSB then MSB, mode 2
        #expect(platform.interruptChanges.map(\.1) == [true])  // OUT goes high with the control word
        writeCount(11_932)
        let changes = runDeadlines(until: 31_000_000)
        // OUT is low for one CLK period when the element reaches 1, then reloads.
        #expect(changes.map(\.high) == [false, true, false, true, false, true])
        #expect(changes.map(\.time) == [
            10_000_151, 10_000_989,  // edges 11 932 and 11 933
            timeOfEdge(23_864), 20_001_140,
            timeOfEdge(35_796), 30_001_291,
        ])
        let rises = changes.filter(\.high).map(\.time)
        #expect(rises[1] - rises[0] == 10_000_151)
        #expect(rises[2] - rises[1] == 10_000_151)
    }

    @Test func mode2ReadsCountDownToOneAndReload() {
        out(0x43, 0x34)
        writeCount(100)
        platform.now = timeOfEdge(1)
        #expect(latchedCount() == 100)
        platform.now = timeOfEdge(100)
        #expect(latchedCount() == 1)
        platform.now = timeOfEdge(101)
        #expect(latchedCount() == 100)
    }

    @Test func mode3With11932IsASquareWaveOf10Milliseconds() {
        out(0x43, 0x36)  // counter 0, LSB then MSB, mode 3
        writeCount(11_932)
        let changes = runDeadlines(until: 21_000_000)
        #expect(changes.map(\.high) == [false, true, false, true])
        #expect(changes.map(\.time) == [5_000_914, 10_000_989, 15_001_065, 20_001_140])
    }

    @Test func mode3WithAnOddCountIsHighOneClockLonger() {
        out(0x43, 0x36)
        writeCount(5)
        let changes = runDeadlines(until: timeOfEdge(12))
        // High for (5 + 1) / 2 = 3 clocks, low for 2.
        #expect(changes.map(\.time) == [timeOfEdge(4), timeOfEdge(6), timeOfEdge(9), timeOfEdge(11)])
        // Each half loads 4 and counts down by two; the high half ends on 0.
        var elements: [UInt16] = []
        for edge: UInt64 in 11...16 {
            platform.now = timeOfEdge(edge)
            elements.append(latchedCount())
        }
        #expect(elements == [4, 2, 0, 4, 2, 4])
    }

    @Test func mode3ElementCountsDownByTwo() {
        out(0x43, 0x36)
        writeCount(10)
        platform.now = timeOfEdge(1)
        #expect(latchedCount() == 10)
        platform.now = timeOfEdge(3)
        #expect(latchedCount() == 6)
        platform.now = timeOfEdge(6)  // the low half reloads
        #expect(latchedCount() == 10)
    }

    @Test func aNewCountInMode2TakesEffectAtTheEndOfThePeriod() {
        out(0x43, 0x34)
        writeCount(1000)  // reloads at edges 1001, 2001, …
        platform.now = timeOfEdge(500)
        writeCount(100)
        let changes = runDeadlines(until: timeOfEdge(1101))
        let expected = [timeOfEdge(1000), timeOfEdge(1001), timeOfEdge(1100), timeOfEdge(1101)]
        #expect(changes.map(\.time) == expected)
    }

    @Test func modes6And7AreModes2And3() {
        out(0x43, 0x3C)  // mode "6"
        writeCount(100)
        #expect(runDeadlines(until: timeOfEdge(102)).map(\.time) == [timeOfEdge(100), timeOfEdge(101)])
        #expect(readBackStatus(channel: 0) & 0x3F == 0x3C)  // the status shows the bits as written
    }

    @Test func jumpingOverAWholePulseStillShowsTheInterruptControllerARisingEdge() {
        out(0x43, 0x34)
        writeCount(100)
        let seen = platform.interruptChanges.count
        platform.now = 1_000_000  // several periods at once
        pit.advance(to: platform.now)
        #expect(platform.interruptChanges[seen...].map(\.1) == [false, true])
    }

    // MARK: Strobes and one-shots

    @Test func mode4StrobesLowForOneClockAfterNPlusOneClocks() {
        out(0x43, 0x38)  // mode 4
        writeCount(100)
        #expect(runDeadlines(until: 1_000_000).map(\.time) == [84_648, 85_486])  // edges 101, 102
        #expect(platform.interruptLines[0])
    }

    @Test func mode1IsAOneShotTriggeredByGate2() {
        out(0x43, 0xB2)  // counter 2, LSB then MSB, mode 1
        writeCount(100, channel: 2)
        platform.now = 10_000
        #expect(pit.channel2Output())
        pit.channel2Gate = true  // trigger at edge 11
        #expect(pit.channel2Output())
        platform.now = timeOfEdge(12)
        #expect(!pit.channel2Output())
        platform.now = timeOfEdge(50)
        pit.channel2Gate = false  // the level does not matter in mode 1
        platform.now = timeOfEdge(111)
        #expect(!pit.channel2Output())
        platform.now = timeOfEdge(112)
        #expect(pit.channel2Output())
    }

    @Test func mode5StrobesAfterATriggerAndRetriggers() {
        out(0x43, 0xBA)  // counter 2, mode 5
        writeCount(10, channel: 2)
        platform.now = timeOfEdge(5)
        pit.channel2Gate = true  // loads on edge 6, terminal count on edge 16
        platform.now = timeOfEdge(10)
        pit.channel2Gate = false
        pit.channel2Gate = true  // retrigger: loads on edge 11, terminal count on edge 21
        platform.now = timeOfEdge(16)
        #expect(pit.channel2Output())
        platform.now = timeOfEdge(21)
        #expect(!pit.channel2Output())
        platform.now = timeOfEdge(22)
        #expect(pit.channel2Output())
    }

    @Test func gate2LowSuspendsMode0Counting() {
        out(0x43, 0xB0)  // counter 2, mode 0
        writeCount(5000, channel: 2)
        platform.now = 1_000_000
        #expect(latchedCount(channel: 2) == 5000)  // loaded, but GATE 2 is low
        pit.channel2Gate = true  // at edge 1193
        platform.now = 2_000_000  // edge 2386
        #expect(latchedCount(channel: 2) == 5000 - 1193)
        #expect(!pit.channel2Output())
        platform.now = timeOfEdge(1193 + 5000)
        #expect(pit.channel2Output())
    }

    @Test func gate2LowForcesMode3OutputHigh() {
        pit.channel2Gate = true
        out(0x43, 0xB6)  // counter 2, mode 3
        writeCount(10, channel: 2)
        platform.now = timeOfEdge(7)
        #expect(!pit.channel2Output())
        pit.channel2Gate = false
        #expect(pit.channel2Output())
        platform.now = timeOfEdge(30)
        #expect(pit.channel2Output())
        pit.channel2Gate = true  // restarts the period on the next edge, 31
        platform.now = timeOfEdge(36)
        #expect(!pit.channel2Output())
    }

    // MARK: Access modes, latches and read-back

    @Test func lsbOnlyAndMsbOnlyAccessUseOneByte() {
        out(0x43, 0x10)  // counter 0, LSB only, mode 0
        out(0x40, 0x34)  // count 0x0034
        platform.now = timeOfEdge(11)
        out(0x43, 0x00)
        #expect(inb(0x40) == 0x34 - 10)
        #expect(inb(0x40) == 0x34 - 10)  // the latch is released; still the LSB

        out(0x43, 0x20)  // MSB only
        out(0x40, 0x02)  // count 0x0200, loaded on edge 12
        platform.now = timeOfEdge(22)
        out(0x43, 0x00)
        #expect(inb(0x40) == 0x01)  // 0x200 − 10 = 0x1F6
    }

    @Test func readsAndWritesOfTwoByteCountsKeepSeparateByteOrder() {
        out(0x43, 0x30)
        out(0x40, 0xE8)  // LSB of 1000
        out(0x43, 0x00)
        #expect(inb(0x40) == 0x00)  // latched element, still 0: the count is not complete
        out(0x40, 0x03)  // the write sequence continues with the MSB
        #expect(inb(0x40) == 0x00)
        platform.now = timeOfEdge(1)
        #expect(latchedCount() == 1000)
    }

    @Test func readBackLatchesStatusThenCount() {
        out(0x43, 0x34)
        #expect(readBackStatus(channel: 0) == 0xF4)  // OUT high, null count, 0x34
        writeCount(100)
        #expect(readBackStatus(channel: 0) == 0xF4)  // written, not yet loaded
        platform.now = timeOfEdge(1)
        #expect(readBackStatus(channel: 0) == 0xB4)
        platform.now = timeOfEdge(11)
        out(0x43, 0xC2)  // count and status of counter 0
        out(0x43, 0xE2)  // ignored: status already latched
        platform.now = timeOfEdge(50)
        #expect(inb(0x40) == 0xB4)
        #expect(inb(0x40) == 90)
        #expect(inb(0x40) == 0)
    }

    @Test func readBackSelectsSeveralCounters() {
        out(0x43, 0x30)
        out(0x43, 0xB6)
        out(0x43, 0xEA)  // status of counters 0 and 2
        #expect(inb(0x40) == 0x70)  // mode 0: OUT low
        #expect(inb(0x42) == 0xF6)
    }

    @Test func theControlRegisterCannotBeRead() {
        out(0x43, 0x34)
        #expect(inb(0x43) == 0xFF)
    }

    // MARK: Reset

    @Test func aPlatformResetStopsTheCountersAndDropsIRQ0ButInitDoesNot() {
        out(0x43, 0x34)
        writeCount(100)
        pit.reset(.initSignal)
        #expect(platform.interruptLines[0])
        #expect(pit.nextDeadline() != nil)

        pit.reset(.hard)
        #expect(!platform.interruptLines[0])
        #expect(pit.nextDeadline() == nil)
        #expect(readBackStatus(channel: 0) == 0x70)
        platform.now = 1_000_000
        pit.advance(to: platform.now)
        #expect(!platform.interruptLines[0])
    }
}
