/// A Linux bzImage as the x86 boot protocol describes it (Linux's
/// `Documentation/arch/x86/boot.rst`): the real-mode setup (boot sector and setup sectors,
/// holding the setup header at 0x1F1) followed by the protected-mode kernel.
///
/// The loader takes what a modern boot loader takes and refuses the rest with one line
/// (``LinuxBootError``): the "HdrS" signature at 0x202, boot protocol 2.06 or later (which has
/// `cmdline_size`, `initrd_addr_max`, `kernel_alignment` and `relocatable_kernel`), a kernel
/// that loads high (`LOADED_HIGH`: a bzImage, not a zImage), a power-of-two alignment for a
/// relocatable kernel, and a file as long as its header says.
public struct LinuxKernelImage: Equatable, Sendable {
    /// "HdrS", little-endian, at 0x202.
    public static let headerMagic: UInt32 = 0x5372_6448
    public static let magicOffset = 0x202
    /// The oldest boot protocol taken: 2.06.
    public static let minimumProtocol: UInt16 = 0x0206
    /// Where the setup header starts in the file and in `boot_params`.
    public static let setupHeaderOffset = 0x1F1
    /// `loadflags` bits.
    public static let loadedHigh: UInt8 = 0x01
    public static let canUseHeap: UInt8 = 0x80
    /// An uncompressed payload's start (CONFIG_KERNEL_UNCOMPRESSED: the kernel's ELF image).
    static let elfMagic: [UInt8] = [0x7F, 0x45, 0x4C, 0x46]
    /// The file offsets of the setup header fields the loader reads or writes.
    public enum Field {
        public static let setupSectors = 0x1F1
        public static let sysSize = 0x1F4
        public static let bootFlag = 0x1FE
        public static let jump = 0x200
        public static let version = 0x206
        public static let typeOfLoader = 0x210
        public static let loadFlags = 0x211
        public static let code32Start = 0x214
        public static let ramdiskImage = 0x218
        public static let ramdiskSize = 0x21C
        public static let heapEndPointer = 0x224
        public static let commandLinePointer = 0x228
        public static let initrdAddressMax = 0x22C
        public static let kernelAlignment = 0x230
        public static let relocatableKernel = 0x234
        public static let xLoadFlags = 0x236
        public static let commandLineSize = 0x238
        public static let payloadOffset = 0x248
        public static let payloadLength = 0x24C
        public static let setupData = 0x250
        public static let preferredAddress = 0x258
        public static let initSize = 0x260
    }

    /// The boot protocol version (major in the high byte: 0x020F is 2.15).
    public let protocolVersion: UInt16
    /// 512-byte setup sectors after the boot sector (a 0 in the header means 4).
    public let setupSectors: Int
    public let loadFlags: UInt8
    public let relocatable: Bool
    public let kernelAlignment: UInt32
    /// The longest command line, without its NUL.
    public let commandLineSize: UInt32
    /// The highest address the initrd may occupy.
    public let initrdAddressMax: UInt32
    /// Where the kernel prefers to be loaded (protocol 2.10; before it, 1 MiB).
    public let preferredAddress: UInt64
    /// Bytes the kernel needs from where it runs, to decompress and initialize (protocol 2.10;
    /// before it, the protected-mode kernel's size).
    public let initSize: UInt32
    /// The setup header, 0x1F1 up to the end its jump at 0x200 says, as boot_params takes it.
    public let setupHeader: [UInt8]
    /// The protected-mode kernel: everything after the setup sectors.
    public let protectedModeKernel: [UInt8]

    /// Whether `bytes` carries the boot protocol's "HdrS" signature (the format test `--kernel` uses).
    public static func isBzImage(_ bytes: [UInt8]) -> Bool {
        bytes.uint32(at: magicOffset) == headerMagic
    }

    /// Whether `bytes` is a 64-bit kernel: `xloadflags` (protocol 2.12) has XLF_KERNEL_64, the
    /// 64-bit entry point at 0x200 above the 32-bit one (the kernel's
    /// Documentation/arch/x86/boot.rst).
    public static func isKernel64(_ bytes: [UInt8]) -> Bool {
        guard let version = bytes.uint16(at: Field.version), version >= 0x020C,
              let flags = bytes.uint16(at: Field.xLoadFlags) else { return false }
        return isBzImage(bytes) && flags & 1 != 0
    }

    /// Reads and checks the setup header of `bytes`.
    /// - Throws: ``LinuxBootError`` naming the first check that fails.
    public init(_ bytes: [UInt8]) throws(LinuxBootError) {
        guard bytes.count >= 1024 else { throw .truncated(needed: 1024, fileSize: bytes.count) }
        guard LinuxKernelImage.isBzImage(bytes) else { throw .notBzImage }
        let version = bytes.uint16(at: Field.version)!
        guard version >= LinuxKernelImage.minimumProtocol else { throw .protocolTooOld(version) }
        let flags = bytes[Field.loadFlags]
        guard flags & LinuxKernelImage.loadedHigh != 0 else { throw .notLoadedHigh }
        let sectors = bytes[Field.setupSectors] == 0 ? 4 : Int(bytes[Field.setupSectors])
        let setupEnd = (sectors + 1) * 512
        let headerEnd = Field.jump + 2 + Int(bytes[Field.jump + 1])
        guard headerEnd <= setupEnd, headerEnd <= bytes.count else {
            throw .truncated(needed: max(headerEnd, setupEnd), fileSize: bytes.count)
        }
        let systemSize = Int(bytes.uint32(at: Field.sysSize)!) * 16
        guard systemSize > 0 else { throw .noProtectedModeKernel }
        guard setupEnd + systemSize <= bytes.count else { throw .truncated(needed: setupEnd + systemSize, fileSize: bytes.count) }
        // The compressed kernel inside the protected-mode part (protocol 2.08): it must lie in
        // the file and be in a format the kernel's decompressor knows (or an uncompressed ELF).
        if version >= 0x0208, headerEnd >= Field.payloadLength + 4, bytes.uint32(at: Field.payloadLength)! != 0 {
            let offset = Int(bytes.uint32(at: Field.payloadOffset)!), length = Int(bytes.uint32(at: Field.payloadLength)!)
            guard offset + length <= systemSize else { throw .payloadOutsideKernel(offset: offset, length: length, kernelSize: systemSize) }
            let payload = setupEnd + offset
            guard Initramfs.compressedFormat(bytes, at: payload) != nil || bytes[payload..<min(payload + 4, bytes.count)].elementsEqual(LinuxKernelImage.elfMagic) else {
                throw .payloadNotRecognized(Array(bytes[payload..<min(payload + 6, bytes.count)]))
            }
        }
        let alignment = bytes.uint32(at: Field.kernelAlignment)!
        let relocatable = bytes[Field.relocatableKernel] != 0
        if relocatable && (alignment == 0 || alignment & (alignment - 1) != 0) {
            throw .badAlignment(alignment)
        }
        func u64(_ offset: Int) -> UInt64 {
            UInt64(bytes.uint32(at: offset)!) | UInt64(bytes.uint32(at: offset + 4)!) << 32
        }

        protocolVersion = version
        setupSectors = sectors
        loadFlags = flags
        self.relocatable = relocatable
        kernelAlignment = alignment
        commandLineSize = bytes.uint32(at: Field.commandLineSize)!
        initrdAddressMax = bytes.uint32(at: Field.initrdAddressMax)!
        let modern = version >= 0x020A && headerEnd >= Field.initSize + 4
        preferredAddress = modern ? u64(Field.preferredAddress) : MemoryMap.extendedMemoryBase
        protectedModeKernel = Array(bytes[setupEnd...])
        initSize = modern ? bytes.uint32(at: Field.initSize)! : UInt32(clamping: protectedModeKernel.count)
        setupHeader = Array(bytes[LinuxKernelImage.setupHeaderOffset..<headerEnd])
    }
}

/// A Linux boot laid out in physical memory for the 32-bit boot protocol: what the firmware
/// copies where (the protected-mode kernel, the initrd, `boot_params` and the command line),
/// where it jumps and what it passes in ESI. The firmware performs it on every boot
/// (`LinuxEntry.swift`), so every kind of reset boots the kernel afresh.
///
/// Placement:
/// - the protected-mode kernel at its preferred address (`pref_address`) when it is
///   relocatable and that address suits its alignment, otherwise at 1 MiB (`code32_start`);
///   the kernel needs `init_size` bytes of RAM from where it runs (the larger of the two);
/// - the initrd at the top of the RAM above 1 MiB, page-aligned, below `initrd_addr_max`,
///   clear of the kernel's `init_size`;
/// - `boot_params` (the "zero page") at ``bootParamsAddress`` and the command line after it,
///   in conventional memory below the EBDA, which the firmware leaves unused once it has booted.
public struct LinuxLoad: Equatable, Sendable {
    /// Where `boot_params` goes (4 KiB), and the command line right after it.
    public static let bootParamsAddress: UInt32 = 0x9_0000
    public static let commandLineAddress: UInt32 = 0x9_1000
    public static let bootParamsSize = 4096
    /// 1 MiB: where a kernel that does not relocate is loaded.
    public static let defaultLoadAddress: UInt32 = 0x10_0000
    /// `type_of_loader` 0xFF: a loader without an assigned ID.
    public static let loaderType: UInt8 = 0xFF
    /// `heap_end_ptr`, as QEMU sets it: the setup's heap ends 0x200 below 64 KiB.
    public static let heapEnd: UInt16 = 0xFE00
    /// `boot_params` offsets the loader fills (Linux's `struct boot_params`).
    public enum BootParams {
        public static let acpiRSDPAddress = 0x070
        public static let alternateMemoryKilobytes = 0x1E0
        public static let e820Entries = 0x1E8
        public static let e820Table = 0x2D0
        public static let e820MaximumEntries = 128
        public static let e820EntrySize = 20
    }
    static let pageSize: UInt64 = 4096

    /// What to copy where, in order: the kernel, the initrd (if any), boot_params, the command line.
    public let chunks: [LoadChunk]
    /// The 32-bit entry point (the protected-mode kernel's first byte).
    public let entry: UInt32
    /// Where the kernel was loaded, where its initrd lies and how long it is.
    public let loadAddress: UInt32
    public let initrdAddress: UInt32
    public let initrdSize: UInt32
    /// The `boot_params` bytes as the kernel finds them at ``bootParamsAddress`` (ESI).
    public let bootParams: [UInt8]

    /// Lays out `kernel` with `initrd` and `commandLine` on a machine with `memoryMap`.
    /// - Parameter rsdpAddress: The ACPI RSDP's address for `acpi_rsdp_addr` (protocol 2.14
    ///   and later); `nil` leaves 0, and the kernel searches the EBDA and the BIOS area for it.
    /// - Throws: ``LinuxBootError`` when the command line is too long or something does not fit.
    public init(kernel: LinuxKernelImage, initrd: [UInt8]?, commandLine: String, memoryMap: MemoryMap,
                rsdpAddress: UInt64? = nil) throws(LinuxBootError) {
        let line = Array(commandLine.utf8)
        guard !line.contains(0) else { throw .commandLineHasNUL }
        let lineCapacity = Int(MemoryMap.conventionalMemoryEnd) - Int(LinuxLoad.commandLineAddress) - 1
        let lineLimit = min(Int(kernel.commandLineSize), lineCapacity)
        guard line.count <= lineLimit else { throw .commandLineTooLong(length: line.count, limit: lineLimit) }

        let base = MemoryMap.extendedMemoryBase
        let ramEnd = min(memoryMap.availableRegion(containing: base..<base + 1)?.end ?? base, 1 << 32)
        let preferred = kernel.preferredAddress
        let usePreferred = kernel.relocatable && preferred >= base && preferred % UInt64(kernel.kernelAlignment) == 0
            && preferred + UInt64(kernel.initSize) <= ramEnd
        let load = usePreferred ? preferred : UInt64(LinuxLoad.defaultLoadAddress)
        // Where the kernel runs (Linux's decompressor moves it to its load address rounded up
        // to kernel_alignment, or to its preferred address when that is higher) and how far
        // its init_size reaches from there.
        let alignment = UInt64(max(kernel.kernelAlignment, 1))
        let alignedLoad = kernel.relocatable ? (load + alignment - 1) / alignment * alignment : load
        let runAddress = max(alignedLoad, preferred)
        let kernelEnd = max(runAddress + UInt64(kernel.initSize), load + UInt64(kernel.protectedModeKernel.count))
        guard kernelEnd <= ramEnd else { throw .notEnoughMemory(needed: kernelEnd, ramEnd: ramEnd) }

        var chunks = [LoadChunk(address: UInt32(load), bytes: kernel.protectedModeKernel)]
        var initrdAddress: UInt64 = 0
        let initrdSize = UInt64(initrd?.count ?? 0)
        if let initrd, !initrd.isEmpty {
            try Initramfs.check(initrd)
            let top = min(ramEnd, UInt64(kernel.initrdAddressMax) + 1)
            guard initrdSize <= top, (top - initrdSize) & ~(LinuxLoad.pageSize - 1) >= kernelEnd else {
                throw .initrdDoesNotFit(size: initrdSize, kernelEnd: kernelEnd, top: top)
            }
            initrdAddress = (top - initrdSize) & ~(LinuxLoad.pageSize - 1)
            chunks.append(LoadChunk(address: UInt32(initrdAddress), bytes: initrd))
        }

        var params = [UInt8](repeating: 0, count: LinuxLoad.bootParamsSize)
        params.replaceSubrange(LinuxKernelImage.setupHeaderOffset..<LinuxKernelImage.setupHeaderOffset + kernel.setupHeader.count,
                               with: kernel.setupHeader)
        typealias F = LinuxKernelImage.Field
        params[F.typeOfLoader] = LinuxLoad.loaderType
        params[F.loadFlags] |= LinuxKernelImage.canUseHeap
        params[F.heapEndPointer] = UInt8(LinuxLoad.heapEnd & 0xFF)
        params[F.heapEndPointer + 1] = UInt8(LinuxLoad.heapEnd >> 8)
        params.set(uint32: LinuxLoad.commandLineAddress, at: F.commandLinePointer)
        params.set(uint32: UInt32(initrdAddress), at: F.ramdiskImage)
        params.set(uint32: UInt32(initrdSize), at: F.ramdiskSize)
        params.set(uint32: UInt32(load), at: F.code32Start)
        if let rsdpAddress, kernel.protocolVersion >= 0x020E {
            params.set(uint32: UInt32(truncatingIfNeeded: rsdpAddress), at: BootParams.acpiRSDPAddress)
            params.set(uint32: UInt32(truncatingIfNeeded: rsdpAddress >> 32), at: BootParams.acpiRSDPAddress + 4)
        }
        params.set(uint32: memoryMap.upperMemoryKilobytes, at: BootParams.alternateMemoryKilobytes)
        let regions = memoryMap.regions.prefix(BootParams.e820MaximumEntries)
        params[BootParams.e820Entries] = UInt8(regions.count)
        for (index, region) in regions.enumerated() {
            let at = BootParams.e820Table + index * BootParams.e820EntrySize
            params.set(uint32: UInt32(truncatingIfNeeded: region.base), at: at)
            params.set(uint32: UInt32(truncatingIfNeeded: region.base >> 32), at: at + 4)
            params.set(uint32: UInt32(truncatingIfNeeded: region.length), at: at + 8)
            params.set(uint32: UInt32(truncatingIfNeeded: region.length >> 32), at: at + 12)
            params.set(uint32: region.kind.rawValue, at: at + 16)
        }
        chunks.append(LoadChunk(address: LinuxLoad.bootParamsAddress, bytes: params))
        chunks.append(LoadChunk(address: LinuxLoad.commandLineAddress, bytes: line + [0]))

        self.chunks = chunks
        entry = UInt32(load)
        loadAddress = UInt32(load)
        self.initrdAddress = UInt32(initrdAddress)
        self.initrdSize = UInt32(initrdSize)
        bootParams = params
    }
}

/// Why a Linux kernel cannot be booted: each case is one line for the user.
public enum LinuxBootError: Error, Equatable, Sendable, CustomStringConvertible {
    case notBzImage
    case truncated(needed: Int, fileSize: Int)
    case protocolTooOld(UInt16)
    case notLoadedHigh
    case noProtectedModeKernel
    case badAlignment(UInt32)
    case commandLineHasNUL
    case commandLineTooLong(length: Int, limit: Int)
    case notEnoughMemory(needed: UInt64, ramEnd: UInt64)
    case initrdDoesNotFit(size: UInt64, kernelEnd: UInt64, top: UInt64)
    case payloadOutsideKernel(offset: Int, length: Int, kernelSize: Int)
    case payloadNotRecognized([UInt8])
    case initrdDamaged(offset: Int, reason: String)

    public var description: String {
        switch self {
        case .notBzImage:
            "not a Linux bzImage: no \"HdrS\" boot protocol signature at offset 0x202"
        case .truncated(let needed, let fileSize):
            "truncated bzImage: its setup header asks for \(needed) bytes, the file has \(fileSize)"
        case .protocolTooOld(let version):
            "boot protocol \(version >> 8).\(String(format2: version & 0xFF)) is older than 2.06, the oldest this loader takes"
        case .notLoadedHigh:
            "the kernel does not load high (LOADED_HIGH clear: a zImage); only bzImages boot"
        case .noProtectedModeKernel:
            "the bzImage's setup header says its protected-mode kernel is empty (syssize 0)"
        case .badAlignment(let alignment):
            "the relocatable kernel's kernel_alignment \(hex(alignment)) is not a power of two"
        case .commandLineHasNUL:
            "the kernel command line holds a NUL byte"
        case .commandLineTooLong(let length, let limit):
            "the kernel command line is \(length) bytes; this kernel takes at most \(limit) (cmdline_size)"
        case .notEnoughMemory(let needed, let ramEnd):
            "the kernel needs RAM up to \(hex(needed)) (its init_size from where it runs); RAM above 1 MiB ends at \(hex(ramEnd))"
        case .initrdDoesNotFit(let size, let kernelEnd, let top):
            "the initrd (\(size) bytes) does not fit between the kernel's end \(hex(kernelEnd)) and \(hex(top)) (RAM top or initrd_addr_max)"
        case .payloadOutsideKernel(let offset, let length, let kernelSize):
            "corrupt bzImage: its compressed kernel (payload_offset \(hex(offset)), \(length) bytes) runs past its \(kernelSize)-byte protected-mode part"
        case .payloadNotRecognized(let bytes):
            "corrupt bzImage: its compressed kernel starts with \(bytes.map { String(UInt16($0) | 0x100, radix: 16).dropFirst() }.joined(separator: " ")), no format Linux decompresses (gzip, bzip2, LZMA, XZ, LZO, LZ4, Zstandard) nor ELF"
        case .initrdDamaged(let offset, let reason):
            "the initrd is damaged at byte \(offset): \(reason)"
        }
    }
}

private extension String {
    /// Two decimal digits, as boot protocol minor versions are written (2.06).
    init(format2 value: UInt16) {
        self = value < 10 ? "0\(value)" : "\(value)"
    }
}
