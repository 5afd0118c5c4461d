/// What the ACPI tables describe of a board: its processors and interrupt controllers, its
/// power-management registers, its reset register, its sleep types and its PCI windows. The
/// defaults are those of an ICH-class PC (Intel ICH9 register layout and sleep types).
public struct ACPIConfiguration: Hashable, Sendable {
    /// Processors, 1–255: processor `n` has local APIC ID `n` and ACPI processor UID `n`.
    public var processorCount: Int
    /// The FADT's RESET_REG and RESET_VALUE, or none.
    public var resetRegister: ACPIResetRegister
    /// The first I/O port of the power-management block; the registers sit at the offsets of
    /// ``ACPIPowerManagementBlock``.
    public var powerManagementBase: UInt16
    /// The ISA interrupt the SCI uses (not 0 or 2, which the timer and the cascade take); the
    /// MADT routes it to the same global system interrupt, level-triggered and active low.
    public var sciInterrupt: UInt8
    /// How the operating system switches the board into ACPI mode.
    public var modeControl: ACPIModeControl
    /// The SLP_TYP values the DSDT's `\_S0`, `\_S3` and `\_S5` packages give.
    public var sleepTypes: ACPISleepTypes
    /// Where the PCI memory window above RAM starts (at least 1 MiB, at most
    /// ``ACPIConfiguration/pciMemoryWindowEnd``): usually the end of RAM below 4 GiB.
    public var pciMemoryWindowStart: UInt32
    /// The CMOS index of the RTC's century byte (0Eh–7Fh), as the FADT's CENTURY gives it.
    public var centuryIndex: UInt8
    /// The local APICs' physical address.
    public var localAPICAddress: UInt32
    /// The I/O APIC's physical address; its inputs are global system interrupts from 0.
    public var ioAPICAddress: UInt32
    /// The I/O APIC's ID (0–15, the width of its ID register).
    public var ioAPICID: UInt8
    /// The bus-0 PCI function of the LPC (ISA) bridge, under which the DSDT places the legacy
    /// devices.
    public var lpcBridge: PCIFunctionAddress
    /// The I/O port of a pvpanic ISA device (QEMU places it at 505h), which the DSDT then lists
    /// as `PEVT` with `_HID` "QEMU0001" (how Linux's pvpanic driver finds it); `nil` for none.
    public var panicDevicePort: UInt16?

    /// The last address of the PCI memory window above RAM: just below the I/O APIC.
    public static let pciMemoryWindowEnd: UInt32 = 0xFEBF_FFFF

    /// A board with `processorCount` processors, RAM up to `pciMemoryWindowStart`, and the
    /// ICH-class values for the rest: reset through 0xCF9 ← 06h, PM block at 600h, SCI on
    /// IRQ 9, ACPI mode through SMI_CMD at B2h (enable 02h, disable 03h), sleep types of the
    /// ICH (S0 0, S3 5, S5 7), century at CMOS 32h, local APICs at FEE00000h, I/O APIC 0 at
    /// FEC00000h, LPC bridge at 00:1F.0, no panic device.
    public init(processorCount: Int, pciMemoryWindowStart: UInt32,
                resetRegister: ACPIResetRegister = .systemIO(port: 0xCF9, value: 0x06),
                powerManagementBase: UInt16 = 0x600, sciInterrupt: UInt8 = 9,
                modeControl: ACPIModeControl = .ich,
                sleepTypes: ACPISleepTypes = .ich, centuryIndex: UInt8 = 0x32,
                localAPICAddress: UInt32 = 0xFEE0_0000, ioAPICAddress: UInt32 = 0xFEC0_0000, ioAPICID: UInt8 = 0,
                lpcBridge: PCIFunctionAddress = PCIFunctionAddress(device: 0x1F, function: 0),
                panicDevicePort: UInt16? = nil) {
        self.processorCount = processorCount
        self.pciMemoryWindowStart = pciMemoryWindowStart
        self.resetRegister = resetRegister
        self.powerManagementBase = powerManagementBase
        self.sciInterrupt = sciInterrupt
        self.modeControl = modeControl
        self.sleepTypes = sleepTypes
        self.centuryIndex = centuryIndex
        self.localAPICAddress = localAPICAddress
        self.ioAPICAddress = ioAPICAddress
        self.ioAPICID = ioAPICID
        self.lpcBridge = lpcBridge
        self.panicDevicePort = panicDevicePort
    }

    /// Throws the first value the tables cannot describe.
    public func validate() throws(ACPIConfigurationError) {
        guard (1...255).contains(processorCount) else { throw .processorCount(processorCount) }
        if case .pciConfiguration(let function, let offset, _) = resetRegister {
            try function.validate()
            guard offset <= 0xFF else { throw .pciConfigurationOffset(offset) }
        }
        if case .systemMemory(let address, _) = resetRegister, address > UInt64(UInt32.max) {
            throw .resetRegisterAddress(address)
        }
        guard Int(powerManagementBase) + ACPIPowerManagementBlock.size <= 0x1_0000, powerManagementBase != 0 else {
            throw .powerManagementBase(powerManagementBase)
        }
        guard (1...15).contains(sciInterrupt), sciInterrupt != 2 else { throw .sciInterrupt(sciInterrupt) }
        if case .smiCommand(let port, let enable, let disable) = modeControl, port == 0 || enable == disable {
            throw .modeControl(modeControl)
        }
        try sleepTypes.validate()
        guard (0x10_0000...ACPIConfiguration.pciMemoryWindowEnd).contains(pciMemoryWindowStart) else {
            throw .pciMemoryWindowStart(pciMemoryWindowStart)
        }
        guard (0x0E...0x7F).contains(centuryIndex) else { throw .centuryIndex(centuryIndex) }
        guard ioAPICID <= 0x0F else { throw .ioAPICID(ioAPICID) }
        try lpcBridge.validate()
    }
}

/// The register an operating system writes to reset the machine (the FADT's RESET_REG, an
/// 8-bit register at bit offset 0, and RESET_VALUE; ACPI 6.5 §4.8.4.6 and §5.2.9), in one of
/// the three address spaces the specification allows, or none.
public enum ACPIResetRegister: Hashable, Sendable {
    /// No reset register: the FADT's RESET_REG_SUP flag is clear and RESET_REG zero.
    case none
    /// A port in System I/O space, such as the ICH's reset control register at 0xCF9.
    case systemIO(port: UInt16, value: UInt8)
    /// A byte in System Memory space, below 4 GiB.
    case systemMemory(address: UInt64, value: UInt8)
    /// A register in the PCI configuration space of a bus-0 function (offset 0–FFh).
    case pciConfiguration(PCIFunctionAddress, offset: UInt16, value: UInt8)

    /// RESET_REG, or `nil` for none.
    var register: ACPIGenericAddress? {
        switch self {
        case .none: nil
        case .systemIO(let port, _):
            ACPIGenericAddress(space: .systemIO, bitWidth: 8, accessSize: .byte, address: UInt64(port))
        case .systemMemory(let address, _):
            ACPIGenericAddress(space: .systemMemory, bitWidth: 8, accessSize: .byte, address: address)
        case .pciConfiguration(let function, let offset, _):
            ACPIGenericAddress(space: .pciConfiguration, bitWidth: 8, accessSize: .byte,
                               address: ACPIGenericAddress.pciConfigurationAddress(
                                   device: function.device, function: function.function, offset: offset))
        }
    }

    /// RESET_VALUE (zero for none).
    var value: UInt8 {
        switch self {
        case .none: 0
        case .systemIO(_, let value), .systemMemory(_, let value), .pciConfiguration(_, _, let value): value
        }
    }
}

/// A PCI function on bus 0: device 0–31, function 0–7.
public struct PCIFunctionAddress: Hashable, Sendable {
    public var device: UInt8
    public var function: UInt8

    public init(device: UInt8, function: UInt8) {
        self.device = device
        self.function = function
    }

    /// The function as a `_ADR` gives it (ACPI 6.5 §6.1.1): device in the high word, function
    /// in the low word.
    var acpiAddress: UInt64 { UInt64(device) << 16 | UInt64(function) }

    func validate() throws(ACPIConfigurationError) {
        guard device < 32, function < 8 else { throw .pciFunction(self) }
    }
}

/// How the operating system puts the board into ACPI mode (ACPI 6.5 §4.8.2.5, §5.2.9: SMI_CMD,
/// ACPI_ENABLE, ACPI_DISABLE).
public enum ACPIModeControl: Hashable, Sendable {
    /// The board is always in ACPI mode (SCI_EN set by the hardware): SMI_CMD, ACPI_ENABLE and
    /// ACPI_DISABLE are zero.
    case alwaysEnabled
    /// Writing `enable` to the System I/O port `port` sets SCI_EN; writing `disable` clears it.
    case smiCommand(port: UInt16, enable: UInt8, disable: UInt8)

    /// The ICH's APM control port B2h, enable 02h, disable 03h (the values QEMU's ICH9 takes).
    public static let ich = ACPIModeControl.smiCommand(port: 0xB2, enable: 0x02, disable: 0x03)
}

/// The SLP_TYP value (0–7) PM1_CNT takes for each sleep state the DSDT offers (`\_S0`, `\_S3`,
/// `\_S5`; ACPI 6.5 §7.4.2). The values are the chipset's; each must differ from the others.
public struct ACPISleepTypes: Hashable, Sendable {
    public var s0: UInt8
    public var s3: UInt8
    public var s5: UInt8

    public init(s0: UInt8, s3: UInt8, s5: UInt8) {
        self.s0 = s0
        self.s3 = s3
        self.s5 = s5
    }

    /// The Intel ICH's encoding (ICH9 datasheet, PM1_CNT SLP_TYP): S0 000b, S3 101b, S5 111b.
    public static let ich = ACPISleepTypes(s0: 0, s3: 5, s5: 7)

    func validate() throws(ACPIConfigurationError) {
        for (state, value) in [(0, s0), (3, s3), (5, s5)] where value > 7 {
            throw .sleepType(state: state, value: value)
        }
        guard Set([s0, s3, s5]).count == 3 else { throw .duplicateSleepTypes(self) }
    }
}

/// Where the power-management registers sit, as offsets from the configured base (the Intel
/// ICH's layout; ICH9 datasheet, "Power Management I/O Registers").
public enum ACPIPowerManagementBlock {
    /// PM1a_EVT_BLK: PM1_STS (2 bytes) then PM1_EN (2 bytes).
    public static let pm1EventOffset = 0x00, pm1EventLength = 4
    /// PM1a_CNT_BLK: PM1_CNT (SCI_EN, SLP_TYP, SLP_EN).
    public static let pm1ControlOffset = 0x04, pm1ControlLength = 2
    /// PM_TMR_BLK: the 24-bit power-management timer.
    public static let timerOffset = 0x08, timerLength = 4
    /// GPE0_BLK: GPE0_STS (8 bytes) then GPE0_EN (8 bytes).
    public static let gpe0Offset = 0x20, gpe0Length = 16
    /// Bytes from the base to the end of the last block.
    public static let size = gpe0Offset + gpe0Length
}

/// A configuration value the ACPI tables cannot describe.
public enum ACPIConfigurationError: Error, Equatable, Sendable {
    /// Not 1–255 processors.
    case processorCount(Int)
    /// A PCI device above 31 or function above 7.
    case pciFunction(PCIFunctionAddress)
    /// A PCI configuration register offset above FFh.
    case pciConfigurationOffset(UInt16)
    /// A memory-mapped reset register at or above 4 GiB.
    case resetRegisterAddress(UInt64)
    /// A power-management base of 0, or one whose block would run past port FFFFh.
    case powerManagementBase(UInt16)
    /// An SCI on an interrupt that is not ISA IRQ 1, or 3–15.
    case sciInterrupt(UInt8)
    /// SMI_CMD at port 0 (which means "none") or the same enable and disable values.
    case modeControl(ACPIModeControl)
    /// A SLP_TYP value above 7.
    case sleepType(state: Int, value: UInt8)
    /// Two sleep states with the same SLP_TYP.
    case duplicateSleepTypes(ACPISleepTypes)
    /// A PCI memory window that starts below 1 MiB or past its end.
    case pciMemoryWindowStart(UInt32)
    /// A century index outside CMOS bytes 0Eh–7Fh.
    case centuryIndex(UInt8)
    /// An I/O APIC ID above 15.
    case ioAPICID(UInt8)
}
