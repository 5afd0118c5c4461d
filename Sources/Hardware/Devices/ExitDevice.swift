/// A port through which a guest ends the run, compatible with QEMU's `isa-debug-exit`:
/// writing value v (1, 2 or 4 bytes) asks the machine to exit with status (v << 1) | 1,
/// so no guest value exits with 0 (success of the emulator itself).
public final class ExitDevice: Device {
    public let name = "exit"
    public let portRanges: [ClosedRange<UInt16>]

    private unowned let platform: any Platform

    /// Creates the device at `port`. The platform owns the device.
    public convenience init(port: UInt16, platform: any Platform) {
        self.init(ports: port...port, platform: platform)
    }

    /// Creates the device on `ports` (QEMU's `iobase` up to `iobase + iosize - 1`): a write to
    /// any of them ends the run. The platform owns the device.
    public init(ports: ClosedRange<UInt16>, platform: any Platform) {
        portRanges = [ports]
        self.platform = platform
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let sizeMask: UInt32 = size >= 4 ? .max : (1 << UInt32(8 * max(size, 0))) - 1
        let written = value & sizeMask
        // Wrapping shift: a 32-bit value's top bit is lost, as QEMU truncates it to an int.
        platform.requestExit(status: Int32(bitPattern: written &<< 1 | 1))
    }
}
