import X86

/// Records what the CPU reports to its observer: every delivery attempt and every shutdown.
final class EventRecorder: CPUObserver {
    struct Delivery: Equatable, CustomStringConvertible {
        let vector: UInt8
        let source: InterruptSource
        let errorCode: UInt32?
        /// CS:IP when the event was delivered: the return address the frame will hold.
        let cs: UInt16
        let ip: UInt64
        var description: String { "\(vector) (\(source)) at \(hex(cs)):\(hex(ip))" }
    }

    private(set) var deliveries: [Delivery] = []
    private(set) var shutdownChains: [[UInt8]] = []
    private(set) var taskSwitches: [TaskSwitch] = []
    /// FERR# levels, in order.
    private(set) var floatingPointErrors: [Bool] = []

    var vectors: [UInt8] { deliveries.map(\.vector) }

    func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?) {
        deliveries.append(Delivery(vector: vector, source: source, errorCode: errorCode,
                                   cs: cpu.segment(.cs).selector, ip: cpu.instructionPointer))
    }

    func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8]) {
        shutdownChains.append(chain)
    }

    func cpu(_ cpu: CPU, switchedTask switch: TaskSwitch) {
        taskSwitches.append(`switch`)
    }

    func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool) {
        floatingPointErrors.append(asserted)
    }

    func clear() {
        taskSwitches.removeAll(keepingCapacity: true)
        floatingPointErrors.removeAll(keepingCapacity: true)
        deliveries.removeAll(keepingCapacity: true)
        shutdownChains.removeAll(keepingCapacity: true)
    }
}

/// An interrupt controller that hands out queued vectors and drives the INTR pin accordingly.
final class TestInterruptController: InterruptController {
    weak var cpu: CPU?
    private(set) var pending: [UInt8] = []
    private(set) var acknowledgements = 0

    /// Queues a vector and raises INTR.
    func raise(_ vector: UInt8) {
        pending.append(vector)
        cpu?.interruptRequested = true
    }

    /// x2APIC registers by MSR index (the x2APIC tests fill it): a read of one absent is
    /// #GP, as is a write to one absent; every write is logged.
    var apicRegisters: [UInt32: UInt64] = [:]
    private(set) var apicWrites: [(index: UInt32, value: UInt64)] = []

    func readAPICRegister(_ index: UInt32) -> UInt64? { apicRegisters[index] }

    func writeAPICRegister(_ index: UInt32, _ value: UInt64) -> Bool {
        apicWrites.append((index, value))
        guard apicRegisters[index] != nil else { return false }
        apicRegisters[index] = value
        return true
    }

    func acknowledgeInterrupt() -> UInt8? {
        acknowledgements += 1
        guard !pending.isEmpty else { return nil }
        let vector = pending.removeFirst()
        if pending.isEmpty { cpu?.interruptRequested = false }
        return vector
    }
}
