import Hardware
import Testing

@Suite struct I8042Tests {
    let platform = FakePlatform()
    let controller: I8042

    init() {
        controller = I8042(platform: platform)
    }

    private func command(_ byte: UInt8) { controller.writePort(0x64, size: 1, value: UInt32(byte)) }
    private func data(_ byte: UInt8) { controller.writePort(0x60, size: 1, value: UInt32(byte)) }
    private func status() -> UInt8 { UInt8(controller.readPort(0x64, size: 1)) }
    private func read() -> UInt8 { UInt8(controller.readPort(0x60, size: 1)) }
    private var outputBufferFull: Bool { status() & 0x01 != 0 }

    /// Reads every byte the controller has for the host.
    private func drain() -> [UInt8] {
        var bytes: [UInt8] = []
        while outputBufferFull { bytes.append(read()) }
        return bytes
    }

    private func writeCommandByte(_ value: UInt8) {
        command(0x60)
        data(value)
    }

    private func keyboardLineRises() -> Int {
        platform.interruptChanges.filter { $0 == (1, true) }.count
    }

    @Test func powerOnStatusHasOnlyTheNotInhibitedBit() {
        #expect(status() == 0x10)
    }

    @Test func selfTestAnswers55AndSetsTheSystemFlag() {
        command(0xAA)
        #expect(status() == 0x1D)  // OBF, system flag, last write was a command, not inhibited
        #expect(read() == 0x55)
        #expect(status() & 0x01 == 0)
    }

    @Test func commandByteReadsZeroAtPowerOnAndReadsBackWhatWasWritten() {
        command(0x20)
        #expect(drain() == [0x00])
        writeCommandByte(0x44)
        #expect(status() & 0x08 == 0)  // a data write clears the command/data bit
        #expect(status() & 0x04 != 0)  // command byte bit 2 is the system flag
        command(0x20)
        #expect(drain() == [0x44])
    }

    @Test func internalRAMBeyondTheCommandByteIsReadable() {
        command(0x65)
        data(0x5A)
        command(0x25)
        #expect(drain() == [0x5A])
        command(0x20)
        #expect(drain() == [0x00])
    }

    @Test func interfaceTestsReportNoError() {
        command(0xAB)
        command(0xA9)
        #expect(drain() == [0x00, 0x00])
    }

    @Test func keyboardResetAcknowledgesThenPassesItsSelfTest() {
        data(0xFF)
        #expect(drain() == [0xFA, 0xAA])
    }

    @Test func keyboardIdentifiesAsAnMF2Keyboard() {
        data(0xF2)
        #expect(drain() == [0xFA, 0xAB, 0x83])
    }

    @Test func keyboardParametersEchoAndUnknownCommands() {
        data(0xED)
        data(0x07)
        data(0xF0)
        data(0x01)
        data(0xF0)
        data(0x00)
        data(0xEE)
        data(0x42)
        #expect(drain() == [0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0xFA, 0x01, 0xEE, 0xFE])
    }

    @Test func outputPortWriteWithBitZeroClearRequestsAResetAndSetsA20() {
        command(0xD1)
        data(0xFE)
        #expect(platform.resetRequests == [ResetRequest(source: .i8042OutputPort, port: 0x60, value: 0xFE)])
        #expect(platform.a20Inputs[.keyboardController] == true)
    }

    @Test func outputPortBitOneTogglesA20WithoutReset() {
        command(0xD1)
        data(0xCF)
        #expect(platform.a20Inputs[.keyboardController] == true)
        command(0xD1)
        data(0xCD)
        #expect(platform.a20Inputs[.keyboardController] == false)
        command(0xD0)
        #expect(drain() == [0xCD])
        #expect(platform.resetRequests.isEmpty)
    }

    @Test func pulseFERequestsAResetThroughPort64() {
        command(0xFE)
        #expect(platform.resetRequests == [ResetRequest(source: .i8042Pulse, port: 0x64, value: 0xFE)])
    }

    @Test func pulsesThatLeaveBitZeroAloneDoNothing() {
        command(0xFF)
        command(0xF1)
        #expect(platform.resetRequests.isEmpty)
        #expect(!outputBufferFull)
    }

    @Test func commandsDDAndDFSwitchA20() {
        command(0xDF)
        #expect(platform.a20Inputs[.keyboardController] == true)
        command(0xD0)
        #expect(drain() == [0xCF])
        command(0xDD)
        #expect(platform.a20Inputs[.keyboardController] == false)
        #expect(platform.resetRequests.isEmpty)
    }

    @Test func typedCtrlAltDelArrivesInOrderWithOneInterruptPerByte() {
        writeCommandByte(0x01)
        let ctrlAltDel: [UInt8] = [0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D]
        controller.typeScancodes(ctrlAltDel)
        #expect(platform.interruptLines[1])
        var received: [UInt8] = []
        while outputBufferFull {
            #expect(platform.interruptLines[1])
            received.append(read())
        }
        #expect(received == ctrlAltDel)
        #expect(keyboardLineRises() == ctrlAltDel.count)
        #expect(!platform.interruptLines[1])
    }

    @Test func scancodesWaitWhileTheKeyboardIsDisabled() {
        writeCommandByte(0x01)
        command(0xAD)
        controller.typeScancodes([0x1D, 0x9D])
        #expect(!outputBufferFull)
        #expect(keyboardLineRises() == 0)
        command(0xAE)
        #expect(platform.interruptLines[1])
        #expect(drain() == [0x1D, 0x9D])
    }

    @Test func scancodesWaitWhileTheKeyboardIsNotScanning() {
        data(0xF5)
        controller.typeScancodes([0x1E])
        #expect(drain() == [0xFA])
        data(0xF4)
        #expect(drain() == [0xFA, 0x1E])
    }

    @Test func noInterruptWhenTheCommandByteDisablesIt() {
        controller.typeScancodes([0x1E])
        #expect(outputBufferFull)
        #expect(keyboardLineRises() == 0)
    }

    @Test func mouseBytesComeThroughTheAuxPortWithIRQ12() {
        writeCommandByte(0x02)
        command(0xD4)
        data(0xF2)
        #expect(status() & 0x21 == 0x21)  // OBF with the aux-data bit
        #expect(platform.interruptLines[12])
        #expect(drain() == [0xFA, 0x00])
        command(0xD4)
        data(0xFF)
        #expect(drain() == [0xFA, 0xAA, 0x00])
        #expect(!platform.interruptLines[12])
    }

    @Test func brokenResetLineGoesToTheHookInsteadOfThePlatform() {
        controller.resetOutput.isBroken = true
        var blocked: [ResetRequest] = []
        controller.resetOutput.onBlocked = { blocked.append($0) }
        command(0xFE)
        command(0xD1)
        data(0xFC)
        #expect(platform.resetRequests.isEmpty)
        #expect(blocked.map(\.source) == [.i8042Pulse, .i8042OutputPort])
    }

    @Test func platformResetRestoresPowerOnStateButInitDoesNot() {
        command(0xDF)
        writeCommandByte(0x45)
        controller.reset(.initSignal)
        #expect(platform.a20Inputs[.keyboardController] == true)
        controller.reset(.hard)
        #expect(platform.a20Inputs[.keyboardController] == false)
        #expect(status() == 0x10)
        command(0x20)
        command(0xD0)
        #expect(drain() == [0x00, 0xCD])
    }
}
