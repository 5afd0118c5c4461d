import ArgumentParser
import Firmware
import Foundation
import Machine

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Run the fixed CPU workloads and print guest MIPS (use a release build).",
        discussion: """
            real-mode: about 311 M instructions of 16-bit code mixing ALU work, memory \
            operands in several segments, REP MOVSW, near and far calls and jumps, and INT/IRET. \
            protected-paged: about 274 M instructions of the same kind of loop as flat 32-bit \
            code with 4 KiB paging over 96 MiB, INT/IRETD through the IDT, and an access to a new \
            page of a 64 MiB region every fourth iteration (a TLB miss each time). \
            real-code: about 300 M instructions of flat 32-bit paged code calling eight routines \
            through function pointers (CRC-32, a hash, a matrix multiply, a linked-list walk, \
            string copy, divisions, a bitmap allocator, a sort) on five code pages, with their \
            data on pages that share TLB slots with their code and the stack on a code page. \
            long-mode: about 290 M instructions of the protected-paged loop as flat 64-bit code \
            with 4-level paging, REP MOVSQ, SSE2 moves and INT/IRETQ through a 64-bit gate. \
            The iterations are split over alternating rounds of the four workloads; each figure \
            is the median of its rounds, a ratio the median of the rounds' ratios. \
            --linux instead boots a Linux kernel with the fetched initramfs (Tools/guests/fetch-debian.sh; \
            default: the cached 64-bit cloud kernel) on one processor with 256 MiB to the line its /init \
            prints, RESETVECTOR-INIT-OK, and prints instructions, wall and CPU time and MIPS; \
            --compare-qemu times qemu-system-x86_64 -accel tcg on the same files to the same line; \
            --reboots N has the kernel reboot N times (rv.action=reboot), every boot to the marker, \
            and prints this process's resident set after each.
            """
    )

    @Option(parsing: .unconditional, help: "Main-loop iterations of the real-mode workload, over all rounds (the standard run is the default).")
    var iterations: UInt32 = BenchmarkWorkload.standardIterations

    @Option(name: .customLong("paged-iterations"), parsing: .unconditional, help: "Main-loop iterations of the protected-paged workload, over all rounds.")
    var pagedIterations: UInt32 = PagedBenchmarkWorkload.standardIterations

    @Option(name: .customLong("real-code-iterations"), parsing: .unconditional,
            help: "Main-loop iterations of the real-code workload, over all rounds.")
    var realCodeIterations: UInt32 = RealCodeBenchmarkWorkload.standardIterations

    @Option(name: .customLong("long-mode-iterations"), parsing: .unconditional,
            help: "Main-loop iterations of the long-mode workload, over all rounds.")
    var longModeIterations: UInt32 = LongModeBenchmarkWorkload.standardIterations

    @Option(parsing: .unconditional,
            help: "Instead of the workloads: a whole machine with N processors (2 to 64), all busy and one busy, against one processor alone.")
    var smp: Int?

    @Option(parsing: .unconditional, help: "Alternating rounds of the four workloads.")
    var rounds: Int = 5

    @Option(help: ArgumentHelp("Write each workload's program (standard iterations) to DIR/NAME.bin and exit: raw bytes to load at 0000:1000 and enter in real mode, for running the same guest on another emulator.",
                               valueName: "dir"))
    var export: String?

    @Flag(help: "Instead of the workloads: boot a Linux kernel to its initramfs's marker (see below).")
    var linux = false

    @Option(help: "With --linux: the bzImage (default: the fetched 64-bit cloud kernel).")
    var kernel: String?

    @Option(help: "With --linux: the initramfs whose /init prints the marker (default: the fetched one).")
    var initrd: String?

    @Flag(name: .customLong("compare-qemu"), help: "With --linux: also time qemu-system-x86_64 -accel tcg on the same boot.")
    var compareQEMU = false

    @Option(parsing: .unconditional, help: "With --linux: reboot the kernel N times (1 to 10000) and print the resident set after each boot.")
    var reboots: Int?

    func validate() throws {
        if linux {
            if smp != nil || export != nil { throw ValidationError("--linux goes without --smp and --export") }
            if let reboots, !(1...10_000).contains(reboots) { throw ValidationError("--reboots must be from 1 to 10000") }
            if reboots != nil && compareQEMU { throw ValidationError("--compare-qemu times one boot; give it without --reboots") }
        } else if kernel != nil || initrd != nil || compareQEMU || reboots != nil {
            throw ValidationError("--kernel, --initrd, --compare-qemu and --reboots go with --linux")
        }
        guard rounds > 0 else { throw ValidationError("--rounds must be at least 1") }
        guard iterations > 0 else { throw ValidationError("--iterations must be at least 1") }
        guard pagedIterations > 0 else { throw ValidationError("--paged-iterations must be at least 1") }
        guard realCodeIterations > 0 else { throw ValidationError("--real-code-iterations must be at least 1") }
        guard longModeIterations > 0 else { throw ValidationError("--long-mode-iterations must be at least 1") }
        if let smp, !(2...64).contains(smp) { throw ValidationError("--smp must be from 2 to 64") }
    }

    func run() throws {
        let out = StandardStreams.output()
        if let directory = export {
            for (name, program) in try Benchmark.standardPrograms() {
                let file = try OutputFile.open(directory + "/" + name + ".bin")
                file.write(program)
                try file.check()
                out.writeLine("\(directory)/\(name).bin: \(program.count) bytes")
            }
            try out.check()
            return
        }
        if linux {
            try runLinux(to: out)
            try out.check()
            return
        }
        noteDebugBuild(out)
        if let smp {
            let comparison = try Benchmark.compareMultiprocessor(processors: smp)
            for (result, ratio) in [(comparison.single, 1.0), (comparison.allBusy, comparison.allBusyRatio),
                                    (comparison.oneBusy, comparison.oneBusyRatio)] {
                out.writeLine("\(result.name): \(Int(result.mips.rounded())) MIPS  (\(result.instructions) instructions in "
                              + "\(String(format: "%.2f", result.seconds)) s; \(Int((ratio * 100).rounded()))% of one processor)")
            }
            try out.check()
            return
        }
        let comparison = try Benchmark.compare(rounds: rounds, realModeIterations: iterations,
                                               pagedIterations: pagedIterations, realCodeIterations: realCodeIterations,
                                               longModeIterations: longModeIterations)
        report("real-mode", comparison.realMode, median: comparison.realModeMIPS, to: out)
        report("protected-paged", comparison.protectedPaged, median: comparison.protectedPagedMIPS, to: out)
        report("real-code", comparison.realCode, median: comparison.realCodeMIPS, to: out)
        report("long-mode", comparison.longMode, median: comparison.longModeMIPS, to: out)
        out.writeLine("protected-paged / real-mode: \(Int((comparison.ratio * 100).rounded()))%")
        out.writeLine("long-mode / real-mode: \(Int((comparison.longModeRatio * 100).rounded()))%")
        try out.check()
    }

    private func report(_ name: String, _ rounds: [Benchmark.Result], median: Double, to out: OutputFile) {
        let instructions = rounds.reduce(0) { $0 + $1.instructions }
        let seconds = rounds.reduce(0) { $0 + $1.seconds }
        let perRound = rounds.map { String(Int($0.mips.rounded())) }.joined(separator: " ")
        let checksum = rounds.last?.checksum.map { "; checksum " + String(format: "0x%08x", $0) } ?? ""
        out.writeLine("\(name): \(Int(median.rounded())) MIPS  (\(instructions) instructions in \(String(format: "%.2f", seconds)) s; "
              + "rounds: \(perRound)\(checksum))")
    }
}

extension BenchCommand {
    /// `--linux`: one boot to the marker (and QEMU's), or the reboot loop.
    private func runLinux(to out: OutputFile) throws {
        let kernelPath = kernel ?? LinuxBootBenchmark.cachedFile("vmlinuz")
        let initrdPath = initrd ?? LinuxBootBenchmark.cachedFile("initramfs.cpio.gz")
        for (path, given) in [(kernelPath, kernel), (initrdPath, initrd)] where given == nil && !FileManager.default.fileExists(atPath: path) {
            throw UserError("no fetched Debian kernel at \(path): run Tools/guests/fetch-debian.sh amd64, or give --kernel and --initrd")
        }
        var qemu: String?
        if compareQEMU {
            qemu = QEMUBoot.find()
            if qemu == nil { throw UserError("\(QEMUBoot.executable) is not on the PATH (Debian: apt-get install qemu-system-x86)") }
        }
        let kernelBytes = try readFile(kernelPath, what: "kernel", maximumSize: LinuxBootBenchmark.memorySize)
        let initrdBytes = try readFile(initrdPath, what: "initrd", maximumSize: LinuxBootBenchmark.memorySize)
        let commandLine = "console=ttyS0 rv.action=\(reboots == nil ? "poweroff" : "reboot")"
        let benchmark = try LinuxBootBenchmark(kernel: kernelBytes, kernelName: kernelPath, initrd: initrdBytes,
                                               commandLine: commandLine, boots: (reboots ?? 0) + 1)
        noteDebugBuild(out)
        if let reboots {
            try rebootLoop(benchmark, reboots: reboots, to: out)
            return
        }
        out.writeLine("boot to \(LinuxBootBenchmark.marker): \(kernelPath), 1 CPU, 256 MiB, \"\(commandLine)\"")
        let ours = try benchmark.run()
        out.writeLine("resetvector: \(ours.instructions) instructions in \(seconds(ours.seconds)) (CPU \(seconds(ours.cpuSeconds))): "
                      + "\(Int(ours.mips.rounded())) MIPS (\(Int(ours.mipsPerCPUSecond.rounded())) per CPU second)")
        guard let qemu else { return }
        let theirs = try QEMUBoot.bootToMarker(qemu: qemu, kernel: kernelPath, initrd: initrdPath, commandLine: commandLine)
        out.writeLine("\(QEMUBoot.executable) -accel tcg: \(seconds(theirs.seconds)) (CPU \(seconds(theirs.cpuSeconds)))")
        out.writeLine("resetvector / QEMU: \(String(format: "%.2f", ours.seconds / theirs.seconds))× the wall time, "
                      + "\(String(format: "%.2f", ours.cpuSeconds / theirs.cpuSeconds))× the CPU time")
    }

    /// `--linux --reboots N`: N reboots, N + 1 boots, each to the marker; the resident set after each.
    private func rebootLoop(_ benchmark: LinuxBootBenchmark, reboots: Int, to out: OutputFile) throws {
        func mebibytes(_ kibibytes: Int?) -> String { kibibytes.map { String(format: "%.1f MiB", Double($0) / 1024) } ?? "unknown" }
        out.writeLine("reboot loop: \(reboots) reboots (rv.action=reboot), every boot to \(LinuxBootBenchmark.marker); "
                      + "resident set before the first boot: \(mebibytes(residentKiB()))")
        var resident: [Int?] = []
        let total = try benchmark.run { boot, measurement in
            resident.append(residentKiB())
            out.writeLine("boot \(boot): \(measurement.instructions) instructions in \(seconds(measurement.seconds)); "
                          + "resident set \(mebibytes(resident.last!))")
        }
        // The first boot leaves part of guest RAM untouched; a later one may touch it.
        let after = Set([1, 2, reboots + 1]).sorted()
        out.writeLine("\(reboots + 1) boots: \(total.instructions) instructions in \(seconds(total.seconds)) "
                      + "(\(Int(total.mips.rounded())) MIPS); resident set "
                      + after.map { "\(mebibytes(resident[$0 - 1])) after boot \($0)" }.joined(separator: ", ")
                      + " (guest RAM \(LinuxBootBenchmark.memorySize >> 20) MiB)")
    }

    private func seconds(_ value: Double) -> String { String(format: "%.2f s", value) }

    private func noteDebugBuild(_ out: OutputFile) {
        #if DEBUG
        out.writeLine("note: this is a debug build; build with `swift build -c release` for meaningful figures")
        #endif
    }
}
