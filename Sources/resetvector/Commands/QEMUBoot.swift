import Foundation

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
        let startChildren = ProcessTime.childrenNow
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
                if watcher.count > 0 { reached = ProcessTime.childrenNow.wall }
            }
        }
        timer.cancel()
        process.terminate()
        process.waitUntilExit()
        let end = ProcessTime.childrenNow
        guard let reached else {
            let tail = String(decoding: seen, as: UTF8.self).split(separator: "\n").last ?? ""
            throw UserError("\(qemu) ended before \(LinuxBootBenchmark.marker) (last line: \(tail.trimmingCharacters(in: .whitespacesAndNewlines)))")
        }
        return LinuxBootBenchmark.Measurement(instructions: 0, seconds: reached - startChildren.wall,
                                              cpuSeconds: end.cpu - startChildren.cpu)
    }
}
