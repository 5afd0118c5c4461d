/// System control port A at I/O port 0x92, as in Intel's ICH/PCH (the "Port 92" register):
/// bit 0 INIT_NOW, a fast CPU reset that a 0→1 transition starts, and bit 1 ALT_A20_GATE,
/// the "fast A20" input of the A20 gate. Bits 7:2 are reserved in the ICH and read 0.
///
/// INIT_NOW stays 1 until software writes 0, so a second reset needs a new 0→1 write.
/// The register returns to 0 on a platform reset; INIT leaves it alone.
public final class SystemControlPortA: Device {
    public let name = "port92"
    public let portRanges: [ClosedRange<UInt16>] = [SystemControlPortA.port...SystemControlPortA.port]

    /// The reset output to the power & reset controller; a quirk can break it.
    public let resetOutput = ResetOutput()

    /// The I/O port of system control port A.
    public static let port: UInt16 = 0x92
    private static let initNow: UInt8 = 0x01
    private static let alternateA20Gate: UInt8 = 0x02
    private static let implementedBits = initNow | alternateA20Gate

    private unowned let platform: any Platform
    private var register: UInt8 = 0

    /// Creates the port in its power-on state (0: no reset, fast A20 off). The platform
    /// owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        UInt32(register)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let written = UInt8(truncatingIfNeeded: value)
        let old = register
        register = written & Self.implementedBits
        let rising = register & ~old
        if (old ^ register) & Self.alternateA20Gate != 0 {
            platform.setA20(.fastA20, enabled: register & Self.alternateA20Gate != 0)
        }
        if rising & Self.initNow != 0 {
            resetOutput.assert(to: platform, ResetRequest(source: .port92, port: Self.port, value: UInt32(written)))
        }
    }

    /// A platform reset, power cycle or power-off clears the register, which drives fast
    /// A20 low; INIT leaves it alone.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        register = 0
        platform.setA20(.fastA20, enabled: false)
    }
}
