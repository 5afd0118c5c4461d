import Hardware
import X86

/// The board's buses as the CPUs see them: RAM and ROM pages, MMIO devices, I/O ports.
final class SystemBus: Bus {
    let memory: PhysicalMemory
    let ports = PortBus()
    private var mmioDevices: [Device] = []
    /// Every MMIO range with its device, gathered at attach time and by
    /// `refreshMemoryRanges()` (a device's `memoryRanges` may be computed): `memoryPage` runs
    /// on every TLB fill, `mmioDevice` on every MMIO access.
    @exclusivity(unchecked) private var mmioRanges: [(range: ClosedRange<UInt64>, device: Device)] = []

    /// Called after a device took a write (port or MMIO): the machine checks whether a timer
    /// was reprogrammed to fire before the running slice ends.
    var afterDeviceWrite: ((Device) -> Void)?

    init(memory: PhysicalMemory) {
        self.memory = memory
    }

    func attach(_ device: Device) {
        ports.attach(device)
        if !device.memoryRanges.isEmpty {
            mmioDevices.append(device)
            mmioRanges += device.memoryRanges.map { ($0, device) }
        }
    }

    /// A device moved its I/O ports (the ACPI PM block follows the LPC bridge's PMBASE).
    func reattachPorts(of device: Device) {
        ports.reattach(device)
    }

    /// Gathers the ranges again after a device moved one (the local APIC pages). A device
    /// with no range left stays attached and may claim one later.
    func refreshMemoryRanges() {
        mmioRanges = mmioDevices.flatMap { device in device.memoryRanges.map { ($0, device) } }
    }

    /// A device moved its memory ranges (a PCI base address register): it joins the memory
    /// decoders if it was not one yet, and every range is gathered again.
    func refreshMemoryRanges(of device: Device) {
        if !mmioDevices.contains(where: { $0 === device }) { mmioDevices.append(device) }
        refreshMemoryRanges()
    }

    func memoryPage(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>? {
        let address = pageNumber << 12
        for entry in mmioRanges where entry.range.overlaps(address...(address + 0xFFF)) { return nil }
        return memory.page(pageNumber, write: write)
    }

    private func mmioDevice(_ address: UInt64) -> Device? {
        mmioRanges.first { $0.range.contains(address) }?.device
    }

    func readPhysical(_ address: UInt64, size: Int) -> UInt64 {
        if let device = mmioDevice(address) { return device.readMemory(address, size: size) }
        return size >= 8 ? .max : (1 << (8 * UInt64(size))) - 1
    }

    func writePhysical(_ address: UInt64, size: Int, value: UInt64) {
        guard let device = mmioDevice(address) else { return }
        device.writeMemory(address, size: size, value: value)
        afterDeviceWrite?(device)
    }

    func readPort(_ port: UInt16, size: Int) -> UInt32 { ports.read(port, size: size) }
    func writePort(_ port: UInt16, size: Int, value: UInt32) {
        if let device = ports.write(port, size: size, value: value) { afterDeviceWrite?(device) }
    }
}
