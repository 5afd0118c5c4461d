import Foundation
import Testing

/// Bad input of every kind ends with one line on standard error that names the problem and
/// nothing on standard output: a usage error (an unknown option, a bad value, options that
/// conflict) with status 64, a file or anything else the command names that cannot be used
/// (missing, unreadable, truncated, corrupt, too large, not fitting in RAM) with status 1.
@Suite(.timeLimit(.minutes(2))) struct CommandLineErrorTests {
    /// A bad command line and a fragment its one error line must contain.
    struct BadCommand: CustomTestStringConvertible, Sendable {
        let arguments: [String]
        let fragment: String
        var testDescription: String { arguments.joined(separator: " ") }
        init(_ arguments: [String], _ fragment: String) {
            self.arguments = arguments
            self.fragment = fragment
        }

        /// Runs the command and expects `status`, one error line holding `fragment`, no output.
        func expectRefused(status: Int32) throws {
            let result = try Invocation.run(arguments)
            #expect(result.status == status, "\(result.standardError)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.errorLines.count == 1, "\(result.standardError)")
            let line = try #require(result.errorLines.first)
            #expect(line.hasPrefix("resetvector: error: "))
            #expect(line.contains(fragment), "\(line)")
        }
    }

    /// Usage errors: the command line itself is wrong (status 64, EX_USAGE).

    static let badCommands: [BadCommand] = [
        BadCommand(["run", "--smp", "0"], "0 processors is out of range (1 to 64)"),
        BadCommand(["run", "--smp", "65"], "65 processors is out of range (1 to 64)"),
        BadCommand(["demo", "--smp", "0"], "0 processors is out of range (1 to 64)"),
        BadCommand(["bench", "--smp", "1"], "--smp must be from 2 to 64"),
        BadCommand(["demo", "--linux", "--only", "k,x"], "'--only <only>': unknown path 'x' (one of: k, a-io,"),
        BadCommand(["demo", "--linux", "--smp", "1,0"], "'--smp <smp>': expected processor counts from 1 to 64"),
        BadCommand(["demo", "--board", "nosuch", "--linux"], "'--board <board>'"),
        BadCommand(["demo", "--linux", "--kernel-arch", "arm64"], "'--kernel-arch <kernel-arch>'"),
        BadCommand(["demo", "--linux", "--jobs", "0"], "--jobs takes 1 to 16"),
        BadCommand(["run", "--memory", "0"], "'--memory <memory>': guest RAM must be from 1M to 3G"),
        BadCommand(["run", "--memory", "1T"], "'--memory <memory>': guest RAM must be from 1M to 3G"),
        BadCommand(["run", "--memory", "12Q"], "'--memory <memory>': not a size"),
        BadCommand(["run", "--memory", "-1"], "'--memory <memory>': not a size"),
        BadCommand(["run", "--memory", "4097"], "'--memory <memory>': guest RAM must be from 1M to 3G"),
        BadCommand(["run", "--memory", "1048577"], "'--memory <memory>': guest RAM must be a multiple of 4K"),
        BadCommand(["run", "--memory"], "Missing value for '--memory <memory>'"),
        BadCommand(["run", "--debugcon", "1"], "'--debugcon <debugcon>': expected PORT=FILE"),
        BadCommand(["run", "--debugcon", "0xe9="], "'--debugcon <debugcon>': expected PORT=FILE"),
        BadCommand(["run", "--debugcon", "=out"], "'--debugcon <debugcon>': '' is not a port number"),
        BadCommand(["run", "--debugcon", "70000=out"], "'--debugcon <debugcon>': port 70000 is above 0xFFFF"),
        BadCommand(["run", "--debugcon", "0xzz=out"], "'--debugcon <debugcon>': '0xzz' is not a port number"),
        BadCommand(["run", "--exit-port", "70000"], "'--exit-port <exit-port>': port 70000 is above 0xFFFF"),
        BadCommand(["run", "--exit-port", "-1"], "'--exit-port <exit-port>': '-1' is not a port number"),
        BadCommand(["run", "--device", "nosuch"], "'--device <device>': unknown device 'nosuch' (known: pc-testdev, isa-debug-exit, i6300esb)"),
        BadCommand(["run", "--device", "pc-testdev", "--device", "virtio-net"], "'--device <device>': unknown device 'virtio-net'"),
        BadCommand(["run", "--device", "pc-testdev,iobase=0xe0"], "'--device <device>': pc-testdev takes no properties"),
        BadCommand(["run", "--device", "isa-debug-exit,iobase"], "'--device <device>': expected PROPERTY=VALUE after 'isa-debug-exit,', got 'iobase'"),
        BadCommand(["run", "--device", "isa-debug-exit,size=4"], "isa-debug-exit has no property 'size' (it has iobase and iosize)"),
        BadCommand(["run", "--device", "isa-debug-exit,iobase=0xzz"], "isa-debug-exit: iobase: '0xzz' is not a port number"),
        BadCommand(["run", "--device", "isa-debug-exit,iobase=0x10000"], "isa-debug-exit: iobase: port 0x10000 is above 0xFFFF"),
        BadCommand(["run", "--device", "isa-debug-exit,iosize=0"], "isa-debug-exit: iosize '0' is not a number of ports (1 to 0x10000)"),
        BadCommand(["run", "--device", "isa-debug-exit,iosize=four"], "isa-debug-exit: iosize 'four' is not a number of ports"),
        BadCommand(["run", "--device", "isa-debug-exit,iobase=0xfffe,iosize=4"], "iobase 0xfffe with iosize 4 runs past port 0xffff"),
        BadCommand(["run", "--device", "isa-debug-exit,iosize=2,iosize=4"], "isa-debug-exit: iosize given twice"),
        BadCommand(["run", "--device"], "Missing value for '--device <device>'"),
        BadCommand(["run", "--serial", "tcp:1234"], "'--serial <serial>': expected stdio, file:PATH or none"),
        BadCommand(["run", "--serial", "file:"], "'--serial <serial>': expected stdio, file:PATH or none"),
        BadCommand(["run", "--max-instructions", "-5"], "'--max-instructions <max-instructions>'"),
        BadCommand(["run", "--max-instructions", "lots"], "'--max-instructions <max-instructions>'"),
        BadCommand(["run", "--clock", "wall"], "The value 'wall' is invalid for '--clock <clock>'. Please provide one of 'virtual' and 'realtime'."),
        BadCommand(["run", "--payload", "x.bin", "--guest", "port92"], "give --payload or --guest, not both"),
        BadCommand(["run", "--module", "m.bin"], "--module and --cmdline need --multiboot"),
        BadCommand(["run", "--cmdline", "quiet"], "--module and --cmdline need --multiboot"),
        BadCommand(["run", "--multiboot", "k", "--guest", "port92"], "give --multiboot or a payload"),
        BadCommand(["run", "--multiboot", "k", "--firmware", "rom"], "--multiboot needs the built-in firmware"),
        BadCommand(["run", "--multiboot", "k", "--module", ",string"], "'--module <module>': expected FILE[,STRING]"),
        BadCommand(["run", "--initrd", "initrd.img"], "--initrd and --append need --kernel"),
        BadCommand(["run", "--append", "quiet"], "--initrd and --append need --kernel"),
        BadCommand(["run", "--kernel", "k", "--multiboot", "m"], "give --kernel or --multiboot, not both"),
        BadCommand(["run", "--kernel", "k", "--firmware", "rom"], "--kernel needs the built-in firmware"),
        BadCommand(["run", "--kernel", "k", "--guest", "port92"], "give --kernel or a payload"),
        BadCommand(["run", "--kernel", "k", "--cmdline", "quiet"], "use --initrd and --append with --kernel"),
        BadCommand(["run", "--guest", "nosuch"], "'--guest <guest>'. Please provide one of the following: 8042-pulse, "),
        BadCommand(["run", "--board", "nosuch"], "'--board <board>'. Please provide one of 'pc' and 'qemu'"),
        BadCommand(["run", "--quirk", "nosuch"], "'--quirk <quirk>'"),
        BadCommand(["run", "--on-reset", "explode"], "'--on-reset <on-reset>'"),
        BadCommand(["run", "--acpi-reset", "port"], "'--acpi-reset <acpi-reset>'. Please provide one of 'io', 'mmio', 'pci' or 'none'"),
        BadCommand(["run", "--acpi-reset", ""], "'--acpi-reset <acpi-reset>'"),
        BadCommand(["run", "--acpi-reset"], "Missing value for '--acpi-reset <acpi-reset>'"),
        BadCommand(["run", "--quirk", "no-acpi"], "'--quirk <quirk>'"),
        BadCommand(["run", "--bogus"], "Unknown option '--bogus'"),
        BadCommand(["run", "extra"], "Unexpected argument 'extra'"),
        BadCommand(["nosuch"], "Unexpected argument 'nosuch'"),
        BadCommand(["demo", "--board", "nosuch"], "'--board <board>'"),
        BadCommand(["bench", "--iterations", "0"], "--iterations must be at least 1"),
        BadCommand(["bench", "--paged-iterations", "0"], "--paged-iterations must be at least 1"),
        BadCommand(["bench", "--rounds", "0"], "--rounds must be at least 1"),
        BadCommand(["bench", "--kernel", "vmlinuz"], "--kernel, --initrd, --compare-qemu and --reboots go with --linux"),
        BadCommand(["bench", "--reboots", "5"], "--kernel, --initrd, --compare-qemu and --reboots go with --linux"),
        BadCommand(["bench", "--linux", "--smp", "2"], "--linux goes without --smp and --export"),
        BadCommand(["bench", "--linux", "--reboots", "0"], "--reboots must be from 1 to 10000"),
        BadCommand(["bench", "--linux", "--reboots", "3", "--compare-qemu"], "--compare-qemu times one boot; give it without --reboots"),
        BadCommand(["bench", "--rounds", "-2"], "--rounds must be at least 1"),
        BadCommand(["vectors"], "Missing expected argument '<directory>'"),
        BadCommand(["differential"], "Missing expected argument '<file>'"),
    ]

    @Test(arguments: badCommands)
    func aUsageErrorIsOneLineAndStatus64(_ command: BadCommand) throws {
        try command.expectRefused(status: 64)
    }

    /// Well-formed commands naming something that cannot be used: a file missing, a
    /// directory, too large, not what it should be, an output that cannot be created.
    static let unusableInputs: [BadCommand] = [
        BadCommand(["run", "--kernel", "/nonexistent"], "kernel /nonexistent does not exist"),
        BadCommand(["run", "--kernel", "/dev/null"], "/dev/null: not a Multiboot kernel"),
        BadCommand(["bench", "--linux", "--kernel", "/nonexistent"], "kernel /nonexistent does not exist"),
        BadCommand(["bench", "--linux", "--kernel", "/dev/null", "--initrd", "/dev/null"], "/dev/null: truncated bzImage"),
        BadCommand(["bench", "--export", "/nonexistent"], "cannot open /nonexistent/real-mode.bin for writing"),
        BadCommand(["vectors", "/nonexistent"], "cannot read /nonexistent"),
        BadCommand(["differential", "/nonexistent.jsonl"], "cannot read /nonexistent.jsonl"),
        BadCommand(["differential", "/dev/null"], "/dev/null: no cases in the file"),
        BadCommand(["run", "--firmware", "/nonexistent.rom"], "firmware image /nonexistent.rom does not exist"),
        BadCommand(["run", "--payload", "/nonexistent.bin"], "payload /nonexistent.bin does not exist"),
        BadCommand(["run", "--multiboot", "/nonexistent.elf"], "Multiboot kernel /nonexistent.elf does not exist"),
        BadCommand(["run", "--firmware", "/"], "firmware image / is a directory"),
        BadCommand(["run", "--firmware", "/dev/zero"], "firmware image /dev/zero is larger than 524288 bytes"),
        BadCommand(["run", "--multiboot", "/dev/null"], "/dev/null: not a Multiboot kernel"),
        BadCommand(["run", "--trace-json", "/nonexistent/trace.jsonl", "--guest", "port92"],
                   "cannot open /nonexistent/trace.jsonl for writing: No such file or directory"),
        BadCommand(["run", "--serial", "file:/nonexistent/serial.txt"], "cannot open /nonexistent/serial.txt for writing"),
        BadCommand(["demo", "--trace-json", "/nonexistent/trace.jsonl"], "cannot open /nonexistent/trace.jsonl for writing"),
    ]

    @Test(arguments: unusableInputs)
    func anUnusableFileIsOneLineAndStatus1(_ command: BadCommand) throws {
        try command.expectRefused(status: 1)
    }

    /// A 1 GiB file (sparse: nothing is written) is refused by its size before it is read.
    @Test(arguments: [("--firmware", "firmware image"), ("--payload", "payload"), ("--multiboot", "Multiboot kernel")])
    func aHugeFileIsRefusedByItsSize(option: String, what: String) throws {
        let directory = try TemporaryDirectory()
        let path = directory.path("huge")
        #expect(FileManager.default.createFile(atPath: path, contents: nil))
        #expect(truncate(path, 1 << 30) == 0)
        let result = try Invocation.run(["run", option, path])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.contains("\(what) \(path) is 1073741824 bytes; at most ") == true, "\(result.standardError)")
    }

    /// A bzImage's setup header: "HdrS", protocol 2.15, LOADED_HIGH, relocatable with 2 MiB
    /// alignment, cmdline_size 16, pref_address 16 MiB, init_size 1 MiB; `paragraphs` of
    /// protected-mode kernel claimed, `present` bytes of it in the file.
    static func bzImage(paragraphs: UInt32, present: Int) -> [UInt8] {
        var file = [UInt8](repeating: 0, count: 5 * 512 + present)
        func put(_ value: UInt64, _ offset: Int, _ bytes: Int) {
            for i in 0..<bytes { file[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        file[0x1F1] = 4
        put(UInt64(paragraphs), 0x1F4, 4)
        put(0xAA55, 0x1FE, 2)
        file[0x200] = 0xEB; file[0x201] = 0x6A
        file.replaceSubrange(0x202..<0x206, with: Array("HdrS".utf8))
        put(0x020F, 0x206, 2)
        file[0x211] = 1
        put(0x7FFF_FFFF, 0x22C, 4)
        put(0x20_0000, 0x230, 4)
        file[0x234] = 1
        put(16, 0x238, 4)
        put(0x100_0000, 0x258, 8)
        put(0x10_0000, 0x260, 4)
        return file
    }

    /// A bad bzImage, initrd or command line: one line naming the kernel file and the problem,
    /// status 1, and nothing started: an existing serial output file keeps its bytes, no debug
    /// console output, trace file or control socket is created.
    @Test func badLinuxBootsAreOneLineAndStartNothing() throws {
        let directory = try TemporaryDirectory()
        let truncated = try directory.file("truncated", Self.bzImage(paragraphs: 100, present: 16))
        let good = try directory.file("bzImage", Self.bzImage(paragraphs: 1, present: 16))
        let initrd = try directory.file("initrd", [UInt8](repeating: 1, count: 0x10_0000))
        let serial = try directory.file("serial.txt", Array("kept".utf8))
        let outputs = [directory.path("debugcon.txt"), directory.path("trace.jsonl"), directory.path("qmp.sock")]
        let cases: [([String], String)] = [
            (["--kernel", truncated], "\(truncated): truncated bzImage: its setup header asks for 4160 bytes, the file has 2576"),
            (["--kernel", good, "--append", String(repeating: "x", count: 17)],
             "\(good): the kernel command line is 17 bytes; this kernel takes at most 16 (cmdline_size)"),
            (["--kernel", good, "--memory", "16M"], "\(good): the kernel needs RAM up to 0x1100000"),
            // 18 MiB less the ACPI tables' 64 KiB leaves 960 KiB above the kernel's end.
            (["--kernel", good, "--memory", "18M", "--initrd", initrd], "\(good): the initrd (1048576 bytes) does not fit"),
        ]
        for (arguments, fragment) in cases {
            let result = try Invocation.run(["run", "--serial", "file:\(serial)", "--debugcon", "0xe9=\(outputs[0])",
                                             "--trace-json", outputs[1], "--qmp", "unix:\(outputs[2])"] + arguments)
            #expect(result.status == 1, "\(arguments)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.errorLines.count == 1, "\(result.standardError)")
            #expect(result.errorLines.first?.contains(fragment) == true, "\(result.standardError)")
            #expect(try String(contentsOfFile: serial, encoding: .utf8) == "kept")
            for output in outputs { #expect(!FileManager.default.fileExists(atPath: output), "\(output)") }
        }
    }

    /// `--cmdline=` and `--cmdline ""` give the kernel an empty command line; the guest echoes
    /// what it got, then "|".
    @Test(arguments: [["--cmdline="], ["--cmdline", ""], ["--cmdline=a=b c"], []])
    func theMultibootCommandLineMayBeEmpty(_ cmdline: [String]) throws {
        let directory = try TemporaryDirectory()
        let kernel = try directory.file("kernel", TestGuest.multibootCommandLineEcho())
        let echo = directory.path("echo")
        let result = try Invocation.run(["run", "--multiboot", kernel, "--exit-on-halt", "--serial", "none",
                                         "--debugcon", "0xe9=\(echo)"] + cmdline)
        #expect(result.status == 0, "\(result.standardError)")
        let expected = cmdline.isEmpty ? kernel : cmdline == ["--cmdline=a=b c"] ? "a=b c" : ""
        #expect(try String(contentsOfFile: echo, encoding: .utf8) == expected + "|")
    }

    /// `--kernel` with a file that is no bzImage boots it as Multiboot, as QEMU's -kernel does;
    /// `--append` follows the kernel's path on its command line, as QEMU passes it.
    @Test func kernelWithoutHdrSIsMultiboot() throws {
        let directory = try TemporaryDirectory()
        let kernel = try directory.file("kernel", TestGuest.multibootCommandLineEcho())
        let echo = directory.path("echo")
        let result = try Invocation.run(["run", "--kernel", kernel, "--append", "a=b c", "--exit-on-halt", "--serial", "none",
                                         "--debugcon", "0xe9=\(echo)"])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(try String(contentsOfFile: echo, encoding: .utf8) == kernel + " a=b c|")
    }

    /// The exit port's status is ((v & 0x7F) << 1) | 1: odd, so never 64, 74 or a run's own
    /// (even) status, and 8 bits wide as every process status is. (1 is also a refused input's,
    /// which comes as an error line before anything runs.)
    @Test(arguments: [(UInt8(0x00), Int32(1)), (0x01, 3), (0x1F, 63), (0x7F, 255), (0x80, 1), (0xFF, 255)])
    func exitPortStatusesAreOdd(value: UInt8, status: Int32) throws {
        let directory = try TemporaryDirectory()
        let payload = try directory.file("exit.bin", TestGuest.exitPortWrite(value))
        let result = try Invocation.run(["run", "--payload", payload, "--exit-port", "0xf4", "--serial", "none"])
        #expect(result.status == status)
        #expect(result.errorLines == ["resetvector: guest requested exit with status \(status)"])
    }

    /// `bench --export DIR` writes the three workloads' programs and runs nothing.
    @Test func benchExportWritesTheWorkloads() throws {
        let directory = try TemporaryDirectory()
        let result = try Invocation.run(["bench", "--export", directory.url.path])
        #expect(result.status == 0, "\(result.standardError)")
        for name in ["real-mode", "protected-paged", "real-code"] {
            let size = try FileManager.default.attributesOfItem(atPath: directory.path(name + ".bin"))[.size] as? Int
            #expect((size ?? 0) > 100, "\(name).bin")
            #expect(result.standardOutput.contains("\(name).bin: \(size ?? 0) bytes"))
        }
    }

    // MARK: Vector files

    /// A vector file that cannot be read whole — damaged or cut short — or that holds no
    /// tests is an error, not "0 passed, 0 failed".
    @Test(arguments: ["truncated", "corrupt", "empty"])
    func anUnreadableVectorFileIsAnError(_ damage: String) throws {
        let directory = try TemporaryDirectory()
        let text = String(repeating: "{\"name\": \"nop\"}\n", count: 2000)
        let plain = try directory.file("plain.jsonl", Array(text.utf8))
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        gzip.arguments = ["gzip", "-n", plain]
        try gzip.run()
        gzip.waitUntilExit()
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: plain + ".gz")))
        try FileManager.default.removeItem(atPath: plain + ".gz")
        switch damage {
        case "truncated": bytes = Array(bytes.prefix(bytes.count / 2))
        case "corrupt": for index in stride(from: 20, to: bytes.count - 8, by: 7) { bytes[index] ^= 0x5A }
        default: bytes = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        }
        let file = try directory.file("00.jsonl.gz", bytes)
        let result = try Invocation.run(["vectors", directory.url.path])
        #expect(result.status == 1)
        #expect(result.errorLines.count == 1)
        #expect(result.errorLines.first?.contains(file) == true, "\(result.standardError)")
        #expect(!result.standardOutput.contains("0 passed, 0 failed"))
    }
}
