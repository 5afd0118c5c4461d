/// The POST code port at 0x80: firmware writes its progress codes here (an ISA "POST
/// card" shows them). Each byte written becomes a `post` trace event; reads return the
/// last value written.
public final class PostCodePort: Device {
    public let name = "post"
    /// The I/O port POST codes are written to.
    public static let port: UInt16 = 0x80
    public let portRanges: [ClosedRange<UInt16>] = [PostCodePort.port...PostCodePort.port]

    private unowned let platform: any Platform
    private var lastCode: UInt8 = 0

    /// Creates the port. The platform owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        UInt32(lastCode)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        lastCode = UInt8(truncatingIfNeeded: value)
        platform.record(TraceEvent("post", [("value", .number(UInt64(lastCode)))]))
    }
}
