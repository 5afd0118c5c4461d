import Foundation

/// How the machine's virtual clock relates to the host's.
public enum ClockMode: String, Sendable, CaseIterable {
    /// Virtual time runs as fast as the CPUs execute and jumps ahead while every CPU is
    /// halted: runs are deterministic and as quick as the host allows (the default).
    case virtual
    /// Virtual time never runs ahead of the host's clock: the machine sleeps when it gets
    /// ahead, and while every CPU is halted it waits for the next deadline instead of jumping
    /// to it, so a guest's timers and sleeps take their real time (for interactive use).
    case realtime
}

/// Keeps virtual time from running ahead of the host's monotonic clock (`ClockMode.realtime`).
/// Virtual time may fall behind (an interpreted CPU retires fewer than the clock's one
/// instruction per nanosecond); it then runs on without waiting until it has caught up.
/// Only how long the host takes changes: the trace of a run is the same as with the virtual clock.
public struct RealTimePacer {
    /// The longest single wait: an idle machine comes back this often to look at its
    /// terminal input and its devices.
    public static let longestWait: UInt64 = 10_000_000

    private let hostClock: () -> UInt64
    private let sleep: (UInt64) -> Void
    private let hostOrigin: UInt64
    private let virtualOrigin: UInt64

    /// A pacer whose virtual time `virtualStart` is the host's now. `hostClock` gives the host's
    /// monotonic time in nanoseconds and `sleep` waits that many nanoseconds (tests pass their own).
    public init(virtualStart: UInt64,
                hostClock: @escaping () -> UInt64 = { DispatchTime.now().uptimeNanoseconds },
                sleep: @escaping (UInt64) -> Void = { usleep(useconds_t(clamping: $0 / 1_000)) }) {
        self.hostClock = hostClock
        self.sleep = sleep
        hostOrigin = hostClock()
        virtualOrigin = virtualStart
    }

    /// The virtual time that corresponds to the host's clock now.
    public var hostTime: UInt64 { virtualOrigin &+ (hostClock() &- hostOrigin) }

    /// Waits until the host's clock reaches virtual time `target`, but at most `longestWait`;
    /// returns how far virtual time may go now: `target` once the host is there, less when
    /// the wait ended first.
    public func wait(until target: UInt64) -> UInt64 {
        let reached = hostTime
        guard reached < target else { return target }
        sleep(min(target - reached, Self.longestWait))
        return min(hostTime, target)
    }

    /// Waits until the host's clock reaches virtual time `target`, however long that is.
    public func catchUp(to target: UInt64) {
        while wait(until: target) < target {}
    }
}
