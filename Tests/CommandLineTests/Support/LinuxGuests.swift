import Foundation

/// What the gated Linux tests need: a release build of `resetvector` (a debug build takes
/// minutes per Linux boot) and Debian's kernels from `Tools/guests/fetch-debian.sh`.
///
/// The binary is `$RESETVECTOR_RELEASE_BINARY`, else `.build/release/resetvector` in this
/// package (`swift build -c release --product resetvector`, which `.ci/run` does first). The
/// kernels are in `$RESETVECTOR_CACHE/debian/ARCH`, else `~/.cache/resetvector/debian/ARCH`,
/// where the binary looks too.
enum LinuxGuests {
    /// Tests/CommandLineTests/Support/LinuxGuests.swift → the package root.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static var releaseBinary: URL {
        if let path = ProcessInfo.processInfo.environment["RESETVECTOR_RELEASE_BINARY"] {
            return URL(fileURLWithPath: path)
        }
        return packageRoot.appendingPathComponent(".build/release/resetvector")
    }

    /// The initramfs layout the fetch script builds today (its `initramfs_revision=`): an older
    /// cache lacks what the tests drive (the watchdog and pvpanic modules).
    static var initramfsRevision: String? {
        let script = try? String(contentsOf: packageRoot.appendingPathComponent("Tools/guests/fetch-debian.sh"), encoding: .utf8)
        return script?.split(separator: "\n").first { $0.hasPrefix("initramfs_revision=") }
            .map { String($0.dropFirst("initramfs_revision=".count)) }
    }

    static var cache: String {
        let environment = ProcessInfo.processInfo.environment
        return environment["RESETVECTOR_CACHE"]
            ?? (environment["XDG_CACHE_HOME"] ?? (environment["HOME"] ?? "/") + "/.cache") + "/resetvector"
    }

    /// The release binary when it and the kernels of `architectures` are there; otherwise
    /// `nil`, after printing why `test` skips.
    static func ready(for architectures: [String], test: String) -> URL? {
        let binary = releaseBinary
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            print("\(test): skipped: no release build at \(binary.path) (swift build -c release --product resetvector, or set RESETVECTOR_RELEASE_BINARY)")
            return nil
        }
        for architecture in architectures {
            let directory = "\(cache)/debian/\(architecture)"
            guard FileManager.default.fileExists(atPath: directory + "/vmlinuz"),
                  FileManager.default.fileExists(atPath: directory + "/initramfs.cpio.gz") else {
                print("\(test): skipped: no Debian kernel in \(directory) (run Tools/guests/fetch-debian.sh \(architecture))")
                return nil
            }
            let revision = try? String(contentsOfFile: directory + "/initramfs.revision", encoding: .utf8)
            guard let expected = initramfsRevision, revision?.trimmingCharacters(in: .whitespacesAndNewlines) == expected else {
                print("\(test): skipped: the initramfs in \(directory) predates revision \(initramfsRevision ?? "?") (run Tools/guests/fetch-debian.sh \(architecture))")
                return nil
            }
        }
        return binary
    }
}

/// What `resetvector demo --linux` printed: each row's story and its table line.
struct LinuxMatrixOutput {
    /// A row's story: the lines under its `== ARCH BOARD smp N PATH: …` heading.
    struct Story {
        let serial: [String]
        let attempts: [String]
        let result: String
        let lines: [String]
    }

    let stories: [String: Story]
    /// The trace's events, each row's under its label ("amd64 pc smp1 k").
    let events: [String: [[String: Any]]]

    init(standardOutput: String, traceJSON: String) throws {
        var stories: [String: Story] = [:]
        let lines = standardOutput.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (index, line) in lines.enumerated() where line.hasPrefix("== ") {
            let key = String(line.dropFirst(3).prefix { $0 != ":" })
            let body = lines[(index + 1)...].prefix { !$0.isEmpty }.map { $0.trimmingCharacters(in: .whitespaces) }
            func values(_ prefix: String) -> [String] { body.filter { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)) } }
            stories[key] = Story(serial: values("serial: "), attempts: values("attempt: "), result: values("result: ").first ?? "",
                                 lines: Array(body))
        }
        self.stories = stories
        var events: [String: [[String: Any]]] = [:]
        var label = ""
        for line in traceJSON.split(separator: "\n") {
            // The 686-pae kernel's io_delay writes port 80h millions of times a boot: POST codes
            // tell these tests nothing, and parsed they would take gigabytes.
            if line.contains("\"event\":\"post\"") { continue }
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if object["event"] as? String == "power-on" { label = object["label"] as? String ?? "" }
            events[label, default: []].append(object)
        }
        self.events = events
    }
}
