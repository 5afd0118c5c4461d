/// Receives the CPU's rare, trace-worthy events. Called only off the hot path.
public protocol CPUObserver: AnyObject {
    /// An interrupt or exception is about to be delivered through the IDT/IVT.
    func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?)
    /// The CPU entered shutdown; `chain` lists the vectors that escalated to it.
    func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8])
    /// The CPU executed HLT (every entry into the halted state, even within one `run`).
    func cpuHalted(_ cpu: CPU)
    /// A halted CPU resumed to take an NMI (`isNMI`) or an external interrupt with `vector`.
    func cpu(_ cpu: CPU, wokeFromHaltFor vector: UInt8, isNMI: Bool)
    /// A MOV to CR0 (or LMSW) changed PE or PG.
    func cpu(_ cpu: CPU, changedModeFrom oldCR0: UInt32, to newCR0: UInt32)
    /// A hardware task switch completed.
    func cpu(_ cpu: CPU, switchedTask switch: TaskSwitch)
    /// The FERR# output changed: asserted while an unmasked x87 exception is pending under
    /// PC-style error reporting (CR0.NE = 0), deasserted when the exception flags are cleared
    /// (SDM Vol. 1, 8.7.2 and Appendix D). A PC routes it to IRQ 13.
    func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool)
    /// WRMSR wrote IA32_APIC_BASE (`value` without the BSP flag): the owner of the local APIC
    /// follows its global enable.
    func cpu(_ cpu: CPU, changedAPICBase value: UInt64)
}

extension CPUObserver {
    public func cpuHalted(_ cpu: CPU) {}
    public func cpu(_ cpu: CPU, wokeFromHaltFor vector: UInt8, isNMI: Bool) {}
    public func cpu(_ cpu: CPU, changedModeFrom oldCR0: UInt32, to newCR0: UInt32) {}
    public func cpu(_ cpu: CPU, switchedTask switch: TaskSwitch) {}
    public func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool) {}
    public func cpu(_ cpu: CPU, changedAPICBase value: UInt64) {}
}

/// One hardware task switch, as a trace reports it.
public struct TaskSwitch: Sendable, Equatable {
    /// Why the switch happened (SDM Vol. 3A, 7.3).
    public enum Reason: String, Sendable {
        case jump = "jmp"
        case call
        case interrupt
        case exception
        case iret
    }
    public var oldSelector: UInt16
    public var newSelector: UInt16
    public var reason: Reason
    /// The vector when the switch went through an IDT task gate.
    public var vector: UInt8?
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
