/// Bytes for one stretch of physical memory: copied to `address`, then `zeroFill` zero bytes.
public struct LoadChunk: Equatable, Sendable {
    public let address: UInt32
    public let bytes: [UInt8]
    /// Zero bytes following `bytes` (an ELF segment's or an a.out kernel's bss).
    public let zeroFill: UInt32

    public init(address: UInt32, bytes: [UInt8], zeroFill: UInt32 = 0) {
        self.address = address
        self.bytes = bytes
        self.zeroFill = zeroFill
    }

    /// The physical addresses the chunk occupies.
    public var range: Range<UInt64> {
        UInt64(address)..<UInt64(address) + UInt64(bytes.count) + UInt64(zeroFill)
    }
}

/// A Multiboot (version 1) kernel: its header and what it asks to be loaded where.
///
/// The Multiboot Specification version 0.6.96, section 3.1 ("OS image format"): the header
/// lies wholly in the image's first 8192 bytes, 32-bit aligned, and starts with the magic
/// 0x1BADB002, the flags and a checksum that makes the three sum to zero. With flag bit 16
/// its address fields (3.1.3) say where the image goes, and take precedence over the ELF
/// program headers; without it the image must be an ELF executable.
public struct MultibootImage: Equatable, Sendable {
    /// The header's magic number (3.1.2).
    public static let headerMagic: UInt32 = 0x1BAD_B002
    /// How far into the image the header may lie (3.1.1).
    public static let searchLimit = 8192

    /// Header `flags` bits (3.1.2). Bits 0–15 are requirements a loader must fulfil or refuse.
    public struct Flags: OptionSet, Equatable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Bit 0: boot modules must be page (4 KiB) aligned.
        public static let pageAlignModules = Flags(rawValue: 1 << 0)
        /// Bit 1: the information structure must carry at least `mem_lower`/`mem_upper`.
        public static let memoryInformation = Flags(rawValue: 1 << 1)
        /// Bit 2: the information structure must describe a video mode.
        public static let videoMode = Flags(rawValue: 1 << 2)
        /// Bit 16: the header's address fields say where to load the image.
        public static let addressFields = Flags(rawValue: 1 << 16)

        /// The requirement bits (0–15).
        static let requirements = Flags(rawValue: 0xFFFF)
        /// The requirements this loader fulfils: modules are always page-aligned and the
        /// memory fields always present.
        static let fulfilled: Flags = [.pageAlignModules, .memoryInformation]
    }

    /// The header's address fields (3.1.3), all physical addresses.
    public struct AddressFields: Equatable, Sendable {
        /// Where the header's first byte (the magic) is loaded.
        public let headerAddress: UInt32
        /// Where the image's text begins.
        public let loadAddress: UInt32
        /// The end of the data to load; 0: the rest of the file.
        public let loadEndAddress: UInt32
        /// The end of the bss, zero-filled by the loader; 0: no bss.
        public let bssEndAddress: UInt32
        /// Where the loader jumps.
        public let entryAddress: UInt32
    }

    /// The header's offset in the image.
    public let headerOffset: Int
    public let flags: Flags
    /// The address fields, when flag bit 16 is set.
    public let addressFields: AddressFields?
    /// What to load where: the kernel's segments with their bss.
    public let segments: [LoadChunk]
    /// The physical address of the kernel's first instruction.
    public let entry: UInt32

    /// Finds the header in `image`, checks it, and works out the kernel's segments.
    public init(_ image: [UInt8]) throws(MultibootError) {
        let offset = try MultibootImage.findHeader(in: image)
        headerOffset = offset
        flags = Flags(rawValue: image.uint32(at: offset + 4)!)
        let unfulfilled = flags.intersection(.requirements).subtracting(.fulfilled)
        if unfulfilled.contains(.videoMode) { throw .videoModeRequired }
        if !unfulfilled.isEmpty { throw .unsupportedRequirements(unfulfilled.rawValue) }

        if flags.contains(.addressFields) {
            // The fields sit at header offsets 12–28 and belong to the header, which must
            // lie in the first 8192 bytes too.
            let fieldsEnd = offset + 32
            guard fieldsEnd <= min(image.count, MultibootImage.searchLimit) else { throw .addressFieldsTruncated }
            let fields = AddressFields(headerAddress: image.uint32(at: offset + 12)!, loadAddress: image.uint32(at: offset + 16)!,
                                       loadEndAddress: image.uint32(at: offset + 20)!, bssEndAddress: image.uint32(at: offset + 24)!,
                                       entryAddress: image.uint32(at: offset + 28)!)
            addressFields = fields
            segments = [try MultibootImage.segment(of: image, headerOffset: offset, fields)]
            entry = fields.entryAddress
        } else {
            guard ELF32Executable.hasMagic(image) else { throw .noLoadAddresses }
            let elf: ELF32Executable
            do { elf = try ELF32Executable(parsing: image) } catch { throw .elf(error) }
            addressFields = nil
            segments = elf.segments.map { segment in
                LoadChunk(address: segment.physicalAddress, bytes: Array(image[segment.fileRange]),
                          zeroFill: segment.memorySize - UInt32(segment.fileRange.count))
            }
            entry = elf.physicalEntry
        }
    }

    /// The offset of the first valid header: 32-bit aligned, wholly inside the first 8192
    /// bytes, with the magic and a checksum that makes magic + flags + checksum zero.
    static func findHeader(in image: [UInt8]) throws(MultibootError) -> Int {
        let end = min(image.count, searchLimit) - 12
        var badChecksumAt: Int?
        for offset in stride(from: 0, through: end, by: 4) where image.uint32(at: offset) == headerMagic {
            let flags = image.uint32(at: offset + 4)!, checksum = image.uint32(at: offset + 8)!
            if headerMagic &+ flags &+ checksum == 0 { return offset }
            if badChecksumAt == nil { badChecksumAt = offset }
        }
        if let badChecksumAt { throw .badChecksum(offset: badChecksumAt) }
        throw .headerNotFound
    }

    /// The a.out-kludge image (3.1.3): the file from `header offset - (header_addr -
    /// load_addr)`, `load_end_addr - load_addr` bytes of it (the rest of the file when
    /// `load_end_addr` is 0), at `load_addr`; zeros up to `bss_end_addr` when it is not 0.
    static func segment(of image: [UInt8], headerOffset: Int, _ fields: AddressFields) throws(MultibootError) -> LoadChunk {
        guard fields.loadAddress <= fields.headerAddress else { throw .loadAddressAfterHeaderAddress }
        let fileStart = headerOffset - Int(fields.headerAddress - fields.loadAddress)
        guard fileStart >= 0 else { throw .loadAddressBeforeFileStart }
        let length: Int
        if fields.loadEndAddress == 0 {
            length = image.count - fileStart
        } else {
            guard fields.loadEndAddress >= fields.loadAddress else { throw .loadEndBeforeLoadAddress }
            length = Int(fields.loadEndAddress - fields.loadAddress)
            guard fileStart + length <= image.count else {
                throw .loadEndBeyondFile(needed: fileStart + length, fileSize: image.count)
            }
        }
        let loadEnd = UInt64(fields.loadAddress) + UInt64(length)
        guard loadEnd <= 1 << 32 else { throw .imageBeyond4GiB }
        var zeroFill: UInt32 = 0
        if fields.bssEndAddress != 0 {
            guard UInt64(fields.bssEndAddress) >= loadEnd else { throw .bssEndBeforeLoadEnd }
            zeroFill = UInt32(UInt64(fields.bssEndAddress) - loadEnd)
        }
        return LoadChunk(address: fields.loadAddress, bytes: Array(image[fileStart..<fileStart + length]), zeroFill: zeroFill)
    }
}

/// Why a Multiboot kernel cannot be booted as asked.
public enum MultibootError: Error, Equatable, Sendable, CustomStringConvertible {
    // The image
    case headerNotFound
    case badChecksum(offset: Int)
    case videoModeRequired
    case unsupportedRequirements(UInt32)
    case addressFieldsTruncated
    case noLoadAddresses
    case elf(ELFError)
    case loadAddressAfterHeaderAddress
    case loadAddressBeforeFileStart
    case loadEndBeforeLoadAddress
    case loadEndBeyondFile(needed: Int, fileSize: Int)
    case bssEndBeforeLoadEnd
    case imageBeyond4GiB
    // The layout
    case kernelOutsideRAM(UInt64, UInt64)
    case kernelOverlapsBootInformation(UInt64, UInt64)
    case modulesDoNotFit(end: UInt64, ramEnd: UInt64)
    case bootInformationTooLarge(size: Int, capacity: Int)

    public var description: String {
        switch self {
        case .headerNotFound:
            "not a Multiboot kernel: no header with magic 0x1BADB002 in its first 8192 bytes"
        case .badChecksum(let offset):
            "Multiboot header at offset \(hex(offset)) has a bad checksum (magic + flags + checksum must be 0)"
        case .videoModeRequired:
            "the kernel requires video mode information (Multiboot flag bit 2), which this loader does not provide"
        case .unsupportedRequirements(let bits):
            "the kernel requires unknown Multiboot features (flag bits \(hex(bits)))"
        case .addressFieldsTruncated:
            "Multiboot flag bit 16 is set but the header's address fields lie beyond the file or its first 8192 bytes"
        case .noLoadAddresses:
            "the kernel is not ELF and its Multiboot header has no address fields (flag bit 16)"
        case .elf(let error):
            "bad ELF kernel: \(error)"
        case .loadAddressAfterHeaderAddress:
            "Multiboot address fields: load_addr is above header_addr"
        case .loadAddressBeforeFileStart:
            "Multiboot address fields: load_addr lies before the start of the file"
        case .loadEndBeforeLoadAddress:
            "Multiboot address fields: load_end_addr is below load_addr"
        case .loadEndBeyondFile(let needed, let fileSize):
            "Multiboot address fields: load_end_addr needs \(needed) bytes of a \(fileSize)-byte file"
        case .bssEndBeforeLoadEnd:
            "Multiboot address fields: bss_end_addr is below the end of the loaded image"
        case .imageBeyond4GiB:
            "Multiboot address fields: the image ends beyond 4 GiB"
        case .kernelOutsideRAM(let start, let end):
            "kernel segment \(hex(start))–\(hex(end)) is not in RAM the operating system may use"
        case .kernelOverlapsBootInformation(let start, let end):
            "kernel segment \(hex(start))–\(hex(end)) overlaps the boot information at \(hex(MultibootLoad.informationBase))"
        case .modulesDoNotFit(let end, let ramEnd):
            "the kernel and its modules need memory up to \(hex(end)); RAM ends at \(hex(ramEnd))"
        case .bootInformationTooLarge(let size, let capacity):
            "the boot information (command line, module strings, memory map) takes \(size) bytes; "
                + "the free conventional memory at \(hex(MultibootLoad.informationBase)) holds \(capacity)"
        }
    }
}

/// `0x…` in lowercase hexadecimal, for error messages.
func hex(_ value: some BinaryInteger) -> String {
    "0x" + String(value, radix: 16)
}
