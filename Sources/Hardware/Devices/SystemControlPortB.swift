/// System control port B at I/O port 0x61, as in Intel's ICH/PCH ("NMI status and
/// control"), the PC/AT's descendant of the 8255 port B.
///
/// - Bit 0, timer counter 2 enable: GATE 2 of the 8254 (read/write).
/// - Bit 1, speaker data enable: gates OUT 2 to the speaker (read/write; there is no sound).
/// - Bits 2 and 3, PCI SERR# and IOCHK# NMI enables (read/write, active low).
/// - Bit 4, refresh cycle toggle: flips every 15.085 µs of virtual time (read only).
/// - Bit 5, timer counter 2 output: OUT 2 (read only).
/// - Bits 6 and 7, IOCHK# and SERR# NMI status: no source here, so they read 0.
///
/// Bits 4 and 5 are what firmware and kernels poll in delay and calibration loops; both
/// are computed from virtual time when read, so such loops end as the guest runs.
public final class SystemControlPortB: Device {
    public let name = "port61"
    public let portRanges: [ClosedRange<UInt16>] = [SystemControlPortB.port...SystemControlPortB.port]

    /// The I/O port of system control port B.
    public static let port: UInt16 = 0x61
    /// How long the refresh toggle (bit 4) stays at each level, in nanoseconds.
    public static let refreshToggleInterval: UInt64 = 15_085

    private static let timer2Gate: UInt8 = 0x01
    /// Speaker data enable and the two NMI enables: kept as written.
    private static let storedBits: UInt8 = 0x0E
    private static let refreshToggle: UInt8 = 0x10
    private static let timer2Output: UInt8 = 0x20

    private let timer: I8254
    private unowned let platform: any Platform
    private var register: UInt8 = 0

    /// Creates the port in its power-on state (every bit 0), wired to `timer`'s counter 2.
    /// The platform owns the device.
    public init(timer: I8254, platform: any Platform) {
        self.timer = timer
        self.platform = platform
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        var value = register
        if timer.channel2Gate { value |= Self.timer2Gate }
        if (platform.now / Self.refreshToggleInterval) & 1 != 0 { value |= Self.refreshToggle }
        if timer.channel2Output() { value |= Self.timer2Output }
        return UInt32(value)
    }

    /// Bits 0–3 take the written value; the status bits 4–7 ignore writes.
    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        register = byte & Self.storedBits
        timer.channel2Gate = byte & Self.timer2Gate != 0
    }

    /// A platform reset, power cycle or power-off clears the register, which drives GATE 2
    /// low; INIT leaves it alone.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        register = 0
        timer.channel2Gate = false
    }
}
