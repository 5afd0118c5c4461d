import Foundation
import Hardware
import Machine
import Testing

/// `--clock realtime`: virtual time may not run ahead of the host's clock. The pacer's
/// arithmetic on a fake host clock, then whole machines: the trace stays the one the virtual
/// clock gives, only the host's time changes.
@Suite struct RealTimeClockTests {
    /// A host clock the test moves: sleeping moves it by exactly the time slept.
    final class FakeHost {
        var now: UInt64 = 5_000_000_000
        var sleeps: [UInt64] = []

        func pacer(virtualStart: UInt64) -> RealTimePacer {
            RealTimePacer(virtualStart: virtualStart, hostClock: { self.now }, sleep: { self.sleeps.append($0); self.now += $0 })
        }
    }

    @Test func virtualTimeAheadOfTheHostWaitsForIt() {
        let host = FakeHost()
        let pacer = host.pacer(virtualStart: 1_000)
        host.now += 2_000_000
        // 2 ms of host time have passed: virtual 2.001 ms is there, 3.001 ms is 1 ms away.
        #expect(pacer.wait(until: 2_001_000) == 2_001_000 && host.sleeps.isEmpty)
        #expect(pacer.wait(until: 3_001_000) == 3_001_000)
        #expect(host.sleeps == [1_000_000])
    }

    @Test func aLongWaitComesBackAfterTheLongestWait() {
        let host = FakeHost()
        let pacer = host.pacer(virtualStart: 0)
        // A jump of 1 s comes back after 10 ms, having gone as far as the host's clock.
        #expect(pacer.wait(until: 1_000_000_000) == RealTimePacer.longestWait)
        pacer.catchUp(to: 50_000_000)
        #expect(host.sleeps == Array(repeating: RealTimePacer.longestWait, count: 5))
        #expect(pacer.hostTime == 50_000_000)
    }

    @Test func virtualTimeBehindTheHostNeverWaits() {
        let host = FakeHost()
        let pacer = host.pacer(virtualStart: 0)
        host.now += 1_000_000_000
        pacer.catchUp(to: 900_000_000)
        #expect(pacer.wait(until: 999_999_999) == 999_999_999)
        #expect(host.sleeps.isEmpty)
    }

    /// A guest that halts with interrupts off after its boot; the user powers the machine off
    /// at 300 ms. The virtual clock jumps there at once; the real-time one waits for it.
    static func run(_ clock: ClockMode) throws -> (run: GuestRun, seconds: Double) {
        let start = DispatchTime.now().uptimeNanoseconds
        let run = try TestBoard.run(payload: SmallGuest.haltForever(interruptsEnabled: false)) {
            $0.clock = clock
            $0.exitOnHalt = false
            $0.userActions = [ScheduledUserAction(time: 300_000_000, action: .powerOff)]
        }
        return (run, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    @Test func anIdleMachineTakesTheRealTimeAndTheSameTrace() throws {
        let paced = try Self.run(.realtime)
        let free = try Self.run(.virtual)
        #expect(paced.run.outcome == .poweredOff && free.run.outcome == .poweredOff)
        #expect(paced.run.machine.now == 300_000_000)
        #expect(paced.seconds >= 0.3, "the real-time run took \(paced.seconds) s for 300 ms of virtual time")
        #expect(paced.run.records == free.run.records)
    }
}
