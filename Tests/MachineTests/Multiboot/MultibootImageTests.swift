import Firmware
import Testing

/// Finding and checking the Multiboot header, and where each kind of image goes.
@Suite struct MultibootImageTests {
    static let body: [UInt8] = [0xFA, 0xF4, 0xEB, 0xFC]   // cli; hlt; jmp $-2

    /// An ELF kernel whose only segment starts with the header.
    static func elfKernel(flags: UInt32 = 0, checksumError: UInt32 = 0, bss: UInt32 = 0) -> [UInt8] {
        let bytes = BootImage.multibootHeader(flags: flags, checksumError: checksumError) + body
        return BootImage.elf(entry: 0x10_000C, segments: [.init(at: 0x10_0000, bytes: bytes, memorySize: UInt32(bytes.count) + bss)])
    }

    @Test func elfKernelLoadsByProgramHeaders() throws {
        let kernel = try MultibootImage(Self.elfKernel(flags: 0b11, bss: 0x2000))
        #expect(kernel.headerOffset == BootImage.firstSegmentOffset(segmentCount: 1))
        #expect(kernel.flags == [.pageAlignModules, .memoryInformation])
        #expect(kernel.addressFields == nil)
        #expect(kernel.entry == 0x10_000C)
        #expect(kernel.segments == [LoadChunk(address: 0x10_0000, bytes: BootImage.multibootHeader(flags: 0b11) + Self.body, zeroFill: 0x2000)])
    }

    /// The a.out kludge: the file from `offset - (header_addr - load_addr)` to `load_end_addr`
    /// goes to `load_addr`; bss up to `bss_end_addr` is zeroed; the entry is `entry_addr`.
    @Test func addressFieldsPlaceAFlatImage() throws {
        let fields = BootImage.AddressFields(header: 0x20_0010, load: 0x20_0000, loadEnd: 0x20_0034, bssEnd: 0x20_1000, entry: 0x20_0030)
        let prefix = [UInt8](repeating: 0xAA, count: 0x10)
        let header = BootImage.multibootHeader(addressFields: fields)
        let file = [UInt8](repeating: 0xEE, count: 0x40) + prefix + header + Self.body + [UInt8](repeating: 0x55, count: 100)
        let kernel = try MultibootImage(file)
        #expect(kernel.headerOffset == 0x50)
        let parsed = try #require(kernel.addressFields)
        #expect([parsed.headerAddress, parsed.loadAddress, parsed.loadEndAddress, parsed.bssEndAddress, parsed.entryAddress]
                == [0x20_0010, 0x20_0000, 0x20_0034, 0x20_1000, 0x20_0030])
        #expect(kernel.entry == 0x20_0030)
        #expect(kernel.segments == [LoadChunk(address: 0x20_0000, bytes: prefix + header + Self.body, zeroFill: 0x1000 - 0x34)])
    }

    /// `load_end_addr` 0 loads the rest of the file; `bss_end_addr` 0 means no bss.
    @Test func zeroLoadEndTakesTheRestOfTheFile() throws {
        let fields = BootImage.AddressFields(header: 0x10_0000, load: 0x10_0000, loadEnd: 0, bssEnd: 0, entry: 0x10_0020)
        let file = BootImage.multibootHeader(addressFields: fields) + Self.body + [1, 2, 3]
        let kernel = try MultibootImage(file)
        #expect(kernel.segments == [LoadChunk(address: 0x10_0000, bytes: file, zeroFill: 0)])
    }

    /// Bit 16 wins over the ELF program headers, as the specification says it should.
    @Test func addressFieldsTakePrecedenceOverELF() throws {
        let elfHeaderOffset = UInt32(BootImage.firstSegmentOffset(segmentCount: 1))
        let fields = BootImage.AddressFields(header: 0x30_0000 + elfHeaderOffset, load: 0x30_0000, loadEnd: 0, bssEnd: 0, entry: 0x30_0000)
        let bytes = BootImage.multibootHeader(addressFields: fields) + Self.body
        let file = BootImage.elf(entry: 0x10_0000, segments: [.init(at: 0x10_0000, bytes: bytes)])
        let kernel = try MultibootImage(file)
        #expect(kernel.entry == 0x30_0000)
        #expect(kernel.segments == [LoadChunk(address: 0x30_0000, bytes: file)])
    }

    /// The first header with a good checksum counts, at any 4-byte boundary below 8 KiB.
    @Test func headerSearch() throws {
        let fields = BootImage.AddressFields(header: 0x10_0000, load: 0x10_0000, loadEnd: 0, bssEnd: 0, entry: 0x10_0000)
        let good = BootImage.multibootHeader(addressFields: fields)
        let bad = BootImage.multibootHeader(checksumError: 1)
        let file = [UInt8](repeating: 0, count: 8) + [0x02, 0xB0, 0xAD, 0x1B] + [0, 0] + bad + [0, 0] + good
        #expect(try MultibootImage(file).headerOffset == 8 + 4 + 2 + 12 + 2, "magic at offset 8 without a checksum and a misaligned header are skipped")
        let last = [UInt8](repeating: 0, count: 8192 - 32) + good
        #expect(try MultibootImage(last).headerOffset == 8192 - 32)
    }

    static let images: [BadInput<MultibootError>] = [
        .init("no header", [UInt8](repeating: 0x90, count: 9000), .headerNotFound),
        .init("header after 8 KiB", [UInt8](repeating: 0, count: 8192) + BootImage.multibootHeader(), .headerNotFound),
        .init("tiny file", [0x02, 0xB0, 0xAD, 0x1B], .headerNotFound),
        .init("bad checksum", elfKernel(checksumError: 1), .badChecksum(offset: 84)),
        .init("video mode", elfKernel(flags: 1 << 2), .videoModeRequired),
        .init("unknown requirement", elfKernel(flags: 1 << 3 | 1 << 15 | 1 << 17), .unsupportedRequirements(1 << 3 | 1 << 15)),
        .init("not ELF, no address fields", BootImage.multibootHeader() + body, .noLoadAddresses),
        .init("bad ELF", elfKernel().enumerated().map { $0.offset == 18 ? 62 : $0.element }, .elf(.notI386(machine: 62))),
        .init("fields past 8 KiB", [UInt8](repeating: 0, count: 8192 - 12) + kludge(header: 0x1000, load: 0x1000), .addressFieldsTruncated),
        .init("fields past end", Array(kludge(header: 0x1000, load: 0x1000).prefix(20)), .addressFieldsTruncated),
        .init("load above header", kludge(header: 0x1000, load: 0x1004), .loadAddressAfterHeaderAddress),
        .init("load before file", kludge(header: 0x1010, load: 0x1000), .loadAddressBeforeFileStart),
        .init("load end below load", kludge(header: 0x1000, load: 0x1000, loadEnd: 0xFFF), .loadEndBeforeLoadAddress),
        .init("load end past file", kludge(header: 0x1000, load: 0x1000, loadEnd: 0x1100), .loadEndBeyondFile(needed: 0x100, fileSize: 36)),
        .init("bss end below load end", kludge(header: 0x1000, load: 0x1000, loadEnd: 0x1020, bssEnd: 0x101C), .bssEndBeforeLoadEnd),
        .init("beyond 4 GiB", kludge(header: 0xFFFF_FFF0, load: 0xFFFF_FFF0), .imageBeyond4GiB),
    ]

    static func kludge(header: UInt32, load: UInt32, loadEnd: UInt32 = 0, bssEnd: UInt32 = 0) -> [UInt8] {
        BootImage.multibootHeader(addressFields: .init(header: header, load: load, loadEnd: loadEnd, bssEnd: bssEnd, entry: load)) + body
    }

    @Test(arguments: images)
    func unloadableImagesAreTypedErrors(input: BadInput<MultibootError>) {
        #expect(throws: input.error) { try MultibootImage(input.bytes) }
    }
}
