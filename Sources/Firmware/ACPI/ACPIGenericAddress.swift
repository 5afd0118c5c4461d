/// A Generic Address Structure (ACPI 6.5 §5.2.3.2, Table 5.1): where a register lives, 12
/// bytes — address space ID (1), register bit width (1), register bit offset (1), access
/// size (1), address (8).
public struct ACPIGenericAddress: Hashable, Sendable {
    /// The address space ID (byte 0).
    public enum Space: UInt8, Hashable, Sendable {
        case systemMemory = 0
        case systemIO = 1
        /// PCI configuration space of a device on segment 0, bus 0; see
        /// ``ACPIGenericAddress/pciConfigurationAddress(device:function:offset:)``.
        case pciConfiguration = 2
    }

    /// The access size (byte 3).
    public enum AccessSize: UInt8, Hashable, Sendable {
        case undefined = 0, byte = 1, word = 2, dword = 3, qword = 4
    }

    public var space: Space
    public var bitWidth: UInt8
    public var bitOffset: UInt8
    public var accessSize: AccessSize
    public var address: UInt64

    public init(space: Space, bitWidth: UInt8, bitOffset: UInt8 = 0, accessSize: AccessSize, address: UInt64) {
        self.space = space
        self.bitWidth = bitWidth
        self.bitOffset = bitOffset
        self.accessSize = accessSize
        self.address = address
    }

    /// The address of a PCI configuration register as a Generic Address Structure gives it
    /// (ACPI 6.5 §5.2.3.2, the address format for `PCI Configuration Space`): bus 0 of
    /// segment 0 only; bits 15–0 the register offset, bits 31–16 the function, bits 47–32
    /// the device, bits 63–48 zero.
    public static func pciConfigurationAddress(device: UInt8, function: UInt8, offset: UInt16) -> UInt64 {
        UInt64(device) << 32 | UInt64(function) << 16 | UInt64(offset)
    }

    /// The 12 bytes, or 12 zero bytes for an absent register.
    static func bytes(of address: ACPIGenericAddress?) -> [UInt8] {
        guard let address else { return Array(repeating: 0, count: 12) }
        return [address.space.rawValue, address.bitWidth, address.bitOffset, address.accessSize.rawValue]
            + littleEndian(address.address, size: 8)
    }
}
