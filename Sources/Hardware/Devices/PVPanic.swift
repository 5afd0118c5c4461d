/// QEMU's pvpanic ISA device: one I/O port (505h, where QEMU puts it) through which a guest
/// reports that it panicked. Linux's `pvpanic` driver finds it through the DSDT's `QEMU0001`
/// device and writes PANICKED from its panic notifier (CRASH_LOADED instead when a crash
/// kernel is loaded and will take over).
///
/// A byte read returns the events the device supports: bit 0 PANICKED ("a guest panic has
/// happened and should be processed by the host"), bit 1 CRASH_LOADED ("a guest panic has
/// happened and will be handled by the guest; the host should record it but not affect the
/// guest"). A byte write reports the supported bits that are set (``onEvent``); other bits are
/// ignored, and a write with none of them set reports nothing. Word and dword accesses are not
/// decoded (the device is one byte wide). The device keeps no state, so resets do nothing.
public final class PVPanic: Device {
    public let name = "pvpanic"

    /// QEMU's default port.
    public static let defaultPort: UInt16 = 0x505
    public static let panicked: UInt8 = 1 << 0
    public static let crashLoaded: UInt8 = 1 << 1
    public static let supportedEvents: UInt8 = panicked | crashLoaded

    public let port: UInt16
    /// Receives the supported event bits of each write that sets at least one.
    public var onEvent: ((UInt8) -> Void)?

    public init(port: UInt16 = PVPanic.defaultPort) {
        self.port = port
    }

    public var portRanges: [ClosedRange<UInt16>] { [port...port] }

    public func decodes(port: UInt16, size: Int) -> Bool { size == 1 }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 { UInt32(Self.supportedEvents) }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let events = UInt8(truncatingIfNeeded: value) & Self.supportedEvents
        if events != 0 { onEvent?(events) }
    }

    /// The names of the event bits in `events`, for traces and messages.
    public static func eventNames(_ events: UInt8) -> [String] {
        var names: [String] = []
        if events & panicked != 0 { names.append("panicked") }
        if events & crashLoaded != 0 { names.append("crash-loaded") }
        return names
    }
}
