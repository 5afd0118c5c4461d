import Firmware
import Hardware
import Machine
import Testing

/// Whole-machine Multiboot boots: the firmware loads the probe kernel from the firmware
/// configuration interface, enters it in 32-bit protected mode, and the kernel reports on
/// the debug console what it found.
@Suite struct MultibootBootTests {
    static let commandLine = "/boot/probe console=ttyS0 quiet"
    static let modules = [
        MultibootModule(bytes: Array("first module's bytes".utf8), string: "/boot/initrd.img rdinit=/init"),
        MultibootModule(bytes: Array(repeating: UInt8(ascii: "x"), count: 5000), string: "big"),
        MultibootModule(bytes: [], string: ""),
    ]

    struct Boot {
        let run: GuestRun
        let console: ByteCapture
        var lines: [String] { console.text.split(separator: "\n").map(String.init) }
    }

    static func boot(_ file: [UInt8], image: [UInt8], memorySize: Int = 32 << 20,
                     configure: (inout MachineConfiguration) -> Void = { _ in }) throws -> Boot {
        let console = ByteCapture()
        let run = try TestBoard.run(payload: []) { configuration in
            configuration.memorySize = memorySize
            configuration.multiboot = MultibootBoot(kernel: file, modules: modules, commandLine: commandLine)
            configuration.attachDebugConsole(console, port: UInt16(MultibootProbe.port))
            configure(&configuration)
        } prepare: { machine in
            // Garbage where the bss will be: the firmware must zero it.
            let bssStart = UInt64(MultibootProbe.loadAddress) + UInt64(image.count)
            machine.writeMemory([UInt8](repeating: 0xAA, count: MultibootProbe.bssSize), at: bssStart)
        }
        return Boot(run: run, console: console)
    }

    static func hex(_ value: UInt64, digits: Int = 8) -> String {
        let text = String(value, radix: 16)
        return String(repeating: "0", count: max(0, digits - text.count)) + text
    }

    /// What the probe must print about the information structure on a 32 MiB machine, from
    /// the specification and the board's memory map, with modules from `firstModule` on.
    static func expectedInformation(firstModule: UInt64) -> [String] {
        var lines = [
            "flags=0000024d",                       // mem, cmdline, mods, mmap, boot_loader_name
            "mem=0000027c 00007bc0",                 // 636 KiB below 640 KiB, 31 MiB above 1 MiB less the ACPI tables' 64 KiB
            "cmdline=\(commandLine)",
            "mmap=00000014 0000000000000000 000000000009f000 00000001",
            "mmap=00000014 000000000009f000 0000000000001000 00000002",
            "mmap=00000014 00000000000f0000 0000000000010000 00000002",
            "mmap=00000014 0000000000100000 0000000001ef0000 00000001",
            "mmap=00000014 0000000001ff0000 0000000000001000 00000004",   // ACPI NVS: the FACS
            "mmap=00000014 0000000001ff1000 000000000000f000 00000003",   // ACPI reclaimable: the tables
            "mmap=00000014 00000000ffff0000 0000000000010000 00000002",
            "mods=00000003",
        ]
        var start = firstModule
        for module in modules {
            let end = start + UInt64(module.bytes.count)
            let shown = String(decoding: module.bytes.prefix(MultibootProbe.moduleBytesShown), as: UTF8.self)
            lines.append("mod=\(hex(start)) \(hex(end)) \(module.string) \(shown)")
            start = (end + 0xFFF) & ~0xFFF
        }
        return lines + ["loader=ResetVector", "bss=zero"]
    }

    /// The first module goes on the first page past the kernel's bss.
    static func firstModule(image: [UInt8]) -> UInt64 {
        (UInt64(MultibootProbe.loadAddress) + UInt64(image.count) + UInt64(MultibootProbe.bssSize) + 0xFFF) & ~0xFFF
    }

    @Test(arguments: MultibootProbe.Packaging.allCases)
    func kernelSeesTheMultibootMachineState(packaging: MultibootProbe.Packaging) throws {
        let kernel = try MultibootProbe.kernel(packaging)
        let boot = try Self.boot(kernel.file, image: kernel.image)
        #expect(boot.run.outcome == .allHalted)
        let lines = boot.lines
        try #require(lines.count == 3 + Self.expectedInformation(firstModule: 0).count, "\(boot.console.text)")
        #expect(lines[0] == "magic=2badb002")

        // CR0.PE = 1, PG = 0; IF = 0, VM = 0; flat code 08h, flat data 10h everywhere else.
        let state = Dictionary(uniqueKeysWithValues: lines[1].split(separator: " ").map { field in
            let parts = field.split(separator: "=")
            return (String(parts[0]), UInt32(parts[1], radix: 16)!)
        })
        let cr0 = try #require(state["cr0"]), eflags = try #require(state["eflags"])
        #expect(cr0 & 1 == 1 && cr0 & 0x8000_0000 == 0, "cr0=\(Self.hex(UInt64(cr0)))")
        #expect(eflags & (1 << 9) == 0 && eflags & (1 << 17) == 0, "eflags=\(Self.hex(UInt64(eflags)))")
        #expect(state["cs"] == 0x08)
        #expect(["ds", "es", "fs", "gs", "ss"].map { state[$0] } == Array(repeating: 0x10, count: 5))
        #expect(lines[2] == "boot=00000001")
        #expect(Array(lines[3...]) == Self.expectedInformation(firstModule: Self.firstModule(image: kernel.image)))

        // The firmware took the Multiboot path, not the payload path, and said so.
        let records = boot.run.records
        #expect(records.milestones(from: 0).suffix(2) == ["serial", "multiboot"])
        let posts = records.named("post").compactMap { $0.event["value"]?.number }
        #expect(posts.suffix(2) == [UInt64(ResetVectorROM.PostCode.multiboot.rawValue),
                                    UInt64(ResetVectorROM.PostCode.multibootEntry.rawValue)])
    }

    /// A higher-half ELF kernel (linked at 0xC0100000, loaded at 1 MiB) is entered at the
    /// physical address of its entry point.
    @Test func higherHalfELFKernelIsEnteredPhysically() throws {
        let kernel = try MultibootProbe.kernel(.elf)
        let offset: UInt32 = 0xC000_0000
        let file = BootImage.elf(entry: kernel.entry + offset, segments: [
            .init(at: MultibootProbe.loadAddress, virtual: MultibootProbe.loadAddress + offset, bytes: kernel.image,
                  memorySize: UInt32(kernel.image.count + MultibootProbe.bssSize)),
        ])
        let boot = try Self.boot(file, image: kernel.image)
        #expect(boot.lines.first == "magic=2badb002")
        #expect(boot.lines.last == "bss=zero")
    }

    /// Every kind of reset boots the kernel afresh: the firmware copies it, zeroes its bss
    /// and writes the information structure again (the probe spoiled both before resetting;
    /// the full reset also cleared RAM).
    @Test(arguments: MultibootProbe.Reset.allCases)
    func everyResetBootsTheKernelAgain(reset: MultibootProbe.Reset) throws {
        let kernel = try MultibootProbe.kernel(.elf, resetOnFirstBoot: reset)
        let boot = try Self.boot(kernel.file, image: kernel.image)
        #expect(boot.run.outcome == .allHalted)
        let report = boot.console.text.split(separator: "magic=", omittingEmptySubsequences: true).map(String.init)
        try #require(report.count == 2, "\(boot.console.text)")
        #expect(report[0].contains("boot=00000001"))
        #expect(report[1].contains("boot=00000002"))
        for (first, second) in zip(report[0].split(separator: "\n"), report[1].split(separator: "\n")) where !first.hasPrefix("boot=") {
            #expect(first == second)
        }
        #expect(report[1].contains("\ncmdline=\(Self.commandLine)\n") && report[1].hasSuffix("bss=zero\n"))
        let expectedKind: ResetKind = switch reset {
        case .port92, .tripleFault: .initSignal
        case .cf9Hard: .hard
        case .cf9Full: .full
        }
        #expect(boot.run.records.named("reset").compactMap { $0.event["kind"]?.text } == [expectedKind.rawValue])
        #expect(boot.run.records.named("firmware").filter { $0.event["milestone"] == "multiboot" }.count == 2)
    }

    /// A machine with just 1 MiB of RAM reports no memory above 1 MiB; a kernel that fits
    /// in conventional memory still boots there, and its modules have nowhere to go.
    @Test func oneMebibyteMachine() throws {
        let fields = BootImage.AddressFields(header: 0x1_0000, load: 0x1_0000, loadEnd: 0, bssEnd: 0, entry: 0x1_0020)
        let kernel = BootImage.multibootHeader(addressFields: fields) + [0xE6, 0xE9, 0xFA, 0xF4] // out 0xE9, al; cli; hlt
        var configuration = try TestBoard.configuration(payload: [])
        configuration.memorySize = 1 << 20
        configuration.multiboot = MultibootBoot(kernel: kernel)
        let console = ByteCapture()
        configuration.attachDebugConsole(console, port: 0xE9)
        let run = try Machine(configuration).run()
        #expect(run == .allHalted)
        #expect(console.bytes == [0x02], "AL holds the low byte of 2BADB002h")
        configuration.multiboot?.modules = [MultibootModule(bytes: [1], string: "m")]
        #expect(throws: MachineError.multiboot(.modulesDoNotFit(end: 0x10_0001, ramEnd: 0x10_0000))) { try configuration.validate() }
    }
}
