import Hardware
import X86

/// The one place resets happen. Every source (devices, CPU shutdown, the user) asks it;
/// it records the request in the trace, applies quirks, the board's answer and the user's
/// policy, and performs the transition at the next instruction boundary.
final class PowerResetController {
    unowned let machine: Machine
    let board: BoardProfile
    let quirks: Set<Quirk>
    let onReset: ResetPolicy
    let onShutdown: ShutdownPolicy
    let powerCycleMemory: PowerCycleMemory

    /// A transition decided during an instruction, performed at an instruction boundary once
    /// the round-robin is back at `turn`, the processor that asked (`performPending`).
    private(set) var pending: (kind: ResetKind, request: ResetRequest, turn: Int?)?

    init(machine: Machine, board: BoardProfile, quirks: Set<Quirk>, onReset: ResetPolicy,
         onShutdown: ShutdownPolicy, powerCycleMemory: PowerCycleMemory) {
        self.machine = machine
        self.board = board
        self.quirks = quirks
        self.onReset = onReset
        self.onShutdown = onShutdown
        self.powerCycleMemory = powerCycleMemory
    }

    /// A device or the user asks for a reset.
    func request(_ request: ResetRequest) {
        var fields: [(String, TraceValue)] = [("source", .text(request.source.rawValue))]
        if let kind = request.requestedKind { fields.append(("requested", .text(kind.rawValue))) }
        if let port = request.port { fields.append(("port", .number(UInt64(port)))) }
        if let value = request.value { fields.append(("value", .number(UInt64(value)))) }
        if let space = request.space { fields.append(("space", .text(space))) }
        if let address = request.address { fields.append(("address", .number(address))) }
        let hangs = (request.source == .i8042Pulse || request.source == .i8042OutputPort) && quirks.contains(.i8042ResetHangs)
        let kind = board.answer(to: request)
        fields.append(("answer", .text(hangs ? "hang" : kind.rawValue)))
        machine.emit(TraceEvent("reset-request", cpu: request.cpu ?? machine.runningCPU, fields))

        if hangs {
            machine.emit(TraceEvent("quirk", [("quirk", .text(Quirk.i8042ResetHangs.rawValue)),
                                               ("effect", .text("machine hung"))]))
            machine.finish(.hung(reason: "the 8042 reset line locked the machine up (quirk \(Quirk.i8042ResetHangs.rawValue))"))
            return
        }
        switch onReset {
        case .reboot:
            schedule(kind, request)
        case .exit:
            machine.finish(.endedAtReset(kind: kind, source: request.source))
        case .pause where machine.control?.holdsPausedMachine == true:
            // A debugger is attached: stop before the reset; it happens when the user resumes.
            machine.stop(cause: "on-reset-pause")
            schedule(kind, request)
        case .pause:
            machine.finish(.paused(reason: "\(request.source.rawValue) requested a reset (\(kind.rawValue)); stopped before it"))
        }
    }

    /// A CPU entered shutdown (a triple fault, or a fault while delivering #DF).
    func cpuShutdown(_ cpu: Int, chain: [UInt8]) {
        machine.emit(TraceEvent("shutdown", cpu: cpu, [("vector", .numbers(chain.map(UInt64.init)))]))
        switch onShutdown {
        case .pause:
            machine.finish(.paused(reason: "CPU \(cpu) entered shutdown (triple fault)"))
        case .exit:
            machine.finish(.endedAtShutdown(cpu: cpu))
        case .board:
            if quirks.contains(.shutdownIgnored) {
                machine.emit(TraceEvent("quirk", cpu: cpu, [("quirk", .text(Quirk.shutdownIgnored.rawValue)),
                                                              ("effect", .text("shutdown not answered"))]))
                return
            }
            request(ResetRequest(source: .tripleFault, cpu: cpu))
        }
    }

    /// A device's reset path is broken by a quirk: record that it was blocked.
    func blocked(_ request: ResetRequest, by quirk: Quirk) {
        var fields: [(String, TraceValue)] = [("quirk", .text(quirk.rawValue)), ("source", .text(request.source.rawValue))]
        if let port = request.port { fields.append(("port", .number(UInt64(port)))) }
        if let value = request.value { fields.append(("value", .number(UInt64(value)))) }
        machine.emit(TraceEvent("quirk", cpu: machine.runningCPU, fields))
    }

    func schedule(_ kind: ResetKind, _ request: ResetRequest) {
        // The largest of several requests in one instruction wins.
        if let pending, ResetKind.allCases.firstIndex(of: pending.kind)! >= ResetKind.allCases.firstIndex(of: kind)! { return }
        pending = (kind, request, request.cpu ?? machine.runningCPU)
        machine.stopCPUsAtBoundary()
    }

    /// Performs the pending transition; called by the machine at an instruction boundary before
    /// the slice of CPU `index`. A transition one processor asked for (its device write, its
    /// shutdown cycle) waits until the round-robin is back at that processor: every other
    /// processor has had its slice meanwhile, as on hardware, where the others run on while the
    /// board answers. So when several processors shut down at once (Windows's multiprocessor
    /// reboot: every AP takes an NMI and triple-faults), each gets there and its shutdown is
    /// traced, and the board answers once. With one processor it is at once.
    /// While the board sleeps no processor runs: `index` is `nil` and it is performed at once.
    func performPending(beforeTurnOf index: Int?) {
        guard let (kind, request, turn) = pending else { return }
        if let turn, let index, turn != index { return }
        pending = nil
        if kind == .powerOff {
            machine.emit(TraceEvent("power-off", cpu: request.cpu, [("cause", .text(request.source.rawValue))]))
        } else if kind == .sleep {
            machine.emit(TraceEvent("sleep", cpu: request.cpu, [("state", .text(SleepRequest.State.s3.rawValue))]))
        } else {
            machine.emit(TraceEvent("reset", cpu: request.cpu, [("kind", .text(kind.rawValue)),
                                                                 ("cause", .text(request.source.rawValue))]))
        }
        switch kind {
        case .initSignal:
            machine.initAllCPUs()
        case .hard:
            machine.platformReset(.hard, clearRAM: false)
        case .full:
            machine.platformReset(.full, clearRAM: powerCycleMemory == .clear)
        case .powerOff:
            machine.finish(.poweredOff)
        case .sleep:
            machine.enterSleep()
        }
    }
}
