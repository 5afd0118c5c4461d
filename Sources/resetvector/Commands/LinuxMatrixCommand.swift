import ArgumentParser
import Firmware
import Foundation
import Machine

/// `resetvector demo --linux`: Debian's kernels down every reboot, power-off, halt, panic and
/// watchdog path, on each board and processor count asked for, and a table of what Linux tried
/// and how the board answered. (`demo --linux` reaches it: its `--board` and `--smp` take
/// lists, which the built-in demo's do not.)
struct LinuxMatrixCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "linux-matrix",
        abstract: "Run Debian's Linux kernels down every reboot path (resetvector demo --linux).",
        discussion: """
            Boots the kernels Tools/guests/fetch-debian.sh caches (~/.cache/resetvector/debian, or \
            $RESETVECTOR_CACHE/debian) once per path: reboot -f with each reboot= method, power-off, \
            halt, panics, the i6300esb watchdog and quirk-broken fallback chains. A reboot path runs \
            until the second boot reaches the initramfs's marker. Prints each row's story as it \
            finishes, in order, then a table. Exit status: 0 when every row ended as its path \
            expects; 1 when one did not, or, with one error line before any row runs, when a \
            cached kernel or initramfs is missing or cannot be booted; 64 for a usage error.
            """,
        shouldDisplay: false
    )

    @Option(name: .customLong("kernel-arch"), help: "Which kernels: amd64, i386 or all.")
    var kernelArch: Selection<LinuxMatrixArchitecture> = .all

    @Option(help: "Board profiles: pc, qemu or all.")
    var board: Selection<BoardProfile> = .one(.pc)

    @Option(help: "Processor counts, a comma list (e.g. 1,4; default 1).", transform: Self.processorCounts)
    var smp: [Int] = [1]

    @Option(help: "Only these paths, a comma list of: \(LinuxPath.all.map(\.name).joined(separator: ", ")).",
            transform: Self.paths)
    var only: [LinuxPath]?

    @Option(help: "Rows run at once, each on its own thread (default 2).")
    var jobs = 2

    @Option(name: .customLong("trace-json"), help: "Write every row's trace events to FILE as JSON Lines, row after row.")
    var traceJSON: String?

    func validate() throws {
        guard (1...16).contains(jobs) else { throw ValidationError("--jobs takes 1 to 16") }
    }

    func run() throws {
        let architectures = kernelArch.values
        let files = try Dictionary(uniqueKeysWithValues: architectures.map { ($0, try Self.kernelFiles($0)) })
        let rom = try ResetVectorROM.image()
        let keys = architectures.flatMap { architecture in
            board.values.flatMap { board in
                smp.flatMap { processors in
                    (only ?? LinuxPath.all).map {
                        LinuxMatrixRow.Key(architecture: architecture, board: board, processors: processors, path: $0)
                    }
                }
            }
        }
        // Each kernel is checked as its first row would boot it, before anything starts: a
        // damaged cache is one line.
        for architecture in architectures {
            guard let key = keys.first(where: { $0.architecture == architecture && $0.path.unavailable[architecture] == nil }),
                  let kernel = files[architecture] else { continue }
            do {
                try LinuxMatrixRow.configuration(for: key, kernel: kernel.kernel, initrd: kernel.initrd, rom: rom).validate()
            } catch {
                throw UserError("\(Self.cacheDirectory(architecture)): \(error)")
            }
        }
        let out = StandardStreams.output()
        let json = try traceJSON.map(OutputFile.open)
        let spooled = json != nil
        let queue = RowQueue(count: keys.count)
        for _ in 0..<min(jobs, keys.count) {
            Thread {
                while let index = queue.take() {
                    let key = keys[index], kernel = files[key.architecture]!
                    queue.finish(index, Result { () throws(RowFailure) in
                        do {
                            let trace = spooled ? try TraceSpool() : nil
                            return try LinuxMatrixRow.run(key, kernel: kernel.kernel, initrd: kernel.initrd, rom: rom, trace: trace)
                        } catch {
                            throw RowFailure(text: "\(error)")
                        }
                    })
                }
            }.start()
        }
        var rows: [LinuxMatrixRow] = []
        for index in keys.indices {
            var row: LinuxMatrixRow
            switch queue.wait(for: index) {
            case .success(let finished): row = finished
            case .failure(let message): throw UserError("\(keys[index].path.name): \(message.text)")
            }
            Self.printStory(of: row, to: out)
            if let json { try row.trace?.copy(to: json) }
            try out.check()
            row.records = []
            row.trace = nil
            rows.append(row)
        }
        Self.printTable(rows, to: out)
        try out.check()
        if rows.contains(where: { $0.skipped == nil && !$0.passed }) { throw ExitCode(1) }
    }

    /// The kernel and initramfs that `Tools/guests/fetch-debian.sh ARCH` leaves in the cache.
    static func kernelFiles(_ architecture: LinuxMatrixArchitecture) throws(UserError) -> (kernel: [UInt8], initrd: [UInt8]) {
        let directory = cacheDirectory(architecture)
        guard let kernel = FileManager.default.contents(atPath: directory + "/vmlinuz"),
              let initrd = FileManager.default.contents(atPath: directory + "/initramfs.cpio.gz") else {
            throw UserError("no Debian kernel in \(directory): run Tools/guests/fetch-debian.sh \(architecture.rawValue)")
        }
        return ([UInt8](kernel), [UInt8](initrd))
    }

    /// Where `Tools/guests/fetch-debian.sh ARCH` caches the kernel and initramfs.
    static func cacheDirectory(_ architecture: LinuxMatrixArchitecture) -> String {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["RESETVECTOR_CACHE"]
            ?? (environment["XDG_CACHE_HOME"] ?? (environment["HOME"] ?? "/") + "/.cache") + "/resetvector"
        return "\(root)/debian/\(architecture.rawValue)"
    }

    private static func printStory(of row: LinuxMatrixRow, to out: OutputFile) {
        let key = row.key
        out.writeLine("== \(key.architecture.rawValue) \(key.board.rawValue) smp \(key.processors) \(key.path.name): \(key.path.method)")
        if let skipped = row.skipped {
            out.writeLine("   skipped: \(skipped)")
            out.writeLine("")
            return
        }
        out.writeLine("   command line: \(key.path.commandLine)")
        for line in row.story { out.writeLine("   serial: \(line)") }
        for attempt in row.attempts { out.writeLine("   attempt: \(attempt)") }
        out.writeLine("   result: \(row.outcome); \(row.passed ? "as expected" : "NOT AS EXPECTED"); "
                      + "\(row.instructions) instructions, \(String(format: "%.1f", row.wallSeconds)) s")
        if key.path.expectation == .pausesAtPanic || key.path.expectation == .hangsAfterPanic || !row.passed,
           let report = row.stateReport {
            for line in report.split(separator: "\n") { out.writeLine("   " + line) }
        }
        out.writeLine("")
    }

    private static func printTable(_ rows: [LinuxMatrixRow], to out: OutputFile) {
        let header = ["path", "method", "kernel", "board", "cpus", "2nd boot", "result", "instructions", "wall",
                      "attempts → the board's answer"]
        let cells = rows.map { row -> [String] in
            let key = row.key
            let start = [key.path.name, key.path.method, key.architecture.rawValue, key.board.rawValue, String(key.processors)]
            if let skipped = row.skipped { return start + ["-", "skipped", "-", "-", skipped] }
            let secondBoot = row.markers >= 2 ? "reached init" : key.path.expectation == .reboots ? "NO" : "-"
            return start + [secondBoot, row.passed ? "ok" : "FAILED: \(row.outcome)", String(row.instructions),
                            String(format: "%.1f s", row.wallSeconds), row.attempts.joined(separator: ", ")]
        }
        let widths = header.indices.map { column in
            max(header[column].count, cells.map { $0[column].count }.max() ?? 0)
        }
        func line(_ values: [String]) -> String {
            values.enumerated().map { column, value in
                column == values.count - 1 ? value : value.padding(toLength: widths[column], withPad: " ", startingAt: 0)
            }.joined(separator: "  ")
        }
        out.writeLine(line(header))
        out.writeLine(line(widths.map { String(repeating: "-", count: $0) }))
        for row in cells { out.writeLine(line(row)) }
        let failed = rows.filter { $0.skipped == nil && !$0.passed }.count
        out.writeLine("\(rows.count) rows: \(rows.count - failed - rows.filter { $0.skipped != nil }.count) as expected, "
                      + "\(failed) not, \(rows.filter { $0.skipped != nil }.count) skipped")
    }

    static func processorCounts(_ argument: String) throws(ValidationError) -> [Int] {
        let counts = argument.split(separator: ",").map { Int($0) }
        guard !counts.isEmpty, counts.allSatisfy({ $0.map { (1...64).contains($0) } ?? false }) else {
            throw ValidationError("expected processor counts from 1 to 64, separated by commas (e.g. 1,4)")
        }
        return counts.map { $0! }
    }

    static func paths(_ argument: String) throws(ValidationError) -> [LinuxPath] {
        var paths: [LinuxPath] = []
        for name in argument.split(separator: ",") {
            guard let path = LinuxPath.all.first(where: { $0.name == name }) else {
                throw ValidationError("unknown path '\(name)' (one of: \(LinuxPath.all.map(\.name).joined(separator: ", ")))")
            }
            paths.append(path)
        }
        guard !paths.isEmpty else { throw ValidationError("expected a comma list of paths") }
        return paths
    }
}

/// One value of an enumeration, or all of them (`all`).
enum Selection<Value: RawRepresentable & CaseIterable & Sendable>: ExpressibleByArgument, CustomStringConvertible
where Value.RawValue == String {
    case one(Value)
    case all

    init?(argument: String) {
        if argument == "all" {
            self = .all
        } else if let value = Value(rawValue: argument) {
            self = .one(value)
        } else {
            return nil
        }
    }

    static var allValueStrings: [String] { Value.allCases.map(\.rawValue) + ["all"] }

    var description: String {
        switch self {
        case .one(let value): value.rawValue
        case .all: "all"
        }
    }

    var values: [Value] {
        switch self {
        case .one(let value): [value]
        case .all: Array(Value.allCases)
        }
    }
}

/// A failure message that crosses from a worker thread.
struct RowFailure: Error, Sendable {
    let text: String
}

/// The rows to run, handed out to worker threads one at a time, and their results, collected
/// in order for the printing thread.
final class RowQueue: @unchecked Sendable {
    private let condition = NSCondition()
    private var next = 0
    private var results: [Result<LinuxMatrixRow, RowFailure>?]

    init(count: Int) {
        results = Array(repeating: nil, count: count)
    }

    /// The next row to run, if any is left.
    func take() -> Int? {
        condition.lock()
        defer { condition.unlock() }
        guard next < results.count else { return nil }
        next += 1
        return next - 1
    }

    func finish(_ index: Int, _ result: Result<LinuxMatrixRow, RowFailure>) {
        condition.lock()
        results[index] = result
        condition.broadcast()
        condition.unlock()
    }

    /// Waits for row `index` and hands its result over (the queue keeps no copy).
    func wait(for index: Int) -> Result<LinuxMatrixRow, RowFailure> {
        condition.lock()
        defer { condition.unlock() }
        while results[index] == nil { condition.wait() }
        let result = results[index]!
        results[index] = nil
        return result
    }
}
