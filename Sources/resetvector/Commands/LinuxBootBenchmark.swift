import Firmware
import Foundation
import Machine

/// A Linux kernel with the fetched initramfs (`Tools/guests/fetch-debian.sh`), booted to the
/// line its `/init` prints, `RESETVECTOR-INIT-OK`, on one processor with 256 MiB: the boot
/// the README's figures and the QEMU comparison measure. The serial output is watched and the
/// run ends at the marker, so the workload is the same whatever `rv.action=` says.
final class LinuxBootBenchmark {
    static let marker = "RESETVECTOR-INIT-OK"
    static let memorySize = 256 << 20
    /// A boot that has not reached the marker after this many instructions has gone wrong
    /// (the cloud kernel needs about 1.5 billion, the 686-pae one about 4.6 billion).
    static let instructionsPerBootLimit: UInt64 = 20_000_000_000

    /// One stretch of a run: from before the machine was built, or from the previous marker,
    /// to a marker.
    struct Measurement {
        var instructions: UInt64
        var seconds: Double
        var cpuSeconds: Double
        var mips: Double { Double(instructions) / seconds / 1e6 }
        var mipsPerCPUSecond: Double { Double(instructions) / cpuSeconds / 1e6 }
    }

    /// The fetch script's cache: `$RESETVECTOR_CACHE`, else `$XDG_CACHE_HOME/resetvector`, else
    /// `~/.cache/resetvector`; the kernels are under `debian/ARCH`.
    static func cachedFile(_ name: String, architecture: String = "amd64") -> String {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["RESETVECTOR_CACHE"]
            ?? environment["XDG_CACHE_HOME"].map { $0 + "/resetvector" }
            ?? (environment["HOME"] ?? "/") + "/.cache/resetvector"
        return "\(root)/debian/\(architecture)/\(name)"
    }

    private let start = Clock.now
    private let machine: Machine
    private let watcher = MarkerWatcher(LinuxBootBenchmark.marker)
    private let boots: Int

    /// Builds the machine that boots `kernel` with `initrd` and `commandLine` until the marker
    /// has appeared `boots` times (the kernel reboots in between when the command line asks
    /// it to: every reset boots it again). A kernel the loader refuses is a one-line error
    /// naming `kernelName`.
    init(kernel: [UInt8], kernelName: String, initrd: [UInt8], commandLine: String, boots: Int) throws(UserError) {
        self.boots = boots
        let firmware: [UInt8]
        do { firmware = try ResetVectorROM.image() } catch { throw UserError(error) }
        var configuration = MachineConfiguration(firmware: firmware)
        configuration.memorySize = Self.memorySize
        configuration.linux = LinuxBoot(kernel: kernel, initrd: initrd, commandLine: commandLine)
        configuration.maxInstructions = Self.instructionsPerBootLimit * UInt64(boots)
        configuration.serialOutput = { [watcher] in watcher.feed($0) }
        do {
            machine = try Machine(configuration)
        } catch .linux(let error) {
            throw UserError("\(kernelName): \(error)")
        } catch {
            throw UserError(error.description)
        }
    }

    /// Runs the boots; `onBoot` gets each boot's number (from 1) and its measurement. Returns
    /// the whole run's measurement.
    func run(onBoot: @escaping (Int, Measurement) -> Void = { _, _ in }) throws(UserError) -> Measurement {
        var last = (reading: start, instructions: UInt64(0))
        watcher.onMarker = { [unowned self] count in
            let now = Clock.now, instructions = machine.instructionCount
            onBoot(count, now.since(last.reading, instructions: instructions - last.instructions))
            last = (now, instructions)
            if count == boots { machine.finish(.stopped(reason: "the benchmark at \(Self.marker)")) }
        }
        let outcome = machine.run()
        guard case .stopped = outcome else {
            throw UserError("boot \(watcher.count + 1) did not reach \(Self.marker): \(outcome.summary)")
        }
        return Clock.now.since(start, instructions: machine.instructionCount)
    }
}

/// Counts the appearances of a marker in a byte stream and calls `onMarker` with the count
/// at each.
final class MarkerWatcher {
    private let marker: [UInt8]
    private var recent: [UInt8] = []
    private(set) var count = 0
    var onMarker: ((Int) -> Void)?

    init(_ marker: String) {
        self.marker = Array(marker.utf8)
    }

    func feed(_ byte: UInt8) {
        recent.append(byte)
        if recent.count > marker.count { recent.removeFirst() }
        if recent == marker {
            count += 1
            onMarker?(count)
        }
    }
}

/// Wall-clock and CPU time of this process (and of its waited-for children), and the
/// instructions a machine had run when they were read.
enum Clock {
    struct Reading {
        var wall: Double
        var cpu: Double

        func since(_ start: Reading, instructions: UInt64) -> LinuxBootBenchmark.Measurement {
            LinuxBootBenchmark.Measurement(instructions: instructions, seconds: wall - start.wall, cpuSeconds: cpu - start.cpu)
        }
    }

    static var now: Reading { Reading(wall: wallSeconds, cpu: cpuSeconds(RUSAGE_SELF.rawValue)) }

    /// CPU time of the children waited for so far.
    static var childrenNow: Reading { Reading(wall: wallSeconds, cpu: cpuSeconds(RUSAGE_CHILDREN.rawValue)) }

    private static var wallSeconds: Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }

    private static func cpuSeconds(_ who: Int32) -> Double {
        var usage = rusage()
        getrusage(who, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}

/// The same boot on QEMU's TCG (`qemu-system-x86_64 -accel tcg`), timed to the same marker.
enum QEMUBoot {
    static let executable = "qemu-system-x86_64"

    /// `qemu-system-x86_64` on the PATH, if installed.
    static func find() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/\(executable)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// The arguments of the comparison: one CPU, 256 MiB, the serial console on standard output.
    static func arguments(kernel: String, initrd: String, commandLine: String) -> [String] {
        ["-accel", "tcg", "-m", "256", "-smp", "1", "-kernel", kernel, "-initrd", initrd, "-append", commandLine,
         "-nographic", "-no-reboot"]
    }

    /// Starts QEMU, reads its serial output until the marker appears, then ends it; returns
    /// the wall time to the marker and QEMU's CPU time (until it was ended).
    static func bootToMarker(qemu: String, kernel: String, initrd: String, commandLine: String,
                             timeout: Double = 600) throws(UserError) -> LinuxBootBenchmark.Measurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: qemu)
        process.arguments = arguments(kernel: kernel, initrd: initrd, commandLine: commandLine)
        let output = Pipe()
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = output
        let watcher = MarkerWatcher(LinuxBootBenchmark.marker)
        let startChildren = Clock.childrenNow
        do {
            try process.run()
        } catch {
            throw UserError("cannot start \(qemu): \(error.localizedDescription)")
        }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + timeout, execute: timer)
        var reached: Double?
        var seen: [UInt8] = []
        while reached == nil {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            seen = Array((seen + chunk).suffix(400))
            for byte in chunk where reached == nil {
                watcher.feed(byte)
                if watcher.count > 0 { reached = Clock.childrenNow.wall }
            }
        }
        timer.cancel()
        process.terminate()
        process.waitUntilExit()
        let end = Clock.childrenNow
        guard let reached else {
            let tail = String(decoding: seen, as: UTF8.self).split(separator: "\n").last ?? ""
            throw UserError("\(qemu) ended before \(LinuxBootBenchmark.marker) (last line: \(tail.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        return LinuxBootBenchmark.Measurement(instructions: 0, seconds: reached - startChildren.wall,
                                              cpuSeconds: end.cpu - startChildren.cpu)
    }
}

/// This process's resident set (VmRSS in `/proc/self/status`), in KiB; `nil` where there is
/// no such file.
func residentKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
}
