/// An ELF32 little-endian i386 executable, as much of it as a boot loader needs: the entry
/// point and the loadable (`PT_LOAD`) segments.
///
/// Offsets and values are those of the System V ABI's ELF format (`Elf32_Ehdr`,
/// `Elf32_Phdr`). Parsing checks every offset and size against the file, so a malformed
/// file gives an ``ELFError``, never a trap.
public struct ELF32Executable: Equatable, Sendable {
    /// One `PT_LOAD` program header.
    public struct Segment: Equatable, Sendable {
        /// `p_paddr`: where the segment goes in physical memory.
        public let physicalAddress: UInt32
        /// `p_vaddr`: where the program expects it once its own paging is on.
        public let virtualAddress: UInt32
        /// `p_offset ..< p_offset + p_filesz`: the segment's bytes in the file.
        public let fileRange: Range<Int>
        /// `p_memsz`: the bytes it occupies in memory; those past the file's are zero (bss).
        public let memorySize: UInt32
    }

    /// `e_entry`, as the file gives it (a virtual address).
    public let entry: UInt32
    /// The `PT_LOAD` segments that occupy memory, in program-header order.
    public let segments: [Segment]

    static let headerSize = 52
    static let programHeaderSize = 32
    static let loadSegmentType: UInt32 = 1   // PT_LOAD
    static let executableType: UInt16 = 2    // ET_EXEC
    static let i386Machine: UInt16 = 3       // EM_386

    /// Whether `file` starts with the ELF magic number (`7F 'E' 'L' 'F'`).
    public static func hasMagic(_ file: [UInt8]) -> Bool {
        file.starts(with: [0x7F, 0x45, 0x4C, 0x46])
    }

    /// Parses the ELF and program headers of `file`.
    public init(parsing file: [UInt8]) throws(ELFError) {
        guard ELF32Executable.hasMagic(file) else { throw .notELF }
        guard file.count >= ELF32Executable.headerSize else { throw .truncatedHeader(size: file.count) }
        guard file[4] == 1 else { throw .not32Bit(elfClass: file[4]) }             // EI_CLASS: ELFCLASS32
        guard file[5] == 1 else { throw .notLittleEndian(encoding: file[5]) }      // EI_DATA: ELFDATA2LSB
        // Every field below lies inside the 52 bytes checked above.
        let type = file.uint16(at: 16)!, machine = file.uint16(at: 18)!
        guard type == ELF32Executable.executableType else { throw .notExecutable(type: type) }
        guard machine == ELF32Executable.i386Machine else { throw .notI386(machine: machine) }
        entry = file.uint32(at: 24)!
        let tableOffset = Int(file.uint32(at: 28)!)
        let entrySize = Int(file.uint16(at: 42)!), entryCount = Int(file.uint16(at: 44)!)
        guard entryCount == 0 || entrySize >= ELF32Executable.programHeaderSize else {
            throw .programHeaderTooSmall(size: entrySize)
        }
        guard tableOffset + entrySize * entryCount <= file.count else { throw .programHeadersOutsideFile }

        var segments: [Segment] = []
        for index in 0..<entryCount {
            let header = tableOffset + index * entrySize
            guard file.uint32(at: header)! == ELF32Executable.loadSegmentType else { continue }
            let offset = Int(file.uint32(at: header + 4)!)
            let virtualAddress = file.uint32(at: header + 8)!, physicalAddress = file.uint32(at: header + 12)!
            let fileSize = Int(file.uint32(at: header + 16)!), memorySize = file.uint32(at: header + 20)!
            guard offset + fileSize <= file.count else { throw .segmentOutsideFile(index: index) }
            guard fileSize <= Int(memorySize) else { throw .segmentFileSizeExceedsMemorySize(index: index) }
            guard UInt64(physicalAddress) + UInt64(memorySize) <= 1 << 32 else { throw .segmentBeyond4GiB(index: index) }
            if memorySize == 0 { continue }
            segments.append(Segment(physicalAddress: physicalAddress, virtualAddress: virtualAddress,
                                    fileRange: offset..<offset + fileSize, memorySize: memorySize))
        }
        guard !segments.isEmpty else { throw .noLoadableSegment }
        self.segments = segments
    }

    /// The entry point as a physical address: `e_entry` moved by its segment's
    /// `p_paddr - p_vaddr` when it lies in a segment linked at another virtual address (a
    /// higher-half kernel), as GRUB does; paging is off when a boot loader jumps there.
    public var physicalEntry: UInt32 {
        for segment in segments {
            let offset = entry &- segment.virtualAddress
            if offset < segment.memorySize { return segment.physicalAddress &+ offset }
        }
        return entry
    }
}

/// Why a file is not an ELF32 i386 executable a boot loader can load.
public enum ELFError: Error, Equatable, Sendable, CustomStringConvertible {
    case notELF
    case truncatedHeader(size: Int)
    case not32Bit(elfClass: UInt8)
    case notLittleEndian(encoding: UInt8)
    case notExecutable(type: UInt16)
    case notI386(machine: UInt16)
    case programHeaderTooSmall(size: Int)
    case programHeadersOutsideFile
    case segmentOutsideFile(index: Int)
    case segmentFileSizeExceedsMemorySize(index: Int)
    case segmentBeyond4GiB(index: Int)
    case noLoadableSegment

    public var description: String {
        switch self {
        case .notELF: "not an ELF file"
        case .truncatedHeader(let size): "ELF header truncated: the file has \(size) bytes, the header needs 52"
        case .not32Bit(let elfClass): "ELF class \(elfClass) is not ELFCLASS32 (1)"
        case .notLittleEndian(let encoding): "ELF data encoding \(encoding) is not little-endian (1)"
        case .notExecutable(let type): "ELF type \(type) is not an executable (ET_EXEC, 2)"
        case .notI386(let machine): "ELF machine \(machine) is not i386 (EM_386, 3)"
        case .programHeaderTooSmall(let size): "ELF program header entries of \(size) bytes are smaller than 32"
        case .programHeadersOutsideFile: "ELF program header table lies outside the file"
        case .segmentOutsideFile(let index): "ELF program header \(index): the segment's bytes lie outside the file"
        case .segmentFileSizeExceedsMemorySize(let index): "ELF program header \(index): p_filesz exceeds p_memsz"
        case .segmentBeyond4GiB(let index): "ELF program header \(index): the segment ends beyond 4 GiB"
        case .noLoadableSegment: "ELF file has no loadable (PT_LOAD) segment"
        }
    }
}
