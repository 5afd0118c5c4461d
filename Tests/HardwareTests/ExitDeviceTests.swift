import Hardware
import Testing

@Suite struct ExitDeviceTests {
    let platform = FakePlatform()
    let exit: ExitDevice

    init() {
        exit = ExitDevice(port: 0xF4, platform: platform)
    }

    @Test func statusIsTheValueShiftedLeftWithBitZeroSet() {
        exit.writePort(0xF4, size: 1, value: 0x10)
        #expect(platform.exitStatus == 0x21)
    }

    @Test func zeroExitsWithOne() {
        exit.writePort(0xF4, size: 2, value: 0)
        #expect(platform.exitStatus == 1)
    }

    @Test func valueIsTakenAtTheAccessSize() {
        exit.writePort(0xF4, size: 1, value: 0x1FF)
        #expect(platform.exitStatus == 0x1FF)
    }

    @Test func largeDwordValuesWrapInsteadOfTrapping() {
        exit.writePort(0xF4, size: 4, value: 0xFFFF_FFFF)
        #expect(platform.exitStatus == -1)
        exit.writePort(0xF4, size: 4, value: 0x8000_0000)
        #expect(platform.exitStatus == 1)
    }
}
