import Hardware
import Testing

@Suite struct ResetControlTests {
    let platform = FakePlatform()
    let cf9: ResetControl

    init() {
        cf9 = ResetControl(platform: platform)
    }

    private func write(_ value: UInt8) { cf9.writePort(0xCF9, size: 1, value: UInt32(value)) }
    private func read() -> UInt8 { UInt8(cf9.readPort(0xCF9, size: 1)) }

    @Test func linuxWarmRebootSequenceRequestsOneHardReset() {
        write(0x02)
        #expect(platform.resetRequests.isEmpty)
        write(0x06)
        #expect(platform.resetRequests == [ResetRequest(source: .cf9, requestedKind: .hard, port: 0xCF9, value: 0x06)])
    }

    @Test func linuxColdRebootSequenceRequestsAFullReset() {
        write(0x02)
        write(0x0E)
        #expect(platform.resetRequests.map(\.requestedKind) == [.full])
    }

    @Test func resetCPUWithoutSystemResetIsASoftReset() {
        write(0x04)
        #expect(platform.resetRequests == [ResetRequest(source: .cf9, requestedKind: .initSignal, port: 0xCF9, value: 0x04)])
    }

    @Test func fullResetBitWithoutSystemResetIsStillASoftReset() {
        write(0x0C)
        #expect(platform.resetRequests.map(\.requestedKind) == [.initSignal])
    }

    @Test func rewritingResetCPUWhileItIsSetStartsNothing() {
        write(0x06)
        write(0x06)
        write(0x0E)
        #expect(platform.resetRequests.count == 1)
        #expect(read() == 0x0E)
    }

    @Test func resetCPUReadsZeroOnceTheResetBegins() {
        write(0x04)
        #expect(read() == 0x04)
        cf9.reset(.initSignal)
        #expect(read() == 0x00)
        write(0x04)
        #expect(platform.resetRequests.count == 2)
    }

    @Test func platformResetClearsTheRegister() {
        write(0x0A)
        #expect(read() == 0x0A)
        cf9.reset(.hard)
        #expect(read() == 0x00)
    }

    @Test func reservedBitsReadZero() {
        write(0xF1)
        #expect(read() == 0x00)
        #expect(platform.resetRequests.isEmpty)
    }

    @Test func decodesOnlyByteAccessesAt0xCF9() {
        #expect(cf9.decodes(port: 0xCF9, size: 1))
        #expect(!cf9.decodes(port: 0xCF9, size: 2))
        #expect(!cf9.decodes(port: 0xCF8, size: 4))
    }

    @Test func blockedRegisterGoesToTheHookAndStillLatches() {
        cf9.resetOutput.isBroken = true
        var blocked: [ResetRequest] = []
        cf9.resetOutput.onBlocked = { blocked.append($0) }
        write(0x02)
        write(0x06)
        #expect(platform.resetRequests.isEmpty)
        #expect(blocked.map(\.requestedKind) == [.hard])
        #expect(read() == 0x06)
    }
}
