import Foundation

/// Wall-clock (monotonic) and CPU time of this process, or of its waited-for children.
enum ProcessTime {
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

/// This process's resident set (VmRSS in `/proc/self/status`), in KiB; `nil` where there is
/// no such file.
func residentKiB() -> Int? {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return nil }
    return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
}
