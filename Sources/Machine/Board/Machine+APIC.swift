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
            ]))
        }
        for index in targets {
            guard let signal = apics[index].accept(message) else { continue }
            switch signal {
            case .nmi:
                cpus[index].signalNMI()
            case .initialize:
                emit(TraceEvent("init", cpu: index))
                apics[index].initialize()
                cpus[index].signalINIT()
            case .startUp(let vector):
                // A start-up IPI to a running processor is ignored (SDM 10.4.4); one that
                // follows an INIT not yet taken is not.
                guard cpus[index].activity == .waitingForStartup || cpus[index].hasStartupPending else { continue }
                emit(TraceEvent("sipi", cpu: index, [("vector", .number(UInt64(vector)))]))
                cpus[index].signalStartup(vector: vector)
            case .externalInterrupt, .systemManagement:
                // No SMM; ExtINT messages would need the 8259 behind the I/O APIC's pin 0,
                // which reaches the bootstrap processor directly here.
                break
            }
        }
        interruptOutputChanged()
    }
}
