/// The 256-byte configuration space of one PCI function, with a mask of the bits a guest
/// may write. Bits outside the mask are read-only (IDs, class code, header type).
///
/// The board describes each register with `define(offset:size:value:writableMask:)`;
/// `reset()` returns every register to its defined value, as a platform reset does.
public final class PCIConfigurationSpace {
    /// Bytes in a conventional PCI configuration space.
    public static let size = 256

    private var bytes = [UInt8](repeating: 0, count: PCIConfigurationSpace.size)
    private var powerOnBytes = [UInt8](repeating: 0, count: PCIConfigurationSpace.size)
    private var writableMask = [UInt8](repeating: 0, count: PCIConfigurationSpace.size)

    /// Called after every guest write with its offset, size and value as written (before the
    /// writable mask), for functions whose registers do more than hold bits (a base address
    /// that moves a decoder, a write-only command register).
    public var onWrite: ((_ offset: Int, _ size: Int, _ value: UInt32) -> Void)?

    /// Creates a function with the type-0/1 header's identification fields (read-only):
    /// vendor ID (0x00), device ID (0x02), revision (0x08), the 24-bit class code
    /// (base class, subclass, programming interface at 0x0B, 0x0A, 0x09) and header
    /// type (0x0E). Every other register reads 0 until defined.
    public init(vendorID: UInt16, deviceID: UInt16, classCode: UInt32, revision: UInt8 = 0,
                headerType: UInt8 = 0) {
        define(offset: 0x00, size: 2, value: UInt32(vendorID))
        define(offset: 0x02, size: 2, value: UInt32(deviceID))
        define(offset: 0x08, size: 4, value: classCode << 8 | UInt32(revision))
        define(offset: 0x0E, size: 1, value: UInt32(headerType))
    }

    /// Sets a register's power-on value (little-endian, `size` bytes at `offset`) and
    /// which of its bits a guest may write. For the board's use; the range must lie
    /// inside the 256 bytes.
    public func define(offset: Int, size: Int, value: UInt32, writableMask mask: UInt32 = 0) {
        precondition(offset >= 0 && size >= 1 && size <= 4 && offset + size <= Self.size,
                     "PCI configuration register outside the 256-byte space")
        for i in 0..<size {
            let shift = UInt32(8 * i)
            bytes[offset + i] = UInt8(truncatingIfNeeded: value >> shift)
            powerOnBytes[offset + i] = bytes[offset + i]
            writableMask[offset + i] = UInt8(truncatingIfNeeded: mask >> shift)
        }
    }

    /// Reads `size` bytes at `offset`, little-endian; bytes beyond the space read 0xFF.
    public func read(offset: Int, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<4 where i < size {
            let index = offset + i
            let byte = bytes.indices.contains(index) ? bytes[index] : 0xFF
            value |= UInt32(byte) << UInt32(8 * i)
        }
        return value
    }

    /// A guest write of `size` bytes at `offset`: only writable bits change; bytes beyond
    /// the space are ignored.
    public func write(offset: Int, size: Int, value: UInt32) {
        for i in 0..<4 where i < size && bytes.indices.contains(offset + i) {
            let index = offset + i
            let byte = UInt8(truncatingIfNeeded: value >> UInt32(8 * i))
            bytes[index] = bytes[index] & ~writableMask[index] | byte & writableMask[index]
        }
        onWrite?(offset, size, value)
    }

    /// Returns every register to its defined power-on value.
    public func reset() {
        bytes = powerOnBytes
    }
}
