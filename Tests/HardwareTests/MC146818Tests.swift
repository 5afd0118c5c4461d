import Hardware
import Testing

/// MC146818A behaviour as seen through ports 0x70 and 0x71.
@Suite struct MC146818Tests {
    let platform = FakePlatform()

    static let second: UInt64 = 1_000_000_000
    static let millisecond: UInt64 = 1_000_000
    static let microsecond: UInt64 = 1_000

    // Register indices.
    static let seconds = 0x00, alarmSeconds = 0x01, minutes = 0x02, alarmMinutes = 0x03
    static let hours = 0x04, alarmHours = 0x05, weekday = 0x06, day = 0x07, month = 0x08, year = 0x09
    static let registerA = 0x0A, registerB = 0x0B, registerC = 0x0C, registerD = 0x0D, century = 0x32

    func makeClock(_ base: RTCTime = RTCTime()) -> MC146818 {
        MC146818(platform: platform, baseTime: base)
    }

    func write(_ rtc: MC146818, _ index: Int, _ value: UInt8) {
        rtc.writePort(0x70, size: 1, value: UInt32(index))
        rtc.writePort(0x71, size: 1, value: UInt32(value))
    }

    func read(_ rtc: MC146818, _ index: Int) -> UInt8 {
        rtc.writePort(0x70, size: 1, value: UInt32(index))
        return UInt8(truncatingIfNeeded: rtc.readPort(0x71, size: 1))
    }

    /// Seconds, minutes, hours, weekday, day, month, year, century as the guest reads them.
    private func clock(_ rtc: MC146818) -> [UInt8] {
        [Self.seconds, Self.minutes, Self.hours, Self.weekday, Self.day, Self.month, Self.year, Self.century]
            .map { read(rtc, $0) }
    }

    /// Moves virtual time to `time`, letting the clock raise what became due.
    private func run(_ rtc: MC146818, to time: UInt64) {
        platform.advance(rtc, by: time - platform.now)
    }

    private var irq8: Bool { platform.interruptLines[8] }

    @Test func timeIsTheBasePlusVirtualTimeInBCD() {
        let rtc = makeClock(RTCTime(year: 2024, month: 2, day: 28, hour: 23, minute: 59, second: 58))
        // sec, min, hour, weekday (Wednesday = 4), day, month, year, century
        #expect(clock(rtc) == [0x58, 0x59, 0x23, 0x04, 0x28, 0x02, 0x24, 0x20])
        run(rtc, to: 2 * Self.second - 1)
        #expect(read(rtc, Self.seconds) == 0x59)
        run(rtc, to: 2 * Self.second)
        #expect(clock(rtc) == [0x00, 0x00, 0x00, 0x05, 0x29, 0x02, 0x24, 0x20], "leap day, Thursday")
        run(rtc, to: 2 * Self.second + 86_400 * Self.second)
        #expect(clock(rtc) == [0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x24, 0x20])
    }

    @Test func binaryModeAndTheCenturyRollover() {
        let rtc = makeClock(RTCTime(year: 2099, month: 12, day: 31, hour: 23, minute: 59, second: 59))
        write(rtc, Self.registerB, 0x06)
        #expect(clock(rtc) == [59, 59, 23, 5, 31, 12, 99, 20], "Thursday")
        run(rtc, to: Self.second)
        #expect(clock(rtc) == [0, 0, 0, 6, 1, 1, 0, 21], "2100-01-01, a Friday")
        run(rtc, to: Self.second + 59 * 86_400 * Self.second)
        #expect(read(rtc, Self.month) == 3 && read(rtc, Self.day) == 1, "2100 is not a leap year")
    }

    @Test func twelveHourModeSetsBit7ForPM() {
        let rtc = makeClock(RTCTime(hour: 11, minute: 59, second: 59))
        write(rtc, Self.registerB, 0x00)  // BCD, 12-hour
        #expect(read(rtc, Self.hours) == 0x11)
        run(rtc, to: Self.second)
        #expect(read(rtc, Self.hours) == 0x92, "12 PM")
        run(rtc, to: Self.second + 3600 * Self.second)
        #expect(read(rtc, Self.hours) == 0x81, "1 PM")
        write(rtc, Self.registerB, 0x04)  // binary, 12-hour
        #expect(read(rtc, Self.hours) == 0x81)
        run(rtc, to: Self.second + 11 * 3600 * Self.second)
        #expect(read(rtc, Self.hours) == 0x8B, "11 PM")
        run(rtc, to: Self.second + 12 * 3600 * Self.second)
        #expect(read(rtc, Self.hours) == 0x0C, "12 AM, the midnight hour")
        run(rtc, to: Self.second + 13 * 3600 * Self.second)
        #expect(read(rtc, Self.hours) == 0x01, "1 AM")
        write(rtc, Self.registerB, 0x06)
        #expect(read(rtc, Self.hours) == 1, "24-hour")
    }

    @Test func updateInProgressIsSetFor244MicrosecondsBeforeEachUpdate() {
        let rtc = makeClock()
        #expect(read(rtc, Self.registerA) == 0x26)
        run(rtc, to: Self.second - 300 * Self.microsecond)
        #expect(read(rtc, Self.registerA) == 0x26)
        run(rtc, to: Self.second - 200 * Self.microsecond)
        #expect(read(rtc, Self.registerA) == 0xA6)
        #expect(read(rtc, Self.seconds) == 0x00)
        run(rtc, to: Self.second)
        #expect(read(rtc, Self.registerA) == 0x26)
        #expect(read(rtc, Self.seconds) == 0x01)
        run(rtc, to: 2 * Self.second - 100 * Self.microsecond)
        #expect(read(rtc, Self.registerA) == 0xA6)
        write(rtc, Self.registerB, 0x82)
        #expect(read(rtc, Self.registerA) == 0x26, "setting SET clears UIP")
        write(rtc, Self.registerA, 0xA6)
        #expect(read(rtc, Self.registerA) == 0x26, "UIP is read-only")
    }

    @Test func setFreezesTheClockAndWrittenTimeBecomesTheNewBase() {
        let rtc = makeClock()
        run(rtc, to: 2 * Self.second + 500 * Self.millisecond)
        write(rtc, Self.registerB, 0x82)
        run(rtc, to: 12 * Self.second + 500 * Self.millisecond)
        #expect(read(rtc, Self.seconds) == 0x02, "no updates while SET")
        for (index, value) in [(Self.seconds, 0x30), (Self.minutes, 0x45), (Self.hours, 0x13), (Self.day, 0x15),
                               (Self.month, 0x06), (Self.year, 0x31), (Self.century, 0x20)] as [(Int, UInt8)] {
            write(rtc, index, value)
        }
        #expect(read(rtc, Self.seconds) == 0x30)
        write(rtc, Self.registerB, 0x02)
        #expect(clock(rtc) == [0x30, 0x45, 0x13, 0x07, 0x15, 0x06, 0x31, 0x20],
                "the weekday counter kept its Saturday")
        run(rtc, to: 13 * Self.second - 1)
        #expect(read(rtc, Self.seconds) == 0x30)
        run(rtc, to: 13 * Self.second)
        #expect(read(rtc, Self.seconds) == 0x31, "updates keep their phase")
    }

    @Test func settingSETClearsUIE() {
        let rtc = makeClock()
        write(rtc, Self.registerB, 0x12)
        write(rtc, Self.registerB, 0x92)
        #expect(read(rtc, Self.registerB) == 0x82)
        write(rtc, Self.registerB, 0x92)
        #expect(read(rtc, Self.registerB) == 0x92, "only SET's rising edge clears UIE")
    }

    @Test func writingACountingClockRegisterKeepsTheOthersRunning() {
        let rtc = makeClock(RTCTime(hour: 10, minute: 20, second: 30))
        run(rtc, to: 500 * Self.millisecond)
        write(rtc, Self.minutes, 0x05)
        write(rtc, Self.weekday, 0x02)
        #expect(clock(rtc) == [0x30, 0x05, 0x10, 0x02, 0x01, 0x01, 0x00, 0x20])
        run(rtc, to: Self.second)
        #expect(read(rtc, Self.seconds) == 0x31)
        run(rtc, to: Self.second + 86_400 * Self.second)
        #expect(read(rtc, Self.weekday) == 0x03, "the weekday counts from the written value")
    }

    @Test func dividerResetHoldsTheClockAndTheFirstUpdateComesHalfASecondAfterRelease() {
        let rtc = makeClock()
        run(rtc, to: 300 * Self.millisecond)
        write(rtc, Self.registerA, 0x76)
        run(rtc, to: 5 * Self.second)
        #expect(read(rtc, Self.seconds) == 0x00)
        write(rtc, Self.registerA, 0x26)
        run(rtc, to: 5 * Self.second + 500 * Self.millisecond - 1)
        #expect(read(rtc, Self.seconds) == 0x00)
        run(rtc, to: 5 * Self.second + 500 * Self.millisecond)
        #expect(read(rtc, Self.seconds) == 0x01)
    }

    @Test func periodicInterruptAt1024HzGives1024EdgesPerSecond() {
        let rtc = makeClock()
        write(rtc, Self.registerA, 0x26)
        write(rtc, Self.registerB, 0x42)
        var handled = 0
        var previous: UInt64 = 0
        while let deadline = rtc.nextDeadline(), deadline <= Self.second {
            #expect(deadline > previous)
            previous = deadline
            run(rtc, to: deadline)
            #expect(irq8)
            #expect(read(rtc, Self.registerC) == 0xC0, "IRQF and PF")
            #expect(!irq8)
            handled += 1
        }
        #expect(handled == 1024)
        #expect(platform.interruptChanges.filter { $0.0 == 8 && $0.1 }.count == 1024)
    }

    @Test func rateSelectChoosesThePeriod() {
        let rtc = makeClock()
        write(rtc, Self.registerA, 0x2F)  // 2 Hz
        write(rtc, Self.registerB, 0x42)
        let first = rtc.nextDeadline()
        #expect(first == 250 * Self.millisecond)
        run(rtc, to: first ?? 0)
        _ = read(rtc, Self.registerC)
        #expect(rtc.nextDeadline() == 750 * Self.millisecond)
        write(rtc, Self.registerA, 0x23)  // 8192 Hz: 4 cycles of 32.768 kHz
        #expect(rtc.nextDeadline() == 250 * Self.millisecond + 61_036)
        write(rtc, Self.registerA, 0x20)
        #expect(rtc.nextDeadline() == nil, "rate 0: no periodic interrupt")
    }

    @Test func flagsAreSetWhetherOrNotTheirInterruptIsEnabled() {
        let rtc = makeClock()
        write(rtc, Self.registerA, 0x2F)
        run(rtc, to: Self.second)
        #expect(!irq8)
        #expect(read(rtc, Self.registerC) == 0x50, "PF and UF, no IRQF")
        write(rtc, Self.registerB, 0x12)
        #expect(!irq8, "the read cleared UF")
        run(rtc, to: 2 * Self.second)
        #expect(irq8)
        write(rtc, Self.registerB, 0x02)
        #expect(!irq8, "IRQF follows the enables")
        write(rtc, Self.registerB, 0x12)
        #expect(irq8, "a flag already set interrupts when enabled")
    }

    /// While IRQ 8 is high nothing the clock does can change it, so there is no deadline (an
    /// idle machine need not visit 8192 periodic edges a second); reading register C lowers
    /// the line and the next edge is a deadline again. The flags still come up to date.
    @Test func noDeadlineWhileIRQ8IsHigh() throws {
        let rtc = makeClock()
        write(rtc, Self.registerA, 0x23)  // 8192 Hz
        write(rtc, Self.registerB, 0x42)
        let first = try #require(rtc.nextDeadline())
        run(rtc, to: first)
        #expect(irq8)
        #expect(rtc.nextDeadline() == nil)
        run(rtc, to: Self.second)
        #expect(irq8)
        #expect(read(rtc, Self.registerC) == 0xD0, "IRQF, PF and the update's UF")
        #expect(!irq8)
        let next = try #require(rtc.nextDeadline())
        #expect(next > Self.second && next <= Self.second + 122_071)
    }

    @Test func readingRegisterCClearsTheFlagsAndLowersIRQ8() {
        let rtc = makeClock()
        write(rtc, Self.registerA, 0x20)
        write(rtc, Self.registerB, 0x12)
        #expect(rtc.nextDeadline() == Self.second)
        run(rtc, to: Self.second)
        #expect(irq8)
        #expect(rtc.cmosByte(Self.registerC) == 0x90, "the machine's view does not clear")
        #expect(irq8)
        #expect(read(rtc, Self.registerC) == 0x90, "IRQF and UF")
        #expect(!irq8)
        #expect(read(rtc, Self.registerC) == 0x00)
    }

    @Test func alarmInterruptWhenTheTimeMatches() {
        let rtc = makeClock()
        write(rtc, Self.alarmSeconds, 0x05)
        write(rtc, Self.alarmMinutes, 0x00)
        write(rtc, Self.alarmHours, 0x00)
        write(rtc, Self.registerA, 0x20)  // no periodic flag in the way
        write(rtc, Self.registerB, 0x22)
        run(rtc, to: 4 * Self.second)
        #expect(!irq8)
        #expect(rtc.nextDeadline() == 5 * Self.second)
        run(rtc, to: 5 * Self.second)
        #expect(irq8)
        #expect(read(rtc, Self.registerC) == 0xB0, "IRQF, AF and UF")
        #expect(!irq8)
        run(rtc, to: 6 * Self.second)
        #expect(!irq8)
    }

    @Test func alarmDontCareValuesMatchEveryValue() {
        let rtc = makeClock()
        write(rtc, Self.alarmSeconds, 0x30)
        write(rtc, Self.alarmMinutes, 0xC0)
        write(rtc, Self.alarmHours, 0xFF)
        run(rtc, to: 29 * Self.second)
        #expect(read(rtc, Self.registerC) & 0x20 == 0)
        run(rtc, to: 30 * Self.second)
        #expect(read(rtc, Self.registerC) & 0x20 != 0)
        run(rtc, to: 89 * Self.second)
        #expect(read(rtc, Self.registerC) & 0x20 == 0)
        run(rtc, to: 200 * Self.second)
        #expect(read(rtc, Self.registerC) & 0x20 != 0, "00:01:30 and 00:02:30 matched while nobody looked")
    }

    @Test func alarmComparesIn12HourFormat() {
        let rtc = makeClock(RTCTime(hour: 13, minute: 0, second: 0))
        write(rtc, Self.registerB, 0x20)  // AIE, BCD, 12-hour
        write(rtc, Self.alarmSeconds, 0x01)
        write(rtc, Self.alarmMinutes, 0x00)
        write(rtc, Self.alarmHours, 0x81)  // 1 PM
        run(rtc, to: Self.second)
        #expect(irq8)
    }

    @Test func nmiMaskIsBit7OfTheIndexPort() {
        let rtc = makeClock()
        write(rtc, 0x0F, 0x5A)
        #expect(!rtc.nmiMasked)
        rtc.writePort(0x70, size: 1, value: 0x8F)
        #expect(rtc.nmiMasked)
        #expect(rtc.readPort(0x71, size: 1) == 0x5A, "bit 7 is not part of the index")
        rtc.writePort(0x70, size: 1, value: 0x0F)
        #expect(!rtc.nmiMasked)
        #expect(rtc.readPort(0x70, size: 1) == 0xFF, "the index port is write-only")
    }

    @Test func cmosRAMAndTheClockSurviveEveryResetKind() {
        let rtc = makeClock(RTCTime(year: 2024, month: 5, day: 6))
        write(rtc, 0x0F, 0x0A)  // shutdown status: warm boot via 0040:0067
        for index in 0x10..<0x80 where index != Self.century { write(rtc, index, UInt8(index ^ 0xA5)) }
        write(rtc, Self.alarmHours, 0x07)
        run(rtc, to: 3 * Self.second)
        for kind in ResetKind.allCases { rtc.reset(kind) }
        #expect(read(rtc, 0x0F) == 0x0A)
        #expect((0x10..<0x80).filter { $0 != Self.century }.allSatisfy { read(rtc, $0) == UInt8($0 ^ 0xA5) })
        #expect(read(rtc, Self.alarmHours) == 0x07)
        #expect(clock(rtc) == [0x03, 0x00, 0x00, 0x02, 0x06, 0x05, 0x24, 0x20], "the clock kept running")
        #expect(read(rtc, Self.registerA) == 0x26)
    }

    @Test func platformResetClearsInterruptEnablesAndFlags() {
        let rtc = makeClock()
        write(rtc, Self.registerB, 0x7E)
        run(rtc, to: Self.second)
        #expect(irq8)
        rtc.writePort(0x70, size: 1, value: 0x80)
        rtc.reset(.initSignal)
        #expect(irq8 && rtc.nmiMasked, "INIT does not reach the clock")
        rtc.reset(.hard)
        #expect(!irq8)
        #expect(!rtc.nmiMasked)
        #expect(read(rtc, Self.registerB) == 0x06, "PIE, AIE, UIE, SQWE cleared; DM and 24/12 kept")
        #expect(read(rtc, Self.registerC) == 0x00)
    }

    @Test func registerDReportsValidRAMAndTimeAndCAndDAreReadOnly() {
        let rtc = makeClock()
        #expect(read(rtc, Self.registerD) == 0x80)
        write(rtc, Self.registerD, 0x00)
        write(rtc, Self.registerC, 0xF0)
        #expect(read(rtc, Self.registerD) == 0x80)
        #expect(read(rtc, Self.registerC) == 0x00)
    }

    @Test func machineAccessAndChecksum() {
        let rtc = makeClock()
        rtc.setCMOSByte(0x10, 0x40)
        rtc.setCMOSByte(0x15, 0x80)
        rtc.setCMOSByte(0x16, 0x02)
        rtc.setCMOSByte(0x2D, 0xFF)
        rtc.setCMOSByte(0x2E, 0x55)
        rtc.updateChecksum()
        #expect(read(rtc, 0x2E) == 0x01 && read(rtc, 0x2F) == 0xC1, "0x40 + 0x80 + 0x02 + 0xFF = 0x1C1")
        #expect(rtc.cmosByte(0x15) == 0x80)
        #expect(rtc.cmosByte(Self.registerD) == 0x80)
        #expect(rtc.cmosByte(Self.hours) == 0x00)
    }
}
