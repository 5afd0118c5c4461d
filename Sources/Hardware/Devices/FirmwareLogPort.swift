/// A port (0x402, where Bochs' BIOS prints its messages) through which the project's ROM
/// reports milestones: ASCII text, one milestone per line, each recorded as a `firmware`
/// trace event.
public final class FirmwareLogPort: Device {
    public let name = "firmware-log"
    public static let port: UInt16 = 0x402
    public var portRanges: [ClosedRange<UInt16>] { [FirmwareLogPort.port...FirmwareLogPort.port] }
    private unowned let platform: any Platform
    private var line: [UInt8] = []
    /// Longest milestone kept; longer text is cut so a runaway guest cannot grow it.
    static let maximumLength = 80

    public init(platform: any Platform) {
        self.platform = platform
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        if byte == 0x0A {
            platform.record(TraceEvent("firmware", [("milestone", .text(String(decoding: line, as: UTF8.self)))]))
            line.removeAll(keepingCapacity: true)
        } else if line.count < FirmwareLogPort.maximumLength, byte >= 0x20, byte < 0x7F {
            line.append(byte)
        }
    }

    public func reset(_ kind: ResetKind) {
        if kind != .initSignal { line.removeAll() }
    }
}
