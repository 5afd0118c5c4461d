import Hardware
import Testing

/// The PM block in S3: what the `.sleep` reset keeps (the resume well), the wake events, WAK_STS.
@Suite struct ACPIPowerManagementSleepTests {
    static let base: UInt16 = 0x600
    let platform = FakePlatform()
    let pm: ACPIPowerManagement
    let wakes = WakeRecorder()

    final class WakeRecorder { var sources: [WakeSource] = [] }

    init() {
        pm = ACPIPowerManagement(platform: platform)
        let wakes = wakes
        pm.onWake = { wakes.sources.append($0) }
        pm.setDecode(base: Self.base)
    }

    func read(_ offset: Int) -> UInt32 { pm.readPort(Self.base + UInt16(offset), size: 2) }
    func write(_ offset: Int, _ value: UInt32) { pm.writePort(Self.base + UInt16(offset), size: 2, value: value) }

    /// Enables, SCI_EN and SLP_TYP = S3 set, then the board enters S3.
    func sleep(enables: UInt32) {
        write(0x02, enables)
        write(0x04, 0x1401)            // SLP_TYP 5, SCI_EN
        pm.reset(.sleep)
    }

    @Test func s3KeepsTheResumeWellAndClearsTheCoreWell() {
        pm.pressPowerButton()
        sleep(enables: 0x0521)
        #expect(pm.isSleeping)
        #expect(read(0x02) == 0x0500, "PWRBTN_EN and RTC_EN kept, TMR_EN and GBL_EN cleared")
        #expect(read(0x04) == 0x1400, "SLP_TYP kept, SCI_EN cleared")
        #expect(read(0x00) & 0x0100 != 0, "PWRBTN_STS kept")
        pm.reset(.hard)
        #expect(!pm.isSleeping)
        #expect(read(0x02) == 0 && read(0x04) == 0, "a platform reset clears them")
    }

    @Test func thePowerButtonWakesWhateverPWRBTN_ENSays() {
        sleep(enables: 0)
        pm.pressPowerButton()
        #expect(wakes.sources == [.powerButton])
        #expect(!pm.isSleeping)
        #expect(read(0x00) & 0x8100 == 0x8100, "WAK_STS and PWRBTN_STS")
        #expect(read(0x04) & 0x1C00 == 0x1400, "SLP_TYP still reads S3 for the firmware")
        write(0x00, 0x8000)
        #expect(read(0x00) & 0x8000 == 0, "WAK_STS is write-1-to-clear")
    }

    @Test func theRTCAlarmWakesOnlyWithRTC_EN() {
        sleep(enables: 0x0100)
        pm.signalRTCAlarm()
        #expect(wakes.sources.isEmpty)
        #expect(pm.isSleeping)
        #expect(read(0x00) & 0x8400 == 0x0400, "RTC_STS set, no WAK_STS")
        write(0x00, 0x0400)
        write(0x02, 0x0400)
        pm.signalRTCAlarm()
        #expect(wakes.sources == [.rtcAlarm])
        #expect(read(0x00) & 0x8400 == 0x8400)
    }

    @Test func eventsWhileAwakeWakeNothing() {
        write(0x02, 0x0500)
        pm.pressPowerButton()
        pm.signalRTCAlarm()
        #expect(wakes.sources.isEmpty)
        #expect(read(0x00) & 0x8000 == 0)
    }

    /// Garbage to every PM1 register while the board sleeps: nothing wakes it but a wake event.
    @Test func garbageWhileAsleepDoesNotWakeTheBoard() {
        sleep(enables: 0x0400)
        for value: UInt32 in [0xFFFF, 0x0000, 0xA5A5, 0x8500] {
            for offset in [0x00, 0x02, 0x04, 0x08, 0x20, 0x28] { write(offset, value) }
        }
        #expect(pm.isSleeping)
        #expect(wakes.sources.isEmpty)
        pm.signalRTCAlarm()
        #expect(wakes.sources == [.rtcAlarm], "the last write (8500h) left RTC_EN set")
    }
}
