import Firmware
import Hardware
@testable import Machine
import Testing
import X86Asm

/// The firmware configuration interface as guests see it on a whole machine: a Multiboot
/// kernel reads it the way kvm-unit-tests' lib/x86/fwcfg.c does (a 16-bit key to 0x510,
/// then byte reads from 0x511, little-endian), and reads the file directory by DMA; the ROM
/// finds its payload by name among other files.
@Suite struct FirmwareConfigGuestTests {
    static let port: UInt8 = 0xE9
    static let loadAddress: UInt32 = 0x10_0000
    /// Where the kernel puts its `FWCfgDmaAccess` and where the directory lands.
    static let accessAddress = 0x1F000
    static let directoryAddress = 0x20000

    /// A Multiboot kernel (address-field header) that prints on port E9h: the signature, the
    /// feature bitmap, NB_CPUS, MAX_CPUS and the RAM size read through the ports, then the
    /// control word of a DMA read of the directory and each directory entry.
    static func kernel() throws -> [UInt8] {
        var a = Assembler(bits: .b32, origin: loadAddress)
        let entry = a.newLabel("entry"), imageEnd = a.newLabel("imageEnd")
        let putHex = a.newLabel("putHex"), putString = a.newLabel("putString")
        var strings: [(Label, String)] = []
        func say(_ text: String) {
            let label = a.newLabel()
            strings.append((label, text))
            a.push(.esi)
            a.mov(.esi, label)
            a.call(putString)
            a.pop(.esi)
        }
        /// fwcfg_get_u: select `key`, then EAX |= byte << (8 * i) for `count` bytes.
        func fwcfgGet(_ key: UInt16, bytes count: Int, select: Bool = true) {
            if select {
                a.mov(.dx, 0x510)
                a.mov(.ax, Int(key))
                a.out(.dx, .ax)
            }
            a.mov(.dx, 0x511)
            a.xor(.ebx, .ebx)
            for i in 0..<count {
                a.in(.al, .dx)
                a.movzx(.eax, .al)
                if i > 0 { a.shl(.eax, .immediate(UInt8(8 * i))) }
                a.or(.ebx, .eax)
            }
            a.mov(.eax, .ebx)
        }

        a.dd(0x1BAD_B002)
        a.dd(1 << 16)
        a.dd(0 &- 0x1BAD_B002 &- (1 << 16))
        a.dd(loadAddress)
        a.dd(loadAddress)
        a.dd(imageEnd)
        a.dd(imageEnd)
        a.dd(entry)

        a.emitPrintRoutines(port: port, putHex: putHex, putString: putString)

        a.bind(entry)
        a.mov(.esp, 0x7000)
        a.cld()
        say("signature=")
        fwcfgGet(0x0000, bytes: 0)
        for _ in 0..<4 {
            a.in(.al, .dx)
            a.out(.immediate(port), .al)
        }
        say("\nid=")
        fwcfgGet(0x0001, bytes: 4)
        a.call(putHex)
        say("\ncpus=")
        fwcfgGet(0x0005, bytes: 2)
        a.call(putHex)
        say("\nmax-cpus=")
        fwcfgGet(0x000F, bytes: 2)
        a.call(putHex)
        say("\nram=")
        fwcfgGet(0x0003, bytes: 4)
        a.mov(.ebp, .eax)
        fwcfgGet(0x0003, bytes: 4, select: false)
        a.call(putHex)
        say(" ")
        a.mov(.eax, .ebp)
        a.call(putHex)

        // DMA: select the directory and read all of it to `directoryAddress`.
        let control = UInt32(FirmwareConfig.Key.fileDirectory.rawValue) << 16 | 0x08 | 0x02
        let length = UInt32(4 + 64 * FirmwareConfig.fileSlots)
        a.mov(Mem(disp: accessAddress, size: .dword), Int(control.byteSwapped))
        a.mov(Mem(disp: accessAddress + 4, size: .dword), Int(length.byteSwapped))
        a.mov(Mem(disp: accessAddress + 8, size: .dword), 0)
        a.mov(Mem(disp: accessAddress + 12, size: .dword), Int(UInt32(directoryAddress).byteSwapped))
        a.mov(.dx, 0x514)
        a.xor(.eax, .eax)
        a.out(.dx, .eax)
        a.mov(.dx, 0x518)
        a.mov(.eax, Int(UInt32(accessAddress).byteSwapped))
        a.out(.dx, .eax)
        say("\ndma-control=")
        a.mov(.eax, Mem(disp: accessAddress, size: .dword))
        a.bswap(.eax)
        a.call(putHex)
        say("\nfiles=")
        a.mov(.eax, Mem(disp: directoryAddress, size: .dword))
        a.bswap(.eax)
        a.call(putHex)
        a.mov(.ecx, .eax)
        a.mov(.ebp, directoryAddress + 4)
        let nextFile = a.newLabel(), filesDone = a.newLabel()
        a.jecxz(filesDone)
        a.bind(nextFile)
        say("\nfile=")
        a.lea(.esi, Mem(.ebp, disp: 8))
        a.call(putString)
        say(" size=")
        a.mov(.eax, Mem(.ebp, size: .dword))
        a.bswap(.eax)
        a.call(putHex)
        say(" key=")
        a.movzx(.eax, Mem(.ebp, disp: 4, size: .word))
        a.ror(.ax, 8)
        a.call(putHex)
        a.add(.ebp, 64)
        a.loop(nextFile)
        a.bind(filesDone)
        say("\n")
        a.haltLoop(interruptsEnabled: false)

        for (label, text) in strings {
            a.bind(label)
            a.ascii(text)
            a.db([0])
        }
        a.bind(imageEnd)
        return try a.finish()
    }

    @Test func kernelReadsTheInterfaceLikeKvmUnitTests() throws {
        let console = ByteCapture()
        let kernel = try Self.kernel()
        var loadSize = 0
        var acpiInstallation: ACPIInstallation?
        let run = try TestBoard.run(payload: []) { configuration in
            configuration.memorySize = 64 << 20
            configuration.processorCount = 4
            configuration.multiboot = MultibootBoot(kernel: kernel, commandLine: "fw_cfg")
            configuration.attachDebugConsole(console, port: UInt16(Self.port))
            loadSize = (try? configuration.validate())?.firmwareConfigurationFile.count ?? -1
            acpiInstallation = ACPIBoard.installation(configuration)
        }
        let acpi = try #require(acpiInstallation)
        #expect(run.outcome == .allHalted)
        #expect(loadSize > kernel.count)
        let size = String(loadSize, radix: 16)
        #expect(console.text.split(separator: "\n").map(String.init) == [
            "signature=QEMU",
            "id=00000003",
            "cpus=00000004",
            "max-cpus=00000004",
            "ram=00000000 04000000",
            "dma-control=00000000",
            "files=00000004",
            "file=etc/boot-fail-wait size=00000004 key=00000020",
            "file=etc/resetvector/acpi-rsdp size=\(Self.hex8(acpi.rsdpFile.count)) key=00000021",
            "file=etc/resetvector/acpi-tables size=\(Self.hex8(acpi.tablesFile.count)) key=00000022",
            "file=etc/resetvector/multiboot size=\(String(repeating: "0", count: 8 - size.count) + size) key=00000023",
        ])
    }

    static func hex8(_ value: Int) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }

    /// A payload that reports through the debug console that it ran.
    static func payload() throws -> [UInt8] {
        try SmallGuest.assemble { a in
            for byte in Array("payload ran".utf8) { a.outByte(SmallGuest.debugPort, byte) }
            a.haltLoop(interruptsEnabled: false)
        }
    }

    /// Names that differ from the payload's only late, or by length, sort around it; the
    /// ROM compares whole names and still finds its file, and the other files' keys move.
    static let decoys = [
        "etc/resetvector/boot-payloa", "etc/resetvector/boot-payload-old", "etc/resetvector/boot-payloae",
        "etc/resetvector/boot-payloac", "etc/resetvector/Boot-payload", "etc/acpi/tables",
    ] + (0..<20).map { "opt/org.example/file\($0)" }

    @Test(arguments: [false, true])
    func romFindsThePayloadAmongOtherFiles(payloadPresent: Bool) throws {
        let console = ByteCapture()
        let run = try TestBoard.run(payload: payloadPresent ? try Self.payload() : []) { configuration in
            configuration.attachDebugConsole(console)
        } prepare: { machine in
            for (index, name) in Self.decoys.enumerated() {
                try! machine.devices.firmwareConfig.addFile(name: name, bytes: [UInt8](repeating: UInt8(index), count: 600))
            }
        }
        // The decoys, etc/boot-fail-wait, the ACPI tables and RSDP, and the payload if any.
        #expect(run.machine.devices.firmwareConfig.files.count == Self.decoys.count + (payloadPresent ? 4 : 3))
        if payloadPresent {
            let key = run.machine.devices.firmwareConfig.files.first { $0.name == ResetVectorROM.payloadFileName }?.key
            // etc/acpi/tables, etc/boot-fail-wait, …/Boot-payload, …/acpi-rsdp, …/acpi-tables,
            // …/boot-payloa, …/boot-payloac first.
            #expect(key == 0x27)
            #expect(console.text == "payload ran")
            #expect(!run.serialText.contains("no boot payload"))
        } else {
            #expect(console.text == "")
            #expect(run.serialText.contains("no boot payload; halted"))
        }
    }
}
