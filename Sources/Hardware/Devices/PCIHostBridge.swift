/// The host bridge's PCI configuration mechanism #1, with the host bridge itself at
/// bus 0, device 0, function 0.
///
/// CONFIG_ADDRESS (0xCF8) is decoded only for 32-bit accesses, as Intel's MCH/GMCH
/// datasheets specify: byte and word accesses pass through to other devices, which is how
/// a byte at 0xCF9 reaches the reset control register. CONFIG_ADDRESS holds the enable
/// bit (31), bus (23:16), device (15:11), function (10:8) and dword register (7:2);
/// bits 30:24 and 1:0 are reserved and read 0. CONFIG_DATA (0xCFC–0xCFF) then reads or
/// writes 1, 2 or 4 bytes of that register at the port's offset. With the enable bit
/// clear, or for a function nobody registered, reads return all ones and writes vanish.
public final class PCIHostBridge: Device {
    public let name = "pci-host"
    public let portRanges: [ClosedRange<UInt16>] = [PCIHostBridge.addressPort...PCIHostBridge.dataPort + 3]

    /// CONFIG_ADDRESS.
    public static let addressPort: UInt16 = 0xCF8
    /// The first port of CONFIG_DATA (0xCFC–0xCFF).
    public static let dataPort: UInt16 = 0xCFC

    private static let enableBit: UInt32 = 0x8000_0000
    private static let implementedAddressBits: UInt32 = 0x80FF_FFFC

    private var configAddress: UInt32 = 0
    /// Registered functions by bus << 8 | device << 3 | function (CONFIG_ADDRESS bits 23:8).
    private var functions: [UInt16: PCIConfigurationSpace] = [:]

    /// Creates the mechanism with the host bridge registered at 00:00.0: an Intel
    /// 82G33/P35 DRAM controller (8086:29C0, the one QEMU's q35 board shows), class
    /// 06/00/00, header type 0, read-only IDs and a writable command register.
    public init() {
        let bridge = PCIConfigurationSpace(vendorID: 0x8086, deviceID: 0x29C0, classCode: 0x06_00_00)
        // Command register: memory space and bus master on; the PCI-defined control bits
        // (I/O, memory, bus master, parity error response, SERR#, interrupt disable) writable.
        bridge.define(offset: 0x04, size: 2, value: 0x0006, writableMask: 0x0547)
        registerFunction(bus: 0, device: 0, function: 0, space: bridge)
    }

    /// Makes a function visible in configuration space (replacing any function already
    /// at that address). `device` must be below 32 and `function` below 8.
    public func registerFunction(bus: UInt8, device: UInt8, function: UInt8, space: PCIConfigurationSpace) {
        precondition(device < 32 && function < 8, "PCI device 0–31, function 0–7")
        functions[UInt16(bus) << 8 | UInt16(device) << 3 | UInt16(function)] = space
    }

    /// Claims dword accesses at CONFIG_ADDRESS and accesses within CONFIG_DATA's four bytes.
    public func decodes(port: UInt16, size: Int) -> Bool {
        if port == Self.addressPort { return size == 4 }
        guard port >= Self.dataPort, port <= Self.dataPort + 3, [1, 2, 4].contains(size) else { return false }
        return Int(port - Self.dataPort) + size <= 4
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        if port == Self.addressPort { return configAddress }
        guard let (space, offset) = selectedRegister(port: port) else {
            return UInt32.max >> (32 - 8 * UInt32(size))
        }
        return space.read(offset: offset, size: size)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        if port == Self.addressPort {
            configAddress = value & Self.implementedAddressBits
        } else if let (space, offset) = selectedRegister(port: port) {
            space.write(offset: offset, size: size, value: value)
        }
    }

    /// A platform reset clears CONFIG_ADDRESS and returns every function's registers to
    /// their power-on values.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        configAddress = 0
        functions.values.forEach { $0.reset() }
    }

    /// The function and byte offset a CONFIG_DATA access at `port` reaches, if enabled
    /// and present.
    private func selectedRegister(port: UInt16) -> (PCIConfigurationSpace, Int)? {
        guard configAddress & Self.enableBit != 0,
              let space = functions[UInt16(truncatingIfNeeded: configAddress >> 8)] else { return nil }
        return (space, Int(configAddress & 0xFC) + Int(port - Self.dataPort))
    }
}
