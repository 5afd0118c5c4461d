import Hardware
import Testing

/// FERR# → IRQ 13 latch, port F0h → IGNNE# (SDM Vol. 1, Appendix D.2).
@Suite struct CoprocessorErrorPortTests {
    let platform = FakePlatform()
    let port: CoprocessorErrorPort
    let ignne = IgnneProbe()

    final class IgnneProbe {
        var levels: [Bool] = []
    }

    init() {
        port = CoprocessorErrorPort(platform: platform)
        let probe = ignne
        port.ignoreNumericErrorChanged = { probe.levels.append($0) }
    }

    @Test func ferrRaisesIRQ13AndPortF0AcknowledgesWithIGNNE() {
        port.floatingPointErrorChanged(asserted: true)
        #expect(platform.interruptLines[13])
        port.writePort(0xF0, size: 1, value: 0)
        #expect(!platform.interruptLines[13])
        #expect(ignne.levels == [true])
        port.floatingPointErrorChanged(asserted: false)
        #expect(ignne.levels == [true, false], "IGNNE# follows FERR# away")
        #expect(platform.interruptChanges.map(\.0) == [13, 13])
        #expect(platform.events(named: "ferr").count == 2)
    }

    @Test func aWriteAfterFerrWentAwayOnlyClearsTheLatch() {
        port.floatingPointErrorChanged(asserted: true)
        port.floatingPointErrorChanged(asserted: false)
        #expect(platform.interruptLines[13], "the latch keeps IRQ 13 up after FERR# goes away")
        port.writePort(0xF0, size: 1, value: 0)
        #expect(!platform.interruptLines[13])
        #expect(!ignne.levels.contains(true), "no IGNNE# without FERR#")
    }

    @Test func platformResetClearsButInitDoesNot() {
        port.floatingPointErrorChanged(asserted: true)
        port.reset(.initSignal)
        #expect(platform.interruptLines[13])
        port.reset(.hard)
        #expect(!platform.interruptLines[13])
    }
}
