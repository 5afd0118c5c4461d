import Hardware

/// Which chipset behaviour the board has where real boards differ.
public enum BoardProfile: String, Sendable, CaseIterable {
    /// An ICH-class PC: the 8042's reset line (RCIN#), port 0x92's fast reset and a CPU
    /// shutdown cycle all raise INIT# (the ICH's default shutdown policy); 0xCF9 does what
    /// its bits say (soft = INIT, SYS_RST = hard, SYS_RST + FULL_RST = full reset).
    case pc
    /// QEMU-compatible: every reset is a platform reset with RAM kept, as QEMU's
    /// `qemu_system_reset_request` does for each of these sources.
    case qemu

    /// What the board does with a reset request.
    func answer(to request: ResetRequest) -> ResetKind {
        switch self {
        case .qemu:
            return request.requestedKind == .powerOff ? .powerOff : .hard
        case .pc:
            switch request.source {
            case .i8042Pulse, .i8042OutputPort, .port92, .tripleFault:
                return .initSignal
            case .cf9, .acpiResetRegister, .efi, .watchdog, .panic:
                return request.requestedKind ?? .hard
            case .user, .acpiSleep:
                return request.requestedKind ?? .hard
            }
        }
    }
}

/// A reset path broken on purpose, to exercise an operating system's fallbacks.
public enum Quirk: String, Sendable, CaseIterable {
    /// The 8042's reset line is not connected: 0xFE pulses and output-port writes do nothing.
    case no8042Reset = "no-8042-reset"
    /// Port 0x92's fast-reset bit does nothing.
    case noPort92Reset = "no-port92-reset"
    /// The reset control register at 0xCF9 ignores resets.
    case noCF9 = "no-cf9"
    /// Pulsing the 8042's reset line locks the machine up instead of resetting it, as on some real boards.
    case i8042ResetHangs = "8042-reset-hangs"
    /// A CPU shutdown (triple fault) is not answered: the CPU stays in shutdown.
    case shutdownIgnored = "shutdown-ignored"
    /// The register the FADT names as RESET_REG does nothing (with `--acpi-reset io` that
    /// register is 0xCF9, which then ignores resets as with `no-cf9`).
    case noACPIReset = "no-acpi-reset"
    /// The FADT's RESET_VALUE is one the reset register ignores (02h: for 0xCF9, SYS_RST
    /// without RST_CPU, which starts nothing; the memory and PCI registers take only 06h).
    case acpiResetWrongValue = "acpi-reset-wrong-value"
}

/// What a reset does to the emulator.
public enum ResetPolicy: String, Sendable, CaseIterable {
    /// Perform the reset and keep running (production).
    case reboot
    /// End the run at the reset.
    case exit
    /// Stop before the reset with all state intact (development: attach a debugger).
    case pause
}

/// What a CPU shutdown (triple fault) does to the emulator.
public enum ShutdownPolicy: String, Sendable, CaseIterable {
    /// Whatever the board does with a shutdown cycle (`pc`: INIT; `qemu`: platform reset).
    case board
    /// Stop at the shutdown with all state intact.
    case pause
    /// End the run at the shutdown.
    case exit
}

/// Whether a power cycle (full reset) keeps RAM.
public enum PowerCycleMemory: String, Sendable, CaseIterable {
    case clear
    case keep
}
