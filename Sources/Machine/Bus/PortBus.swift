import Hardware

/// The I/O port space: each port maps to the devices that decode it, in registration order.
/// An access goes to the first device that claims it (`Device.decodes(port:size:)`). A
/// port some device decodes but none claims at this size (a 16-bit access to CONFIG_ADDRESS
/// at 0xCF8) floats: reads all ones, writes vanish; it is not split, so it cannot reach 0xCF9.
final class PortBus {
    private var devicesByPort = [[Device]](repeating: [], count: 0x10000)
    /// The ranges each device was attached with, for `reattach(_:)`.
    private var attachedRanges: [ObjectIdentifier: [ClosedRange<UInt16>]] = [:]

    func attach(_ device: Device) {
        let ranges = device.portRanges
        attachedRanges[ObjectIdentifier(device)] = ranges
        for range in ranges {
            for port in range { devicesByPort[Int(port)].append(device) }
        }
    }

    /// A device moved its ports (a base address register): it leaves the ports it had and
    /// takes its current ones, after the devices already there.
    func reattach(_ device: Device) {
        for range in attachedRanges[ObjectIdentifier(device)] ?? [] {
            for port in range { devicesByPort[Int(port)].removeAll { $0 === device } }
        }
        attach(device)
    }

    private func claimant(_ port: UInt16, _ size: Int) -> Device? {
        devicesByPort[Int(port)].first { $0.decodes(port: port, size: size) }
    }

    func read(_ port: UInt16, size: Int) -> UInt32 {
        if let device = claimant(port, size) { return device.readPort(port, size: size) }
        if size > 1, devicesByPort[Int(port)].isEmpty {
            // Nothing decodes the first port: the ISA bus splits the access into byte
            // cycles, which may reach byte-wide devices at the following ports.
            var value: UInt32 = 0
            for i in 0..<size { value |= read(port &+ UInt16(i), size: 1) << (8 * UInt32(i)) }
            return value
        }
        return UInt32.max >> (32 - 8 * UInt32(size))
    }

    /// Writes `value`; returns the device that took it (the last one, for a split access).
    @discardableResult
    func write(_ port: UInt16, size: Int, value: UInt32) -> Device? {
        if let device = claimant(port, size) {
            device.writePort(port, size: size, value: value)
            return device
        }
        var taker: Device?
        if size > 1, devicesByPort[Int(port)].isEmpty {
            for i in 0..<size { taker = write(port &+ UInt16(i), size: 1, value: value >> (8 * UInt32(i))) ?? taker }
        }
        return taker
    }
}
