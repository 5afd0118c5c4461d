import Machine

/// One way down Linux's reboot, power-off, halt or panic code that `resetvector demo --linux`
/// runs: the kernel parameters that choose it, what the board looks like for it (the FADT's
/// reset register, quirks, the watchdog), and what a correct run ends in.
struct LinuxPath: Sendable {
    /// What a run of the path must end in for its row to pass.
    enum Expectation: Sendable {
        /// The machine resets (or the firmware is re-entered) and the second boot reaches init.
        case reboots
        /// ACPI S5: the run ends powered off.
        case powersOff
        /// Every CPU halted with interrupts disabled.
        case halts
        /// `panic=0`: the kernel panics and spins, no reset request, until the instruction cap.
        case hangsAfterPanic
        /// The pvpanic driver reports the panic and `--on-panic pause` stops the machine.
        case pausesAtPanic
        /// The i6300esb expires, the board resets, and the second boot's driver reports that
        /// the last reset was the watchdog's (WDIOF_CARDRESET in its boot status).
        case watchdogReboots
    }

    /// The name `--only` takes.
    let name: String
    /// The kernel parameters that choose the path (the table's method column).
    let parameters: String
    /// What `/init` does after its marker (`rv.action=`).
    let action: String
    var acpiReset: ACPIResetChoice = .io
    var quirks: [Quirk] = []
    /// The i6300esb watchdog on the board (`--device i6300esb`).
    var watchdog = false
    var onPanic: PanicPolicy = .pause
    let expectation: Expectation
    /// Why the path cannot run on a kernel architecture, if it cannot.
    var unavailable: [LinuxMatrixArchitecture: String] = [:]

    /// The path's kernel command line. `cryptomgr.notests` skips the crypto self-tests, which
    /// no reboot path depends on and which cost the 32-bit kernel 3.7 billion instructions of
    /// multi-precision arithmetic (RSA in 32-bit generic C) on every boot.
    var commandLine: String {
        (["console=ttyS0", "cryptomgr.notests"] + (parameters.isEmpty ? [] : [parameters]) + ["rv.action=\(action)"])
            .joined(separator: " ")
    }

    /// The method column: what `/init` does, the parameters, and what the board was made to do.
    var method: String {
        var words: [String]
        switch action {
        case "reboot": words = [parameters.isEmpty ? "reboot -f (no reboot=)" : "reboot -f \(parameters)"]
        case "panic": words = ["sysrq c", parameters]
        case "watchdog": words = ["busybox watchdog, killed"]
        default: words = ["\(action) -f"] + (parameters.isEmpty ? [] : [parameters])
        }
        if acpiReset != .io { words.append("--acpi-reset \(acpiReset.rawValue)") }
        words += quirks.map { "--quirk \($0.rawValue)" }
        if watchdog { words.append("--device i6300esb") }
        if expectation == .pausesAtPanic { words.append("--on-panic \(onPanic.rawValue)") }
        return words.joined(separator: " ")
    }

    private static func reboot(_ name: String, _ parameters: String, acpiReset: ACPIResetChoice = .io,
                               quirks: [Quirk] = []) -> LinuxPath {
        LinuxPath(name: name, parameters: parameters, action: "reboot", acpiReset: acpiReset, quirks: quirks,
                  expectation: .reboots)
    }

    /// Every path, in the matrix's order: `reboot -f` with each `reboot=` method (the ACPI one
    /// with each space of the FADT's reset register; `w`/`c` alone keep the ACPI method, so
    /// they go with `p` to show 0xCF9's warm 06h and cold 0Eh), Linux's own order, power-off,
    /// halt, the three panics, the watchdog, and quirk-broken paths that drive Linux's
    /// fallback loop.
    static let all: [LinuxPath] = [
        reboot("k", "reboot=k"),
        reboot("a-io", "reboot=a"),
        reboot("a-mmio", "reboot=a", acpiReset: .mmio),
        reboot("a-pci", "reboot=a", acpiReset: .pci),
        reboot("t", "reboot=t"),
        reboot("p", "reboot=p"),
        reboot("q", "reboot=q"),
        reboot("b", "reboot=b"),
        reboot("e", "reboot=e"),
        reboot("wp", "reboot=w,p"),
        reboot("cp", "reboot=c,p"),
        reboot("default", ""),
        LinuxPath(name: "poweroff", parameters: "", action: "poweroff", expectation: .powersOff),
        LinuxPath(name: "halt", parameters: "", action: "halt", expectation: .halts),
        LinuxPath(name: "panic-reboot", parameters: "panic=-1", action: "panic", expectation: .reboots),
        LinuxPath(name: "panic-hang", parameters: "panic=0", action: "panic", expectation: .hangsAfterPanic),
        LinuxPath(name: "pvpanic", parameters: "panic=-1 rv.modules=pvpanic,pvpanic-mmio", action: "panic",
                  onPanic: .pause, expectation: .pausesAtPanic),
        LinuxPath(name: "watchdog", parameters: "rv.modules=watchdog,i6300esb", action: "watchdog", watchdog: true,
                  expectation: .watchdogReboots,
                  unavailable: [.amd64: "the cloud kernel is built without the i6300esb driver (CONFIG_I6300ESB_WDT unset)"]),
        reboot("chain-acpi-8042", "", quirks: [.noACPIReset, .no8042Reset]),
        reboot("chain-cf9", "reboot=p", quirks: [.noCF9]),
    ]
}

/// The Debian kernels the matrix boots (`Tools/guests/fetch-debian.sh` fetches them).
enum LinuxMatrixArchitecture: String, Sendable, CaseIterable {
    /// The 64-bit cloud kernel (linux-image-*-cloud-amd64).
    case amd64
    /// The 32-bit 686-pae kernel.
    case i386

    /// Instructions one boot takes to its init marker and a little beyond, with
    /// `cryptomgr.notests`, rounded up: the unit of each row's instruction cap. Measured: the
    /// cloud kernel (LZ4-compressed) asks for its reset after 0.61 billion; the 32-bit kernel
    /// after 3.2 billion, 2.4 billion of them in its XZ decompressor.
    var bootInstructions: UInt64 {
        switch self {
        case .amd64: 800_000_000
        case .i386: 3_600_000_000
        }
    }
}
