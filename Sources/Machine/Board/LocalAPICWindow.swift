import Hardware

/// The local APIC pages as the CPUs see them. Every processor has its own APIC, and each
/// APIC claims only its own CPU's accesses to its page: IA32_APIC_BASE can move that page
/// or switch the APIC off (SDM Vol. 3A, 11.4.4 and 11.4.3). The window covers every page
/// where some enabled APIC sits; an access from a CPU whose APIC is elsewhere or off goes on
/// to whatever the page holds (RAM, or nothing). An APIC in x2APIC mode is reached through
/// MSRs only: its page is not decoded, as if it were globally disabled (SDM Vol. 3A, 11.12.2).
final class LocalAPICWindow: Device {
    let name = "local-apic"
    private unowned let machine: Machine

    init(machine: Machine) {
        self.machine = machine
    }

    var memoryRanges: [ClosedRange<UInt64>] {
        let bases = Set(machine.devices.localAPICs.filter(\.decodesPage).map(\.baseAddress))
        return bases.sorted().map { $0...$0 + 0xFFF }
    }

    /// The running CPU's APIC, if it claims `address`.
    private func apic(claiming address: UInt64) -> LocalAPIC? {
        let apic = machine.devices.localAPICs[machine.runningCPU ?? 0]
        return apic.decodesPage && address & ~0xFFF == apic.baseAddress ? apic : nil
    }

    func readMemory(_ address: UInt64, size: Int) -> UInt64 {
        if let apic = apic(claiming: address) { return apic.readMemory(address, size: size) }
        guard let page = machine.memory.page(address >> 12, write: false) else {
            return size >= 8 ? .max : (1 << (8 * UInt64(size))) - 1
        }
        return (0..<size).reduce(0) { $0 | UInt64(page[Int(address & 0xFFF) + $1]) << (8 * UInt64($1)) }
    }

    func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        if let apic = apic(claiming: address) { return apic.writeMemory(address, size: size, value: value) }
        guard let page = machine.memory.page(address >> 12, write: true) else { return }
        for byte in 0..<size { page[Int(address & 0xFFF) + byte] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(byte))) }
    }
}

private extension LocalAPIC {
    /// Whether the APIC answers at its page: enabled, and in xAPIC mode.
    var decodesPage: Bool { isEnabled && !isX2APICMode }
}
