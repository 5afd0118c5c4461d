import Hardware
import Testing

/// The ICH-style ACPI PM block: every register, the timer's rate and overflow, the SCI, the
/// APM command port and SLP_EN.
@Suite struct ACPIPowerManagementTests {
    static let base: UInt16 = 0x600
    let platform = FakePlatform()
    let pm: ACPIPowerManagement
    /// Every change of the SCI, in order.
    let sci = SCIRecorder()

    final class SCIRecorder {
        var changes: [Bool] = []
    }

    init() {
        pm = ACPIPowerManagement(platform: platform)
        let sci = sci
        pm.onSCIChanged = { sci.changes.append($0) }
        pm.setDecode(base: Self.base)
    }

    func read(_ offset: Int, _ size: Int) -> UInt32 { pm.readPort(Self.base + UInt16(offset), size: size) }
    func write(_ offset: Int, _ size: Int, _ value: UInt32) { pm.writePort(Self.base + UInt16(offset), size: size, value: value) }

    @Test func decodesAtItsBaseOnlyWhileEnabled() {
        #expect(pm.portRanges == [0xB2...0xB3, 0x600...0x67F])
        var moves = 0
        pm.onDecodeChanged = { moves += 1 }
        pm.setDecode(base: 0x1000)
        #expect(pm.portRanges == [0xB2...0xB3, 0x1000...0x107F])
        #expect(pm.readPort(0x600, size: 2) == 0xFFFF, "the old base no longer decodes")
        pm.setDecode(base: nil)
        #expect(pm.portRanges == [0xB2...0xB3])
        pm.setDecode(base: nil)
        #expect(moves == 2)
    }

    @Test func pm1EnableHoldsOnlyItsBits() {
        write(0x02, 2, 0xFFFF)
        #expect(read(0x02, 2) == 0x0521, "TMR_EN, GBL_EN, PWRBTN_EN, RTC_EN")
        write(0x03, 1, 0x00)
        #expect(read(0x02, 2) == 0x0021, "a byte write changes one byte")
        #expect(read(0x02, 1) == 0x21)
    }

    @Test func pm1StatusIsWriteOneToClear() {
        pm.pressPowerButton()
        pm.signalRTCAlarm()
        #expect(read(0x00, 2) & 0x0500 == 0x0500)
        write(0x00, 2, 0x0000)
        #expect(read(0x00, 2) & 0x0500 == 0x0500, "writing 0 clears nothing")
        write(0x00, 2, 0x0100)
        #expect(read(0x00, 2) & 0x0500 == 0x0400, "writing 1 to PWRBTN_STS clears it alone")
        write(0x01, 1, 0x04)
        #expect(read(0x00, 2) & 0x0500 == 0, "RTC_STS through the high byte")
    }

    @Test func pm1ControlKeepsSCIEnableAndSleepTypeButNotTheWriteOnlyBits() {
        write(0x04, 2, 0x0001 | 0x0004 | 5 << 10)
        #expect(read(0x04, 2) == 0x0001 | 5 << 10, "GBL_RLS reads 0")
        #expect(platform.sleepRequests.isEmpty, "SLP_EN not written")
        #expect(read(0x06, 2) == 0, "nothing above PM1_CNT's two bytes")
    }

    @Test func sleepEnableWithS5sTypeAsksForSoftOff() {
        write(0x04, 2, 7 << 10 | 1 << 13)
        #expect(platform.sleepRequests == [SleepRequest(state: .s5, sleepType: 7, port: 0x604, value: 0x3C00)])
        #expect(read(0x04, 2) & (1 << 13) == 0, "SLP_EN reads 0")
    }

    @Test func sleepEnableWithS3sTypeAsksForSuspend() {
        write(0x05, 1, 0x20 | 5 << 2)
        #expect(platform.sleepRequests.map(\.state) == [.s3])
        #expect(platform.sleepRequests.first?.port == 0x605)
    }

    @Test(arguments: [0, 1, 2, 3, 4, 6] as [UInt32])
    func sleepTypesWithNoStateAreIgnored(type: UInt32) {
        write(0x04, 2, type << 10 | 1 << 13)
        #expect(platform.sleepRequests.isEmpty)
        #expect(platform.events(named: "sleep-type-ignored").first?["slp-typ"] == .number(UInt64(type)))
    }

    @Test func otherBoardsSleepTypes() {
        let other = ACPIPowerManagement(platform: platform, sleepTypes: .init(s0: 0, s3: 1, s5: 2))
        other.setDecode(base: 0x400)
        other.writePort(0x404, size: 2, value: 2 << 10 | 1 << 13)
        other.writePort(0x404, size: 2, value: 1 << 10 | 1 << 13)
        #expect(platform.sleepRequests.map(\.state) == [.s5, .s3])
    }

    @Test func timerCountsAt3579545HzFromVirtualTime() {
        #expect(read(0x08, 4) == 0)
        platform.now = 1_000_000_000
        #expect(read(0x08, 4) == 3_579_545)
        platform.now = 1_000
        #expect(read(0x08, 4) == 3, "3.58 ticks per microsecond, rounded down")
        platform.now = 10_000_000_000
        #expect(read(0x08, 4) == 35_795_450 & 0xFF_FFFF, "24 bits: it wrapped")
        #expect(read(0x08, 4) >> 24 == 0)
        #expect(read(0x08, 1) == 35_795_450 & 0xFF, "byte reads see the same count")
        #expect(read(0x0A, 2) == (35_795_450 >> 16) & 0xFF)
        write(0x08, 4, 0x1234)
        #expect(read(0x08, 4) == 35_795_450 & 0xFF_FFFF, "read-only")
    }

    @Test func timerCountStaysExactFarIntoTheRun() {
        // 10^5 s of virtual time: no overflow in the arithmetic.
        let time: UInt64 = 100_000_000_000_000
        #expect(ACPIPowerManagement.timerCount(at: time) == UInt32((357_954_500_000 as UInt64) & 0xFF_FFFF))
    }

    @Test func timerStatusSetsWhenBit23Changes() {
        let flip = (UInt64(1 << 23) * 1_000_000_000 + 3_579_544) / 3_579_545   // first ns at tick 2^23
        platform.now = flip - 1
        #expect(read(0x00, 2) & 1 == 0)
        platform.now = flip
        #expect(read(0x00, 2) & 1 == 1)
        #expect(read(0x08, 4) == 1 << 23)
        write(0x00, 2, 1)
        #expect(read(0x00, 2) & 1 == 0)
        platform.now = 2 * flip
        #expect(read(0x00, 2) & 1 == 1, "and again when it changes back")
    }

    @Test func timerOverflowRaisesTheSCIAtItsDeadline() throws {
        #expect(pm.nextDeadline() == nil, "no deadline while nothing would interrupt")
        write(0x02, 2, 1)                              // TMR_EN
        #expect(pm.nextDeadline() == nil, "SCI_EN clear")
        pm.writePort(0xB2, size: 1, value: 0x02)       // ACPI_ENABLE
        let deadline = try #require(pm.nextDeadline())
        #expect(deadline == (UInt64(1 << 23) * 1_000_000_000 + 3_579_544) / 3_579_545)
        platform.advance(pm, by: deadline - 1)
        #expect(sci.changes.isEmpty)
        platform.advance(pm, by: 1)
        #expect(sci.changes == [true])
        #expect(pm.nextDeadline() == nil, "TMR_STS is set: nothing more to raise")
        write(0x00, 2, 1)
        #expect(sci.changes == [true, false])
        #expect(pm.nextDeadline() == (UInt64(1 << 24) * 1_000_000_000 + 3_579_544) / 3_579_545, "the next change of bit 23")
    }

    @Test func sciFollowsStatusEnableAndSCIEnable() {
        pm.pressPowerButton()
        #expect(sci.changes.isEmpty, "PWRBTN_EN clear")
        write(0x02, 2, 0x0100)
        #expect(sci.changes.isEmpty, "SCI_EN clear: on real boards an SMI, here nothing")
        write(0x04, 2, 1)
        #expect(sci.changes == [true])
        #expect(pm.sciLevel)
        write(0x00, 2, 0x0100)
        #expect(sci.changes == [true, false])
        pm.signalRTCAlarm()
        #expect(sci.changes == [true, false], "RTC_EN clear")
        write(0x02, 2, 0x0500)
        #expect(sci.changes == [true, false, true])
    }

    @Test func wakeStatusHasNoEnableAndRaisesNoSCI() {
        write(0x04, 2, 1)
        write(0x02, 2, 0xFFFF)
        write(0x00, 2, 0xFFFF)
        #expect(sci.changes.isEmpty)
    }

    @Test func generalPurposeEvents() {
        write(0x04, 2, 1)
        pm.signalGeneralPurposeEvent(9)
        #expect(read(0x20, 4) == 0x200)
        #expect(sci.changes.isEmpty)
        write(0x29, 1, 0x02)                           // GPE0_EN bit 9
        #expect(read(0x28, 2) == 0x0200)
        #expect(sci.changes == [true])
        write(0x21, 1, 0x02)                           // clear GPE0_STS bit 9
        #expect(read(0x20, 4) == 0)
        #expect(sci.changes == [true, false])
        pm.signalGeneralPurposeEvent(63)
        #expect(read(0x27, 1) == 0x80)
        pm.signalGeneralPurposeEvent(64)               // no such bit: ignored
        pm.signalGeneralPurposeEvent(-1)
        #expect(read(0x20, 4) == 0)
    }

    @Test func apmControlSwitchesACPIMode() {
        #expect(read(0x04, 2) & 1 == 0, "legacy mode after power-on")
        pm.writePort(0xB2, size: 1, value: 0x02)
        #expect(read(0x04, 2) & 1 == 1)
        #expect(pm.readPort(0xB2, size: 1) == 0x02)
        pm.writePort(0xB2, size: 1, value: 0x55)
        #expect(read(0x04, 2) & 1 == 1, "another command leaves the mode")
        pm.writePort(0xB2, size: 1, value: 0x03)
        #expect(read(0x04, 2) & 1 == 0)
        #expect(platform.events(named: "acpi-mode").map { $0["sci-en"] } == [.number(1), .number(0)])
        pm.writePort(0xB3, size: 1, value: 0xA5)
        #expect(pm.readPort(0xB3, size: 1) == 0xA5, "APM_STS is a scratch register")
        #expect(pm.readPort(0xB2, size: 2) == 0xA503)
    }

    @Test func unimplementedOffsetsReadZeroAndWideAccessesWork() {
        #expect(read(0x10, 4) == 0)
        #expect(read(0x7C, 4) == 0)
        write(0x30, 4, 0xFFFF_FFFF)
        #expect(read(0x30, 4) == 0)
        write(0x00, 4, 0x0001_0000)                    // PM1_STS ← 0, PM1_EN ← 1
        #expect(read(0x02, 2) == 1)
        #expect(pm.readPort(0x67F, size: 4) == 0xFFFF_FF00, "bytes past the block float")
    }

    @Test func aPlatformResetKeepsTheResumeWellStatusAndClearsTheRest() {
        write(0x04, 2, 1 | 5 << 10)
        write(0x02, 2, 0x0521)
        write(0x28, 4, 0xFFFF_FFFF)
        pm.signalGeneralPurposeEvent(0)
        pm.pressPowerButton()
        pm.writePort(0xB3, size: 1, value: 7)
        pm.reset(.initSignal)
        #expect(read(0x04, 2) == 1 | 5 << 10, "INIT changes nothing")
        pm.reset(.hard)
        #expect(read(0x04, 2) == 0)
        #expect(read(0x02, 2) == 0)
        #expect(read(0x20, 4) == 0 && read(0x28, 4) == 0)
        #expect(read(0x00, 2) & 0x0100 == 0x0100, "PWRBTN_STS survives")
        #expect(pm.readPort(0xB3, size: 1) == 0)
        #expect(!pm.sciLevel)
        #expect(sci.changes.last == false)
    }

    @Test func garbageWritesNeverCrash() {
        for offset in 0..<0x80 {
            for size in [1, 2, 4] {
                write(offset, size, 0xFFFF_FFFF)
                _ = read(offset, size)
            }
        }
        // SLP_EN with SLP_TYP 7 was among them: exactly the writes of the PM1_CNT high byte asked.
        #expect(platform.sleepRequests.allSatisfy { $0.state == .s5 })
    }
}
