/// The firmware configuration interface (modelled on QEMU's fw_cfg): a 16-bit selector at
/// 0x510 picks an item, byte reads at 0x511 stream it. The project's ROM reads its boot
/// payload and the RAM size through it, so a reset that clears RAM still boots. Items are
/// plain bytes: their formats belong to the firmware that reads them.
public final class FirmwareConfig: Device {
    public let name = "fw-cfg"
    public static let selectorPort: UInt16 = 0x510
    public static let dataPort: UInt16 = 0x511
    public var portRanges: [ClosedRange<UInt16>] { [FirmwareConfig.selectorPort...FirmwareConfig.dataPort] }

    /// The items every board has.
    public enum Item: UInt16 {
        /// "RVFW": the interface is present.
        case signature = 0x0000
        /// The boot payload's length, 32-bit little-endian.
        case payloadSize = 0x0001
        /// The boot payload's bytes.
        case payload = 0x0002
        /// RAM size in KiB, 32-bit little-endian.
        case ramKilobytes = 0x0003
    }

    private var items: [UInt16: [UInt8]] = [:]
    private var selected: [UInt8] = []
    private var offset = 0
    private var selector: UInt16 = 0

    /// - Parameters:
    ///   - payload: The boot payload.
    ///   - ramSize: RAM in bytes.
    ///   - extraItems: Further items by number (a Multiboot load, …), none of them an ``Item``.
    public init(payload: [UInt8], ramSize: Int, extraItems: [UInt16: [UInt8]] = [:]) {
        precondition(extraItems.keys.allSatisfy { Item(rawValue: $0) == nil }, "an extra item replaces a standard one")
        items = extraItems
        items[Item.signature.rawValue] = Array("RVFW".utf8)
        items[Item.payloadSize.rawValue] = FirmwareConfig.littleEndian(UInt32(payload.count))
        items[Item.payload.rawValue] = payload
        items[Item.ramKilobytes.rawValue] = FirmwareConfig.littleEndian(UInt32(ramSize / 1024))
        select(0)
    }

    static func littleEndian(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: v >> (8 * $0)) } }

    private func select(_ item: UInt16) {
        selector = item
        selected = items[item] ?? []
        offset = 0
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        if port == FirmwareConfig.selectorPort { return UInt32(selector) }
        var value: UInt32 = 0
        for i in 0..<size {
            // Reading past an item's end returns zeros, as fw_cfg does.
            let byte = offset < selected.count ? selected[offset] : 0
            offset += 1
            value |= UInt32(byte) << (8 * UInt32(i))
        }
        return value
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        if port == FirmwareConfig.selectorPort && size >= 2 { select(UInt16(truncatingIfNeeded: value)) }
    }

    public func reset(_ kind: ResetKind) {
        if kind != .initSignal { select(0) }
    }
}
