import Hardware

/// The local APIC page at FEE00000h as a CPU sees it: every processor has its own APIC at
/// the same address, so an access reaches the APIC of the CPU that makes it. (Relocation
/// through IA32_APIC_BASE is not followed yet: the page stays at FEE00000h.)
final class LocalAPICWindow: Device {
    let name = "local-apic"
    private unowned let machine: Machine

    init(machine: Machine) {
        self.machine = machine
    }

    var memoryRanges: [ClosedRange<UInt64>] { [0xFEE0_0000...0xFEE0_0FFF] }

    private var apic: LocalAPIC { machine.devices.localAPICs[machine.runningCPU ?? 0] }

    func readMemory(_ address: UInt64, size: Int) -> UInt64 { apic.readMemory(address, size: size) }
    func writeMemory(_ address: UInt64, size: Int, value: UInt64) { apic.writeMemory(address, size: size, value: value) }
}
