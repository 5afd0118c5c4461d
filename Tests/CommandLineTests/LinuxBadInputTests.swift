import Foundation
import Testing

/// Damaged Linux boot files: a bzImage whose compressed kernel is missing or not compressed
/// data, an initramfs cut short or corrupt, an initrd larger than RAM. Each ends in one line
/// naming the damage and status 1, before anything boots; an intact initramfs boots.
@Suite(.timeLimit(.minutes(2))) struct LinuxBadInputTests {
    /// A newc cpio archive (Linux's initramfs format) of `files`, with its trailer.
    static func cpio(_ files: [(String, [UInt8])], trailer: Bool = true) -> [UInt8] {
        var archive: [UInt8] = []
        func pad() { while archive.count % 4 != 0 { archive.append(0) } }
        for (index, (name, data)) in (files + (trailer ? [("TRAILER!!!", [])] : [])).enumerated() {
            let mode: UInt32 = name == "TRAILER!!!" ? 0 : 0o100755
            let fields: [UInt32] = [UInt32(index + 1), mode, 0, 0, 1, 0, UInt32(data.count), 0, 0, 0, 0,
                                    UInt32(name.utf8.count + 1), 0]
            archive += Array("070701".utf8)
            for field in fields { archive += Array(String(format: "%08X", field).utf8) }
            archive += Array(name.utf8) + [0]
            pad()
            archive += data
            pad()
        }
        return archive
    }

    /// `bytes` compressed by gzip.
    static func gzip(_ bytes: [UInt8], in directory: TemporaryDirectory) throws -> [UInt8] {
        let plain = try directory.file("plain", bytes)
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-n", "-f", plain]
        try gzip.run()
        gzip.waitUntilExit()
        return [UInt8](try Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
    }

    /// The synthetic bzImage of `CommandLineErrorTests` with a compressed-kernel payload
    /// (payload_offset 0, `length` bytes) that starts with `magic`.
    static func bzImage(payloadMagic magic: [UInt8], length: UInt32) -> [UInt8] {
        var file = CommandLineErrorTests.bzImage(paragraphs: 1, present: 16)
        for i in 0..<4 { file[0x24C + i] = UInt8(truncatingIfNeeded: length >> (8 * UInt32(i))) }
        file.replaceSubrange(5 * 512..<5 * 512 + magic.count, with: magic)
        return file
    }

    static let xzMagic: [UInt8] = [0xFD, 0x37, 0x7A, 0x58, 0x5A, 0x00]

    @Test func damagedFilesAreOneLine() throws {
        let directory = try TemporaryDirectory()
        let kernel = try directory.file("bzImage", Self.bzImage(payloadMagic: Self.xzMagic, length: 16))
        let notCompressed = try directory.file("plain-bzImage", Self.bzImage(payloadMagic: [0x12, 0x34], length: 16))
        let pastTheEnd = try directory.file("short-bzImage", Self.bzImage(payloadMagic: Self.xzMagic, length: 4096))
        let archive = Self.cpio([("init", [UInt8](repeating: 0x41, count: 3000))])
        let packed = try Self.gzip(archive, in: directory)
        var badCRC = packed
        badCRC[badCRC.count - 6] ^= 0xFF
        let huge = directory.path("huge")
        #expect(FileManager.default.createFile(atPath: huge, contents: nil))
        #expect(truncate(huge, 64 << 20) == 0)
        let cases: [(file: String, options: [String], fragment: String)] = [
            (notCompressed, [], "\(notCompressed): corrupt bzImage: its compressed kernel starts with 12 34 00 00 00 00, no format Linux decompresses"),
            (pastTheEnd, [], "\(pastTheEnd): corrupt bzImage: its compressed kernel (payload_offset 0x0, 4096 bytes) runs past its 16-byte protected-mode part"),
            (kernel, ["--initrd", try directory.file("cut.cpio", Array(archive.prefix(1000)))],
             "the initrd is damaged at byte 0: the cpio entry \"init\" says 3000 bytes; the archive ends 884 bytes after its name"),
            (kernel, ["--initrd", try directory.file("untrailed.cpio", Self.cpio([("init", [1, 2])], trailer: false))],
             "the initrd is damaged at byte 120: a cpio header is cut short (the archive ends without its TRAILER!!! entry)"),
            (kernel, ["--initrd", try directory.file("cut.gz", Array(packed.prefix(packed.count / 2)))],
             "the initrd is damaged at byte 0: its gzip data is cut short"),
            (kernel, ["--initrd", try directory.file("crc.gz", badCRC)],
             "the initrd is damaged at byte 0: its gzip data is corrupt (incorrect data check)"),
            (kernel, ["--initrd", try directory.file("tail.gz", packed + [0x55, 0x66])],
             "the initrd is damaged at byte \(packed.count): neither a cpio archive (070701) nor compressed data follows"),
            (kernel, ["--initrd", huge, "--memory", "32M"], "initrd \(huge) is 67108864 bytes; at most 33554432"),
        ]
        for (file, options, fragment) in cases {
            let result = try Invocation.run(["run", "--serial", "none", "--kernel", file] + options)
            #expect(result.status == 1, "\(options)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.errorLines.count == 1, "\(result.standardError)")
            #expect(result.errorLines.first?.contains(fragment) == true, "\(result.standardError)")
        }
        // Intact, packed or not, and followed by a second, uncompressed archive (as a
        // microcode archive precedes the initramfs), the initrd is taken and the machine starts.
        // Linux takes an archive only at a 4-byte boundary; zeros pad up to it.
        let padded = packed + [UInt8](repeating: 0, count: (4 - packed.count % 4) % 4 + 4)
        for initrd in [archive, packed, padded + Self.cpio([("extra", [7])])] {
            let path = try directory.file("good", initrd)
            let result = try Invocation.run(["run", "--serial", "none", "--kernel", kernel, "--initrd", path,
                                             "--max-instructions", "1000"])
            #expect(result.status == 4, "\(result.standardError)")
        }
    }
}
