/// The Multiboot information structure a boot loader hands the kernel in EBX, with the
/// memory map, module list and strings it points to (Multiboot Specification 0.6.96,
/// section 3.3, "Boot information format").
public struct MultibootInformation: Equatable, Sendable {
    /// The information structure's `flags`: which of its fields are valid (3.3).
    public struct Flags: OptionSet, Equatable, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }

        /// Bit 0: `mem_lower` and `mem_upper`.
        public static let memory = Flags(rawValue: 1 << 0)
        /// Bit 1: `boot_device`.
        public static let bootDevice = Flags(rawValue: 1 << 1)
        /// Bit 2: `cmdline`.
        public static let commandLine = Flags(rawValue: 1 << 2)
        /// Bit 3: `mods_count` and `mods_addr`.
        public static let modules = Flags(rawValue: 1 << 3)
        /// Bit 6: `mmap_length` and `mmap_addr`.
        public static let memoryMap = Flags(rawValue: 1 << 6)
        /// Bit 9: `boot_loader_name`.
        public static let bootLoaderName = Flags(rawValue: 1 << 9)
    }

    /// A boot module in memory and its string.
    public struct Module: Equatable, Sendable {
        /// The physical address of its first byte.
        public let start: UInt32
        /// One past its last byte, as GRUB and QEMU set `mod_end`.
        public let end: UInt32
        /// Its command line (GRUB passes the module's path and arguments).
        public let string: String

        public init(start: UInt32, end: UInt32, string: String) {
            self.start = start
            self.end = end
            self.string = string
        }
    }

    public var memoryMap: MemoryMap
    public var commandLine: String
    public var modules: [Module]
    public var bootLoaderName: String

    /// Always present: memory sizes, command line, modules (possibly none), memory map,
    /// boot loader name. The boot device is not: the kernel was not read from a BIOS disk.
    public static let flags: Flags = [.memory, .commandLine, .modules, .memoryMap, .bootLoaderName]

    /// Bytes of the structure itself: the 0.6.96 layout through the framebuffer fields
    /// (offset 115), which stay zero.
    public static let structureSize = 116
    /// Bytes of one memory map entry: its `size` field (4), then 20 bytes of base, length, type.
    public static let memoryMapEntrySize = 24
    /// Bytes of one module record: `mod_start`, `mod_end`, `string`, reserved.
    public static let moduleRecordSize = 16

    public init(memoryMap: MemoryMap, commandLine: String, modules: [Module], bootLoaderName: String = "ResetVector") {
        self.memoryMap = memoryMap
        self.commandLine = commandLine
        self.modules = modules
        self.bootLoaderName = bootLoaderName
    }

    /// The structure, then the memory map, the module records and the NUL-terminated
    /// strings, as one block of bytes to be placed at physical address `base`.
    public func encoded(at base: UInt32) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: MultibootInformation.structureSize)
        func address() -> UInt32 { base + UInt32(block.count) }

        // mmap: each entry's `size` (20) excludes the size field itself; mmap_addr points at
        // the first entry's size field and mmap_length counts whole entries.
        let mapAddress = address()
        for region in memoryMap.regions {
            block.append(uint32: UInt32(MultibootInformation.memoryMapEntrySize - 4))
            block.append(uint64: region.base)
            block.append(uint64: region.length)
            block.append(uint32: region.kind.rawValue)
        }
        let mapLength = address() - mapAddress

        // Module records, their strings filled in below once the strings' addresses are known.
        let modulesAddress = address()
        for module in modules {
            block.append(uint32: module.start)
            block.append(uint32: module.end)
            block.append(uint32: 0)
            block.append(uint32: 0)
        }

        func appendString(_ string: String) -> UInt32 {
            let start = address()
            block.append(contentsOf: Array(string.utf8) + [0])
            return start
        }
        let commandLineAddress = appendString(commandLine)
        for (index, module) in modules.enumerated() {
            let record = Int(modulesAddress - base) + index * MultibootInformation.moduleRecordSize
            block.set(uint32: appendString(module.string), at: record + 8)
        }
        let loaderNameAddress = appendString(bootLoaderName)

        block.set(uint32: MultibootInformation.flags.rawValue, at: 0)
        block.set(uint32: memoryMap.lowerMemoryKilobytes, at: 4)
        block.set(uint32: memoryMap.upperMemoryKilobytes, at: 8)
        block.set(uint32: commandLineAddress, at: 16)
        block.set(uint32: UInt32(modules.count), at: 20)
        block.set(uint32: modulesAddress, at: 24)
        block.set(uint32: mapLength, at: 44)
        block.set(uint32: mapAddress, at: 48)
        block.set(uint32: loaderNameAddress, at: 64)
        return block
    }
}
