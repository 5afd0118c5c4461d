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
    /// Whether the machine should run one instruction per slice and report each with
    /// ``instructionRetired(by:on:)`` (a debugger with breakpoints or watchpoints, or stepping).
    var wantsEveryInstruction: Bool { get }
    /// Called after each slice while ``wantsEveryInstruction``; the control may stop the machine.
    func instructionRetired(by cpu: Int, on machine: Machine)
    /// A CPU entered shutdown (a triple fault): return true to stop the machine before the
    /// board answers, with the faulting state intact; the board answers at ``Machine/resume(cause:)``.
    func catchesShutdown(of cpu: Int, on machine: Machine) -> Bool
    /// Whether a pause policy (`--on-reset pause`) stops the machine and keeps the run going
    /// (a debugger is attached; resuming lets the reset happen) rather than end the run.
    var holdsPausedMachine: Bool { get }
}

extension MachineControl {
    public var wantsEveryInstruction: Bool { false }
    public func instructionRetired(by cpu: Int, on machine: Machine) {}
    public func catchesShutdown(of cpu: Int, on machine: Machine) -> Bool { false }
    public var holdsPausedMachine: Bool { false }
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
        // Shutdowns a debugger caught are answered now, as they would have been then.
        let caught = caughtShutdowns.sorted()
        caughtShutdowns = []
        for index in caught { controller.cpuShutdown(index, chain: cpus[index].shutdownChain) }
    }

    /// Ends the run now, as the user's `quit` (``RunOutcome/quit``).
    public func quit() {
        finish(.quit)
    }
}
