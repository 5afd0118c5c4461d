import Hardware
import Testing

@Suite struct FirmwareConfigTests {
    static let selector = FirmwareConfig.selectorPort
    static let data = FirmwareConfig.dataPort

    let device = FirmwareConfig(payload: [0x11, 0x22, 0x33, 0x44, 0x55], ramSize: 32 << 20,
                                extraItems: [0x0004: [0xA1, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6]])

    func select(_ item: UInt16) {
        device.writePort(Self.selector, size: 2, value: UInt32(item))
    }

    func readBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8(device.readPort(Self.data, size: 1)) }
    }

    @Test func standardItems() {
        #expect(readBytes(4) == Array("RVFW".utf8), "the signature is selected at power-on")
        select(FirmwareConfig.Item.payloadSize.rawValue)
        #expect(device.readPort(Self.data, size: 4) == 5)
        select(FirmwareConfig.Item.payload.rawValue)
        #expect(readBytes(5) == [0x11, 0x22, 0x33, 0x44, 0x55])
        select(FirmwareConfig.Item.ramKilobytes.rawValue)
        #expect(device.readPort(Self.data, size: 4) == 32 << 10)
    }

    /// Wide reads take consecutive bytes little-endian; past an item's end, and for an item
    /// that does not exist, reads give zeros.
    @Test func extraItemStreamsLittleEndianThenZeros() {
        select(0x0004)
        #expect(device.readPort(Self.selector, size: 2) == 0x0004)
        #expect(device.readPort(Self.data, size: 4) == 0xA4A3_A2A1)
        #expect(device.readPort(Self.data, size: 2) == 0xA6A5)
        #expect(device.readPort(Self.data, size: 4) == 0)
        select(0x0042)
        #expect(device.readPort(Self.data, size: 4) == 0)
    }

    /// Selecting an item starts it over; a byte write to the selector does nothing.
    @Test func selectingRestartsAnItem() {
        select(0x0004)
        _ = readBytes(3)
        select(0x0004)
        #expect(readBytes(2) == [0xA1, 0xA2])
        device.writePort(Self.selector, size: 1, value: 0x02)
        #expect(readBytes(1) == [0xA3])
    }

    /// A device reset returns to the signature; INIT leaves the selection alone.
    @Test func resetSelectsTheSignature() {
        select(0x0004)
        device.reset(.initSignal)
        #expect(readBytes(1) == [0xA1])
        device.reset(.hard)
        #expect(readBytes(4) == Array("RVFW".utf8))
    }
}
