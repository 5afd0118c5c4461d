import X86

/// Guest RAM from physical address 0: one host allocation handed to the CPU page by page.
/// Addresses past the end read as all ones and ignore writes, as an empty bus does.
public final class GuestMemory: Bus {
    public let size: Int
    let bytes: UnsafeMutablePointer<UInt8>

    public init(size: Int) {
        precondition(size > 0 && size % 4096 == 0, "RAM size must be a positive multiple of 4 KiB")
        self.size = size
        bytes = .allocate(capacity: size)
        bytes.initialize(repeating: 0, count: size)
    }

    deinit { bytes.deallocate() }

    /// Copies `data` into RAM at `address` (host side; tell CPUs with `invalidateCode`).
    public func load(_ data: [UInt8], at address: UInt64) {
        precondition(Int(address) + data.count <= size, "image does not fit in RAM")
        data.withUnsafeBufferPointer { (bytes + Int(address)).update(from: $0.baseAddress!, count: data.count) }
    }

    public func memoryPage(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>? {
        let start = Int(truncatingIfNeeded: pageNumber) << 12
        return pageNumber < UInt64(size >> 12) ? bytes + start : nil
    }
    public func readPhysical(_ address: UInt64, size: Int) -> UInt64 { ~0 }
    public func writePhysical(_ address: UInt64, size: Int, value: UInt64) {}
    public func readPort(_ port: UInt16, size: Int) -> UInt32 { ~0 }
    public func writePort(_ port: UInt16, size: Int, value: UInt32) {}
}
