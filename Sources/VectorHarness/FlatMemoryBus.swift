import X86

/// A bus with flat RAM from address 0 and nothing else: the test rig of the vectors.
/// Port reads return all ones (an idle bus), port writes are dropped.
final class FlatMemoryBus: Bus {
    let size: Int
    let memory: UnsafeMutablePointer<UInt8>

    init(size: Int) {
        self.size = size
        memory = .allocate(capacity: size)
        memory.initialize(repeating: 0, count: size)
    }

    deinit { memory.deallocate() }

    func memoryPage(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>? {
        let start = Int(pageNumber) << 12
        return start + 4096 <= size ? memory + start : nil
    }
    func readPhysical(_ address: UInt64, size: Int) -> UInt64 { ~0 }
    func writePhysical(_ address: UInt64, size: Int, value: UInt64) {}
    func readPort(_ port: UInt16, size: Int) -> UInt32 { ~0 }
    func writePort(_ port: UInt16, size: Int, value: UInt32) {}
}
