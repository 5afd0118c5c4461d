import Hardware

/// Something outside the machine that drives it while it runs (the QMP control socket):
/// it is asked for its commands between slices, on the machine's thread, so a command sees
/// the machine at an instruction boundary.
public protocol MachineControl: AnyObject {
    /// Performs the commands that arrived since the last call.
    func performPendingCommands(on machine: Machine)
    /// Blocks until a command arrives or `milliseconds` pass. The machine calls it while it
    /// is stopped, and while every CPU waits with nothing that could wake one but a command.
    func waitForCommands(milliseconds: Int)
}

extension Machine {
    /// Stops every CPU at its next instruction boundary until ``resume()`` (QMP `stop`,
    /// QEMU's `-S`). Virtual time stands still meanwhile. Traced as `stop` with its cause.
    public func stop(cause: String) {
        guard !isStopped else { return }
        isStopped = true
        stopCPUsAtBoundary()
        emit(TraceEvent("stop", [("cause", .text(cause))]))
    }

    /// Lets a machine stopped by ``stop(cause:)`` run again. Traced as `resume`.
    public func resume(cause: String) {
        guard isStopped else { return }
        isStopped = false
        emit(TraceEvent("resume", [("cause", .text(cause))]))
    }

    /// Ends the run now, as the user's `quit` (``RunOutcome/quit``).
    public func quit() {
        finish(.quit)
    }
}
