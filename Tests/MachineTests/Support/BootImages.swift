import Testing

/// Kernel images for the Multiboot tests, written byte by byte from the ELF and Multiboot
/// specifications (no external tools).
enum BootImage {
    /// One `PT_LOAD` segment of a test executable.
    struct Segment {
        var physicalAddress: UInt32
        var virtualAddress: UInt32
        var bytes: [UInt8]
        var memorySize: UInt32

        init(at physicalAddress: UInt32, virtual virtualAddress: UInt32? = nil, bytes: [UInt8], memorySize: UInt32? = nil) {
            self.physicalAddress = physicalAddress
            self.virtualAddress = virtualAddress ?? physicalAddress
            self.bytes = bytes
            self.memorySize = memorySize ?? UInt32(bytes.count)
        }
    }

    /// Where `elf(entry:segments:)` puts the first segment's bytes in the file: after the
    /// 52-byte ELF header and one 32-byte program header per segment.
    static func firstSegmentOffset(segmentCount: Int) -> Int { 52 + 32 * segmentCount }

    /// An ELF32 little-endian i386 `ET_EXEC` file; the segments' bytes follow the program
    /// header table back to back. `patch` may spoil the finished file.
    static func elf(entry: UInt32, segments: [Segment], patch: (inout [UInt8]) -> Void = { _ in }) -> [UInt8] {
        var file: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 1, 1, 1, 0] + [UInt8](repeating: 0, count: 8)
        file += le16(2) + le16(3) + le32(1)                 // e_type ET_EXEC, e_machine EM_386, e_version
        file += le32(entry) + le32(52) + le32(0) + le32(0)  // e_entry, e_phoff, e_shoff, e_flags
        file += le16(52) + le16(32) + le16(UInt16(segments.count)) + le16(40) + le16(0) + le16(0)
        var offset = firstSegmentOffset(segmentCount: segments.count)
        for segment in segments {
            file += le32(1) + le32(UInt32(offset)) + le32(segment.virtualAddress) + le32(segment.physicalAddress)
            file += le32(UInt32(segment.bytes.count)) + le32(segment.memorySize) + le32(7) + le32(0x1000)
            offset += segment.bytes.count
        }
        for segment in segments { file += segment.bytes }
        patch(&file)
        return file
    }

    /// Address fields of a Multiboot header (flag bit 16).
    struct AddressFields {
        var header: UInt32, load: UInt32, loadEnd: UInt32, bssEnd: UInt32, entry: UInt32
    }

    /// A Multiboot header: magic, flags, checksum, then the address fields if given (and
    /// flag bit 16 set for them).
    static func multibootHeader(flags: UInt32 = 0, addressFields: AddressFields? = nil, checksumError: UInt32 = 0) -> [UInt8] {
        let flags = flags | (addressFields == nil ? 0 : 1 << 16)
        var header = le32(0x1BAD_B002) + le32(flags) + le32(0 &- 0x1BAD_B002 &- flags &+ checksumError)
        if let f = addressFields { header += le32(f.header) + le32(f.load) + le32(f.loadEnd) + le32(f.bssEnd) + le32(f.entry) }
        return header
    }

    static func le16(_ value: UInt16) -> [UInt8] { [UInt8(value & 0xFF), UInt8(value >> 8)] }
    static func le32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}

extension Array where Element == UInt8 {
    /// The 32-bit little-endian value at `offset` (the tests read what the loader wrote).
    func le32(at offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(self[offset + $1]) << (8 * $1) }
    }

    /// The 64-bit little-endian value at `offset`.
    func le64(at offset: Int) -> UInt64 {
        UInt64(le32(at: offset)) | UInt64(le32(at: offset + 4)) << 32
    }

    /// The NUL-terminated string at `offset`.
    func cString(at offset: Int) -> String {
        String(decoding: self[offset...].prefix { $0 != 0 }, as: UTF8.self)
    }
}

/// A bad input for a parameterized test, shown in the log by its name alone (not its bytes).
struct BadInput<Failure: Error & Sendable>: CustomTestStringConvertible, Sendable {
    let name: String
    let bytes: [UInt8]
    let error: Failure

    init(_ name: String, _ bytes: [UInt8], _ error: Failure) {
        self.name = name
        self.bytes = bytes
        self.error = error
    }

    var testDescription: String { name }
}
