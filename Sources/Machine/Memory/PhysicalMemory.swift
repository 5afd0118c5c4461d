#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import X86

/// Guest RAM from address 0 and the firmware ROM, as host memory the CPU maps page by page.
///
/// The ROM sits just below 4 GiB and is aliased below 1 MiB, ending at 0xFFFFF: a 64 KiB
/// ROM covers 0xF0000–0xFFFFF, larger ones extend downward, as on real boards. Like an
/// ICH's firmware-hub decode, the top of 4 GiB also answers with address bit 20 clear, so
/// the first fetch at FFFFFFF0h works while the A20 gate is still off (it masks bit 20). The legacy
/// window 0xA0000 up to the ROM alias is not RAM (VGA and option-ROM space): it reads as
/// all ones unless a device claims it.
public final class PhysicalMemory {
    public let ramSize: Int
    let ram: UnsafeMutablePointer<UInt8>
    public private(set) var rom: [UInt8] = []
    private var romStorage: UnsafeMutablePointer<UInt8>?

    /// Start of the legacy hole below 1 MiB.
    static let legacyHoleStart: UInt64 = 0xA0000
    static let fourGiB: UInt64 = 1 << 32

    /// Maps `ramSize` bytes of zeroed guest RAM; throws when the host cannot provide them.
    /// With `populated`, the host backs every page now rather than at the guest's first access
    /// to it: `resetvector bench` asks for this so that its clock measures the interpreter, not
    /// the host's page faults.
    public init(ramSize: Int, populated: Bool = false) throws(MachineError) {
        precondition(ramSize > 0 && ramSize % 4096 == 0, "RAM size must be a positive multiple of 4 KiB")
        self.ramSize = ramSize
        guard let ram = PhysicalMemory.mapRAM(ramSize) else { throw .memoryUnavailable(ramSize) }
        self.ram = ram
        if populated {
            // A store faults the page in; the memory is still all zero, so storing zero changes nothing.
            for offset in stride(from: 0, to: ramSize, by: 4096) { ram[offset] = 0 }
        }
    }

    deinit {
        munmap(ram, ramSize)
        romStorage?.deallocate()
    }

    /// Anonymous zero-filled host memory for guest RAM. On Linux it asks for transparent huge
    /// pages: a guest that touches tens of MiB (paging structures, a kernel) otherwise spends
    /// much of its time in host TLB misses.
    private static func mapRAM(_ size: Int) -> UnsafeMutablePointer<UInt8>? {
        guard let address = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              address != MAP_FAILED else { return nil }
        #if os(Linux)
        _ = madvise(address, size, MADV_HUGEPAGE)
        #endif
        return address.assumingMemoryBound(to: UInt8.self)
    }

    /// Installs a ROM image (64, 128, 256 or 512 KiB).
    public func installROM(_ image: [UInt8]) {
        romStorage?.deallocate()
        let storage = UnsafeMutablePointer<UInt8>.allocate(capacity: image.count)
        image.withUnsafeBufferPointer { storage.initialize(from: $0.baseAddress!, count: image.count) }
        romStorage = storage
        rom = image
    }

    var romLowBase: UInt64 { 0x10_0000 - UInt64(rom.count) }
    var romHighBase: UInt64 { PhysicalMemory.fourGiB - UInt64(rom.count) }

    /// The host page for a physical page number, or `nil` for MMIO/unmapped (and for ROM when writing).
    func page(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>? {
        let address = pageNumber << 12
        if let romStorage, !rom.isEmpty {
            let highAlias = address | (1 << 20)
            if address >= PhysicalMemory.fourGiB - (2 << 20), highAlias >= romHighBase, highAlias < PhysicalMemory.fourGiB {
                return write ? nil : romStorage + Int(highAlias - romHighBase)
            }
            if address >= romLowBase && address < 0x10_0000 {
                return write ? nil : romStorage + Int(address - romLowBase)
            }
        }
        if address >= PhysicalMemory.legacyHoleStart && address < 0x10_0000 { return nil }
        if address < UInt64(ramSize) { return ram + Int(address) }
        return nil
    }

    // MARK: Host-side access (loaders, tests, the debugger)

    /// Copies bytes into RAM (CPUs must be told with `invalidateCode`).
    public func write(_ bytes: [UInt8], at address: UInt64) {
        precondition(address + UInt64(bytes.count) <= UInt64(ramSize), "image does not fit in RAM")
        bytes.withUnsafeBufferPointer { (ram + Int(address)).update(from: $0.baseAddress!, count: bytes.count) }
    }

    /// Reads bytes of RAM.
    public func read(_ address: UInt64, count: Int) -> [UInt8] {
        precondition(address + UInt64(count) <= UInt64(ramSize), "read past the end of RAM")
        return Array(UnsafeBufferPointer(start: ram + Int(address), count: count))
    }

    /// Makes all of RAM read as zeros (a power cycle that does not keep RAM). On Linux the
    /// pages go back to the host, which maps zero pages again at the guest's next touch, so
    /// a power cycle costs about what a warm reset does and the process shrinks.
    public func clearRAM() {
        #if os(Linux)
        if madvise(ram, ramSize, MADV_DONTNEED) == 0 { return }
        #endif
        ram.update(repeating: 0, count: ramSize)
    }
}
