import Hardware

extension Machine {
    /// A PCI function's memory decode moved (the watchdog's BAR0, its memory-space enable): the
    /// bus maps it anew and no CPU keeps a translation to what was there before.
    func memoryDecodeChanged(of device: Device) {
        bus.refreshMemoryRanges(of: device)
        for cpu in cpus { cpu.flushTLB() }
    }
}
