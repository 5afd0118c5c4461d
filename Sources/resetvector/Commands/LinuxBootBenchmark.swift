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

    private let start = ProcessTime.now
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
            let now = ProcessTime.now, instructions = machine.instructionCount
            onBoot(count, now.since(last.reading, instructions: instructions - last.instructions))
            last = (now, instructions)
            if count == boots { machine.finish(.stopped(reason: "the benchmark at \(Self.marker)")) }
        }
        let outcome = machine.run()
        guard case .stopped = outcome else {
            throw UserError("boot \(watcher.count + 1) did not reach \(Self.marker): \(outcome.summary)")
        }
        return ProcessTime.now.since(start, instructions: machine.instructionCount)
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
