/// QEMU's `pc-testdev`, the ISA device kvm-unit-tests and QEMU's own x86 tests use to
/// exercise port I/O, MMIO emulation and interrupt routing. Its regions, as QEMU places them:
///
/// - **0xE0–0xE3, the echo latch.** A 32-bit register: a write of n bytes at 0xE0 + k replaces
///   bytes k ..< k+n, a read returns them. String I/O (`rep outsb` to 0xE0, then `in al, 0xE0`)
///   reads back the last byte written.
/// - **0xE4–0xE7, flush page.** A 32-bit write of a physical address makes QEMU revoke and
///   restore the host mapping of that guest page (mprotect to PROT_NONE and back), so KVM has to
///   fault the page in again: eventinj.c uses it to make exception delivery fault on the IDT or
///   stack page. The guest's memory and TLB are untouched, so nothing here changes: the write is
///   accepted (and traced as `testdev-flush`). Other sizes are ignored; reads return 0.
/// - **0xE8–0xEB, the same latch** through QEMU's byte-at-a-time region (wider accesses are split
///   into bytes, which reads and writes the same bytes).
/// - **0x2000–0x2017, interrupt lines.** A byte write of v to 0x2000 + n drives line n high (v ≠ 0)
///   or low. Lines 0–15 are the ISA lines (the 8259 pair and the I/O APIC, IRQ 0 on pin 2, as every
///   ISA device's). QEMU's ISA bus has only those 16 and aborts on a write to 0x2010–0x2017; here
///   they drive I/O APIC pins 16–23 directly, as qemu-kvm's original testdev did (24 ports for
///   24 pins). Every write reaches the controllers, as QEMU sets its IRQ on every write; reads
///   return 0.
/// - **FF000000h–FF00FFFFh, I/O memory.** 64 KiB that behave as RAM but are MMIO, so every access
///   goes through the device (kvm-unit-tests' emulator test runs instructions on it to exercise
///   instruction emulation).
///
/// Accesses wider than a byte are taken as QEMU's generic dispatch takes a port access that
/// KVM hands it (`address_space_rw`): split into naturally aligned pieces within each region,
/// so an unaligned or region-crossing access reads and writes the bytes at the ports it covers
/// (a byte beyond the device reads as a floating bus, 0xFF). (QEMU under TCG instead drops an
/// unaligned access to these regions: it reads 0.)
///
/// QEMU gives the device no reset handler, so the latch and the I/O memory survive a system
/// reset; a power cycle (`ResetKind.full`) returns them to their power-on zeros. The lines the
/// guest left high are lowered at a hard or full reset, as QEMU's interrupt controllers forget
/// their input levels when they are reset.
public final class PCTestDevice: Device {
    public let name = "pc-testdev"

    public static let latchPort: UInt16 = 0xE0
    public static let flushPagePort: UInt16 = 0xE4
    public static let byteLatchPort: UInt16 = 0xE8
    public static let interruptLinePort: UInt16 = 0x2000
    /// Lines 0–15 are the ISA interrupt lines, 16–23 I/O APIC pins of the same number.
    public static let interruptLineCount = 24
    public static let isaLineCount = 16
    public static let memoryBase: UInt64 = 0xFF00_0000
    public static let memorySize = 0x1_0000

    public let portRanges: [ClosedRange<UInt16>] = [
        latchPort...(byteLatchPort + 3),
        interruptLinePort...(interruptLinePort + UInt16(interruptLineCount) - 1),
    ]
    public let memoryRanges: [ClosedRange<UInt64>] = [memoryBase...(memoryBase + UInt64(memorySize) - 1)]

    /// The echo latch behind ports 0xE0 and 0xE8.
    public private(set) var latch: UInt32 = 0
    /// The level each interrupt line was last driven to.
    public private(set) var lineLevels = [Bool](repeating: false, count: interruptLineCount)
    private var memory = [UInt8](repeating: 0, count: memorySize)

    private unowned let platform: any Platform
    private let setIOAPICPin: (_ pin: Int, _ asserted: Bool) -> Void

    /// Creates the device. Lines 0–15 go to `platform` as ISA interrupt lines; lines 16–23 to
    /// `setIOAPICPin` (the board wires the I/O APIC). The platform owns the device.
    public init(platform: any Platform, setIOAPICPin: @escaping (_ pin: Int, _ asserted: Bool) -> Void = { _, _ in }) {
        self.platform = platform
        self.setIOAPICPin = setIOAPICPin
    }

    // MARK: Ports

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<min(size, 4) {
            value |= UInt32(readByte(port &+ UInt16(i))) << (8 * UInt32(i))
        }
        return value
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        if port == Self.flushPagePort && size == 4 {
            // QEMU takes the page of the 32-bit value; the guest sees no effect (see above).
            platform.record(TraceEvent("testdev-flush", [("page", .number(UInt64(value & ~0xFFF)))]))
            return
        }
        for i in 0..<min(size, 4) {
            writeByte(port &+ UInt16(i), UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))))
        }
    }

    private func readByte(_ port: UInt16) -> UInt8 {
        switch port {
        case Self.latchPort...(Self.latchPort + 3):
            return UInt8(truncatingIfNeeded: latch >> (8 * UInt32(port - Self.latchPort)))
        case Self.byteLatchPort...(Self.byteLatchPort + 3):
            return UInt8(truncatingIfNeeded: latch >> (8 * UInt32(port - Self.byteLatchPort)))
        case Self.flushPagePort...(Self.flushPagePort + 3):
            return 0
        case Self.interruptLinePort..<(Self.interruptLinePort + UInt16(Self.interruptLineCount)):
            return 0
        default:
            return 0xFF     // past the device's ports: nothing drives the bus
        }
    }

    private func writeByte(_ port: UInt16, _ byte: UInt8) {
        switch port {
        case Self.latchPort...(Self.latchPort + 3):
            setLatchByte(Int(port - Self.latchPort), byte)
        case Self.byteLatchPort...(Self.byteLatchPort + 3):
            setLatchByte(Int(port - Self.byteLatchPort), byte)
        case Self.interruptLinePort..<(Self.interruptLinePort + UInt16(Self.interruptLineCount)):
            setLine(Int(port - Self.interruptLinePort), high: byte != 0)
        default:
            break           // the flush-page port takes only 32-bit writes
        }
    }

    private func setLatchByte(_ index: Int, _ byte: UInt8) {
        let shift = UInt32(8 * index)
        latch = latch & ~(0xFF << shift) | UInt32(byte) << shift
    }

    // MARK: Interrupt lines

    private func setLine(_ line: Int, high: Bool) {
        if lineLevels[line] != high {
            lineLevels[line] = high
            platform.record(TraceEvent("testdev-irq", [("line", .number(UInt64(line))), ("level", .number(high ? 1 : 0))]))
        }
        if line < Self.isaLineCount {
            platform.setInterruptLine(line, high: high)
        } else {
            setIOAPICPin(line, high)
        }
    }

    // MARK: I/O memory

    public func readMemory(_ address: UInt64, size: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<min(size, 8) {
            value |= UInt64(memoryByte(at: address &+ UInt64(i)) ?? 0xFF) << (8 * UInt64(i))
        }
        return value
    }

    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        for i in 0..<min(size, 8) {
            guard let offset = memoryOffset(address &+ UInt64(i)) else { continue }
            memory[offset] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i)))
        }
    }

    private func memoryOffset(_ address: UInt64) -> Int? {
        guard address >= Self.memoryBase, address - Self.memoryBase < UInt64(Self.memorySize) else { return nil }
        return Int(address - Self.memoryBase)
    }

    private func memoryByte(at address: UInt64) -> UInt8? {
        memoryOffset(address).map { memory[$0] }
    }

    // MARK: Reset

    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        for line in lineLevels.indices where lineLevels[line] {
            setLine(line, high: false)
        }
        if kind == .full || kind == .powerOff {
            latch = 0
            memory = [UInt8](repeating: 0, count: Self.memorySize)
        }
    }
}
