/// Receives the CPU's rare, trace-worthy events. Called only off the hot path.
public protocol CPUObserver: AnyObject {
    /// An interrupt or exception is about to be delivered through the IDT/IVT.
    func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?)
    /// The CPU entered shutdown; `chain` lists the vectors that escalated to it.
    func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8])
    /// The CPU executed HLT (every entry into the halted state, even within one `run`).
    func cpuHalted(_ cpu: CPU)
    /// The FERR# output changed: asserted while an unmasked x87 exception is pending under
    /// PC-style error reporting (CR0.NE = 0), deasserted when the exception flags are cleared
    /// (SDM Vol. 1, 8.7.2 and Appendix D). A PC routes it to IRQ 13.
    func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool)
}

extension CPUObserver {
    public func cpuHalted(_ cpu: CPU) {}
    public func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool) {}
}

/// Where a delivered event came from.
public enum InterruptSource: Sendable, Equatable {
    /// An exception raised by an instruction (or by delivering another event).
    case exception
    /// INT n, INT3, INTO or INT1.
    case software
    /// The INTR pin (through the interrupt controller) or NMI.
    case external
}
