import Firmware
import Hardware

extension MachineConfiguration {
    /// The port the DSDT's pvpanic device (`QEMU0001`) names: the device's, when the board has it.
    public var panicDevicePort: UInt16? { panicDevice ? PVPanic.defaultPort : nil }

    /// Adds the devices a built-in guest needs (the watchdog for `watchdog-bite`), and gives
    /// an `acpi-reset-*` guest the reset register it is named after (`--acpi-reset`).
    public mutating func addDevices(neededBy guest: ResetGuest) {
        if guest.needsWatchdog { watchdog = true }
        if guest.needsPanicDevice { panicDevice = true }
        if let space = guest.acpiResetSpace, let choice = ACPIResetChoice(rawValue: space) { acpiReset = choice }
    }
}

/// Where this board puts the watchdog: PCI bus 0, device 5, function 0, a plain slot clear of the
/// host bridge (00:00.0) and the ICH functions (00:1D–00:1F), as QEMU places an added
/// `-device i6300esb` in the first free slot.
public enum WatchdogSlot {
    public static let device: UInt8 = ResetGuest.watchdogPCIDevice
    public static let function: UInt8 = 0
}
