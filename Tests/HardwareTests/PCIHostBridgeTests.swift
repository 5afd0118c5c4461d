import Hardware
import Testing

@Suite struct PCIHostBridgeTests {
    let bridge = PCIHostBridge()

    private func select(bus: UInt32 = 0, device: UInt32 = 0, function: UInt32 = 0, register: UInt32) {
        let address = 0x8000_0000 | bus << 16 | device << 11 | function << 8 | register
        bridge.writePort(0xCF8, size: 4, value: address)
    }

    private func readData(_ port: UInt16 = 0xCFC, size: Int = 4) -> UInt32 {
        bridge.readPort(port, size: size)
    }

    @Test func hostBridgeIdentifiesAsIntel29C0() {
        select(register: 0x00)
        #expect(readData() == 0x29C0_8086)
        #expect(readData(0xCFE, size: 2) == 0x29C0)
        #expect(readData(0xCFD, size: 1) == 0x80)
    }

    @Test func hostBridgeClassAndHeaderType() {
        select(register: 0x08)
        #expect(readData() == 0x0600_0000)
        select(register: 0x0C)
        #expect(readData(0xCFE, size: 1) == 0x00)
    }

    @Test func absentFunctionsReadAllOnes() {
        select(device: 1, register: 0)
        #expect(readData() == 0xFFFF_FFFF)
        select(function: 1, register: 0)
        #expect(readData() == 0xFFFF_FFFF)
        select(bus: 1, register: 0)
        #expect(readData(0xCFC, size: 2) == 0xFFFF)
    }

    @Test func configurationDataIsInvisibleWithoutTheEnableBit() {
        bridge.writePort(0xCF8, size: 4, value: 0x0000_0000)
        #expect(readData() == 0xFFFF_FFFF)
    }

    @Test func identificationIsReadOnly() {
        select(register: 0x00)
        bridge.writePort(0xCFC, size: 4, value: 0x1234_5678)
        #expect(readData() == 0x29C0_8086)
    }

    @Test func commandRegisterIsWritableInItsDefinedBits() {
        select(register: 0x04)
        #expect(readData(0xCFC, size: 2) == 0x0006)
        bridge.writePort(0xCFC, size: 2, value: 0x0007)
        #expect(readData(0xCFC, size: 2) == 0x0007)
        bridge.writePort(0xCFC, size: 4, value: 0xFFFF_FFFF)
        #expect(readData() == 0x0000_0547)
    }

    @Test func configAddressKeepsOnlyItsImplementedBits() {
        bridge.writePort(0xCF8, size: 4, value: 0xFFFF_FFFF)
        #expect(bridge.readPort(0xCF8, size: 4) == 0x80FF_FFFC)
    }

    @Test func decodesDwordConfigAddressAndConfigDataWithinItsFourBytes() {
        #expect(bridge.decodes(port: 0xCF8, size: 4))
        #expect(!bridge.decodes(port: 0xCF8, size: 1))
        #expect(!bridge.decodes(port: 0xCF9, size: 1))
        #expect(!bridge.decodes(port: 0xCFA, size: 2))
        #expect(bridge.decodes(port: 0xCFC, size: 4))
        #expect(bridge.decodes(port: 0xCFD, size: 1))
        #expect(bridge.decodes(port: 0xCFE, size: 2))
        #expect(!bridge.decodes(port: 0xCFD, size: 4))
    }

    @Test func byteWriteToCF9ReachesResetControlAndLeavesConfigAddressAlone() {
        let platform = FakePlatform()
        let resetControl = ResetControl(platform: platform)
        let devices: [any Device] = [bridge, resetControl]
        func route(_ port: UInt16, size: Int) -> (any Device)? {
            devices.first { device in
                device.portRanges.contains { $0.contains(port) } && device.decodes(port: port, size: size)
            }
        }
        route(0xCF8, size: 4)?.writePort(0xCF8, size: 4, value: 0x8000_0000)
        #expect(route(0xCF9, size: 1) === resetControl)
        route(0xCF9, size: 1)?.writePort(0xCF9, size: 1, value: 0x02)
        #expect(resetControl.readPort(0xCF9, size: 1) == 0x02)
        #expect(bridge.readPort(0xCF8, size: 4) == 0x8000_0000)
        #expect(readData() == 0x29C0_8086)
    }

    @Test func registeredFunctionsAppearAtTheirAddress() {
        let space = PCIConfigurationSpace(vendorID: 0x1234, deviceID: 0x1111, classCode: 0x03_00_00)
        bridge.registerFunction(bus: 0, device: 2, function: 0, space: space)
        select(device: 2, register: 0x00)
        #expect(readData() == 0x1111_1234)
        select(device: 2, register: 0x08)
        #expect(readData() == 0x0300_0000)
    }

    @Test func platformResetRestoresRegistersAndClearsConfigAddress() {
        select(register: 0x04)
        bridge.writePort(0xCFC, size: 2, value: 0x0000)
        bridge.reset(.hard)
        #expect(bridge.readPort(0xCF8, size: 4) == 0)
        select(register: 0x04)
        #expect(readData(0xCFC, size: 2) == 0x0006)
    }
}
