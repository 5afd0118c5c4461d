/// A boot module as the user gives it: its bytes and its string.
public struct MultibootModule: Equatable, Sendable {
    public var bytes: [UInt8]
    public var string: String

    public init(bytes: [UInt8], string: String) {
        self.bytes = bytes
        self.string = string
    }
}

/// A Multiboot boot laid out in physical memory: what the firmware copies where, where it
/// jumps, and what it passes in EBX. The firmware performs it on every boot
/// (``ResetVectorROM``, `MultibootEntry.swift`), so every kind of reset boots the kernel afresh.
///
/// Placement:
/// - the kernel's segments where its header or ELF program headers say, each wholly inside
///   RAM the memory map offers the operating system;
/// - the modules in order, each on a page (4 KiB) boundary, from the first page at or above
///   both 1 MiB and the kernel's end (bss included), as the specification asks of a loader
///   (3.1.3, `bss_end_addr`: nothing the OS needs is placed in the kernel's bss);
/// - the information structure, memory map, module records and strings as one block at
///   ``informationBase`` (0x90000), in the top of conventional memory below the extended
///   BIOS data area, which the firmware leaves unused once it has booted.
public struct MultibootLoad: Equatable, Sendable {
    /// The value in EAX that tells the kernel a Multiboot loader started it (3.2).
    public static let bootloaderMagic: UInt32 = 0x2BAD_B002
    /// Where the information block goes.
    public static let informationBase: UInt32 = 0x9_0000
    static let pageSize: UInt64 = 4096

    /// What to copy where, in order: the kernel's segments, the modules, the information block.
    public let chunks: [LoadChunk]
    /// Where to jump (EIP).
    public let entry: UInt32
    /// The information structure's address (EBX).
    public let informationAddress: UInt32
    /// The information the block holds.
    public let information: MultibootInformation

    /// Lays out `kernel` and `modules` on a machine with `memoryMap`.
    /// - Throws: ``MultibootError`` when something lies outside RAM or does not fit.
    public init(kernel: MultibootImage, modules: [MultibootModule], commandLine: String,
                memoryMap: MemoryMap) throws(MultibootError) {
        var kernelEnd: UInt64 = 0
        for segment in kernel.segments {
            let range = segment.range
            guard memoryMap.availableRegion(containing: range) != nil else {
                throw .kernelOutsideRAM(range.lowerBound, range.upperBound)
            }
            kernelEnd = max(kernelEnd, range.upperBound)
        }

        var placed: [MultibootInformation.Module] = []
        var moduleChunks: [LoadChunk] = []
        var next = MultibootLoad.pageAligned(max(kernelEnd, MemoryMap.extendedMemoryBase))
        for module in modules {
            let end = next + UInt64(module.bytes.count)
            let ramEnd = memoryMap.availableRegion(containing: next..<next + 1)?.end ?? MemoryMap.extendedMemoryBase
            guard end <= ramEnd else { throw .modulesDoNotFit(end: end, ramEnd: ramEnd) }
            placed.append(MultibootInformation.Module(start: UInt32(next), end: UInt32(end), string: module.string))
            moduleChunks.append(LoadChunk(address: UInt32(next), bytes: module.bytes))
            next = MultibootLoad.pageAligned(end)
        }

        let information = MultibootInformation(memoryMap: memoryMap, commandLine: commandLine, modules: placed)
        let base = MultibootLoad.informationBase
        let block = information.encoded(at: base)
        let capacity = memoryMap.availableRegion(containing: UInt64(base)..<UInt64(base) + 1).map { Int($0.end) - Int(base) } ?? 0
        guard block.count <= capacity else { throw .bootInformationTooLarge(size: block.count, capacity: capacity) }
        let blockRange = UInt64(base)..<UInt64(base) + UInt64(block.count)
        if let clash = kernel.segments.first(where: { $0.range.overlaps(blockRange) }) {
            throw .kernelOverlapsBootInformation(clash.range.lowerBound, clash.range.upperBound)
        }

        chunks = kernel.segments + moduleChunks + [LoadChunk(address: base, bytes: block)]
        entry = kernel.entry
        informationAddress = base
        self.information = information
    }

    static func pageAligned(_ address: UInt64) -> UInt64 {
        (address + pageSize - 1) & ~(pageSize - 1)
    }
}
