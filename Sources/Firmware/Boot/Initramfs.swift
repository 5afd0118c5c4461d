import CZlib

/// An initrd checked the way Linux's initramfs unpacker reads it (`init/initramfs.c`,
/// `unpack_to_rootfs`): segments, each either a cpio archive in the "newc" format (magic
/// `070701`, or `070702` with checksums) that ends with the entry `TRAILER!!!`, or a
/// compressed stream of such archives, with zero bytes between segments.
///
/// The check catches what a damaged download or a cut-short file looks like before anything
/// boots: a cpio header that is not hex or runs past the end, an entry whose name or data does
/// not fit, an archive without its trailer, and a gzip stream that is corrupt or cut short (it
/// is inflated with zlib, which checks its CRC-32, and the archives inside are walked too).
/// Other compressions Linux takes (bzip2, LZMA, XZ, LZO, LZ4, Zstandard) are recognized by
/// their magic and passed on for the kernel's decompressor to judge. A file that starts as
/// none of these is passed on as well: the kernel takes it for an old-style initrd (a RAM-disk
/// image), so this check does not refuse it.
public enum Initramfs {
    /// The compressed formats Linux's `decompress_method` recognizes, by their leading bytes.
    static let compressedMagics: [(name: String, magic: [UInt8])] = [
        ("gzip", [0x1F, 0x8B]), ("gzip", [0x1F, 0x9E]), ("bzip2", [0x42, 0x5A, 0x68]), ("lzma", [0x5D, 0x00, 0x00]),
        ("xz", [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]), ("lzo", [0x89, 0x4C, 0x5A, 0x4F]),
        ("lz4", [0x02, 0x21, 0x4C, 0x18]), ("zstd", [0x28, 0xB5, 0x2F, 0xFD]),
    ]
    /// The newc header: the magic and 13 fields of 8 hex digits.
    static let headerSize = 110
    static let trailerName = "TRAILER!!!"
    /// The most a gzip segment is inflated to for the check; beyond it the rest goes unchecked.
    static let inflateLimit = 1 << 30

    /// Checks `bytes` as an initramfs.
    /// - Throws: ``LinuxBootError/initrdDamaged(offset:reason:)`` naming the first damage.
    public static func check(_ bytes: [UInt8]) throws(LinuxBootError) {
        guard let first = bytes.first, first == UInt8(ascii: "0") || compressedFormat(bytes, at: 0) != nil else { return }
        var offset = 0
        while offset < bytes.count {
            if bytes[offset] == 0 {
                offset += 1
            } else if bytes[offset] == UInt8(ascii: "0") && offset & 3 == 0 {
                offset = try archiveEnd(bytes, from: offset, inside: nil)
            } else if let format = compressedFormat(bytes, at: offset) {
                guard format == "gzip" else { return }
                offset = try gunzipAndCheck(bytes, from: offset)
            } else {
                throw .initrdDamaged(offset: offset, reason: "neither a cpio archive (070701) nor compressed data follows the previous segment")
            }
        }
    }

    static func compressedFormat(_ bytes: [UInt8], at offset: Int) -> String? {
        compressedMagics.first { bytes.count - offset >= $0.magic.count && bytes[offset..<offset + $0.magic.count].elementsEqual($0.magic) }?.name
    }

    /// Walks the cpio archive at `start` to the end of its trailer entry; returns that offset.
    /// `inside` names the compressed segment (and its offset in the file) the bytes came from.
    static func archiveEnd(_ bytes: [UInt8], from start: Int, inside: (format: String, offset: Int)?) throws(LinuxBootError) -> Int {
        func damaged(_ at: Int, _ reason: String) -> LinuxBootError {
            if let inside { return .initrdDamaged(offset: inside.offset, reason: "in its \(inside.format) data at byte \(at): \(reason)") }
            return .initrdDamaged(offset: at, reason: reason)
        }
        func aligned(_ n: Int) -> Int { (n + 3) & ~3 }
        var offset = start
        while true {
            guard offset + headerSize <= bytes.count else {
                throw damaged(offset, "a cpio header is cut short (the archive ends without its \(trailerName) entry)")
            }
            let magic = String(decoding: bytes[offset..<offset + 6], as: UTF8.self)
            guard magic == "070701" || magic == "070702" else { throw damaged(offset, "bad cpio magic \"\(magic)\" (expected 070701)") }
            var fields: [Int] = []
            for index in 0..<13 {
                let digits = String(decoding: bytes[offset + 6 + index * 8..<offset + 14 + index * 8], as: UTF8.self)
                guard let value = Int(digits, radix: 16), digits.allSatisfy(\.isHexDigit) else {
                    throw damaged(offset, "a cpio header field is not hexadecimal (\"\(digits)\")")
                }
                fields.append(value)
            }
            let fileSize = fields[6], nameSize = fields[11]
            let nameStart = offset + headerSize
            guard nameSize > 0, nameStart + nameSize <= bytes.count, bytes[nameStart + nameSize - 1] == 0 else {
                throw damaged(offset, "a cpio entry's name runs past the end or lacks its NUL")
            }
            let name = String(decoding: bytes[nameStart..<nameStart + nameSize - 1], as: UTF8.self)
            let dataStart = aligned(nameStart + nameSize)
            guard dataStart + fileSize <= bytes.count else {
                throw damaged(offset, "the cpio entry \"\(name)\" says \(fileSize) bytes; the archive ends \(bytes.count - min(dataStart, bytes.count)) bytes after its name")
            }
            offset = aligned(dataStart + fileSize)
            if name == trailerName { return min(offset, bytes.count) }
        }
    }

    /// Inflates the gzip member at `start` (zlib checks its CRC-32 and length) and walks the
    /// cpio archives inside; returns the offset after the member.
    static func gunzipAndCheck(_ bytes: [UInt8], from start: Int) throws(LinuxBootError) -> Int {
        var stream = z_stream()
        // 16 + 15: a gzip wrapper, the largest window.
        guard inflateInit2_(&stream, 16 + 15, zlibVersion(), Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .initrdDamaged(offset: start, reason: "zlib could not start inflating")
        }
        defer { inflateEnd(&stream) }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 20)
        var status = Z_OK
        var consumed = 0
        bytes.withUnsafeBufferPointer { input in
            stream.next_in = UnsafeMutablePointer(mutating: input.baseAddress! + start)
            stream.avail_in = UInt32(input.count - start)
            repeat {
                chunk.withUnsafeMutableBufferPointer { buffer in
                    stream.next_out = buffer.baseAddress
                    stream.avail_out = UInt32(buffer.count)
                    status = inflate(&stream, Z_NO_FLUSH)
                    output.append(contentsOf: buffer[0..<buffer.count - Int(stream.avail_out)])
                }
            } while status == Z_OK && output.count < inflateLimit
            consumed = input.count - start - Int(stream.avail_in)
        }
        switch status {
        case Z_STREAM_END:
            break
        case Z_OK:
            return bytes.count
        case Z_BUF_ERROR:
            throw .initrdDamaged(offset: start, reason: "its gzip data is cut short (\(bytes.count - start) bytes inflate to \(output.count) and stop mid-stream)")
        default:
            let message = stream.msg.map { String(cString: $0) } ?? "zlib status \(status)"
            throw .initrdDamaged(offset: start, reason: "its gzip data is corrupt (\(message))")
        }
        var offset = 0
        while offset < output.count {
            if output[offset] == 0 {
                offset += 1
            } else {
                offset = try archiveEnd(output, from: offset, inside: ("gzip", start))
            }
        }
        return start + consumed
    }
}
