/// What a device may ask of the board it sits on. The machine implements it; devices
/// never reset CPUs or other devices themselves, they ask the power & reset controller.
public protocol Platform: AnyObject {
    /// Virtual time in nanoseconds since power-on (derived from executed instructions).
    var now: UInt64 { get }
    /// Drives an ISA interrupt request line (0–15) high or low.
    func setInterruptLine(_ irq: Int, high: Bool)
    /// Asks the power & reset controller for a reset or power transition.
    func requestReset(_ request: ResetRequest)
    /// Asks the power & reset controller to enter an ACPI sleep state (SLP_EN).
    func requestSleep(_ request: SleepRequest)
    /// One of the A20 gate's inputs changed (the gate is open when any input enables it).
    func setA20(_ input: A20Input, enabled: Bool)
    /// Records an event in the machine's trace (time, instruction count and CPU are added).
    func record(_ event: TraceEvent)
    /// Asks the machine to end the run with this exit status (the exit device).
    func requestExit(status: Int32)
    /// Notes that the interrupt controller's output (INTR) may have changed.
    func interruptOutputChanged()
    /// A bus master's (DMA) read of guest physical memory: RAM and ROM as the board decodes
    /// them, not through the A20 gate. `nil` when any byte of the range is not memory
    /// (MMIO, the legacy video hole, beyond RAM).
    func dmaRead(_ address: UInt64, count: Int) -> [UInt8]?
    /// A bus master's (DMA) write of guest RAM, seen by every CPU (code caches included).
    /// `false`, and nothing written, when any byte of the range is not RAM.
    func dmaWrite(_ bytes: [UInt8], at address: UInt64) -> Bool
}

/// The inputs of the A20 gate.
public enum A20Input: Sendable {
    /// Output-port bit 1 of the 8042 keyboard controller.
    case keyboardController
    /// Bit 1 of system control port A (0x92), "fast A20".
    case fastA20
}
