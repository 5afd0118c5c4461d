import Hardware
import Testing

@Suite struct SystemControlPortATests {
    let platform = FakePlatform()
    let port92: SystemControlPortA

    init() {
        port92 = SystemControlPortA(platform: platform)
    }

    private func write(_ value: UInt8) { port92.writePort(0x92, size: 1, value: UInt32(value)) }
    private func read() -> UInt8 { UInt8(port92.readPort(0x92, size: 1)) }

    @Test func fastResetRequestsOnlyOnAZeroToOneTransition() {
        write(0x01)
        write(0x01)
        write(0x03)
        #expect(platform.resetRequests == [ResetRequest(source: .port92, port: 0x92, value: 0x01)])
        write(0x00)
        write(0x01)
        #expect(platform.resetRequests.count == 2)
    }

    @Test func bitOneIsFastA20() {
        write(0x02)
        #expect(platform.a20Inputs[.fastA20] == true)
        #expect(read() == 0x02)
        write(0x00)
        #expect(platform.a20Inputs[.fastA20] == false)
        #expect(platform.resetRequests.isEmpty)
    }

    @Test func reservedBitsReadZero() {
        write(0xFE)
        #expect(read() == 0x02)
    }

    @Test func blockedFastResetGoesToTheHook() {
        port92.resetOutput.isBroken = true
        var blocked: [ResetRequest] = []
        port92.resetOutput.onBlocked = { blocked.append($0) }
        write(0x01)
        #expect(platform.resetRequests.isEmpty)
        #expect(blocked == [ResetRequest(source: .port92, port: 0x92, value: 0x01)])
    }

    @Test func platformResetClearsTheRegisterButInitDoesNot() {
        write(0x03)
        port92.reset(.initSignal)
        #expect(read() == 0x03)
        port92.reset(.hard)
        #expect(read() == 0x00)
        #expect(platform.a20Inputs[.fastA20] == false)
        write(0x01)
        #expect(platform.resetRequests.count == 2)
    }
}
