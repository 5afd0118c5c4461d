import Firmware
import Testing

/// The setup header checks (Linux's `Documentation/arch/x86/boot.rst`): what the loader takes
/// and the one line it refuses the rest with.
@Suite struct LinuxImageTests {
    typealias Header = SyntheticBzImage.Header

    @Test func readsTheSetupHeader() throws {
        let payload = [UInt8](repeating: 0xC3, count: 100)
        let image = try LinuxKernelImage(SyntheticBzImage.make(payload: payload))
        #expect(image.protocolVersion == 0x020F)
        #expect(image.setupSectors == 4)
        #expect(image.relocatable)
        #expect(image.kernelAlignment == 0x20_0000)
        #expect(image.commandLineSize == 2047)
        #expect(image.initrdAddressMax == 0x7FFF_FFFF)
        #expect(image.preferredAddress == 0x100_0000)
        #expect(image.initSize == 0x10_0000)
        #expect(image.protectedModeKernel == payload + [UInt8](repeating: 0, count: 12), "everything after the setup sectors")
        #expect(image.setupHeader.count == 0x26C - 0x1F1, "0x1F1 up to the end the jump at 0x200 names")
        #expect(image.setupHeader[0x202 - 0x1F1..<0x206 - 0x1F1] == Array("HdrS".utf8)[...])
    }

    @Test func zeroSetupSectorsMeansFour() throws {
        var header = Header()
        header.setupSectors = 0
        #expect(try LinuxKernelImage(SyntheticBzImage.make(header)).setupSectors == 4)
    }

    @Test func detectsTheFormatByItsSignature() {
        #expect(LinuxKernelImage.isBzImage(SyntheticBzImage.make()))
        var header = Header()
        header.magic = Array("HdrX".utf8)
        #expect(!LinuxKernelImage.isBzImage(SyntheticBzImage.make(header)))
        #expect(!LinuxKernelImage.isBzImage([0x7F, 0x45, 0x4C, 0x46]))
    }

    /// XLF_KERNEL_64 in xloadflags, which exists from protocol 2.12 on, marks a 64-bit kernel.
    @Test func tellsA64BitKernelByItsLoadFlags() {
        var header = Header()
        #expect(!LinuxKernelImage.isKernel64(SyntheticBzImage.make(header)))
        header.xLoadFlags = 0x7F
        #expect(LinuxKernelImage.isKernel64(SyntheticBzImage.make(header)))
        header.xLoadFlags = 0x7E
        #expect(!LinuxKernelImage.isKernel64(SyntheticBzImage.make(header)))
        header.xLoadFlags = 1
        header.version = 0x020B
        #expect(!LinuxKernelImage.isKernel64(SyntheticBzImage.make(header)))
    }

    static let refusals: [(String, Header, LinuxBootError, String)] = {
        var cases: [(String, Header, LinuxBootError, String)] = []
        var h = Header(); h.magic = Array("HdrX".utf8)
        cases.append(("no signature", h, .notBzImage, "not a Linux bzImage: no \"HdrS\" boot protocol signature at offset 0x202"))
        h = Header(); h.version = 0x0205
        cases.append(("protocol 2.05", h, .protocolTooOld(0x0205), "boot protocol 2.05 is older than 2.06, the oldest this loader takes"))
        h = Header(); h.loadFlags = 0
        cases.append(("zImage", h, .notLoadedHigh, "the kernel does not load high (LOADED_HIGH clear: a zImage); only bzImages boot"))
        h = Header(); h.kernelAlignment = 0x30_0000
        cases.append(("alignment", h, .badAlignment(0x30_0000), "the relocatable kernel's kernel_alignment 0x300000 is not a power of two"))
        h = Header(); h.systemParagraphs = 0
        cases.append(("syssize 0", h, .noProtectedModeKernel, "the bzImage's setup header says its protected-mode kernel is empty (syssize 0)"))
        h = Header(); h.systemParagraphs = 100
        cases.append(("syssize beyond the file", h, .truncated(needed: 5 * 512 + 1600, fileSize: 5 * 512 + 64),
                      "truncated bzImage: its setup header asks for 4160 bytes, the file has 2624"))
        return cases
    }()

    @Test(arguments: refusals.indices)
    func refusesWithOneLine(_ index: Int) {
        let (name, header, error, message) = Self.refusals[index]
        #expect(throws: error, "\(name)") { try LinuxKernelImage(SyntheticBzImage.make(header)) }
        #expect(error.description == message)
        #expect(!message.contains("\n"))
    }

    @Test func refusesTruncatedFiles() {
        let file = SyntheticBzImage.make()
        #expect(throws: LinuxBootError.truncated(needed: 1024, fileSize: 600)) { try LinuxKernelImage(Array(file.prefix(600))) }
        // The setup sectors cut short: the file ends inside them.
        #expect(throws: LinuxBootError.truncated(needed: 5 * 512 + 64, fileSize: 2000)) { try LinuxKernelImage(Array(file.prefix(2000))) }
        #expect(throws: LinuxBootError.self) { try LinuxKernelImage([]) }
    }
}
