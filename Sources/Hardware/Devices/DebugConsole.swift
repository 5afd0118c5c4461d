/// A write-only debug console on one I/O port, compatible with QEMU's `debugcon` (and
/// Bochs' port 0xE9 hack): each byte a guest writes goes to `output`; reads return 0xE9
/// so a guest can detect the console before using it.
public final class DebugConsole: Device {
    public let name = "debugcon"
    public let portRanges: [ClosedRange<UInt16>]

    /// What a read of the port returns (QEMU's default read-back value).
    public static let readBack: UInt8 = 0xE9

    private let output: ([UInt8]) -> Void

    /// Creates the console at `port`; `output` receives the bytes written (the machine
    /// wires a file or standard output).
    public init(port: UInt16, output: @escaping ([UInt8]) -> Void) {
        portRanges = [port...port]
        self.output = output
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        UInt32(Self.readBack)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        output([UInt8(truncatingIfNeeded: value)])
    }
}
