import Firmware
import Testing

/// The ELF32 reader: program headers in, segments out; every malformed file a typed error.
@Suite struct ELF32Tests {
    static let code: [UInt8] = [0xF4, 0xEB, 0xFD]

    @Test func loadSegmentsAndEntry() throws {
        let file = BootImage.elf(entry: 0x10_0000, segments: [
            .init(at: 0x10_0000, bytes: Self.code),
            .init(at: 0x20_0000, bytes: [1, 2, 3, 4], memorySize: 0x1000),
        ])
        let elf = try ELF32Executable(parsing: file)
        let start = BootImage.firstSegmentOffset(segmentCount: 2)
        #expect(elf.entry == 0x10_0000)
        #expect(elf.segments.map(\.physicalAddress) == [0x10_0000, 0x20_0000])
        #expect(elf.segments.map(\.virtualAddress) == [0x10_0000, 0x20_0000])
        let ranges: [Range<Int>] = [start..<start + 3, start + 3..<start + 7]
        #expect(elf.segments.map(\.fileRange) == ranges)
        #expect(elf.segments.map(\.memorySize) == [3, 0x1000])
    }

    /// Only PT_LOAD headers with memory count; others (here a PT_NOTE) and empty ones are skipped.
    @Test func otherProgramHeadersAreSkipped() throws {
        let file = BootImage.elf(entry: 0x10_0000, segments: [
            .init(at: 0, bytes: [], memorySize: 0),
            .init(at: 0x10_0000, bytes: Self.code),
            .init(at: 0x30_0000, bytes: [9]),
        ]) { file in file.replaceSubrange(52 + 64..<52 + 68, with: BootImage.le32(4)) }
        let elf = try ELF32Executable(parsing: file)
        #expect(elf.segments.map(\.physicalAddress) == [0x10_0000])
    }

    /// A higher-half kernel: the entry is a virtual address, moved to its physical one.
    @Test func entryInAHigherHalfSegmentIsTranslated() throws {
        let file = BootImage.elf(entry: 0xC010_0010, segments: [
            .init(at: 0x10_0000, virtual: 0xC010_0000, bytes: [UInt8](repeating: 0x90, count: 32)),
        ])
        let elf = try ELF32Executable(parsing: file)
        #expect(elf.entry == 0xC010_0010)
        #expect(elf.physicalEntry == 0x10_0010)
    }

    static let valid = BootImage.elf(entry: 0x10_0000, segments: [.init(at: 0x10_0000, bytes: code)])

    static let malformed: [BadInput<ELFError>] = [
        .init("not ELF", [0x4D, 0x5A, 0x90, 0x00] + [UInt8](repeating: 0, count: 60), .notELF),
        .init("truncated", Array(valid.prefix(40)), .truncatedHeader(size: 40)),
        .init("64-bit", patched(valid, at: 4, [2]), .not32Bit(elfClass: 2)),
        .init("big-endian", patched(valid, at: 5, [2]), .notLittleEndian(encoding: 2)),
        .init("shared object", patched(valid, at: 16, [3, 0]), .notExecutable(type: 3)),
        .init("x86-64", patched(valid, at: 18, [62, 0]), .notI386(machine: 62)),
        .init("small phentsize", patched(valid, at: 42, [16, 0]), .programHeaderTooSmall(size: 16)),
        .init("phoff past end", patched(valid, at: 28, BootImage.le32(0xFFFF_FF00)), .programHeadersOutsideFile),
        .init("phnum too big", patched(valid, at: 44, [0xFF, 0xFF]), .programHeadersOutsideFile),
        .init("p_offset past end", patched(valid, at: 52 + 4, BootImage.le32(0x1000)), .segmentOutsideFile(index: 0)),
        .init("p_filesz past end", patched(valid, at: 52 + 16, BootImage.le32(0xFFFF_FFFF)), .segmentOutsideFile(index: 0)),
        .init("filesz > memsz", patched(valid, at: 52 + 20, BootImage.le32(2)), .segmentFileSizeExceedsMemorySize(index: 0)),
        .init("beyond 4 GiB", patched(valid, at: 52 + 12, BootImage.le32(0xFFFF_FFFE)), .segmentBeyond4GiB(index: 0)),
        .init("no PT_LOAD", patched(valid, at: 52, BootImage.le32(6)), .noLoadableSegment),
        .init("no program headers", patched(valid, at: 44, [0, 0]), .noLoadableSegment),
    ]

    static func patched(_ file: [UInt8], at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
        var file = file
        file.replaceSubrange(offset..<offset + bytes.count, with: bytes)
        return file
    }

    @Test(arguments: malformed)
    func malformedFilesAreTypedErrors(input: BadInput<ELFError>) {
        #expect(throws: input.error) { try ELF32Executable(parsing: input.bytes) }
    }
}
