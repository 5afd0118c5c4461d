/// The I/O APIC: 24 interrupt input pins, each with a redirection table entry that turns the
/// pin's signal into an interrupt message for the local APICs (Intel 82093AA I/O APIC
/// datasheet, 290566; the I/O APIC of Intel's ICH southbridges, version 0x20).
///
/// This is the ICH flavour, version 0x20 (what QEMU's PC machines present, and Linux handles
/// both it and the 82093AA's 0x11): the 82093AA's register set plus the EOI register at +0x40,
/// with which software clears a level entry's remote IRR directly. Its choices:
/// - A physical destination is the 8-bit APIC ID in bits 63:56, as xAPIC systems and QEMU
///   read it (the 82093AA on a serial APIC bus used only bits 59:56). A logical destination is
///   the 8-bit mask in the same field.
/// - The ARB register (index 0x02) is kept from the 82093AA, as QEMU does. It reads the
///   arbitration ID, which the datasheet loads from the ID register whenever that is written
///   (3.2.3); with no APIC bus to rotate it, it always equals the ID.
/// - Messages are delivered the moment they are sent, so an entry's delivery status (bit 12)
///   always reads 0 (idle).
/// - A reserved delivery mode (011, 110) sends nothing, and does not set remote IRR.
/// - The entry's trigger mode governs every delivery mode. The datasheet requires edge
///   triggering for SMI, NMI, INIT and ExtINT (3.2.4); a level entry with one of those waits
///   for an EOI that local APICs never send for them, as the hardware would.
/// - Reserved bits of the registers (55:17 of an entry, all but 27:24 of the ID) read 0 and
///   ignore writes.
///
/// MMIO: a 4 KiB window at `baseAddress` (0xFEC0_0000 on PCs). IOREGSEL at +0x00 and the
/// EOI register at +0x40 are byte registers: an access of any size starting there uses its
/// low byte (IOREGSEL reads back its 8-bit index; the EOI register is write-only and reads 0).
/// IOWIN at +0x10 answers dword accesses only, as the datasheet requires (3.1). Any other
/// access inside the window (other sizes at IOWIN, other offsets, unaligned ones) reads 0
/// and ignores writes, as QEMU's model does. Through IOWIN, an index naming no register reads
/// 0 and ignores writes.
///
/// Pins: `setPin(_:asserted:)` gives a pin's electrical level, and the entry's polarity bit
/// says which level is active. An edge-triggered entry sends one message for each inactive
/// → active transition while it is unmasked; an edge on a masked pin is lost (3.2.4, bit 16).
/// A level-triggered entry sends while its pin is active, it is unmasked and its remote IRR
/// is clear, and sets remote IRR; `endOfInterrupt(vector:)` (the local APICs' EOI for a level
/// interrupt, or a write to the EOI register) clears remote IRR of every level entry with that
/// vector, and sends again if the pin is still active. Level entries look at the pin itself,
/// so unmasking one, changing its polarity so that its pin becomes active, or switching an
/// entry to level while its pin is active sends a message; remote IRR is read-only, kept
/// across writes to an entry, and cleared when the entry is switched to edge triggering (as
/// QEMU does: Linux clears a stuck remote IRR on a version 0x11 I/O APIC that way). An edge
/// entry sees only changes of its pin: rewriting its polarity makes no edge.
///
/// The PC wiring, done by the machine: ISA IRQ 0 (the 8254's OUT0) reaches pin 2, every other
/// ISA IRQ n pin n (the MP table's and ACPI MADT's interrupt source override for IRQ 0);
/// the 8259's INTR output reaches pin 0, for ExtINT mode; pins 16–23 take PCI interrupts.
public final class IOAPIC: Device {
    public let name = "ioapic"
    public let memoryRanges: [ClosedRange<UInt64>]

    /// Where PCs put the first I/O APIC.
    public static let defaultBaseAddress: UInt64 = 0xFEC0_0000
    /// Interrupt input pins, and redirection table entries.
    public static let pinCount = 24
    /// The value of the version register's bits 7:0.
    public static let version: UInt32 = 0x20

    /// Offsets inside the MMIO window.
    public static let registerSelectOffset: UInt64 = 0x00
    public static let windowOffset: UInt64 = 0x10
    public static let endOfInterruptOffset: UInt64 = 0x40

    /// Register indices (IOREGSEL values).
    public static let identificationIndex: UInt8 = 0x00
    public static let versionIndex: UInt8 = 0x01
    public static let arbitrationIndex: UInt8 = 0x02
    /// The low dword of entry n is at `redirectionTableIndex + 2n`, its high dword follows.
    public static let redirectionTableIndex: UInt8 = 0x10

    // Redirection table entry fields (82093AA 3.2.4).
    private static let vectorMask: UInt64 = 0xFF
    private static let deliveryModeShift: UInt64 = 8
    private static let logicalDestinationMode: UInt64 = 1 << 11
    private static let activeLow: UInt64 = 1 << 13
    private static let remoteIRR: UInt64 = 1 << 14
    private static let levelTriggered: UInt64 = 1 << 15
    private static let masked: UInt64 = 1 << 16
    private static let destinationShift: UInt64 = 56
    /// Bits software can write: vector, delivery mode, destination mode, polarity, trigger
    /// mode, mask and destination.
    private static let writableEntryBits: UInt64 = 0xFF00_0000_0001_AFFF
    private static let identificationMask: UInt32 = 0x0F00_0000

    /// What the machine routes to the local APICs.
    public var onSend: (InterruptMessage) -> Void

    private let baseAddress: UInt64
    private var registerSelect: UInt8 = 0
    private var identification: UInt32 = 0
    private var entries = [UInt64](repeating: IOAPIC.masked, count: IOAPIC.pinCount)
    /// The electrical level of each input pin.
    private var pinLevels = [Bool](repeating: false, count: IOAPIC.pinCount)

    /// Creates an I/O APIC in its reset state (every entry masked, ID 0) at `baseAddress`,
    /// sending its interrupt messages to `onSend`.
    public init(baseAddress: UInt64 = IOAPIC.defaultBaseAddress,
                onSend: @escaping (InterruptMessage) -> Void = { _ in }) {
        self.baseAddress = baseAddress
        self.memoryRanges = [baseAddress...(baseAddress + 0xFFF)]
        self.onSend = onSend
    }

    /// Drives input pin `pin` (0–23) to an electrical level: `true` high, `false` low. Other
    /// pin numbers are ignored.
    public func setPin(_ pin: Int, asserted: Bool) {
        guard pin >= 0 && pin < Self.pinCount, pinLevels[pin] != asserted else { return }
        let wasActive = isActive(pin)
        pinLevels[pin] = asserted
        let entry = entries[pin]
        if entry & Self.levelTriggered != 0 {
            serviceLevel(pin)
        } else if !wasActive && isActive(pin) && entry & Self.masked == 0 {
            send(pin)
        }
    }

    /// The EOI message for `vector`: clears remote IRR of every level-triggered entry with
    /// that vector, and sends again from those whose pin is still active and unmasked.
    public func endOfInterrupt(vector: UInt8) {
        for pin in 0..<Self.pinCount {
            let entry = entries[pin]
            guard entry & Self.vectorMask == UInt64(vector), entry & Self.levelTriggered != 0,
                  entry & Self.remoteIRR != 0 else { continue }
            entries[pin] = entry & ~Self.remoteIRR
            serviceLevel(pin)
        }
    }

    public func readMemory(_ address: UInt64, size: Int) -> UInt64 {
        switch address &- baseAddress {
        case Self.registerSelectOffset:
            return UInt64(registerSelect)
        case Self.windowOffset where size == 4:
            return UInt64(readRegister(registerSelect))
        default:
            return 0
        }
    }

    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        switch address &- baseAddress {
        case Self.registerSelectOffset:
            registerSelect = UInt8(truncatingIfNeeded: value)
        case Self.windowOffset where size == 4:
            writeRegister(registerSelect, UInt32(truncatingIfNeeded: value))
        case Self.endOfInterruptOffset:
            endOfInterrupt(vector: UInt8(truncatingIfNeeded: value))
        default:
            break
        }
    }

    /// A platform reset (or power cycle) masks every entry and clears everything else; the
    /// pins keep their levels, which other devices drive. An INIT resets CPUs only.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        registerSelect = 0
        identification = 0
        entries = [UInt64](repeating: Self.masked, count: Self.pinCount)
    }

    private func readRegister(_ index: UInt8) -> UInt32 {
        switch index {
        case Self.identificationIndex, Self.arbitrationIndex:
            return identification
        case Self.versionIndex:
            return UInt32(Self.pinCount - 1) << 16 | Self.version
        default:
            guard let (pin, high) = Self.entryHalf(index) else { return 0 }
            return UInt32(truncatingIfNeeded: high ? entries[pin] >> 32 : entries[pin])
        }
    }

    private func writeRegister(_ index: UInt8, _ value: UInt32) {
        switch index {
        case Self.identificationIndex:
            identification = value & Self.identificationMask
        default:
            guard let (pin, high) = Self.entryHalf(index) else { return }
            let old = entries[pin]
            let written = high
                ? UInt64(value) << 32 | old & 0xFFFF_FFFF
                : old & 0xFFFF_FFFF_0000_0000 | UInt64(value)
            var entry = written & Self.writableEntryBits | old & Self.remoteIRR
            if entry & Self.levelTriggered == 0 {
                entry &= ~Self.remoteIRR
            }
            entries[pin] = entry
            serviceLevel(pin)
        }
    }

    /// The redirection entry and half (`true`: bits 63:32) that register `index` names.
    private static func entryHalf(_ index: UInt8) -> (pin: Int, high: Bool)? {
        let offset = Int(index) - Int(redirectionTableIndex)
        guard offset >= 0 && offset < 2 * pinCount else { return nil }
        return (offset / 2, offset % 2 == 1)
    }

    private func isActive(_ pin: Int) -> Bool {
        pinLevels[pin] != (entries[pin] & Self.activeLow != 0)
    }

    /// Sends from a level-triggered entry whose pin is active, unmasked and not waiting for an EOI.
    private func serviceLevel(_ pin: Int) {
        let entry = entries[pin]
        guard entry & Self.levelTriggered != 0, entry & (Self.masked | Self.remoteIRR) == 0,
              isActive(pin) else { return }
        send(pin)
    }

    /// Sends entry `pin`'s message; for a level entry, remote IRR is set first, so that an EOI
    /// arriving while the message is being delivered finds it set.
    private func send(_ pin: Int) {
        let entry = entries[pin]
        guard let mode = InterruptMessage.DeliveryMode(rawValue: UInt8((entry >> Self.deliveryModeShift) & 7)),
              mode != .startUp else { return }
        let level = entry & Self.levelTriggered != 0
        if level {
            entries[pin] = entry | Self.remoteIRR
        }
        let target = UInt8(truncatingIfNeeded: entry >> Self.destinationShift)
        onSend(InterruptMessage(
            mode: mode,
            destination: entry & Self.logicalDestinationMode != 0 ? .logical(target) : .physical(target),
            vector: UInt8(truncatingIfNeeded: entry),
            levelTriggered: level))
    }
}
