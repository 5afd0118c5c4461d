/// QEMU's firmware configuration interface (fw_cfg) as QEMU's x86 machines have it
/// (QEMU's docs/specs/fw_cfg.rst), so that firmware and test kernels written for QEMU read
/// it unchanged.
///
/// - A 16-bit write to the selector at 0x510 picks an item (a key) and restarts it; byte
///   reads at the data port 0x511 stream it, and give zeros past its end or for a key that
///   holds nothing.
/// - The DMA address register at 0x514 takes the physical address of an `FWCfgDmaAccess`
///   structure as two 32-bit big-endian halves, the high one at 0x514, then the low one at
///   0x518, whose write starts the transfer; reading the register gives "QEMU CFG".
/// - Keys below 0x20 are the standard items (signature, feature bitmap, RAM size, CPU
///   counts, the file directory at 0x19); from 0x20 up come named files, listed in the
///   directory sorted by name. The project's own payloads (the boot payload, a Multiboot
///   load, later kernels and tables) are files; ``addFile(name:bytes:)`` adds them.
///
/// Port accesses behave as QEMU's memory core makes them on a PC: the pair 0x510–0x511 is
/// one region that accepts byte reads (of the data, at either port) and 16-bit writes (a
/// select) at its start; a wider access is cut where the region ends and the rest reaches
/// what lies beyond (nothing at 0x512–0x513, which floats high; the DMA register at 0x514).
/// The DMA register accepts reads of any width and 32-bit writes at 0x514 and 0x518. The
/// board's ROM reads its boot payload and Multiboot load here on every boot, so a reset that
/// clears RAM still boots.
public final class FirmwareConfig: Device {
    public let name = "fw-cfg"
    public static let selectorPort: UInt16 = 0x510
    public static let dataPort: UInt16 = 0x511
    /// The DMA address register: the high half here, the low half at `+ 4`.
    public static let dmaAddressPort: UInt16 = 0x514
    public var portRanges: [ClosedRange<UInt16>] {
        [FirmwareConfig.selectorPort...FirmwareConfig.dataPort,
         FirmwareConfig.dmaAddressPort...FirmwareConfig.dmaAddressPort + 7]
    }

    /// The items with a fixed key that this board has (QEMU's `FW_CFG_*` names).
    public enum Key: UInt16, CaseIterable, Sendable {
        /// `FW_CFG_SIGNATURE`: "QEMU".
        case signature = 0x0000
        /// `FW_CFG_ID`: the feature bitmap (``Features``), 32-bit little-endian.
        case id = 0x0001
        /// `FW_CFG_UUID`: the machine's UUID, 16 bytes (all zero: none was given).
        case uuid = 0x0002
        /// `FW_CFG_RAM_SIZE`: RAM in bytes, 64-bit little-endian.
        case ramSize = 0x0003
        /// `FW_CFG_NOGRAPHIC`: 1, 16-bit little-endian (the board has no display).
        case noGraphic = 0x0004
        /// `FW_CFG_NB_CPUS`: the processors the machine starts with, 16-bit little-endian.
        case processorCount = 0x0005
        /// `FW_CFG_BOOT_MENU`: 0, 16-bit little-endian (no boot menu).
        case bootMenu = 0x000E
        /// `FW_CFG_MAX_CPUS`: on x86 the limit of the APIC IDs, 16-bit little-endian.
        case maximumProcessorCount = 0x000F
        /// `FW_CFG_FILE_DIR`: the file directory.
        case fileDirectory = 0x0019
        /// x86 `FW_CFG_IRQ0_OVERRIDE`: 1, 32-bit little-endian (ISA IRQ 0 reaches I/O APIC pin 2).
        case irq0Override = 0x8002
    }

    /// The feature bitmap in ``Key/id``.
    public struct Features: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        /// The selector and data registers (always set).
        public static let traditional = Features(rawValue: 1 << 0)
        /// The DMA interface.
        public static let dma = Features(rawValue: 1 << 1)
    }

    /// The `control` field of an `FWCfgDmaAccess` structure.
    public struct DMAControl: OptionSet, Sendable {
        public let rawValue: UInt32
        public init(rawValue: UInt32) { self.rawValue = rawValue }
        public static let error = DMAControl(rawValue: 1 << 0)
        public static let read = DMAControl(rawValue: 1 << 1)
        public static let skip = DMAControl(rawValue: 1 << 2)
        /// Select the key in bits 31–16 first.
        public static let select = DMAControl(rawValue: 1 << 3)
        /// Write the item; every item here is read-only, so a write ends in ``error``.
        public static let write = DMAControl(rawValue: 1 << 4)
    }

    /// The first file's key (`FW_CFG_FILE_FIRST`).
    public static let firstFileKey: UInt16 = 0x0020
    /// How many files the directory holds (QEMU's default `x-file-slots`): keys 0x20–0x3F.
    public static let fileSlots = 0x20
    /// The longest file name, in bytes (the directory's 56-byte field keeps a NUL).
    public static let maximumNameLength = 55
    /// Selector bit 14 (`FW_CFG_WRITE_CHANNEL`) is ignored; bit 15 (`FW_CFG_ARCH_LOCAL`)
    /// selects the architecture's items.
    public static let archLocal: UInt16 = 0x8000
    static let entryMask: UInt16 = 0x3FFF
    /// What the DMA address register reads as.
    public static let dmaSignature = Array("QEMU CFG".utf8)
    /// The size of an `FWCfgDmaAccess` structure and of a directory entry.
    static let dmaAccessSize = 16
    public static let directoryEntrySize = 64

    /// A named file, as the directory lists it.
    public struct File: Equatable, Sendable {
        public let name: String
        public let key: UInt16
        public let bytes: [UInt8]
    }

    private unowned let platform: any Platform
    private var standard: [UInt16: [UInt8]] = [:]
    /// The files sorted by name (bytewise, as `strcmp`); file `i` has key `firstFileKey + i`.
    private var sortedFiles: [(name: [UInt8], bytes: [UInt8])] = []
    private var directory: [UInt8] = []
    /// The selected key, or `nil` for one beyond the last file slot (QEMU's `FW_CFG_INVALID`).
    private var selected: UInt16?
    /// The selected item's bytes (looked up once per selection: `rep insb` streams megabytes).
    private var selectedItem: [UInt8] = []
    private var offset = 0
    private var dmaAddress: UInt64 = 0

    /// - Parameters:
    ///   - platform: The board, through which DMA reaches guest memory.
    ///   - ramSize: RAM in bytes.
    ///   - processorCount: The processors the machine starts with.
    ///   - maximumProcessorCount: The limit of the APIC IDs (by default `processorCount`).
    public init(platform: any Platform, ramSize: Int, processorCount: Int, maximumProcessorCount: Int? = nil) {
        self.platform = platform
        standard[Key.signature.rawValue] = Array("QEMU".utf8)
        standard[Key.id.rawValue] = Self.littleEndian(UInt64(Features([.traditional, .dma]).rawValue), bytes: 4)
        standard[Key.uuid.rawValue] = [UInt8](repeating: 0, count: 16)
        standard[Key.ramSize.rawValue] = Self.littleEndian(UInt64(ramSize), bytes: 8)
        standard[Key.noGraphic.rawValue] = Self.littleEndian(1, bytes: 2)
        standard[Key.processorCount.rawValue] = Self.littleEndian(UInt64(processorCount), bytes: 2)
        standard[Key.bootMenu.rawValue] = Self.littleEndian(0, bytes: 2)
        standard[Key.maximumProcessorCount.rawValue] =
            Self.littleEndian(UInt64(maximumProcessorCount ?? processorCount), bytes: 2)
        standard[Key.irq0Override.rawValue] = Self.littleEndian(1, bytes: 4)
        // As QEMU: -1, never reboot when no boot device is found (the ROM halts).
        try! addFile(name: "etc/boot-fail-wait", bytes: Self.littleEndian(0xFFFF_FFFF, bytes: 4))
        select(Key.signature.rawValue)
    }

    /// Why a file cannot be added.
    public enum FileError: Error, Equatable, Sendable {
        /// Empty, longer than ``maximumNameLength`` bytes, or holding a NUL.
        case invalidName(String)
        case duplicateName(String)
        /// All ``fileSlots`` are taken.
        case directoryFull(String)
    }

    /// Adds a named file; it takes the key of its place in the name order, so the keys of
    /// files that sort after it move up by one, as in QEMU.
    public func addFile(name: String, bytes: [UInt8]) throws(FileError) {
        let nameBytes = Array(name.utf8)
        guard !nameBytes.isEmpty, nameBytes.count <= Self.maximumNameLength, !nameBytes.contains(0) else {
            throw .invalidName(name)
        }
        guard !sortedFiles.contains(where: { $0.name == nameBytes }) else { throw .duplicateName(name) }
        guard sortedFiles.count < Self.fileSlots else { throw .directoryFull(name) }
        precondition(bytes.count < Int(UInt32.max), "a fw_cfg item's size is 32-bit")
        let index = sortedFiles.firstIndex { nameBytes.lexicographicallyPrecedes($0.name) } ?? sortedFiles.count
        sortedFiles.insert((nameBytes, bytes), at: index)
        rebuildDirectory()
        selectedItem = selected.map(item) ?? []
    }

    /// The files in directory order, with their keys.
    public var files: [File] {
        sortedFiles.enumerated().map { index, file in
            File(name: String(decoding: file.name, as: UTF8.self), key: Self.firstFileKey + UInt16(index), bytes: file.bytes)
        }
    }

    /// What selecting `key` makes the data port stream (an empty array for a key that holds nothing).
    public func item(_ key: UInt16) -> [UInt8] {
        let entry = key & Self.entryMask
        guard entry < Self.firstFileKey + UInt16(Self.fileSlots) else { return [] }
        if key & Self.archLocal == 0 && entry >= Self.firstFileKey {
            let index = Int(entry - Self.firstFileKey)
            return index < sortedFiles.count ? sortedFiles[index].bytes : []
        }
        if key & Self.archLocal == 0 && entry == Key.fileDirectory.rawValue { return directory }
        return standard[key & (Self.archLocal | Self.entryMask)] ?? []
    }

    /// `FWCfgFiles`: a big-endian count, then for each file its big-endian size and key, two
    /// reserved bytes and its NUL-padded 56-byte name. QEMU sizes the item for every slot,
    /// so the unused entries read as zeros.
    private func rebuildDirectory() {
        var bytes = Self.bigEndian(UInt64(sortedFiles.count), bytes: 4)
        for (index, file) in sortedFiles.enumerated() {
            bytes += Self.bigEndian(UInt64(file.bytes.count), bytes: 4)
            bytes += Self.bigEndian(UInt64(Self.firstFileKey) + UInt64(index), bytes: 2)
            bytes += [0, 0]
            bytes += file.name + [UInt8](repeating: 0, count: 56 - file.name.count)
        }
        bytes += [UInt8](repeating: 0, count: Self.directoryEntrySize * (Self.fileSlots - sortedFiles.count))
        directory = bytes
    }

    static func littleEndian(_ value: UInt64, bytes: Int) -> [UInt8] {
        (0..<bytes).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) }
    }

    static func bigEndian(_ value: UInt64, bytes: Int) -> [UInt8] { littleEndian(value, bytes: bytes).reversed() }

    // MARK: Selector and data

    private func select(_ key: UInt16) {
        offset = 0
        selected = key & Self.entryMask < Self.firstFileKey + UInt16(Self.fileSlots) ? key : nil
        selectedItem = selected.map(item) ?? []
    }

    /// The next byte of the selected item, zero past its end.
    private func nextByte() -> UInt8 {
        guard offset < selectedItem.count else { return 0 }
        offset += 1
        return selectedItem[offset - 1]
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        var value: UInt32 = 0
        var done = 0
        while done < size {
            let at = port &+ UInt16(done)
            var piece: [UInt8]
            switch at {
            case Self.selectorPort...Self.dataPort:
                // Cut at the region's end; only a byte read is valid, anything wider reads 0.
                let width = min(size - done, Int(Self.dataPort - at) + 1)
                piece = width == 1 ? [nextByte()] : [UInt8](repeating: 0, count: width)
            case Self.dmaAddressPort...Self.dmaAddressPort + 7:
                piece = [Self.dmaSignature[Int(at - Self.dmaAddressPort)]]
            default:
                piece = [0xFF]                        // 0x512–0x513: nothing decodes them
            }
            for byte in piece {
                value |= UInt32(byte) << (8 * UInt32(done))
                done += 1
            }
        }
        return value
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        switch (port, size) {
        case (Self.selectorPort, 2...):
            // A 16-bit write at 0x510 selects (a 32-bit one is cut to its first 16 bits);
            // a byte write, or anything at 0x511, is a data write, which QEMU ignores.
            select(UInt16(truncatingIfNeeded: value))
        case (Self.dmaAddressPort, 4):
            dmaAddress = UInt64(value.byteSwapped) << 32
        case (Self.dmaAddressPort + 4, 4):
            dmaAddress |= UInt64(value.byteSwapped)
            dmaTransfer()
        default:
            break
        }
    }

    // MARK: DMA

    /// Carries out the `FWCfgDmaAccess` at the DMA address, as QEMU does, then writes the
    /// resulting control word back (0, or ``DMAControl/error``).
    private func dmaTransfer() {
        let accessAddress = dmaAddress
        dmaAddress = 0
        guard let access = platform.dmaRead(accessAddress, count: Self.dmaAccessSize) else {
            _ = platform.dmaWrite(Self.bigEndian(UInt64(DMAControl.error.rawValue), bytes: 4), at: accessAddress)
            return
        }
        func field(_ at: Int, _ count: Int) -> UInt64 {
            access[at..<at + count].reduce(0) { $0 << 8 | UInt64($1) }
        }
        let control = DMAControl(rawValue: UInt32(field(0, 4)))
        var length = field(4, 4)
        var address = field(8, 8)
        if control.contains(.select) { select(UInt16(control.rawValue >> 16)) }
        let reading = control.contains(.read)
        let writing = !reading && control.contains(.write)
        if !reading && !writing && !control.contains(.skip) { length = 0 }

        var result: DMAControl = []
        while length > 0 && !result.contains(.error) {
            let item = selectedItem
            let count: UInt64
            if offset >= item.count {
                // Past the end: a read fills zeros, a write fails, a skip does nothing.
                count = length
                if reading, !fillZeros(count: count, at: address) { result.insert(.error) }
                if writing { result.insert(.error) }
            } else {
                count = min(length, UInt64(item.count - offset))
                if reading, !platform.dmaWrite(Array(item[offset..<offset + Int(count)]), at: address) {
                    result.insert(.error)
                }
                if writing { result.insert(.error) }     // no item here is writable
                offset += Int(count)
            }
            address &+= count
            length -= count
        }
        _ = platform.dmaWrite(Self.bigEndian(UInt64(result.rawValue), bytes: 4), at: accessAddress)
    }

    /// Zeros guest memory in pieces (a guest may ask for up to 4 GiB).
    private func fillZeros(count: UInt64, at address: UInt64) -> Bool {
        let piece: UInt64 = 64 << 10
        var done: UInt64 = 0
        while done < count {
            let size = min(piece, count - done)
            guard platform.dmaWrite([UInt8](repeating: 0, count: Int(size)), at: address &+ done) else { return false }
            done += size
        }
        return true
    }

    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        select(Key.signature.rawValue)
        dmaAddress = 0
    }
}
