/// The kinds of reset and power transition, from smallest to largest.
public enum ResetKind: String, Sendable, CaseIterable {
    /// INIT#: CPU registers to the INIT state; memory and devices untouched.
    case initSignal = "init"
    /// ACPI S3 (suspend to RAM), as each device sees it on entry: the core well loses power
    /// (devices there come back at their power-on state at the wake), while RAM, the RTC
    /// well (the clock and CMOS) and the chipset's resume well keep theirs.
    case sleep
    /// Platform reset (PLTRST#): every device and CPU reset, RAM kept.
    case hard
    /// Power cycle through a power-off state.
    case full
    /// Soft off (ACPI S5 / G2).
    case powerOff = "power-off"
}

/// What caused a reset request (the trace's `source` field).
public enum ResetSource: String, Sendable, CaseIterable {
    case i8042Pulse = "8042-pulse"
    case i8042OutputPort = "8042-output-port"
    case port92 = "port92"
    case cf9 = "cf9"
    case tripleFault = "triple-fault"
    case acpiResetRegister = "acpi-reset-reg"
    case efi = "efi"
    case watchdog = "watchdog"
    /// The guest reported a panic (pvpanic PANICKED) and `--on-panic reboot` answers it.
    case panic = "panic"
    case user = "user"
    /// PM1_CNT's SLP_EN with the SLP_TYP of a sleep state: ACPI soft-off (S5) or S3.
    case acpiSleep = "acpi-sleep"
}

/// A request to the power & reset controller. Devices describe the signal they
/// assert; the board profile decides what the platform does with it.
public struct ResetRequest: Sendable, Equatable {
    public var source: ResetSource
    /// The kind the requester itself selects (0xCF9's SYS_RST and FULL_RST bits), if any.
    public var requestedKind: ResetKind?
    /// The port write that caused it, if one did.
    public var port: UInt16?
    public var value: UInt32?
    /// The CPU whose action caused it, if one did.
    public var cpu: Int?
    /// For a register that is not an I/O port (the ACPI reset register in System Memory or PCI
    /// configuration space): its address space as the trace names it (`memory`, `pci`) and
    /// its address in that space (for `pci`, the FADT's encoding: device << 32 | function
    /// << 16 | offset).
    public var space: String?
    public var address: UInt64?

    public init(source: ResetSource, requestedKind: ResetKind? = nil, port: UInt16? = nil,
                value: UInt32? = nil, cpu: Int? = nil, space: String? = nil, address: UInt64? = nil) {
        self.source = source
        self.requestedKind = requestedKind
        self.port = port
        self.value = value
        self.cpu = cpu
        self.space = space
        self.address = address
    }
}
