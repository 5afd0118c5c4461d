/// The physical memory map a boot loader reports to the operating system (what BIOS
/// E820h returns and a Multiboot `mmap` lists): address ranges, each RAM or reserved.
public struct MemoryMap: Equatable, Sendable {
    /// What a range holds, numbered as E820h and Multiboot number them.
    public enum Kind: UInt32, Sendable {
        /// RAM the operating system may use.
        case available = 1
        /// Anything else: firmware, its data, memory-mapped devices.
        case reserved = 2
        /// ACPI tables, which the operating system may use as RAM once it has read them.
        case acpiReclaimable = 3
        /// ACPI non-volatile storage (the FACS), which the operating system must preserve,
        /// across sleep states too.
        case acpiNVS = 4
    }

    /// One range of physical addresses.
    public struct Region: Equatable, Sendable {
        public let base: UInt64
        public let length: UInt64
        public let kind: Kind

        public init(base: UInt64, length: UInt64, kind: Kind) {
            self.base = base
            self.length = length
            self.kind = kind
        }

        /// One past the last address.
        public var end: UInt64 { base + length }
    }

    /// The ranges, in ascending address order, not overlapping.
    public let regions: [Region]

    /// Start of extended memory (1 MiB).
    public static let extendedMemoryBase: UInt64 = 0x10_0000
    /// Where conventional memory ends for the operating system: the last 4 KiB below
    /// 640 KiB hold the extended BIOS data area (the MP floating pointer and configuration
    /// table, the ACPI RSDP), which E820h reports as reserved.
    public static let conventionalMemoryEnd: UInt64 = 0x9_F000
    static let legacyHoleStart: UInt64 = 0xA_0000
    static let fourGiB: UInt64 = 1 << 32

    /// The map of this project's PC board: RAM from 0 and from 1 MiB up to `ramSize`, the
    /// extended BIOS data area, the ACPI tables in the last 64 KiB of RAM
    /// (``ACPIInstallation/window(ramSize:)``: its first page ACPI NVS, for the FACS, the rest
    /// ACPI reclaimable), and the ROM both where it ends at 1 MiB and below 4 GiB (the
    /// board maps it twice; a 512 KiB ROM hides conventional memory from 512 KiB up). The
    /// legacy window from 640 KiB up to the ROM is left out, as PCs leave it out.
    /// - Parameters:
    ///   - ramSize: Bytes of RAM (at least 1 MiB; the part under the legacy window is hidden).
    ///   - romSize: Bytes of firmware ROM (at most 512 KiB).
    public static func pc(ramSize: Int, romSize: Int) -> MemoryMap {
        let ramSize = UInt64(ramSize), romSize = UInt64(romSize)
        let romLowBase = extendedMemoryBase - romSize
        var regions = [Region(base: 0, length: min(ramSize, conventionalMemoryEnd, romLowBase), kind: .available)]
        if romLowBase >= legacyHoleStart {
            regions.append(Region(base: conventionalMemoryEnd, length: legacyHoleStart - conventionalMemoryEnd, kind: .reserved))
        }
        regions.append(Region(base: romLowBase, length: romSize, kind: .reserved))
        if let acpi = ACPIInstallation.window(ramSize: Int(ramSize)) {
            if acpi.lowerBound > extendedMemoryBase {
                regions.append(Region(base: extendedMemoryBase, length: acpi.lowerBound - extendedMemoryBase, kind: .available))
            }
            let nvsEnd = acpi.lowerBound + ACPIInstallation.nvsSize
            regions.append(Region(base: acpi.lowerBound, length: ACPIInstallation.nvsSize, kind: .acpiNVS))
            regions.append(Region(base: nvsEnd, length: acpi.upperBound - nvsEnd, kind: .acpiReclaimable))
        } else if ramSize > extendedMemoryBase {
            regions.append(Region(base: extendedMemoryBase, length: ramSize - extendedMemoryBase, kind: .available))
        }
        regions.append(Region(base: fourGiB - romSize, length: romSize, kind: .reserved))
        return MemoryMap(regions: regions)
    }

    public init(regions: [Region]) {
        self.regions = regions
    }

    /// The available region holding all of `range` (which must not be empty), if one does.
    public func availableRegion(containing range: Range<UInt64>) -> Region? {
        regions.first { $0.kind == .available && $0.base <= range.lowerBound && range.upperBound <= $0.end }
    }

    /// KiB of available memory from address 0 (at most 640), as BIOS INT 12h reports it.
    public var lowerMemoryKilobytes: UInt32 {
        UInt32(min(availableRegion(containing: 0..<1)?.end ?? 0, MemoryMap.legacyHoleStart) / 1024)
    }

    /// KiB of available memory from 1 MiB up to the first hole.
    public var upperMemoryKilobytes: UInt32 {
        let base = MemoryMap.extendedMemoryBase
        let end = availableRegion(containing: base..<base + 1)?.end ?? base
        return UInt32(min(end, MemoryMap.fourGiB) - base) / 1024
    }
}
