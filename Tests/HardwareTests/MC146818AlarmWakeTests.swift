import Hardware
import Testing

/// The RTC alarm as a wake source: `onAlarm` when the alarm interrupt rises, the time of the
/// next alarm for a sleeping board, and an alarm that S3 leaves armed.
extension MC146818Tests {
    final class Counter { var count = 0 }

    /// A clock at 00:00:00 with the alarm at `seconds`:`minutes`:`hours` and AIE on.
    private func armedClock(seconds: UInt8, minutes: UInt8 = 0xFF, hours: UInt8 = 0xFF) -> (MC146818, Counter) {
        let rtc = makeClock()
        let alarms = Counter()
        rtc.onAlarm = { alarms.count += 1 }
        write(rtc, 0x01, seconds)
        write(rtc, 0x03, minutes)
        write(rtc, 0x05, hours)
        write(rtc, 0x0B, 0x22)
        return (rtc, alarms)
    }

    @Test func theNextAlarmTimeIsTheMatchingUpdate() {
        let (rtc, _) = armedClock(seconds: 0x07)
        #expect(rtc.nextAlarmTime() == 7 * Self.second)
        let (daily, _) = armedClock(seconds: 0x00, minutes: 0x30, hours: 0x02)
        #expect(daily.nextAlarmTime() == (2 * 3600 + 30 * 60) * Self.second, "02:30:00")
    }

    @Test func onAlarmFiresOnceWhenTheAlarmInterruptRises() {
        let (rtc, alarms) = armedClock(seconds: 0xC0)   // every second
        platform.advance(rtc, by: Self.second)
        #expect(alarms.count == 1)
        #expect(rtc.nextAlarmTime() == nil, "asserted until register C is read")
        platform.advance(rtc, by: 3 * Self.second)
        #expect(alarms.count == 1, "no new edge while AF·AIE stays set")
        #expect(read(rtc, 0x0C) & 0x20 != 0)
        #expect(rtc.nextAlarmTime() == 5 * Self.second)
        platform.advance(rtc, by: Self.second)
        #expect(alarms.count == 2)
    }

    @Test func noAlarmTimeWithoutAIEOrWithAnAlarmThatNeverMatches() {
        let (rtc, alarms) = armedClock(seconds: 0x05)
        write(rtc, 0x0B, 0x02)
        #expect(rtc.nextAlarmTime() == nil)
        platform.advance(rtc, by: 6 * Self.second)
        #expect(alarms.count == 0, "AF without AIE raises no alarm interrupt")
        #expect(read(rtc, 0x0C) & 0x20 != 0, "but AF is set")
        let (garbage, _) = armedClock(seconds: 0x7A)   // not a BCD second: never matches
        #expect(garbage.nextAlarmTime() == nil)
    }

    @Test func s3LeavesTheAlarmArmedAndAPlatformResetDisarmsIt() {
        let (rtc, alarms) = armedClock(seconds: 0x03)
        rtc.reset(.sleep)
        #expect(read(rtc, 0x0B) == 0x22, "AIE survives S3")
        #expect(rtc.nextAlarmTime() == 3 * Self.second)
        platform.advance(rtc, by: 3 * Self.second)
        #expect(alarms.count == 1)
        rtc.reset(.hard)
        #expect(rtc.nextAlarmTime() == nil)
    }
}
