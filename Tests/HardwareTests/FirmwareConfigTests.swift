import Hardware
import Testing

/// The firmware configuration interface as QEMU documents it (docs/specs/fw_cfg.rst) and as
/// QEMU's x86 machines decode its ports.
@Suite struct FirmwareConfigTests {
    static let selector = FirmwareConfig.selectorPort
    static let data = FirmwareConfig.dataPort
    static let dmaHigh = FirmwareConfig.dmaAddressPort
    static let dmaLow = FirmwareConfig.dmaAddressPort + 4

    let platform = FakePlatform()
    let device: FirmwareConfig

    init() {
        device = FirmwareConfig(platform: platform, ramSize: 0x1_2345_6000, processorCount: 4)
    }

    func select(_ key: UInt16) {
        device.writePort(Self.selector, size: 2, value: UInt32(key))
    }

    func readBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(device.readPort(Self.data, size: 1)) }
    }

    func item(_ key: UInt16, _ count: Int) -> [UInt8] {
        select(key)
        return readBytes(count)
    }

    // MARK: Standard items

    @Test func signatureIsSelectedAtPowerOn() {
        #expect(readBytes(4) == Array("QEMU".utf8))
        #expect(readBytes(2) == [0, 0], "past the end")
    }

    @Test func featureBitmapAnnouncesTraditionalAndDMA() {
        #expect(item(0x0001, 4) == [0x03, 0, 0, 0])
    }

    /// RAM in bytes, 64-bit little-endian (QEMU's item 3), not KiB.
    @Test func ramSizeIsSixtyFourBitBytes() {
        #expect(item(0x0003, 8) == [0x00, 0x60, 0x45, 0x23, 0x01, 0x00, 0x00, 0x00])
    }

    @Test func processorCountsAreSixteenBit() {
        #expect(item(0x0005, 3) == [4, 0, 0], "NB_CPUS")
        #expect(item(0x000F, 3) == [4, 0, 0], "MAX_CPUS")
        let other = FirmwareConfig(platform: platform, ramSize: 1 << 20, processorCount: 2, maximumProcessorCount: 0x0108)
        other.writePort(Self.selector, size: 2, value: 0x000F)
        #expect((0..<2).map { _ in other.readPort(Self.data, size: 1) } == [0x08, 0x01])
        other.writePort(Self.selector, size: 2, value: 0x0005)
        #expect(other.readPort(Self.data, size: 1) == 2)
    }

    @Test func otherStandardItems() {
        #expect(item(0x0002, 17) == [UInt8](repeating: 0, count: 17), "UUID: 16 zero bytes")
        #expect(item(0x0004, 2) == [1, 0], "NOGRAPHIC")
        #expect(item(0x000E, 2) == [0, 0], "BOOT_MENU")
        #expect(item(0x8002, 4) == [1, 0, 0, 0], "x86 IRQ0_OVERRIDE")
        #expect(device.item(0x0002).count == 16)
        #expect(device.item(0x0004).count == 2)
    }

    /// Bit 14 (the old write channel) is ignored; bit 15 picks the architecture's items, a
    /// separate table; keys past the last file slot select nothing.
    @Test func selectorBits() {
        #expect(item(0x4005, 2) == [4, 0])
        #expect(item(0x4000, 4) == Array("QEMU".utf8))
        #expect(item(0xC002, 4) == [1, 0, 0, 0])
        #expect(item(0x8005, 2) == [0, 0], "no arch-local item 5")
        #expect(item(0x8000, 4) == [0, 0, 0, 0])
    }

    @Test func unknownKeysReadZeros() {
        for key: UInt16 in [0x0006, 0x0018, 0x003F, 0x0040, 0x1234, 0x3FFF, 0xFFFF] {
            #expect(item(key, 4) == [0, 0, 0, 0], "key \(key)")
        }
    }

    // MARK: The directory

    /// A directory entry as fw_cfg.rst draws it, written out byte by byte.
    static func entry(size: [UInt8], key: [UInt8], name: String) -> [UInt8] {
        size + key + [0, 0] + Array(name.utf8) + [UInt8](repeating: 0, count: 56 - name.utf8.count)
    }

    /// Files sort by name whatever order they came in, taking keys from 0x20 in that order;
    /// each entry has its big-endian size and key and its NUL-padded name.
    @Test func directoryListsFilesSortedByName() throws {
        try device.addFile(name: "opt/zeta", bytes: [0x7A, 0x7A, 0x7A])
        try device.addFile(name: "etc/resetvector/boot-payload", bytes: [UInt8](repeating: 0x90, count: 0x1_0203))
        try device.addFile(name: "bootorder", bytes: [])
        var expected: [UInt8] = [0, 0, 0, 4]
        expected += Self.entry(size: [0, 0, 0, 0], key: [0x00, 0x20], name: "bootorder")
        expected += Self.entry(size: [0, 0, 0, 4], key: [0x00, 0x21], name: "etc/boot-fail-wait")
        expected += Self.entry(size: [0, 1, 2, 3], key: [0x00, 0x22], name: "etc/resetvector/boot-payload")
        expected += Self.entry(size: [0, 0, 0, 3], key: [0x00, 0x23], name: "opt/zeta")
        #expect(expected.count == 4 + 4 * 64)
        #expect(item(0x0019, expected.count) == expected)
        #expect(readBytes(64) == [UInt8](repeating: 0, count: 64), "the unused slots read as zeros")
        #expect(device.item(0x0019).count == 4 + 32 * 64, "QEMU sizes the directory for every slot")

        #expect(item(0x0023, 4) == [0x7A, 0x7A, 0x7A, 0])
        #expect(item(0x0021, 4) == [0xFF, 0xFF, 0xFF, 0xFF], "etc/boot-fail-wait: -1, as QEMU")
        #expect(item(0x0022, 2) == [0x90, 0x90])
        #expect(device.files.map(\.name) == ["bootorder", "etc/boot-fail-wait", "etc/resetvector/boot-payload", "opt/zeta"])
        #expect(device.files.map(\.key) == [0x20, 0x21, 0x22, 0x23])
    }

    /// Names compare bytewise (as `strcmp`): uppercase before lowercase, a prefix first.
    @Test func namesSortBytewise() throws {
        try device.addFile(name: "etc/b", bytes: [2])
        try device.addFile(name: "etc/B", bytes: [1])
        try device.addFile(name: "etc", bytes: [0])
        #expect(device.files.map(\.name) == ["etc", "etc/B", "etc/b", "etc/boot-fail-wait"])
        #expect(item(0x0022, 1) == [2])
    }

    @Test func fileErrors() throws {
        let longest = String(repeating: "n", count: 55)
        try device.addFile(name: longest, bytes: [1])
        #expect(throws: FirmwareConfig.FileError.invalidName(longest + "n")) {
            try device.addFile(name: longest + "n", bytes: [])
        }
        #expect(throws: FirmwareConfig.FileError.invalidName("")) { try device.addFile(name: "", bytes: []) }
        #expect(throws: FirmwareConfig.FileError.invalidName("a\0b")) { try device.addFile(name: "a\0b", bytes: []) }
        #expect(throws: FirmwareConfig.FileError.duplicateName("etc/boot-fail-wait")) {
            try device.addFile(name: "etc/boot-fail-wait", bytes: [])
        }
        for index in 2..<32 { try device.addFile(name: "opt/file\(index)", bytes: [UInt8(index)]) }
        #expect(device.files.count == 32)
        #expect(device.files.last?.key == 0x3F)
        #expect(throws: FirmwareConfig.FileError.directoryFull("opt/one-too-many")) {
            try device.addFile(name: "opt/one-too-many", bytes: [])
        }
        #expect(item(0x0019, 4) == [0, 0, 0, 32])
    }

    // MARK: Port decoding

    /// The selector is write-only: a byte read at 0x510 streams data, as at 0x511, and a
    /// 16-bit read there is not valid and reads 0.
    @Test func selectorPortDoesNotReadBack() {
        select(0x0005)
        #expect(device.readPort(Self.selector, size: 2) == 0)
        #expect(device.readPort(Self.selector, size: 1) == 4)
        #expect(device.readPort(Self.data, size: 1) == 0)
    }

    /// The data port is byte-wide: a wider read takes one byte of the item; 0x512–0x513
    /// float; 0x514 is the DMA register's first signature byte.
    @Test func wideReadsAtTheDataPortTakeOneByte() {
        #expect(device.readPort(Self.data, size: 4) == 0x51FF_FF51, "'Q' from the item, FF FF, 'Q' from 0x514")
        #expect(device.readPort(Self.data, size: 2) == 0xFF45)
        #expect(readBytes(3) == Array("MU".utf8) + [0])
        #expect(device.readPort(Self.selector, size: 4) == 0xFFFF_0000)
    }

    /// Only a 16-bit (or wider) write at 0x510 selects; a byte write, or a write at 0x511, is
    /// a data write, which QEMU ignores.
    @Test func onlyAWordWriteAtTheSelectorSelects() {
        _ = readBytes(1)
        device.writePort(Self.selector, size: 1, value: 0x05)
        device.writePort(Self.data, size: 2, value: 0x0005)
        device.writePort(Self.data, size: 1, value: 0x05)
        #expect(readBytes(3) == Array("EMU".utf8))
        device.writePort(Self.selector, size: 4, value: 0xABCD_0005)
        #expect(readBytes(2) == [4, 0])
    }

    /// Selecting an item starts it over.
    @Test func selectingRestartsAnItem() {
        _ = item(0x0003, 3)
        #expect(item(0x0003, 2) == [0x00, 0x60])
    }

    /// A device reset returns to the signature; INIT leaves the selection alone.
    @Test func resetSelectsTheSignature() {
        select(0x0005)
        device.reset(.initSignal)
        #expect(readBytes(1) == [4])
        device.reset(.hard)
        #expect(readBytes(4) == Array("QEMU".utf8))
    }

    // MARK: DMA

    @Test func dmaRegisterReadsQEMUCFG() {
        #expect(device.readPort(Self.dmaHigh, size: 4) == 0x554D_4551, "'Q' 'E' 'M' 'U' in port order")
        #expect(device.readPort(Self.dmaLow, size: 4) == 0x4746_4320, "' ' 'C' 'F' 'G'")
        #expect((0..<8).map { UInt8(device.readPort(Self.dmaHigh + $0, size: 1)) } == Array("QEMU CFG".utf8))
        #expect(device.readPort(Self.dmaHigh + 6, size: 4) == 0xFFFF_4746, "cut at the register's end")
    }

    static let accessAddress = 0x1000
    static let buffer = 0x2000

    /// Puts an `FWCfgDmaAccess` (all big-endian) at `accessAddress` and starts it with the
    /// two 32-bit writes a guest makes (`outl(cpu_to_be32(half))`).
    func dma(_ control: UInt32, length: UInt32, to address: UInt64 = UInt64(buffer), at access: Int = accessAddress) {
        let bytes = FakePlatformBytes.be32(control) + FakePlatformBytes.be32(length)
            + FakePlatformBytes.be32(UInt32(address >> 32)) + FakePlatformBytes.be32(UInt32(truncatingIfNeeded: address))
        platform.ram.replaceSubrange(access..<access + 16, with: bytes)
        device.writePort(Self.dmaHigh, size: 4, value: UInt32(UInt64(access) >> 32).byteSwapped)
        device.writePort(Self.dmaLow, size: 4, value: UInt32(truncatingIfNeeded: access).byteSwapped)
    }

    var control: [UInt8] { Array(platform.ram[Self.accessAddress..<Self.accessAddress + 4]) }
    func buffer(_ count: Int) -> [UInt8] { Array(platform.ram[Self.buffer..<Self.buffer + count]) }

    /// Select and read in one operation; past the item's end the read fills zeros; the
    /// control word comes back 0.
    @Test func dmaSelectAndRead() {
        platform.ram.replaceSubrange(Self.buffer..<Self.buffer + 12, with: [UInt8](repeating: 0xEE, count: 12))
        dma(0x0003_0000 | 0x08 | 0x02, length: 10)
        #expect(control == [0, 0, 0, 0])
        #expect(buffer(12) == [0x00, 0x60, 0x45, 0x23, 0x01, 0, 0, 0, 0, 0, 0xEE, 0xEE])
    }

    /// Without the select bit a DMA read continues where the data port left off, and the
    /// port continues after it.
    @Test func dmaReadContinuesTheSelectedItem() {
        _ = readBytes(1)
        dma(0x02, length: 2)
        #expect(buffer(2) == Array("EM".utf8))
        #expect(readBytes(1) == Array("U".utf8))
    }

    @Test func dmaSkipAdvancesTheOffset() {
        dma(0x0003_0000 | 0x08 | 0x04, length: 3)
        #expect(control == [0, 0, 0, 0])
        #expect(buffer(2) == [0, 0], "a skip writes nothing")
        #expect(readBytes(2) == [0x23, 0x01])
        dma(0x04, length: 100)
        #expect(control == [0, 0, 0, 0], "skipping past the end is no error")
    }

    /// No item is writable: a write sets the error bit and changes nothing.
    @Test func dmaWriteIsRefused() {
        platform.ram.replaceSubrange(Self.buffer..<Self.buffer + 2, with: [9, 9])
        dma(0x0005_0000 | 0x08 | 0x10, length: 2)
        #expect(control == [0, 0, 0, 1])
        #expect(item(0x0005, 2) == [4, 0])
        dma(0x0040_0000 | 0x08 | 0x10, length: 2)
        #expect(control == [0, 0, 0, 1], "nor past an item's end")
    }

    /// Control without read, write or skip: only the select happens.
    @Test func dmaSelectAlone() {
        dma(0x0005_0000 | 0x08, length: 8)
        #expect(control == [0, 0, 0, 0])
        #expect(buffer(2) == [0, 0])
        #expect(readBytes(2) == [4, 0])
    }

    /// A read whose destination is not memory ends with the error bit.
    @Test func dmaReadIntoNothingIsAnError() {
        dma(0x0000_0000 | 0x08 | 0x02, length: 4, to: UInt64(platform.ram.count) - 2)
        #expect(control == [0, 0, 0, 1])
    }

    /// The high half counts: an access structure above 4 GiB (not memory here) does nothing
    /// to RAM at its low address; the address register is cleared by each transfer.
    @Test func dmaAddressHasTwoHalves() {
        let bytes = FakePlatformBytes.be32(0x0000_0000 | 0x08 | 0x02) + FakePlatformBytes.be32(4)
            + FakePlatformBytes.be32(0) + FakePlatformBytes.be32(UInt32(Self.buffer))
        platform.ram.replaceSubrange(Self.accessAddress..<Self.accessAddress + 16, with: bytes)
        device.writePort(Self.dmaHigh, size: 4, value: UInt32(1).byteSwapped)
        device.writePort(Self.dmaLow, size: 4, value: UInt32(Self.accessAddress).byteSwapped)
        #expect(buffer(4) == [0, 0, 0, 0])
        #expect(control == [0, 0, 0, 0x0A], "the structure is untouched")
        device.writePort(Self.dmaHigh, size: 2, value: 0x0100)      // not a valid write: ignored
        device.writePort(Self.dmaLow, size: 4, value: UInt32(Self.accessAddress).byteSwapped)
        #expect(buffer(4) == Array("QEMU".utf8))
        #expect(control == [0, 0, 0, 0])
    }
}

enum FakePlatformBytes {
    static func be32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (24 - 8 * $0)) } }
}
