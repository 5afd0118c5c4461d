/// A device on the board's buses. One type per device; each decodes its own port
/// and memory ranges and answers 1-, 2- and 4-byte accesses.
///
/// Methods that a device does not need have default implementations: reads return
/// all ones (a floating bus) and writes are ignored.
public protocol Device: AnyObject {
    /// A short name for traces and diagnostics ("8042", "cf9").
    var name: String { get }
    /// I/O ports this device decodes.
    var portRanges: [ClosedRange<UInt16>] { get }
    /// Physical memory (MMIO) this device decodes.
    var memoryRanges: [ClosedRange<UInt64>] { get }

    /// Whether the device claims an access of `size` bytes at `port` inside its ranges.
    /// Most claim every access; some decode by access size (PCI CONFIG_ADDRESS at 0xCF8
    /// answers only 32-bit accesses, so a byte at 0xCF9 reaches the reset control register).
    func decodes(port: UInt16, size: Int) -> Bool

    func readPort(_ port: UInt16, size: Int) -> UInt32
    func writePort(_ port: UInt16, size: Int, value: UInt32)
    func readMemory(_ address: UInt64, size: Int) -> UInt64
    func writeMemory(_ address: UInt64, size: Int, value: UInt64)

    /// Returns the device to its state after the given reset (power-on for `.full`).
    /// An INIT resets CPUs only, so most devices ignore it. `.sleep` is the entry into S3:
    /// a device of the core well takes its state after a platform reset (the wake asserts
    /// PLTRST#); battery- and resume-well state stays.
    func reset(_ kind: ResetKind)
}

extension Device {
    public var portRanges: [ClosedRange<UInt16>] { [] }
    public var memoryRanges: [ClosedRange<UInt64>] { [] }
    public func decodes(port: UInt16, size: Int) -> Bool { true }
    public func readPort(_ port: UInt16, size: Int) -> UInt32 { UInt32.max >> (32 - 8 * UInt32(size)) }
    public func writePort(_ port: UInt16, size: Int, value: UInt32) {}
    public func readMemory(_ address: UInt64, size: Int) -> UInt64 { size >= 8 ? .max : (1 << (8 * UInt64(size))) - 1 }
    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {}
    public func reset(_ kind: ResetKind) {}
}

/// A device with time-driven behaviour (timers, baud-rate clocks, periodic interrupts).
///
/// Devices compute their state from `Platform.now` when accessed, and tell the machine
/// when something next happens on its own, so the machine can run the CPUs up to that
/// point (or, when every CPU is halted, jump the clock straight there).
public protocol TimedDevice: Device {
    /// Virtual time (ns) of the next event this device will raise by itself, or `nil`.
    func nextDeadline() -> UInt64?
    /// Called when virtual time has reached `now`: raise whatever became due. A call may
    /// skip many deadlines at once (an idle machine jumps past those that cannot wake a CPU);
    /// the device then ends in the state it would have reached step by step.
    func advance(to now: UInt64)
    /// The ISA interrupt line (0–15) this device's deadlines drive, or `nil` when its events
    /// may do more than interrupt (a reset, a power event) and must never be skipped. While
    /// every CPU sleeps, the machine skips the deadlines of a device whose request the
    /// interrupt controller would not pass on (a masked timer).
    var interruptLine: Int? { get }
}
