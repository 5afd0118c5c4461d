import Firmware
import Hardware
import Machine
import Testing

/// Values a user can get wrong are rejected with an error, never a trap, both by
/// `MachineConfiguration.validate()` and by `Machine.init`.
@Suite struct ConfigurationTests {
    static func configuration(memorySize: Int = 32 << 20, romSize: Int? = nil) throws -> MachineConfiguration {
        var configuration = try TestBoard.configuration(payload: [0xF4])
        configuration.memorySize = memorySize
        if let romSize { configuration.firmware = [UInt8](repeating: 0xFF, count: romSize) }
        return configuration
    }

    @Test(arguments: [0, 4096, (1 << 20) - 4096, (1 << 20) + 1, (32 << 20) + 2048, (3 << 30) + 4096, -(1 << 20), Int.max])
    func badMemorySizeIsRejected(size: Int) throws {
        let configuration = try Self.configuration(memorySize: size)
        #expect(throws: MachineError.memorySizeOutOfRange(size)) { try configuration.validate() }
        #expect(throws: MachineError.memorySizeOutOfRange(size)) { _ = try Machine(configuration) }
    }

    @Test(arguments: [0, 1, 32 << 10, (64 << 10) - 1, (64 << 10) + 1, 96 << 10, 1 << 20])
    func badROMSizeIsRejected(size: Int) throws {
        let configuration = try Self.configuration(romSize: size)
        #expect(throws: MachineError.unsupportedROMSize(size)) { try configuration.validate() }
        #expect(throws: MachineError.unsupportedROMSize(size)) { _ = try Machine(configuration) }
    }

    @Test func oversizedPayloadIsRejected() throws {
        var configuration = try Self.configuration()
        configuration.bootPayload = [UInt8](repeating: 0x90, count: 0x70001)
        #expect(throws: MachineError.payloadTooLarge(0x70001)) { _ = try Machine(configuration) }
        configuration.bootPayload.removeLast()
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test(arguments: [1 << 20, 32 << 20, 3 << 30])
    func boundaryMemorySizesAreAccepted(size: Int) throws {
        let configuration = try Self.configuration(memorySize: size)
        #expect(throws: Never.self) { try configuration.validate() }
    }

    @Test(arguments: [64 << 10, 128 << 10, 256 << 10, 512 << 10])
    func everyROMSizeIsAccepted(size: Int) throws {
        let configuration = try Self.configuration(romSize: size)
        #expect(throws: Never.self) { try configuration.validate() }
    }

    /// Every error explains itself in one line naming the bad value.
    @Test func errorsDescribeTheBadValue() {
        #expect(MachineError.memorySizeOutOfRange(12345).description.contains("12345"))
        #expect(MachineError.unsupportedROMSize(777).description.contains("777"))
        #expect(MachineError.payloadTooLarge(999_999).description.contains("999999"))
    }

    /// The smallest machine (1 MiB: RAM up to the legacy hole, then the ROM alias) boots a guest,
    /// and a larger ROM with the firmware in its top 64 KiB runs from the same reset vector.
    @Test(arguments: [(1 << 20, 64 << 10), (1 << 20, 512 << 10), (32 << 20, 128 << 10)])
    func smallMemoryAndLargeROMsBoot(memorySize: Int, romSize: Int) throws {
        let firmware = try ResetVectorROM.image()
        let run = try TestBoard.run(.i8042Pulse) { configuration in
            configuration.memorySize = memorySize
            configuration.firmware = [UInt8](repeating: 0xFF, count: romSize - firmware.count) + firmware
        }
        #expect(run.outcome == .allHalted)
        #expect(run.serialText.contains(ResetGuest.i8042Pulse.backLine))
        #expect(run.records.firstIndex(of: "power-on").map { run.records[$0].event["memory"] } == .number(UInt64(memorySize)))
    }
}
