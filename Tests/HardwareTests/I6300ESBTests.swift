import Hardware
import Testing

/// The 6300ESB watchdog's registers as Linux's `i6300esb` driver uses them, its two stages on
/// virtual time, the lock, the reload, and the timeout status that outlives resets.
@Suite struct I6300ESBTests {
    static let base: UInt64 = 0xFEBF_F000
    let platform = FakePlatform()
    let wdt: I6300ESB
    var timeouts: [UInt64] { timeoutLog.times }
    let timeoutLog = TimeoutLog()

    final class TimeoutLog { var times: [UInt64] = [] }

    init() {
        wdt = I6300ESB(platform: platform)
        let log = timeoutLog, platform = platform
        wdt.onTimeout = { log.times.append(platform.now) }
    }

    // MARK: Helpers

    private var space: PCIConfigurationSpace { wdt.configurationSpace }

    /// BAR0 at `base`, memory decoding on.
    private func assign() {
        space.write(offset: 0x10, size: 4, value: UInt32(Self.base))
        space.write(offset: 0x04, size: 2, value: 0x0002)
    }

    private func unlock(size: Int = 1) {
        wdt.writeMemory(Self.base + 0x0C, size: size, value: 0x80)
        wdt.writeMemory(Self.base + 0x0C, size: size, value: 0x86)
    }

    private func reload() -> UInt16 { UInt16(wdt.readMemory(Self.base + 0x0C, size: 2)) }

    /// As Linux's driver: configuration, preloads of `ticks`, a reload, then WDT_ENABLE.
    private func arm(ticks: UInt32 = 10, configuration: UInt32 = 0x0003, lock: UInt32 = 0x02) {
        assign()
        space.write(offset: 0x60, size: 2, value: configuration)
        unlock()
        wdt.writeMemory(Self.base + 0x00, size: 4, value: UInt64(ticks))
        unlock()
        wdt.writeMemory(Self.base + 0x04, size: 4, value: UInt64(ticks))
        unlock()
        wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0100)
        space.write(offset: 0x68, size: 1, value: lock)
    }

    /// One stage of `ticks` at 1 kHz: ticks × 2^15 PCI clocks of 30 ns.
    static func kHzStage(_ ticks: UInt64) -> UInt64 { (ticks << 15) * 30 }

    // MARK: Configuration space

    @Test func identifiesAsThe6300ESBWatchdog() {
        #expect(space.read(offset: 0x00, size: 4) == 0x25AB_8086)
        #expect(space.read(offset: 0x08, size: 4) >> 8 == 0x08_80_00)
        #expect(space.read(offset: 0x0E, size: 1) == 0)
    }

    @Test func barSizingShowsSixteenBytesOfMemory() {
        space.write(offset: 0x10, size: 4, value: 0xFFFF_FFFF)
        #expect(space.read(offset: 0x10, size: 4) == 0xFFFF_FFF0)
        space.write(offset: 0x10, size: 4, value: 0x1234_5678)
        #expect(space.read(offset: 0x10, size: 4) == 0x1234_5670)
    }

    @Test func registersDecodeOnlyWithABaseAndMemorySpaceEnabled() {
        var changes = 0
        wdt.onMemoryDecodeChanged = { changes += 1 }
        #expect(wdt.memoryRanges.isEmpty)
        space.write(offset: 0x10, size: 4, value: UInt32(Self.base))
        #expect(wdt.memoryRanges.isEmpty, "memory space is still disabled")
        space.write(offset: 0x04, size: 2, value: 0x0002)
        #expect(wdt.memoryRanges == [Self.base...Self.base + 15])
        #expect(changes == 1)
        space.write(offset: 0x10, size: 4, value: 0)
        #expect(wdt.memoryRanges.isEmpty, "a BAR of 0 is unassigned")
        #expect(changes == 2)
    }

    @Test func configurationRegisterKeepsOnlyItsDefinedBits() {
        space.write(offset: 0x60, size: 2, value: 0xFFFF)
        #expect(space.read(offset: 0x60, size: 2) == 0x0027)
        space.write(offset: 0x60, size: 1, value: 0x00)
        #expect(space.read(offset: 0x60, size: 2) == 0x0000)
    }

    @Test func enableStartsStageOneAndDisableStopsIt() {
        arm()
        #expect(wdt.isEnabled)
        #expect(wdt.stage == 1)
        #expect(wdt.nextDeadline() == Self.kHzStage(10))
        space.write(offset: 0x68, size: 1, value: 0x00)
        #expect(!wdt.isEnabled)
        #expect(wdt.nextDeadline() == nil)
        platform.advance(wdt, by: Self.kHzStage(100))
        #expect(timeouts.isEmpty)
    }

    @Test func lockFreezesTheLockRegisterUntilAReset() {
        arm(lock: 0x03)
        #expect(wdt.isLocked)
        space.write(offset: 0x68, size: 1, value: 0x00)
        #expect(space.read(offset: 0x68, size: 1) == 0x03, "a locked watchdog cannot be disabled")
        #expect(wdt.nextDeadline() != nil)
        wdt.reset(.hard)
        #expect(space.read(offset: 0x68, size: 1) == 0x00)
        space.write(offset: 0x68, size: 1, value: 0x04)
        #expect(space.read(offset: 0x68, size: 1) == 0x04, "writable again after the reset")
    }

    // MARK: Memory-mapped registers

    @Test func preloadsNeedTheUnlockSequenceAndHoldTwentyBits() {
        assign()
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FFFF, "power-on preload")
        wdt.writeMemory(Self.base, size: 4, value: 5)
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FFFF, "locked: the write is ignored")
        unlock()
        wdt.writeMemory(Self.base, size: 4, value: 0xFFFF_FF05)
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FF05)
        wdt.writeMemory(Self.base, size: 4, value: 7)
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FF05, "one write per unlock")
        unlock(size: 2)
        wdt.writeMemory(Self.base + 4, size: 4, value: 0x123)
        #expect(wdt.readMemory(Self.base + 4, size: 4) == 0x123, "word-sized unlock writes work as well")
    }

    @Test func anotherWriteInTheMiddleAbortsTheUnlockSequence() {
        assign()
        wdt.writeMemory(Self.base + 0x0C, size: 1, value: 0x80)
        wdt.writeMemory(Self.base + 0x0C, size: 1, value: 0x55)
        wdt.writeMemory(Self.base + 0x0C, size: 1, value: 0x86)
        wdt.writeMemory(Self.base, size: 4, value: 9)
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FFFF)
    }

    @Test func reloadRestartsStageOne() {
        arm()
        platform.advance(wdt, by: Self.kHzStage(6))
        unlock()
        wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0100)
        #expect(wdt.nextDeadline() == Self.kHzStage(16))
        // Fed every 6 ticks, it never reaches stage 2.
        for _ in 0..<20 {
            platform.advance(wdt, by: Self.kHzStage(6))
            unlock()
            wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0100)
        }
        #expect(timeouts.isEmpty)
        #expect(platform.events(named: "watchdog").isEmpty)
    }

    @Test func aReloadWithoutUnlockIsIgnored() {
        arm()
        platform.advance(wdt, by: Self.kHzStage(6))
        wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0100)
        #expect(wdt.nextDeadline() == Self.kHzStage(10))
    }

    // MARK: Stages

    @Test func stageOneInterruptsAndStageTwoTimesOut() {
        arm(configuration: 0x0000)           // stage 1: IRQ; output enabled; 1 kHz
        platform.advance(wdt, by: Self.kHzStage(10) - 1)
        #expect(platform.events(named: "watchdog").isEmpty)
        platform.advance(wdt, by: 1)
        #expect(platform.events(named: "watchdog") == [TraceEvent("watchdog", [("stage", 1), ("action", "irq")])])
        #expect(wdt.stage == 2)
        #expect(wdt.readMemory(Self.base + 8, size: 4) == 1, "GINTSR: the stage-1 interrupt is active")
        #expect(platform.interruptLines[wdt.stage1InterruptLine])
        wdt.writeMemory(Self.base + 8, size: 4, value: 1)
        #expect(wdt.readMemory(Self.base + 8, size: 4) == 0)
        #expect(!platform.interruptLines[wdt.stage1InterruptLine])
        #expect(wdt.nextDeadline() == 2 * Self.kHzStage(10))
        platform.advance(wdt, by: Self.kHzStage(10))
        #expect(timeouts == [2 * Self.kHzStage(10)])
        #expect(wdt.timedOut)
        #expect(reload() & 0x0200 != 0)
        // The watchdog is back in its reset state: disarmed, registers at power-on values.
        #expect(!wdt.isEnabled)
        #expect(wdt.nextDeadline() == nil)
        #expect(space.read(offset: 0x60, size: 2) == 0)
        #expect(wdt.memoryRanges == [Self.base...Self.base + 15], "BAR0 stays")
    }

    @Test(arguments: [(UInt32(0x0002), "smi"), (0x0003, "none"), (0x0001, "reserved")])
    func stageOneActionFollowsTheInterruptType(configuration: UInt32, action: String) {
        arm(configuration: configuration)
        platform.advance(wdt, by: Self.kHzStage(10))
        #expect(platform.events(named: "watchdog") == [TraceEvent("watchdog", [("stage", 1), ("action", .text(action))])])
        #expect(wdt.readMemory(Self.base + 8, size: 4) == 0)
        #expect(!platform.interruptLines[wdt.stage1InterruptLine])
    }

    @Test func theOneMegahertzPrescalerCountsIn960Nanoseconds() {
        arm(ticks: 1000, configuration: 0x0007)
        #expect(wdt.nextDeadline() == 1000 * 32 * 30)
        platform.advance(wdt, by: 2 * 1000 * 32 * 30)
        #expect(timeouts == [2 * 1000 * 32 * 30])
    }

    @Test func aPreloadOfZeroCountsAsOne() {
        arm(ticks: 0)
        #expect(wdt.nextDeadline() == Self.kHzStage(1))
    }

    @Test func withTheOutputDisabledStageTwoDoesNothing() {
        arm(configuration: 0x0023)           // WDT_OUTPUT disabled
        platform.advance(wdt, by: Self.kHzStage(1000))
        #expect(timeouts.isEmpty)
        #expect(!wdt.timedOut)
        #expect(wdt.nextDeadline() == nil, "the timer stopped after stage 2")
    }

    @Test func freeRunningRepeatsStageOneWithoutReset() {
        arm(configuration: 0x0020, lock: 0x06)   // IRQ, output disabled; enabled, free-running
        platform.advance(wdt, by: Self.kHzStage(10))
        #expect(platform.interruptLines[wdt.stage1InterruptLine])
        // Until the guest clears GINTSR, later rounds change nothing: no deadline to visit.
        #expect(wdt.nextDeadline() == nil)
        platform.advance(wdt, by: Self.kHzStage(10_000_000))    // about three hours at once
        wdt.writeMemory(Self.base + 8, size: 4, value: 1)
        #expect(!platform.interruptLines[wdt.stage1InterruptLine])
        #expect(wdt.nextDeadline() != nil)
        // At most the rest of this round and the next stage 1 later, the interrupt is back.
        platform.advance(wdt, by: 2 * Self.kHzStage(10))
        #expect(platform.interruptLines[wdt.stage1InterruptLine], "the next round's stage 1 interrupts again")
        #expect(timeouts.isEmpty)
        #expect(platform.events(named: "watchdog").count == 1, "one report per start")
    }

    // MARK: The timeout status

    @Test(arguments: [ResetKind.hard, .full, .initSignal])
    func theTimeoutStatusSurvivesResets(kind: ResetKind) {
        arm()
        platform.advance(wdt, by: 2 * Self.kHzStage(10))
        #expect(timeouts.count == 1)
        wdt.reset(kind)
        if kind != .initSignal {
            #expect(wdt.memoryRanges.isEmpty, "a platform reset unassigns BAR0")
        }
        assign()
        #expect(reload() == 0x0200)
        // Writing bit 9 (after the unlock) clears it, as Linux's driver does at probe.
        unlock()
        wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0300)
        #expect(reload() == 0)
    }

    @Test func theTimeoutStatusNeedsTheUnlockToClear() {
        arm()
        platform.advance(wdt, by: 2 * Self.kHzStage(10))
        wdt.writeMemory(Self.base + 0x0C, size: 2, value: 0x0200)
        #expect(reload() == 0x0200)
        #expect(wdt.readMemory(Self.base + 0x0D, size: 1) == 0x02, "byte lanes of the reload register")
    }

    @Test func aResetStopsTheTimerAndRestoresPowerOnValues() {
        arm(configuration: 0x0000)
        platform.advance(wdt, by: Self.kHzStage(10))
        #expect(platform.interruptLines[wdt.stage1InterruptLine])
        wdt.reset(.hard)
        #expect(!platform.interruptLines[wdt.stage1InterruptLine])
        #expect(wdt.nextDeadline() == nil)
        #expect(space.read(offset: 0x10, size: 4) == 0)
        #expect(space.read(offset: 0x68, size: 1) == 0)
        assign()
        #expect(wdt.readMemory(Self.base, size: 4) == 0xF_FFFF)
    }

    @Test func initLeavesTheWatchdogRunning() {
        arm()
        wdt.reset(.initSignal)
        #expect(wdt.nextDeadline() == Self.kHzStage(10))
    }

    // MARK: Bad input

    @Test func garbageWritesNeverTrap() {
        assign()
        var seed: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            seed ^= seed << 13; seed ^= seed >> 7; seed ^= seed << 17
            return seed
        }
        for _ in 0..<20_000 {
            let size = [1, 2, 4, 8][Int(next() % 4)]
            let offset = next() % 20
            if next() % 3 == 0 {
                space.write(offset: Int(next() % 256), size: [1, 2, 4][Int(next() % 3)], value: UInt32(truncatingIfNeeded: next()))
                assign()
            } else if next() % 2 == 0 {
                wdt.writeMemory(Self.base + offset, size: size, value: next())
            } else {
                _ = wdt.readMemory(Self.base + offset, size: size)
            }
            platform.advance(wdt, by: next() % 5_000_000)
        }
        // Whatever state it was left in, its deadlines are in the future once it caught up.
        wdt.advance(to: platform.now)
        if let deadline = wdt.nextDeadline() { #expect(deadline > platform.now) }
    }
}
