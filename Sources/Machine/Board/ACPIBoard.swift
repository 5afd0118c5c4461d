import Firmware
import Hardware

/// Which register the FADT names as RESET_REG (`--acpi-reset`).
public enum ACPIResetChoice: String, Sendable, CaseIterable {
    /// System I/O port 0xCF9, value 06h: the ICH's reset control register (a hard reset).
    case io
    /// System Memory ``ACPIBoard/memoryResetAddress``, value 06h: a register this board maps.
    case mmio
    /// PCI configuration space of the LPC bridge 00:1F.0, offset ``ACPIBoard/pciResetOffset``,
    /// value 06h: a register this board adds to the bridge.
    case pci
    /// No reset register: the FADT's RESET_REG_SUP flag is clear.
    case none
}

/// The ACPI facts of this project's PC board, and the tables built from a configuration.
public enum ACPIBoard {
    /// The memory-mapped reset register (`--acpi-reset mmio`): in the chipset's MMIO area below
    /// the local APICs, clear of the I/O APIC (FEC00000h), HPET (FED00000h), the ICH's root
    /// complex block (FED1C000h) and TPM (FED40000h) addresses; the board decodes its page.
    public static let memoryResetAddress: UInt64 = 0xFEDF_0000
    /// The LPC bridge's reset register (`--acpi-reset pci`): offset 50h, reserved on the ICH9.
    public static let pciResetOffset = 0x50
    /// RESET_VALUE in every space (for 0xCF9: SYS_RST | RST_CPU, a hard reset).
    public static let resetValue: UInt8 = 0x06
    /// What the FADT names under the `acpi-reset-wrong-value` quirk: 02h, which 0xCF9 takes as
    /// SYS_RST without RST_CPU (no reset) and the other two registers ignore.
    public static let wrongResetValue: UInt8 = 0x02

    /// What the tables describe for `configuration`.
    public static func acpiConfiguration(_ configuration: MachineConfiguration) -> ACPIConfiguration {
        let value = configuration.quirks.contains(.acpiResetWrongValue) ? wrongResetValue : resetValue
        let register: ACPIResetRegister = switch configuration.acpiReset {
        case .io: .systemIO(port: ResetControl.port, value: value)
        case .mmio: .systemMemory(address: memoryResetAddress, value: value)
        case .pci: .pciConfiguration(PCIFunctionAddress(device: LPCBridge.device, function: LPCBridge.function),
                                     offset: UInt16(pciResetOffset), value: value)
        case .none: .none
        }
        let ramEnd = UInt32(configuration.memorySize)
        return ACPIConfiguration(processorCount: configuration.processorCount,
                                 pciMemoryWindowStart: max(ramEnd, UInt32(MemoryMap.extendedMemoryBase)),
                                 resetRegister: register, powerManagementBase: ACPISetup.powerManagementBase,
                                 panicDevicePort: configuration.panicDevicePort)
    }

    /// The tables laid out for this machine's RAM, or `nil` when it has too little RAM for them
    /// (below 1 MiB + 64 KiB).
    public static func installation(_ configuration: MachineConfiguration) -> ACPIInstallation? {
        // A valid configuration always gives valid tables (1–64 processors, RAM up to 3 GiB).
        try! ACPIInstallation(try! ACPITables(acpiConfiguration(configuration)), ramSize: configuration.memorySize)
    }
}
