import Foundation
import Testing

/// `resetvector demo --linux`, end to end: Debian's kernels booted by the release build down
/// each path, asserting on the serial lines, the attempts Linux made with the board's answers,
/// the exit status and the `--trace-json` events.
///
/// Gated: each test skips, saying why, without a release build or the cached kernels
/// (`LinuxGuests`); `.ci/run` provides both. Serialized: each run already keeps two threads busy.
@Suite(.serialized) struct LinuxMatrixTests {
    /// What a path's row must show on the `pc` board with one processor: its attempts, in order.
    static let attempts: [String: [String]] = [
        "k": ["8042-pulse FEh → init"],
        "a-io": ["cf9 06h → hard"],
        "a-mmio": ["acpi-reset-reg memory 06h → hard"],
        "a-pci": ["acpi-reset-reg pci 06h → hard"],
        "t": ["triple-fault → init"],
        "p": ["cf9 0Eh → full"],
        "q": ["cf9 06h → hard"],
        // Not booted by EFI, Linux's EFI method falls through to the BIOS one, which jumps to
        // FFFF:0000 without asking the board for anything.
        "b": ["firmware re-entered at its reset vector (no reset)"],
        "e": ["firmware re-entered at its reset vector (no reset)"],
        "wp": ["cf9 06h → hard"],
        "cp": ["cf9 0Eh → full"],
        "default": ["cf9 06h → hard"],
        "poweroff": ["ACPI S5 PM1_CNT 3C01h → power-off"],
        "halt": [],
        "panic-reboot": ["cf9 06h → hard"],
        "panic-hang": [],
        "pvpanic": ["pvpanic panicked → pause"],
        // Linux's own order with ACPI's register (0xCF9) and the 8042 broken: ACPI, ten pulses,
        // ACPI again (06h once more: RST_CPU is already 1, so no edge and no request), ten
        // pulses, EFI (nothing), then the BIOS method.
        "chain-acpi-8042": ["cf9 06h → ignored (no-acpi-reset)", "8042-pulse FEh → ignored (no-8042-reset) ×20",
                            "firmware re-entered at its reset vector (no reset)"],
        // reboot=p with 0xCF9 dead: its 02h starts nothing, its 0Eh is ignored, then the triple fault.
        "chain-cf9": ["cf9 0Eh → ignored (no-cf9)", "triple-fault → init"],
    ]

    static let rebootPaths: Set = ["k", "a-io", "a-mmio", "a-pci", "t", "p", "q", "b", "e", "wp", "cp", "default",
                                   "panic-reboot", "chain-acpi-8042", "chain-cf9", "watchdog"]

    static func run(_ arguments: [String], binary: URL) throws -> (Invocation, LinuxMatrixOutput) {
        let directory = try TemporaryDirectory()
        let trace = directory.path("trace.jsonl")
        let result = try Invocation.run(["demo", "--linux", "--trace-json", trace] + arguments, timeout: 3000, executable: binary)
        return (result, try LinuxMatrixOutput(standardOutput: result.standardOutput,
                                              traceJSON: try String(contentsOfFile: trace, encoding: .utf8)))
    }

    /// Checks the row `architecture board smp N path` against the path's expectations.
    static func check(_ output: LinuxMatrixOutput, _ architecture: String, board: String = "pc", processors: Int = 1,
                      path: String, attempts expected: [String]? = nil) {
        let key = "\(architecture) \(board) smp \(processors) \(path)"
        guard let story = output.stories[key] else {
            Issue.record("no row \(key)")
            return
        }
        #expect(story.result.contains("; as expected; "), "\(key): \(story.lines)")
        if let expected = expected ?? (board == "pc" ? attempts[path] : nil) {
            #expect(story.attempts == expected, "\(key)")
        }
        let markers = story.serial.filter { $0.hasPrefix("RESETVECTOR-INIT-OK ") }
        #expect(markers.count == (rebootPaths.contains(path) ? 2 : 1), "\(key): \(story.serial)")
        #expect(markers.allSatisfy { $0.contains("cpus=\(processors) ") }, "\(key): \(markers)")
        let events = output.events["\(architecture) \(board) smp\(processors) \(path)"] ?? []
        func named(_ name: String) -> [[String: Any]] { events.filter { $0["event"] as? String == name } }
        let linuxEntries = named("firmware").filter { $0["milestone"] as? String == "linux" }.count
        switch path {
        case "poweroff":
            #expect(story.serial.contains { $0.hasSuffix("reboot: Power down") })
            #expect(named("sleep-request").first?["state"] as? String == "S5" && named("power-off").count == 1, "\(key)")
        case "halt":
            #expect(story.serial.contains { $0.hasSuffix("reboot: System halted") })
            #expect(story.result.hasPrefix("all CPUs halted"), "\(key)")
            #expect(named("halt").suffix(processors).allSatisfy { $0["if"] as? Int == 0 }, "\(key)")
        case "panic-hang":
            #expect(story.serial.contains { $0.contains("Kernel panic - not syncing: sysrq triggered crash") })
            #expect(story.result.hasPrefix("instruction limit reached"), "\(key)")
            #expect(named("reset-request").isEmpty && linuxEntries == 1, "\(key)")
            #expect(story.lines.contains { $0.hasPrefix("cpu0 ") }, "every CPU's state is printed: \(story.lines)")
        case "pvpanic":
            #expect(named("panic").first?["action"] as? String == "pause", "\(key)")
            #expect(named("reset-request").isEmpty, "\(key)")
            #expect((0..<processors).allSatisfy { cpu in story.lines.contains { $0.hasPrefix("cpu\(cpu) ") } }, "\(story.lines)")
        case "watchdog":
            #expect(story.serial.contains("RESETVECTOR-WATCHDOG-STOPPED"))
            #expect(story.serial.last { $0.hasPrefix("RESETVECTOR-WATCHDOG-BOOTSTATUS") } == "RESETVECTOR-WATCHDOG-BOOTSTATUS 32",
                    "the second boot's i6300esb driver found WDT_TIMEOUT (WDIOF_CARDRESET): \(story.serial)")
            // Stage 1 expires first (its interrupt is off: action none), then stage 2 resets.
            #expect(named("watchdog").map { $0["stage"] as? Int } == [1, 2], "\(key)")
            #expect(named("reset-request").first?["source"] as? String == "watchdog", "\(key)")
        default:
            // A reboot: the firmware handed over to Linux twice, once per boot.
            #expect(linuxEntries == 2, "\(key)")
        }
    }

    /// The 64-bit cloud kernel down every path on the `pc` board with one processor (its
    /// watchdog row is skipped: the kernel has no i6300esb driver).
    @Test func cloudKernelTakesEveryPath() throws {
        guard let binary = LinuxGuests.ready(for: ["amd64"], test: "LinuxMatrixTests") else { return }
        let (result, output) = try Self.run(["--kernel-arch", "amd64"], binary: binary)
        #expect(result.status == 0, "\(result.standardOutput.suffix(4000)) \(result.standardError)")
        for path in Self.attempts.keys.sorted() { Self.check(output, "amd64", path: path) }
        #expect(output.stories["amd64 pc smp 1 watchdog"]?.lines.first?.hasPrefix("skipped: the cloud kernel is built without the i6300esb driver") == true)
        // The table: one line per row, the skipped one saying so.
        #expect(result.standardOutput.contains("20 rows: 19 as expected, 0 not, 1 skipped"), "\(result.standardOutput.suffix(500))")
    }

    /// The 32-bit 686-pae kernel down each kind of path: a reboot in Linux's own order,
    /// power-off, halt, the three panics, the watchdog, and a fallback chain.
    @Test func thirtyTwoBitKernelTakesEachKindOfPath() throws {
        guard let binary = LinuxGuests.ready(for: ["i386"], test: "LinuxMatrixTests") else { return }
        let paths = ["default", "poweroff", "halt", "panic-reboot", "panic-hang", "pvpanic", "watchdog", "chain-acpi-8042"]
        let (result, output) = try Self.run(["--kernel-arch", "i386", "--only", paths.joined(separator: ",")], binary: binary)
        #expect(result.status == 0, "\(result.standardOutput.suffix(4000)) \(result.standardError)")
        for path in paths { Self.check(output, "i386", path: path, attempts: path == "watchdog"
                ? ["watchdog stage 1 expired → nothing", "watchdog stage 2 expired → reset", "watchdog → hard"] : nil) }
    }

    /// Four processors on the QEMU-compatible board, where every reset is a platform (hard)
    /// reset: the 8042 and the triple fault answer with a hard reset instead of INIT, and halt
    /// stops every processor.
    @Test func fourProcessorsOnTheQEMUBoard() throws {
        guard let binary = LinuxGuests.ready(for: ["amd64", "i386"], test: "LinuxMatrixTests") else { return }
        let (result, output) = try Self.run(["--kernel-arch", "all", "--board", "qemu", "--smp", "4", "--only", "default,k,t,halt"],
                                            binary: binary)
        #expect(result.status == 0, "\(result.standardOutput.suffix(4000)) \(result.standardError)")
        for architecture in ["amd64", "i386"] {
            Self.check(output, architecture, board: "qemu", processors: 4, path: "default", attempts: ["cpu0 cf9 06h → hard"])
            Self.check(output, architecture, board: "qemu", processors: 4, path: "k", attempts: ["cpu0 8042-pulse FEh → hard"])
            Self.check(output, architecture, board: "qemu", processors: 4, path: "t", attempts: ["cpu0 triple-fault → hard"])
            Self.check(output, architecture, board: "qemu", processors: 4, path: "halt", attempts: [])
        }
    }

    /// Four processors on the `pc` board, whose answer to a triple fault is INIT: every
    /// processor restarts, and the second boot brings up all four again. (It once failed: an
    /// application processor ran blocks decoded in the first boot over the second boot's
    /// KASLR-placed kernel.)
    @Test func fourProcessorsRebootThroughINITOnThePCBoard() throws {
        guard let binary = LinuxGuests.ready(for: ["amd64"], test: "LinuxMatrixTests") else { return }
        let (result, output) = try Self.run(["--kernel-arch", "amd64", "--board", "pc", "--smp", "4", "--only", "t"],
                                            binary: binary)
        #expect(result.status == 0, "\(result.standardOutput.suffix(4000)) \(result.standardError)")
        Self.check(output, "amd64", board: "pc", processors: 4, path: "t", attempts: ["cpu0 triple-fault → init"])
        let markers = output.stories["amd64 pc smp 4 t"]?.serial.filter { $0.hasPrefix("RESETVECTOR-INIT-OK ") } ?? []
        #expect(markers.count == 2 && markers.allSatisfy { $0.contains("cpus=4") }, "\(markers)")
    }

    /// A kernel missing from the cache, cut short or with a damaged initramfs: one line naming
    /// the cache and the problem, status 1, before any row runs (no --trace-json file).
    @Test func aMissingOrDamagedCacheIsOneLine() throws {
        let directory = try TemporaryDirectory()
        let cache = directory.path("debian/amd64")
        var kernel = LinuxBadInputTests.bzImage(payloadMagic: LinuxBadInputTests.xzMagic, length: 16)
        kernel[0x239] = 0x08                        // cmdline_size 2064: the rows' command lines fit
        let archive = LinuxBadInputTests.cpio([("init", [UInt8](repeating: 0x41, count: 3000))])
        var badCRC = try LinuxBadInputTests.gzip(archive, in: directory)
        badCRC[badCRC.count - 6] ^= 0xFF
        let cases: [(kernel: [UInt8]?, fragment: String)] = [
            (nil, "no Debian kernel in \(cache): run Tools/guests/fetch-debian.sh amd64"),
            (CommandLineErrorTests.bzImage(paragraphs: 100, present: 16), "\(cache): truncated bzImage"),
            (kernel, "\(cache): the initrd is damaged at byte 0: its gzip data is corrupt"),
        ]
        for (kernel, fragment) in cases {
            if let kernel {
                try FileManager.default.createDirectory(atPath: cache, withIntermediateDirectories: true)
                _ = try directory.file("debian/amd64/vmlinuz", kernel)
                _ = try directory.file("debian/amd64/initramfs.cpio.gz", badCRC)
            }
            let trace = directory.path("trace.jsonl")
            let result = try Invocation.run(["demo", "--linux", "--kernel-arch", "amd64", "--trace-json", trace],
                                            environment: ["RESETVECTOR_CACHE": directory.url.path])
            #expect(result.status == 1, "\(result.standardError)")
            #expect(result.standardOutput.isEmpty)
            #expect(result.errorLines.count == 1 && result.errorLines.first?.contains(fragment) == true, "\(result.standardError)")
            #expect(!FileManager.default.fileExists(atPath: trace))
        }
    }
}
