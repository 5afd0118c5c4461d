/// The reset control register at I/O port 0xCF9 of Intel's ICH/PCH (RST_CNT), decoded
/// for byte accesses only, so 32-bit accesses at 0xCF8 reach PCI configuration
/// mechanism #1 (`PCIHostBridge`).
///
/// Bits, per the ICH/PCH datasheets:
/// - bit 1 SYS_RST: the kind of reset; 1 = hard reset (PLTRST#), 0 = soft reset (INIT#).
/// - bit 2 RST_CPU: a 0→1 transition starts the reset that bits 1 and 3 select.
/// - bit 3 FULL_RST: with SYS_RST, a full reset that cycles power (through S5).
/// Other bits are reserved and read 0.
///
/// Linux's `reboot=pci` writes 0x02, then 0x06 (warm) or 0x0E (cold). RST_CPU keeps
/// reading 1 until the reset is performed (`reset(_:)`), so repeating the same write does
/// not start a second one.
public final class ResetControl: Device {
    public let name = "cf9"
    public let portRanges: [ClosedRange<UInt16>] = [ResetControl.port...ResetControl.port]

    /// The reset output to the power & reset controller; a quirk can break it.
    public let resetOutput = ResetOutput()

    /// The I/O port of the reset control register.
    public static let port: UInt16 = 0xCF9
    private static let systemReset: UInt8 = 0x02
    private static let resetCPU: UInt8 = 0x04
    private static let fullReset: UInt8 = 0x08
    private static let implementedBits = systemReset | resetCPU | fullReset

    private unowned let platform: any Platform
    private var register: UInt8 = 0

    /// Creates the register in its power-on state (0). The platform owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    /// Only byte accesses at 0xCF9 belong to this register.
    public func decodes(port: UInt16, size: Int) -> Bool {
        port == Self.port && size == 1
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        UInt32(register)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let written = UInt8(truncatingIfNeeded: value)
        let startsReset = register & Self.resetCPU == 0 && written & Self.resetCPU != 0
        register = written & Self.implementedBits
        if startsReset {
            resetOutput.assert(to: platform, ResetRequest(source: .cf9, requestedKind: requestedKind, port: Self.port,
                                     value: UInt32(written)))
        }
    }

    /// Once the reset has begun RST_CPU reads 0; a platform reset, power cycle or
    /// power-off clears the whole register.
    public func reset(_ kind: ResetKind) {
        if kind == .initSignal {
            register &= ~Self.resetCPU
        } else {
            register = 0
        }
    }

    private var requestedKind: ResetKind {
        switch (register & Self.systemReset != 0, register & Self.fullReset != 0) {
        case (false, _): .initSignal
        case (true, false): .hard
        case (true, true): .full
        }
    }
}
