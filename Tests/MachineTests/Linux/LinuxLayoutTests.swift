import Firmware
import Testing

/// Where the loader puts the kernel, the initrd, boot_params and the command line, and the
/// boot_params bytes it fills.
@Suite struct LinuxLayoutTests {
    static let map = MemoryMap.pc(ramSize: 64 << 20, romSize: 64 << 10)

    static func u32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
    }
    static func u64(_ bytes: [UInt8], _ offset: Int) -> UInt64 {
        UInt64(u32(bytes, offset)) | UInt64(u32(bytes, offset + 4)) << 32
    }

    @Test func placesTheKernelAtItsPreferredAddressAndTheInitrdAtTheTop() throws {
        let kernel = try LinuxKernelImage(SyntheticBzImage.make())
        let initrd = [UInt8](repeating: 7, count: 5000)
        let load = try LinuxLoad(kernel: kernel, initrd: initrd, commandLine: "console=ttyS0", memoryMap: Self.map)
        #expect(load.loadAddress == 0x100_0000)
        #expect(load.entry == 0x100_0000)
        #expect(load.initrdAddress == 0x3FF_0000 - 0x2000, "page-aligned, its end at most at the RAM top (below the ACPI tables' 64 KiB)")
        #expect(load.initrdSize == 5000)
        #expect(load.chunks.map(\.address) == [0x100_0000, 0x3FE_E000, 0x9_0000, 0x9_1000])
        #expect(load.chunks[3].bytes == Array("console=ttyS0".utf8) + [0])
        #expect(load.chunks[2].bytes == load.bootParams)
    }

    @Test func fillsBootParams() throws {
        let file = SyntheticBzImage.make()
        let kernel = try LinuxKernelImage(file)
        let load = try LinuxLoad(kernel: kernel, initrd: [1, 2, 3], commandLine: "x", memoryMap: Self.map,
                                 rsdpAddress: 0x9_F010)
        let p = load.bootParams
        #expect(p.count == 4096)
        #expect(Array(p[0x1F1..<0x210]) == Array(file[0x1F1..<0x210]), "the setup header copied from the file")
        #expect(p[0x210] == 0xFF, "type_of_loader: undefined loader")
        #expect(p[0x211] == 0x81, "LOADED_HIGH | CAN_USE_HEAP")
        #expect(Self.u32(p, 0x214) == 0x100_0000, "code32_start: where the kernel was loaded")
        #expect(Self.u32(p, 0x218) == load.initrdAddress && Self.u32(p, 0x21C) == 3)
        #expect(p[0x224] == 0x00 && p[0x225] == 0xFE, "heap_end_ptr 0xFE00")
        #expect(Self.u32(p, 0x228) == 0x9_1000, "cmd_line_ptr")
        #expect(Self.u64(p, 0x070) == 0x9_F010, "acpi_rsdp_addr (protocol 2.14 and later)")
        #expect(Self.u32(p, 0x1E0) == (64 << 10) - 1024 - 64, "alt_mem_k: KiB of RAM above 1 MiB, up to the ACPI tables")
        #expect(p[0x1EF] == 0, "the sentinel stays 0")
        // The e820 table: one 20-byte entry (base, length, type) per memory map region.
        #expect(Int(p[0x1E8]) == Self.map.regions.count)
        for (index, region) in Self.map.regions.enumerated() {
            let at = 0x2D0 + 20 * index
            #expect(Self.u64(p, at) == region.base && Self.u64(p, at + 8) == region.length)
            #expect(Self.u32(p, at + 16) == region.kind.rawValue)
        }
        #expect(Self.u64(p, 0x2D0) == 0 && Self.u64(p, 0x2D8) == 0x9_F000 && Self.u32(p, 0x2E0) == 1,
                "the first entry: conventional memory below the EBDA, RAM")
        #expect(p[(0x2D0 + 20 * Self.map.regions.count)...].allSatisfy { $0 == 0 })
    }

    @Test func olderProtocolsGetNoRSDPAddress() throws {
        var header = SyntheticBzImage.Header()
        header.version = 0x020D
        let load = try LinuxLoad(kernel: LinuxKernelImage(SyntheticBzImage.make(header)), initrd: nil,
                                 commandLine: "", memoryMap: Self.map, rsdpAddress: 0x9_F010)
        #expect(Self.u64(load.bootParams, 0x070) == 0)
        #expect(Self.u32(load.bootParams, 0x218) == 0 && Self.u32(load.bootParams, 0x21C) == 0, "no initrd")
        #expect(load.chunks.count == 3)
    }

    @Test func aKernelThatDoesNotRelocateLoadsAt1MiB() throws {
        var header = SyntheticBzImage.Header()
        header.relocatable = false
        let load = try LinuxLoad(kernel: LinuxKernelImage(SyntheticBzImage.make(header)), initrd: nil,
                                 commandLine: "", memoryMap: Self.map)
        #expect(load.loadAddress == 0x10_0000 && load.entry == 0x10_0000)
    }

    @Test func theInitrdStaysBelowInitrdAddressMax() throws {
        var header = SyntheticBzImage.Header()
        header.initrdAddressMax = 0x2FF_FFFF
        let load = try LinuxLoad(kernel: LinuxKernelImage(SyntheticBzImage.make(header)), initrd: [UInt8](repeating: 1, count: 4096),
                                 commandLine: "", memoryMap: Self.map)
        #expect(load.initrdAddress == 0x2FF_F000)
    }

    @Test func refusals() throws {
        let kernel = try LinuxKernelImage(SyntheticBzImage.make())
        let long = String(repeating: "a", count: 2048)
        #expect(throws: LinuxBootError.commandLineTooLong(length: 2048, limit: 2047)) {
            try LinuxLoad(kernel: kernel, initrd: nil, commandLine: long, memoryMap: Self.map)
        }
        #expect(LinuxBootError.commandLineTooLong(length: 2048, limit: 2047).description
                == "the kernel command line is 2048 bytes; this kernel takes at most 2047 (cmdline_size)")
        #expect(throws: LinuxBootError.commandLineHasNUL) {
            try LinuxLoad(kernel: kernel, initrd: nil, commandLine: "a\u{0}b", memoryMap: Self.map)
        }
        // 16 MiB + 1 MiB of init_size does not fit in 16 MiB of RAM.
        let small = MemoryMap.pc(ramSize: 16 << 20, romSize: 64 << 10)
        #expect(throws: LinuxBootError.notEnoughMemory(needed: 0x110_0000, ramEnd: 0xFF_0000)) {
            try LinuxLoad(kernel: kernel, initrd: nil, commandLine: "", memoryMap: small)
        }
        // An initrd that would reach down into the kernel's init_size.
        let big = [UInt8](repeating: 0, count: (64 - 17) << 20 + 1)
        #expect(throws: LinuxBootError.initrdDoesNotFit(size: UInt64(big.count), kernelEnd: 0x110_0000, top: 0x3FF_0000)) {
            try LinuxLoad(kernel: kernel, initrd: big, commandLine: "", memoryMap: Self.map)
        }
        #expect(LinuxBootError.initrdDoesNotFit(size: 5, kernelEnd: 0x110_0000, top: 0x400_0000).description
                == "the initrd (5 bytes) does not fit between the kernel's end 0x1100000 and 0x4000000 (RAM top or initrd_addr_max)")
    }
}
