import Hardware

/// What the board does when the watchdog's stage 2 expires (`--watchdog-action`, QEMU's
/// names). The watchdog's own policy: `--on-reset` does not apply to it.
public enum WatchdogAction: String, Sendable, CaseIterable {
    /// A platform reset (hard reset, RAM kept), source `watchdog`.
    case reset
    /// Soft off: the run ends as powered off (status 0).
    case powerOff = "power-off"
    /// Stop the run with every state intact (status 2), before anything else runs.
    case pause
    /// An NMI on every processor's LINT1, as QEMU's watchdog and `inject-nmi` deliver it.
    case nmi
    /// Only the `watchdog` trace event.
    case none
}

/// What a guest's panic report (pvpanic PANICKED) does to the emulator (`--on-panic`). This is
/// the abnormal-termination side of the split: a clean reboot follows `--on-reset`, a panic
/// follows this policy. CRASH_LOADED (the guest handles its crash itself) is only traced.
public enum PanicPolicy: String, Sendable, CaseIterable {
    /// Stop the run with every state intact (status 2), before anything else runs
    /// (development: attach a debugger).
    case pause
    /// End the run (``RunOutcome/guestPanicked(events:)``, status 10).
    case exit
    /// A hard reset, source `panic` (production).
    case reboot
    /// Only the `panic` trace event; the guest runs on.
    case none
}
