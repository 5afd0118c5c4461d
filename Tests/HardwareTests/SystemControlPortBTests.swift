import Hardware
import Testing

@Suite struct SystemControlPortBTests {
    let platform = FakePlatform()
    let pit: I8254
    let portB: SystemControlPortB

    init() {
        pit = I8254(platform: platform)
        portB = SystemControlPortB(timer: pit, platform: platform)
    }

    /// When CLK edge `edge` falls: ⌈edge · 10⁹ / 1 193 182⌉ ns.
    private func timeOfEdge(_ edge: UInt64) -> UInt64 { (edge * 1_000_000_000 + 1_193_181) / 1_193_182 }

    private func write(_ value: UInt8) { portB.writePort(0x61, size: 1, value: UInt32(value)) }
    private func read() -> UInt8 { UInt8(portB.readPort(0x61, size: 1)) }

    /// Programs counter 2 through port 0x43 and 0x42, LSB then MSB.
    private func programCounter2(control: UInt8, count: UInt16) {
        pit.writePort(0x43, size: 1, value: UInt32(control))
        pit.writePort(0x42, size: 1, value: UInt32(count & 0xFF))
        pit.writePort(0x42, size: 1, value: UInt32(count >> 8))
    }

    @Test func bitsZeroToThreeReadBackAndBitZeroIsGate2() {
        write(0x01)
        #expect(read() & 0x0F == 0x01)
        #expect(pit.channel2Gate)
        write(0x0E)
        #expect(read() & 0x0F == 0x0E)
        #expect(!pit.channel2Gate)
    }

    @Test func statusBitsIgnoreWritesAndNMISourcesReadZero() {
        write(0xF0)
        #expect(read() & 0xEF == 0x00)  // bit 4 is the refresh toggle, at 0 at time 0
    }

    @Test func refreshToggleFlipsEvery15085Nanoseconds() {
        var levels: [Bool] = []
        for time: UInt64 in [0, 15_084, 15_085, 30_169, 30_170, 45_255] {
            platform.now = time
            levels.append(read() & 0x10 != 0)
        }
        #expect(levels == [false, false, true, true, false, true])
    }

    @Test func aLoopWaitingForTheRefreshToggleEnds() {
        platform.now = 100_000
        let start = read() & 0x10
        var reads = 0
        while read() & 0x10 == start, reads < 1_000 {
            platform.now += 20  // the guest's loop body
            reads += 1
        }
        #expect(reads < 1_000)
        #expect(platform.now == 105_600)  // the first read after 7 × 15 085 ns
    }

    /// Linux's pit_calibrate_tsc and SeaBIOS's calibration: gate high and speaker off,
    /// counter 2 in mode 0, then wait for OUT 2 in bit 5.
    @Test func aCalibrationLoopWaitingForOut2Ends() {
        write((read() & ~0x02) | 0x01)
        programCounter2(control: 0xB0, count: 11_932)  // 10 ms
        var reads = 0
        while read() & 0x20 == 0, reads < 1_000_000 {
            platform.now += 100
            reads += 1
        }
        // Terminal count on edge 11 933, N + 1 clocks after the count was written.
        #expect(platform.now >= timeOfEdge(11_933))
        #expect(platform.now < timeOfEdge(11_933) + 100)
    }

    @Test func withGate2LowOut2StaysLowInMode0() {
        write(0x00)
        programCounter2(control: 0xB0, count: 100)
        platform.now = 1_000_000
        #expect(read() & 0x20 == 0)
        write(0x01)  // counting starts at edge 1193
        platform.now = timeOfEdge(1193 + 99)
        #expect(read() & 0x20 == 0)
        platform.now = timeOfEdge(1193 + 100)
        #expect(read() & 0x20 != 0)
    }

    @Test func aSpeakerSquareWaveShowsInBit5() {
        write(0x03)
        programCounter2(control: 0xB6, count: 1000)  // mode 3, loaded on edge 1
        platform.now = timeOfEdge(400)
        #expect(read() & 0x20 != 0)
        platform.now = timeOfEdge(600)
        #expect(read() & 0x20 == 0)
        platform.now = timeOfEdge(1001)
        #expect(read() & 0x20 != 0)
    }

    @Test func aPlatformResetClearsTheRegisterAndGate2ButInitDoesNot() {
        write(0x0F)
        portB.reset(.initSignal)
        #expect(read() & 0x0F == 0x0F)
        portB.reset(.hard)
        #expect(read() & 0x0F == 0x00)
        #expect(!pit.channel2Gate)
    }
}
