import X86

/// A minimal PC memory and I/O map for CPU tests.
///
/// - RAM of a configurable size from physical address 0.
/// - An optional ROM image mapped at the top of the 4 GiB space (ending at FFFFFFFFh), whose last
///   64 KiB are also aliased at 000F0000h–000FFFFFh, as a PC chipset decodes the BIOS.
/// - Port writes are logged in order; port reads return queued values, or all ones
///   (a floating ISA bus) when nothing is queued.
/// - Physical addresses outside RAM and ROM are unmapped: reads give all ones, writes are dropped.
///
/// It also remembers which pages it handed out for writing, so a test that reuses one bus
/// across many runs can restore exactly the pages a guest may have dirtied.
final class TestBus: Bus {
    static let pageSize = 4096
    /// The part of the ROM that is aliased below 1 MiB.
    static let lowAliasSize = 0x1_0000

    struct PortAccess: Equatable, CustomStringConvertible {
        let port: UInt16
        let size: Int
        let value: UInt32
        var description: String { "port \(hex(port)) ← \(hex(value)) (\(size) bytes)" }
    }

    let ram: UnsafeMutableBufferPointer<UInt8>
    let rom: UnsafeMutableBufferPointer<UInt8>
    /// Physical address of the ROM's first byte in the top-of-4-GiB window.
    let romBase: UInt64

    private(set) var portWrites: [PortAccess] = []
    /// Values returned by successive reads of a port, before it falls back to all ones.
    var portInput: [UInt16: [UInt32]] = [:]
    private(set) var unmappedWrites: [(address: UInt64, size: Int, value: UInt64)] = []
    /// Pages passed out with `write: true` since the last `forgetDirtyPages()`.
    private(set) var dirtyPages: Set<UInt64> = []
    /// Page numbers asked for, in order, while `recordsPageRequests` is set.
    private(set) var pageRequests: [UInt64] = []
    var recordsPageRequests = false
    /// Called after each port write is logged (a device reacting, e.g. asking the CPU to stop).
    var onPortWrite: ((PortAccess) -> Void)?

    init(ramSize: Int = 0x20_0000, rom image: [UInt8] = []) {
        precondition(ramSize % TestBus.pageSize == 0 && image.count % TestBus.pageSize == 0)
        ram = .allocate(capacity: ramSize)
        ram.initialize(repeating: 0)
        rom = .allocate(capacity: image.count)
        _ = rom.initialize(from: image)
        romBase = 0x1_0000_0000 - UInt64(image.count)
    }

    deinit {
        ram.deallocate()
        rom.deallocate()
    }

    // MARK: Bus

    func memoryPage(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>? {
        if recordsPageRequests { pageRequests.append(pageNumber) }
        let address = pageNumber << 12
        if let romOffset = romOffset(of: address) {
            return write ? nil : rom.baseAddress! + romOffset
        }
        guard address < UInt64(ram.count) else { return nil }
        if write { dirtyPages.insert(pageNumber) }
        return ram.baseAddress! + Int(address)
    }

    func readPhysical(_ address: UInt64, size: Int) -> UInt64 {
        size == 8 ? ~0 : (1 << (8 * UInt64(size))) - 1
    }

    func writePhysical(_ address: UInt64, size: Int, value: UInt64) {
        unmappedWrites.append((address, size, value))
    }

    func readPort(_ port: UInt16, size: Int) -> UInt32 {
        if var queued = portInput[port], !queued.isEmpty {
            let value = queued.removeFirst()
            portInput[port] = queued
            return value
        }
        return size == 4 ? ~0 : (1 << (8 * UInt32(size))) - 1
    }

    func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let access = PortAccess(port: port, size: size, value: value)
        portWrites.append(access)
        onPortWrite?(access)
    }

    // MARK: Helpers for tests

    /// The ROM offset a physical address decodes to, if it hits the ROM or its low alias.
    func romOffset(of address: UInt64) -> Int? {
        guard !rom.isEmpty else { return nil }
        if address >= romBase && address < 0x1_0000_0000 { return Int(address - romBase) }
        let aliasSize = min(rom.count, TestBus.lowAliasSize)
        let aliasBase = UInt64(0x10_0000 - aliasSize)
        if address >= aliasBase && address < 0x10_0000 {
            return rom.count - aliasSize + Int(address - aliasBase)
        }
        return nil
    }

    /// Values written to `port`, in order.
    func writes(to port: UInt16) -> [UInt32] {
        portWrites.filter { $0.port == port }.map(\.value)
    }

    func clearLogs() {
        portWrites.removeAll(keepingCapacity: true)
        unmappedWrites.removeAll(keepingCapacity: true)
        pageRequests.removeAll(keepingCapacity: true)
        portInput.removeAll()
    }

    func markDirty(address: Int, length: Int) {
        guard length > 0 else { return }
        for page in (address >> 12)...((address + length - 1) >> 12) { dirtyPages.insert(UInt64(page)) }
    }

    func forgetDirtyPages() { dirtyPages.removeAll(keepingCapacity: true) }

    // Host-side RAM access (little-endian).
    func load(_ bytes: [UInt8], at address: Int) {
        for (i, b) in bytes.enumerated() { ram[address + i] = b }
    }
    func byte(at address: Int) -> UInt8 { ram[address] }
    func word(at address: Int) -> UInt16 { UInt16(ram[address]) | UInt16(ram[address + 1]) << 8 }
    func dword(at address: Int) -> UInt32 { UInt32(word(at: address)) | UInt32(word(at: address + 2)) << 16 }
    func setWord(_ value: UInt16, at address: Int) {
        ram[address] = UInt8(truncatingIfNeeded: value)
        ram[address + 1] = UInt8(truncatingIfNeeded: value >> 8)
    }
    func setDword(_ value: UInt32, at address: Int) {
        setWord(UInt16(truncatingIfNeeded: value), at: address)
        setWord(UInt16(truncatingIfNeeded: value >> 16), at: address + 2)
    }
}

func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16, uppercase: true) }
