import Firmware
import Hardware
import Machine
import Testing

/// Whole-machine Linux boots of a synthetic bzImage (`LinuxProbe`): the firmware loads it from
/// the firmware configuration interface on every boot and enters it by the 32-bit boot
/// protocol; the probe reports on COM1 what it found.
@Suite struct LinuxBootTests {
    static let commandLine = "console=ttyS0 rv.action=reboot"
    static let initrd = Array("initrd-bytes-0123456789abcdef, and more".utf8)
    static let memorySize = 64 << 20

    static func hex(_ value: UInt64, digits: Int = 8) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// What the probe prints on boot `boot`.
    static func expectedReport(boot: Int) throws -> [String] {
        let map = MemoryMap.pc(ramSize: memorySize, romSize: ResetVectorROM.size)
        let load = try LinuxLoad(kernel: LinuxKernelImage(LinuxProbe.kernel()), initrd: initrd,
                                 commandLine: commandLine, memoryMap: map)
        var lines = [
            "esi=00090000 ebx=00000000 edi=00000000 ebp=00000000 cs=00000010 ds=00000018 es=00000018 ss=00000018",
            "cr0.pe.pg=00000001 if=00000000",
            "loader=000000ff loadflags=00000081 heap=0000fe00 code32=01000000 version=0000020f",
            "cmdline=\(commandLine)",
            "initrd=\(hex(UInt64(load.initrdAddress))) \(hex(UInt64(initrd.count))) "
                + String(decoding: initrd.prefix(LinuxProbe.initrdBytesShown), as: UTF8.self),
            "e820=\(hex(UInt64(map.regions.count)))",
        ]
        for region in map.regions {
            lines.append("e820=\(hex(region.base, digits: 16)) \(hex(region.length, digits: 16)) \(hex(UInt64(region.kind.rawValue)))")
        }
        lines.append("boot=\(hex(UInt64(boot)))")
        return lines
    }

    @Test func kernelSeesTheBootProtocolStateAndEveryResetLoadsItAgain() throws {
        let run = try TestBoard.run(payload: []) { configuration in
            configuration.memorySize = Self.memorySize
            configuration.linux = LinuxBoot(kernel: try! LinuxProbe.kernel(), initrd: Self.initrd, commandLine: Self.commandLine)
        }
        #expect(run.outcome == .allHalted)
        // The firmware's banner precedes each boot's report on COM1.
        let lines = run.serialText.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.hasPrefix("ResetVector firmware") }
        let expected = try Self.expectedReport(boot: 1) + Self.expectedReport(boot: 2)
        #expect(lines == expected, "\(run.serialText)")
        #expect(run.records.filter { $0.event.name == "reset-request" }.count == 1)
        let linuxSteps = run.records.filter { $0.event.name == "firmware" && $0.event["milestone"] == .text(LinuxEntry.milestone) }
        #expect(linuxSteps.count == 2, "the ROM's Linux step on both boots")
    }

    @Test func aMachineRefusesWhatDoesNotFit() throws {
        var configuration = try TestBoard.configuration(payload: [])
        configuration.memorySize = 16 << 20
        configuration.linux = LinuxBoot(kernel: try LinuxProbe.kernel(), commandLine: "")
        #expect(throws: MachineError.linux(.notEnoughMemory(needed: 0x110_0000, ramEnd: 0xFF_0000))) {
            try Machine(configuration)
        }
        configuration.memorySize = 64 << 20
        configuration.bootPayload = [0xF4]
        #expect(throws: MachineError.linuxAndOtherBoot) { try Machine(configuration) }
    }
}
