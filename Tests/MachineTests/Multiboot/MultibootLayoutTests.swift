import Firmware
import Testing

/// The board's memory map, the information structure's bytes, and where a boot puts what.
@Suite struct MultibootLayoutTests {
    typealias Region = MemoryMap.Region

    @Test func pcMemoryMap() {
        let map = MemoryMap.pc(ramSize: 32 << 20, romSize: 64 << 10)
        #expect(map.regions == [
            Region(base: 0, length: 0x9_F000, kind: .available),
            Region(base: 0x9_F000, length: 0x1000, kind: .reserved),
            Region(base: 0xF_0000, length: 0x1_0000, kind: .reserved),
            Region(base: 0x10_0000, length: 0x1EF_0000, kind: .available),
            Region(base: 0x1FF_0000, length: 0x1000, kind: .acpiNVS),           // the FACS's page
            Region(base: 0x1FF_1000, length: 0xF000, kind: .acpiReclaimable),    // the other tables
            Region(base: 0xFFFF_0000, length: 0x1_0000, kind: .reserved),
        ])
        #expect(map.lowerMemoryKilobytes == 636)
        #expect(map.upperMemoryKilobytes == 31 * 1024 - 64)
    }

    /// 1 MiB of RAM has nothing above 1 MiB; a 512 KiB ROM covers conventional memory from 512 KiB.
    @Test func smallRAMAndLargeROM() {
        let small = MemoryMap.pc(ramSize: 1 << 20, romSize: 64 << 10)
        #expect(small.regions.map(\.kind) == [.available, .reserved, .reserved, .reserved])
        #expect(small.upperMemoryKilobytes == 0)
        let largeROM = MemoryMap.pc(ramSize: 3 << 30, romSize: 512 << 10)
        #expect(largeROM.regions == [
            Region(base: 0, length: 0x8_0000, kind: .available),
            Region(base: 0x8_0000, length: 0x8_0000, kind: .reserved),
            Region(base: 0x10_0000, length: (3 << 30) - 0x10_0000 - 0x1_0000, kind: .available),
            Region(base: (3 << 30) - 0x1_0000, length: 0x1000, kind: .acpiNVS),
            Region(base: (3 << 30) - 0xF000, length: 0xF000, kind: .acpiReclaimable),
            Region(base: 0xFFF8_0000, length: 0x8_0000, kind: .reserved),
        ])
        #expect(largeROM.lowerMemoryKilobytes == 512)
        #expect(largeROM.upperMemoryKilobytes == 3 * 1024 * 1024 - 1024 - 64)
        // Just enough RAM for the tables' 64 KiB above 1 MiB: all of it is theirs.
        let tight = MemoryMap.pc(ramSize: (1 << 20) + (64 << 10), romSize: 64 << 10)
        #expect(tight.regions.map(\.kind) == [.available, .reserved, .reserved, .acpiNVS, .acpiReclaimable, .reserved])
        #expect(tight.upperMemoryKilobytes == 0)
    }

    /// Every field at its 0.6.96 offset; every pointer leads to what it should.
    @Test func informationStructureBytes() {
        let base: UInt32 = 0x9_0000
        let information = MultibootInformation(
            memoryMap: .pc(ramSize: 32 << 20, romSize: 64 << 10), commandLine: "kernel quiet=1",
            modules: [.init(start: 0x10_3000, end: 0x10_3005, string: "initrd"), .init(start: 0x10_4000, end: 0x10_4000, string: "")])
        let block = information.encoded(at: base)
        func at(_ address: UInt32) -> Int { Int(address - base) }

        #expect(block.le32(at: 0) == 0x24D, "flags: mem, cmdline, mods, mmap, boot_loader_name")
        #expect(block.le32(at: 4) == 636)
        #expect(block.le32(at: 8) == 31744 - 64)
        #expect(block.cString(at: at(block.le32(at: 16))) == "kernel quiet=1")
        #expect(block.le32(at: 20) == 2)
        let modules = at(block.le32(at: 24))
        #expect(modules % 4 == 0)
        #expect(block.le32(at: modules) == 0x10_3000)
        #expect(block.le32(at: modules + 4) == 0x10_3005)
        #expect(block.cString(at: at(block.le32(at: modules + 8))) == "initrd")
        #expect(block.le32(at: modules + 12) == 0)
        #expect(block.le32(at: modules + 16) == 0x10_4000)
        #expect(block.le32(at: modules + 20) == 0x10_4000)
        #expect(block.cString(at: at(block.le32(at: modules + 24))) == "")
        #expect(block.le32(at: 44) == 7 * 24, "mmap_length")
        let map = at(block.le32(at: 48))
        let entries = (0..<7).map { i in
            let e = map + 24 * i
            return [UInt64(block.le32(at: e)), block.le64(at: e + 4), block.le64(at: e + 12), UInt64(block.le32(at: e + 20))]
        }
        #expect(entries == [
            [20, 0, 0x9_F000, 1], [20, 0x9_F000, 0x1000, 2], [20, 0xF_0000, 0x1_0000, 2],
            [20, 0x10_0000, 0x1EF_0000, 1], [20, 0x1FF_0000, 0x1000, 4], [20, 0x1FF_1000, 0xF000, 3],
            [20, 0xFFFF_0000, 0x1_0000, 2],
        ])
        #expect(block.cString(at: at(block.le32(at: 64))) == "ResetVector")
        for unset in [12, 28, 32, 36, 40, 52, 56, 60, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112] {
            #expect(block.le32(at: unset) == 0, "offset \(unset)")
        }
    }

    static let ram32M = MemoryMap.pc(ramSize: 32 << 20, romSize: 64 << 10)

    static func kernel(at address: UInt32, size: Int = 0x100, bss: UInt32 = 0) throws -> MultibootImage {
        let bytes = BootImage.multibootHeader() + [UInt8](repeating: 0x90, count: size - 12)
        return try MultibootImage(BootImage.elf(entry: address + 12, segments: [
            .init(at: address, bytes: bytes, memorySize: UInt32(size) + bss),
        ]))
    }

    /// Modules start on the first page boundary past the kernel's bss, each on its own page;
    /// the information block goes to 0x90000; the kernel's chunks come first.
    @Test func modulesFollowTheKernelOnPageBoundaries() throws {
        let kernel = try Self.kernel(at: 0x10_0000, size: 0x100, bss: 0x2000)   // ends at 0x102100
        let modules = [MultibootModule(bytes: [1, 2, 3], string: "first"), MultibootModule(bytes: Array(repeating: 7, count: 0x1001), string: "second"),
                       MultibootModule(bytes: [9], string: "third")]
        let load = try MultibootLoad(kernel: kernel, modules: modules, commandLine: "k", memoryMap: Self.ram32M)
        #expect(load.entry == 0x10_000C)
        #expect(load.informationAddress == 0x9_0000)
        #expect(load.information.modules == [
            .init(start: 0x10_3000, end: 0x10_3003, string: "first"),
            .init(start: 0x10_4000, end: 0x10_5001, string: "second"),
            .init(start: 0x10_6000, end: 0x10_6001, string: "third"),
        ])
        #expect(load.chunks.map(\.address) == [0x10_0000, 0x10_3000, 0x10_4000, 0x10_6000, 0x9_0000])
        #expect(load.chunks[0] == kernel.segments[0])
        #expect(load.chunks[2].bytes == modules[1].bytes)
        #expect(load.chunks[4] == LoadChunk(address: 0x9_0000, bytes: load.information.encoded(at: 0x9_0000)))
    }

    /// A kernel in conventional memory: modules still start at 1 MiB.
    @Test func modulesOfALowKernelStartAt1MiB() throws {
        let load = try MultibootLoad(kernel: Self.kernel(at: 0x1_0000), modules: [.init(bytes: [1], string: "m")],
                                     commandLine: "", memoryMap: Self.ram32M)
        #expect(load.information.modules.map(\.start) == [0x10_0000])
    }

    /// The load as the firmware reads it: count, entry, EBX, then address/length/bytes/zero-fill.
    @Test func firmwareConfigurationFile() throws {
        let kernel = try Self.kernel(at: 0x20_0000, size: 16, bss: 0x10)
        let load = try MultibootLoad(kernel: kernel, modules: [.init(bytes: [0xAB, 0xCD], string: "m")], commandLine: "", memoryMap: Self.ram32M)
        let item = load.firmwareConfigurationFile
        let block = load.information.encoded(at: 0x9_0000)
        var expected = BootImage.le32(3) + BootImage.le32(0x20_000C) + BootImage.le32(0x9_0000)
        expected += BootImage.le32(0x20_0000) + BootImage.le32(16) + kernel.segments[0].bytes + BootImage.le32(0x10)
        expected += BootImage.le32(0x20_1000) + BootImage.le32(2) + [0xAB, 0xCD] + BootImage.le32(0)
        expected += BootImage.le32(0x9_0000) + BootImage.le32(UInt32(block.count)) + block + BootImage.le32(0)
        #expect(item == expected)
    }

    static let misplaced: [(String, UInt32, Int, MultibootError)] = [
        ("legacy window", 0xA_0000, 0x100, .kernelOutsideRAM(0xA_0000, 0xA_0100)),
        ("ROM", 0xF_0000, 0x100, .kernelOutsideRAM(0xF_0000, 0xF_0100)),
        ("into the EBDA", 0x9_EF00, 0x200, .kernelOutsideRAM(0x9_EF00, 0x9_F100)),
        ("across 1 MiB", 0xF_FF00, 0x200, .kernelOutsideRAM(0xF_FF00, 0x10_0100)),
        ("past RAM", 0x1FF_FF00, 0x200, .kernelOutsideRAM(0x1FF_FF00, 0x200_0100)),
        ("over the information", 0x8_FF00, 0x200, .kernelOverlapsBootInformation(0x8_FF00, 0x9_0100)),
    ]

    @Test(arguments: misplaced)
    func kernelsOutsideUsableRAMAreRefused(name: String, address: UInt32, size: Int, error: MultibootError) throws {
        let kernel = try Self.kernel(at: address, size: size)
        #expect(throws: error, "\(name)") {
            try MultibootLoad(kernel: kernel, modules: [], commandLine: "", memoryMap: Self.ram32M)
        }
    }

    @Test func modulesBeyondRAMAreRefused() throws {
        let kernel = try Self.kernel(at: 0x10_0000)
        let big = MultibootModule(bytes: [UInt8](repeating: 0, count: 0x1F0_0000), string: "")
        // RAM for the OS ends where the ACPI tables begin, 64 KiB below the end of RAM.
        #expect(throws: MultibootError.modulesDoNotFit(end: 0x200_1000, ramEnd: 0x1FF_0000)) {
            try MultibootLoad(kernel: kernel, modules: [big], commandLine: "", memoryMap: Self.ram32M)
        }
        let exact = MultibootModule(bytes: [UInt8](repeating: 0, count: 0x1F0_0000 - 0x1000 - 0x1_0000), string: "")
        #expect(throws: Never.self) { try MultibootLoad(kernel: kernel, modules: [exact], commandLine: "", memoryMap: Self.ram32M) }
    }

    @Test func anOversizedCommandLineIsRefused() throws {
        let kernel = try Self.kernel(at: 0x10_0000)
        let fits = String(repeating: "x", count: 0xF000 - 116 - 7 * 24 - 12 - 1)
        #expect(throws: Never.self) { try MultibootLoad(kernel: kernel, modules: [], commandLine: fits, memoryMap: Self.ram32M) }
        #expect(throws: MultibootError.bootInformationTooLarge(size: 0xF001, capacity: 0xF000)) {
            try MultibootLoad(kernel: kernel, modules: [], commandLine: fits + "x", memoryMap: Self.ram32M)
        }
    }
}
