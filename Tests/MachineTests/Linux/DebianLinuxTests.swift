import Foundation
import Machine
import Testing

/// Debian's 64-bit cloud kernel, end to end: it boots to the initramfs's marker and reboots
/// through the path it picks (with no ACPI tables, the keyboard controller).
///
/// Gated: the kernel comes from `Tools/guests/fetch-debian.sh` (in `~/.cache/resetvector`,
/// never in the repository), and a boot is about 1.5 billion instructions, some 10 seconds
/// in a release build but minutes in the debug build `swift test` makes, so a debug build
/// runs it only with RESETVECTOR_LINUX_TESTS=1. Without the kernel, or without that
/// variable in a debug build, the test says why it skipped.
@Suite struct DebianLinuxTests {
    static var cache: URL {
        let environment = ProcessInfo.processInfo.environment
        let root = environment["RESETVECTOR_CACHE"].map { URL(fileURLWithPath: $0) }
            ?? URL(fileURLWithPath: environment["HOME"] ?? "/").appendingPathComponent(".cache/resetvector")
        return root.appendingPathComponent("debian")
    }

    static func files(_ arch: String) -> (kernel: [UInt8], initrd: [UInt8])? {
        let directory = cache.appendingPathComponent(arch)
        guard let kernel = try? Data(contentsOf: directory.appendingPathComponent("vmlinuz")),
              let initrd = try? Data(contentsOf: directory.appendingPathComponent("initramfs.cpio.gz")) else { return nil }
        return ([UInt8](kernel), [UInt8](initrd))
    }

    static var enabled: Bool {
        #if DEBUG
        return ProcessInfo.processInfo.environment["RESETVECTOR_LINUX_TESTS"] == "1"
        #else
        return true
        #endif
    }

    static let marker = "RESETVECTOR-INIT-OK"

    @Test func cloudKernelBootsToInitAndReboots() throws {
        guard let files = Self.files("amd64") else {
            print("DebianLinuxTests: skipped: no Debian kernel in \(Self.cache.path)/amd64; run Tools/guests/fetch-debian.sh")
            return
        }
        guard Self.enabled else {
            print("DebianLinuxTests: skipped: a debug build needs minutes for a Linux boot; set RESETVECTOR_LINUX_TESTS=1 to run it")
            return
        }
        let run = try TestBoard.run(payload: []) { configuration in
            configuration.memorySize = 256 << 20
            configuration.linux = LinuxBoot(kernel: files.kernel, initrd: files.initrd,
                                            commandLine: "console=ttyS0 rv.action=reboot")
            configuration.onReset = .exit
            configuration.maxInstructions = 4_000_000_000
        }
        #expect(run.serialText.contains(Self.marker + " "), "\(run.serialText.suffix(3000))")
        #expect(run.serialText.contains("reboot: Restarting system"))
        // Linux's first reboot method is the FADT's reset register: on this board 0xCF9 ← 06h,
        // a hard reset (it fell through to the 8042 before the board had ACPI tables).
        #expect(run.outcome == .endedAtReset(kind: .hard, source: .cf9), "\(run.outcome)")
    }
}
