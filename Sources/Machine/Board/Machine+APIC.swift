import Hardware
import X86

/// The APIC bus: interrupt messages from the local APICs' ICRs and from the I/O APIC, routed
/// to the local APICs they address (SDM Vol. 3A, 11.6), and what each accepted message does
/// to its CPU. CPUs never signal each other directly.
extension Machine {
    /// Delivers `message`, sent by the local APIC of CPU `sender` (`nil`: the I/O APIC).
    func sendAPICMessage(_ message: InterruptMessage, from sender: Int?) {
        let apics = devices.localAPICs
        var targets = apics.indices.filter { apics[$0].isAddressed(by: message.destination, fromSelf: $0 == sender) }
        // Lowest priority: the addressed APIC with the lowest arbitration priority takes it,
        // unless one is already handling the vector (the focus processor; SDM 11.6.2.4).
        if message.mode == .lowestPriority, !targets.isEmpty {
            let focus = targets.first { apics[$0].isFocus(of: message.vector) }
            targets = [focus ?? targets.min { apics[$0].arbitrationPriority < apics[$1].arbitrationPriority }!]
        }
        if sender != nil {
            emit(TraceEvent("ipi", cpu: sender, [
                ("to", .numbers(targets.map(UInt64.init))), ("mode", .text(message.mode.name)),
                ("vector", .number(UInt64(message.vector))), ("destination", .text(message.destination.description)),
                ("shorthand", .text(message.destination.shorthand)),
            ]))
        }
        let source: SignalSource = sender.map { .interprocessorInterrupt(from: $0) } ?? .ioAPIC
        for index in targets {
            if let signal = apics[index].accept(message) { apply(signal, toCPU: index, source: source) }
        }
        updateInterruptRequests()
    }

    /// Where a signal to a CPU came from, for the trace.
    enum SignalSource {
        /// An IPI from CPU `from`'s local APIC.
        case interprocessorInterrupt(from: Int)
        /// A message from the I/O APIC.
        case ioAPIC
        /// The CPU's local APIC's LINT0 or LINT1 pin (`pin` 0 or 1).
        case localInterrupt(pin: Int)
        /// Something else on the board (a watchdog, the user), named.
        case board(String)

        var name: String {
            switch self {
            case .interprocessorInterrupt: "ipi"
            case .ioAPIC: "io-apic"
            case .localInterrupt(let pin): "lint\(pin)"
            case .board(let name): name
            }
        }
    }

    /// What an accepted message or a local interrupt pin does to CPU `index` beyond its IRR.
    func apply(_ signal: LocalAPIC.Signal, toCPU index: Int, source: SignalSource) {
        switch signal {
        case .nmi:
            deliverNMI(toCPU: index, source: source)
        case .initialize:
            emit(TraceEvent("init", cpu: index))
            devices.localAPICs[index].initialize()
            cpus[index].signalINIT()
        case .startUp(let vector):
            // A start-up IPI to a running processor is ignored (SDM 10.4.4); one that
            // follows an INIT not yet taken is not.
            guard cpus[index].activity == .waitingForStartup || cpus[index].hasStartupPending else { return }
            emit(TraceEvent("sipi", cpu: index, [("vector", .number(UInt64(vector)))]))
            cpus[index].signalStartup(vector: vector)
        case .externalInterrupt:
            // The CPU takes one interrupt whose vector the 8259 supplies (`acknowledgeInterrupt`).
            externalInterruptMessagePending[index] = true
        case .systemManagement:
            break                                         // no SMM
        }
    }

    /// An NMI reaches CPU `index` (it takes it at its next instruction boundary unless NMIs
    /// are blocked there): traced as `nmi` on that CPU with its `source` (`ipi` with the
    /// sender in `from`, `io-apic`, `lint0`, `lint1`, or a board source's name).
    func deliverNMI(toCPU index: Int, source: SignalSource) {
        var fields: [(String, TraceValue)] = [("source", .text(source.name))]
        if case .interprocessorInterrupt(let sender) = source { fields.append(("from", .number(UInt64(sender)))) }
        emit(TraceEvent("nmi", cpu: index, fields))
        cpus[index].signalNMI()
    }

    /// The local APIC timer of CPU `index` was armed or fired: an `apic-timer` event, only
    /// while the trace has an audience (`EventTrace.isTracing`), since a periodic timer may
    /// fire thousands of times a second.
    func traceTimer(_ event: LocalAPIC.TimerEvent, cpu index: Int) {
        guard trace.isTracing else { return }
        switch event {
        case .armed(let mode, let deadline):
            emit(TraceEvent("apic-timer", cpu: index, [("state", .text("armed")), ("mode", .text(mode.rawValue)),
                                                      ("deadline", .number(deadline))]))
        case .fired(let vector):
            emit(TraceEvent("apic-timer", cpu: index, [("state", .text("fired")), ("vector", .number(UInt64(vector)))]))
        }
    }

    /// Each CPU's INTR: its local APIC has a deliverable interrupt, or an ExtINT waits for the
    /// 8259 (through LINT0, or a message from the I/O APIC).
    func updateInterruptRequests() {
        for (index, cpu) in cpus.enumerated() {
            let apic = devices.localAPICs[index]
            cpu.interruptRequested = apic.hasDeliverableInterrupt || apic.isExternalInterruptRequested
                || externalInterruptMessagePending[index]
        }
    }

    /// The local APIC pages moved or were switched on or off (IA32_APIC_BASE, a reset): the
    /// bus maps the pages anew and no CPU keeps a translation to what was there before.
    func remapLocalAPICs() {
        bus.refreshMemoryRanges()
        for cpu in cpus { cpu.flushTLB() }
    }
}
