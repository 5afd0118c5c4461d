import Hardware
import Testing

@Suite struct IOAPICTests {
    let ioapic: IOAPIC
    /// Every message the I/O APIC sent, in order.
    let sent = SentMessages()

    final class SentMessages {
        var messages: [InterruptMessage] = []
    }

    init() {
        let sent = sent
        ioapic = IOAPIC { sent.messages.append($0) }
    }

    private static let base: UInt64 = 0xFEC0_0000

    private func select(_ index: UInt8) { ioapic.writeMemory(Self.base, size: 4, value: UInt64(index)) }

    private func read(_ index: UInt8) -> UInt32 {
        select(index)
        return UInt32(ioapic.readMemory(Self.base + 0x10, size: 4))
    }

    private func write(_ index: UInt8, _ value: UInt32) {
        select(index)
        ioapic.writeMemory(Self.base + 0x10, size: 4, value: UInt64(value))
    }

    private func entry(_ pin: Int) -> UInt64 {
        UInt64(read(UInt8(0x10 + 2 * pin + 1))) << 32 | UInt64(read(UInt8(0x10 + 2 * pin)))
    }

    /// Writes the high dword first, as Linux does, so the low dword's mask bit acts last.
    private func program(_ pin: Int, _ value: UInt64) {
        write(UInt8(0x10 + 2 * pin + 1), UInt32(truncatingIfNeeded: value >> 32))
        write(UInt8(0x10 + 2 * pin), UInt32(truncatingIfNeeded: value))
    }

    private static let level: UInt64 = 1 << 15
    private static let activeLow: UInt64 = 1 << 13
    private static let masked: UInt64 = 1 << 16
    private static let logical: UInt64 = 1 << 11
    private static let remoteIRR: UInt64 = 1 << 14

    private func fixed(_ vector: UInt8, to destination: UInt8 = 0, level: Bool = false) -> InterruptMessage {
        InterruptMessage(mode: .fixed, destination: .physical(destination), vector: vector, levelTriggered: level)
    }

    // MARK: Identification, version, arbitration

    @Test func memoryWindowIsFourKiBAtFEC00000() {
        #expect(ioapic.memoryRanges == [0xFEC0_0000...0xFEC0_0FFF])
        #expect(IOAPIC(baseAddress: 0xFEC0_1000).memoryRanges == [0xFEC0_1000...0xFEC0_1FFF])
    }

    @Test func versionRegisterGivesVersion0x20And23AsHighestEntry() {
        #expect(read(0x01) == 0x0017_0020)
        write(0x01, 0xFFFF_FFFF)
        #expect(read(0x01) == 0x0017_0020)
    }

    @Test func identificationKeepsOnlyBits27To24() {
        #expect(read(0x00) == 0)
        write(0x00, 0xFFFF_FFFF)
        #expect(read(0x00) == 0x0F00_0000)
        write(0x00, 0x0300_0000)
        #expect(read(0x00) == 0x0300_0000)
    }

    @Test func arbitrationIsLoadedFromTheIdentificationAndReadOnly() {
        #expect(read(0x02) == 0)
        write(0x00, 0x0500_0000)
        #expect(read(0x02) == 0x0500_0000)
        write(0x02, 0x0A00_0000)
        #expect(read(0x02) == 0x0500_0000)
        #expect(read(0x00) == 0x0500_0000)
    }

    @Test func registerSelectReadsBackItsByte() {
        ioapic.writeMemory(Self.base, size: 4, value: 0x1234_5612)
        #expect(ioapic.readMemory(Self.base, size: 4) == 0x12)
        ioapic.writeMemory(Self.base, size: 1, value: 0x3F)
        #expect(ioapic.readMemory(Self.base, size: 1) == 0x3F)
        #expect(read(0x3F) == 0)  // entry 23 high: destination 0
    }

    // MARK: Redirection table fields

    @Test func everyEntryStartsMasked() {
        for pin in 0..<24 {
            #expect(entry(pin) == Self.masked)
        }
    }

    @Test func writableFieldsReadBack() {
        // vector 0x31, lowest priority, logical, active low, level, masked, destination 0xA5
        program(5, 0xA500_0000_0001_A931)
        #expect(entry(5) == 0xA500_0000_0001_A931)
        program(5, 0x5A00_0000_0000_0000 | 0x0742)  // ExtINT (111), vector 0x42, everything else 0
        #expect(entry(5) == 0x5A00_0000_0000_0742)
        #expect(entry(4) == Self.masked)
        #expect(entry(6) == Self.masked)
    }

    @Test func reservedBitsReadZero() {
        program(7, 0xFFFF_FFFF_FFFF_FFFF)
        #expect(read(0x10 + 14) == 0x0001_AFFF)  // 31:17, 14 (remote IRR) and 12 (status) read 0
        #expect(read(0x10 + 15) == 0xFF00_0000)  // 55:32 reserved
    }

    @Test func halvesAreWrittenIndependently() {
        program(3, 0x0000_0000_0000_0030)
        write(0x10 + 7, 0x0800_0000)
        #expect(entry(3) == 0x0800_0000_0000_0030)
        write(0x10 + 6, 0x0001_0041)
        #expect(entry(3) == 0x0800_0000_0001_0041)
    }

    @Test func deliveryStatusIsReadOnlyAndIdle() {
        program(1, 0x1000 | 0x20)
        #expect(entry(1) & 0x1000 == 0)
        ioapic.setPin(1, asserted: true)
        #expect(sent.messages.count == 1)
        #expect(entry(1) & 0x1000 == 0)  // delivered at once: idle
    }

    @Test func remoteIRRIsReadOnly() {
        program(9, Self.level | Self.remoteIRR | 0x50)
        #expect(entry(9) & Self.remoteIRR == 0)
        ioapic.setPin(9, asserted: true)
        #expect(entry(9) & Self.remoteIRR != 0)
        write(0x10 + 18, UInt32(Self.level) | 0x50)  // writing 0 to remote IRR keeps it
        #expect(entry(9) & Self.remoteIRR != 0)
        #expect(sent.messages.count == 1)  // and nothing is sent before the EOI
    }

    @Test func outOfRangeIndicesReadZeroAndIgnoreWrites() {
        for index: UInt8 in [0x03, 0x0F, 0x40, 0x41, 0x80, 0xFF] {
            write(index, 0xFFFF_FFFF)
            #expect(read(index) == 0)
        }
        #expect(read(0x00) == 0)
        #expect(entry(23) == Self.masked)
    }

    // MARK: Access sizes and offsets

    @Test func windowAnswersOnlyDwordAccesses() {
        program(2, 0x0300_0000_0000_0061)
        select(0x14)
        for size in [1, 2, 8] {
            #expect(ioapic.readMemory(Self.base + 0x10, size: size) == 0)
            ioapic.writeMemory(Self.base + 0x10, size: size, value: 0x77)
        }
        #expect(ioapic.readMemory(Self.base + 0x10, size: 4) == 0x61)
    }

    @Test func otherOffsetsReadZeroAndIgnoreWrites() {
        program(0, 0x44)
        select(0x10)
        for offset: UInt64 in [0x01, 0x04, 0x11, 0x12, 0x20, 0x30, 0x41, 0x110, 0xFFC] {
            ioapic.writeMemory(Self.base + offset, size: 4, value: 0xFFFF_FFFF)
            #expect(ioapic.readMemory(Self.base + offset, size: 4) == 0)
        }
        #expect(ioapic.readMemory(Self.base, size: 4) == 0x10)
        #expect(entry(0) == 0x44)
    }

    // MARK: Edge-triggered delivery

    @Test func edgeEntrySendsOnEachRisingEdge() {
        program(2, 0x0100_0000_0000_0030)
        ioapic.setPin(2, asserted: true)
        #expect(sent.messages == [fixed(0x30, to: 1)])
        ioapic.setPin(2, asserted: true)  // no change: no edge
        #expect(sent.messages.count == 1)
        ioapic.setPin(2, asserted: false)
        #expect(sent.messages.count == 1)
        ioapic.setPin(2, asserted: true)
        #expect(sent.messages == [fixed(0x30, to: 1), fixed(0x30, to: 1)])
        #expect(entry(2) & Self.remoteIRR == 0)
    }

    @Test func activeLowEdgeEntrySendsOnFallingEdges() {
        ioapic.setPin(4, asserted: true)
        program(4, Self.activeLow | 0x34)
        #expect(sent.messages.isEmpty)  // a polarity rewrite makes no edge
        ioapic.setPin(4, asserted: false)
        #expect(sent.messages == [fixed(0x34)])
        ioapic.setPin(4, asserted: true)
        #expect(sent.messages.count == 1)
    }

    @Test func edgeOnMaskedPinIsLost() {
        program(3, Self.masked | 0x33)
        ioapic.setPin(3, asserted: true)
        program(3, 0x33)
        #expect(sent.messages.isEmpty)
        ioapic.setPin(3, asserted: false)
        ioapic.setPin(3, asserted: true)
        #expect(sent.messages == [fixed(0x33)])
    }

    @Test func edgeEntryIgnoresEndOfInterrupt() {
        program(1, 0x21)
        ioapic.setPin(1, asserted: true)
        ioapic.endOfInterrupt(vector: 0x21)
        #expect(sent.messages.count == 1)
    }

    // MARK: Level-triggered delivery, remote IRR and EOI

    @Test func levelEntrySendsOnceUntilEndOfInterrupt() {
        program(10, Self.level | 0x0200_0000_0000_0000 | 0x5A)
        ioapic.setPin(10, asserted: true)
        #expect(sent.messages == [fixed(0x5A, to: 2, level: true)])
        #expect(entry(10) & Self.remoteIRR != 0)
        ioapic.setPin(10, asserted: false)
        ioapic.setPin(10, asserted: true)
        #expect(sent.messages.count == 1)  // remote IRR still set
        ioapic.endOfInterrupt(vector: 0x5B)
        #expect(sent.messages.count == 1)  // another vector
        ioapic.endOfInterrupt(vector: 0x5A)
        #expect(sent.messages.count == 2)  // still active: sent again
        #expect(entry(10) & Self.remoteIRR != 0)
        ioapic.setPin(10, asserted: false)
        ioapic.endOfInterrupt(vector: 0x5A)
        #expect(sent.messages.count == 2)
        #expect(entry(10) & Self.remoteIRR == 0)
    }

    @Test func endOfInterruptClearsEveryLevelEntryWithTheVector() {
        for (pin, vector) in [(16, 0x60), (17, 0x60), (18, 0x61)] {
            ioapic.setPin(pin, asserted: true)  // an idle PCI line is high
            program(pin, Self.level | Self.activeLow | UInt64(vector))
        }
        #expect(sent.messages.isEmpty)
        for pin in 16...18 { ioapic.setPin(pin, asserted: false) }
        #expect(sent.messages.map(\.vector) == [0x60, 0x60, 0x61])
        ioapic.setPin(16, asserted: true)
        ioapic.endOfInterrupt(vector: 0x60)
        #expect(entry(16) & Self.remoteIRR == 0)
        #expect(sent.messages.map(\.vector) == [0x60, 0x60, 0x61, 0x60])  // pin 17 is still active
        #expect(entry(17) & Self.remoteIRR != 0)
        #expect(entry(18) & Self.remoteIRR != 0)
    }

    @Test func eoiRegisterClearsRemoteIRR() {
        program(11, Self.level | 0x71)
        ioapic.setPin(11, asserted: true)
        ioapic.setPin(11, asserted: false)
        #expect(entry(11) & Self.remoteIRR != 0)
        ioapic.writeMemory(Self.base + 0x40, size: 4, value: 0x70)
        #expect(entry(11) & Self.remoteIRR != 0)
        ioapic.writeMemory(Self.base + 0x40, size: 4, value: 0x71)
        #expect(entry(11) & Self.remoteIRR == 0)
        #expect(ioapic.readMemory(Self.base + 0x40, size: 4) == 0)
    }

    @Test func levelPinActiveOnUnmaskIsSent() {
        program(12, Self.level | Self.masked | 0x62)
        ioapic.setPin(12, asserted: true)
        #expect(sent.messages.isEmpty)
        #expect(entry(12) & Self.remoteIRR == 0)
        program(12, Self.level | 0x62)
        #expect(sent.messages == [fixed(0x62, level: true)])
    }

    @Test func levelPinThatWentAwayWhileMaskedIsNotSent() {
        program(12, Self.level | Self.masked | 0x62)
        ioapic.setPin(12, asserted: true)
        ioapic.setPin(12, asserted: false)
        program(12, Self.level | 0x62)
        #expect(sent.messages.isEmpty)
    }

    @Test func maskingAfterDeliveryLeavesRemoteIRRUntilEOI() {
        program(13, Self.level | 0x63)
        ioapic.setPin(13, asserted: true)
        program(13, Self.level | Self.masked | 0x63)
        #expect(entry(13) & Self.remoteIRR != 0)
        ioapic.endOfInterrupt(vector: 0x63)
        #expect(entry(13) & Self.remoteIRR == 0)
        #expect(sent.messages.count == 1)  // masked: not re-sent
        program(13, Self.level | 0x63)
        #expect(sent.messages.count == 2)
    }

    @Test func switchingToEdgeClearsRemoteIRR() {
        program(14, Self.level | 0x64)
        ioapic.setPin(14, asserted: true)
        program(14, Self.masked | 0x64)
        #expect(entry(14) & Self.remoteIRR == 0)
        program(14, Self.level | 0x64)
        #expect(sent.messages.count == 2)  // pin still active: sent again
        #expect(entry(14) & Self.remoteIRR != 0)
    }

    @Test func rewritingLevelEntryWithRemoteIRRSetSendsNothing() {
        program(15, Self.level | 0x65)
        ioapic.setPin(15, asserted: true)
        program(15, Self.level | 0x0300_0000_0000_0000 | 0x66)
        #expect(sent.messages.count == 1)
        #expect(entry(15) & Self.remoteIRR != 0)
        ioapic.endOfInterrupt(vector: 0x65)  // the old vector no longer matches
        #expect(entry(15) & Self.remoteIRR != 0)
        ioapic.endOfInterrupt(vector: 0x66)
        #expect(sent.messages.last == fixed(0x66, to: 3, level: true))
    }

    @Test func levelPolarityFollowsTheEntry() {
        program(20, Self.level | Self.activeLow | 0x70)
        #expect(sent.messages == [fixed(0x70, level: true)])  // pin low = active
        ioapic.setPin(20, asserted: true)
        ioapic.endOfInterrupt(vector: 0x70)
        #expect(sent.messages.count == 1)  // high = inactive
        ioapic.setPin(20, asserted: false)
        #expect(sent.messages.count == 2)
    }

    @Test func endOfInterruptDuringDeliverySendsAgain() {
        program(21, Self.level | 0x72)
        let ioapic = ioapic
        var deliveries = 0
        ioapic.onSend = { _ in
            deliveries += 1
            if deliveries < 3 { ioapic.endOfInterrupt(vector: 0x72) }
        }
        ioapic.setPin(21, asserted: true)
        #expect(deliveries == 3)
        #expect(entry(21) & Self.remoteIRR != 0)
    }

    @Test func pinsOutOfRangeAreIgnored() {
        for pin in 0..<24 { program(pin, 0x40 + UInt64(pin)) }
        ioapic.setPin(-1, asserted: true)
        ioapic.setPin(24, asserted: true)
        #expect(sent.messages.isEmpty)
    }

    // MARK: Messages

    @Test func eachDeliveryModeReachesTheMessage() {
        let modes: [(UInt64, InterruptMessage.DeliveryMode)] = [
            (0, .fixed), (1, .lowestPriority), (2, .systemManagement), (4, .nonMaskable),
            (5, .initialize), (7, .externalInterrupt),
        ]
        for (pin, (bits, mode)) in modes.enumerated() {
            program(pin, 0x0400_0000_0000_0000 | bits << 8 | 0x80)
            ioapic.setPin(pin, asserted: true)
            #expect(sent.messages.last == InterruptMessage(mode: mode, destination: .physical(4), vector: 0x80))
        }
        #expect(sent.messages.count == modes.count)
        #expect(sent.messages.allSatisfy { $0.source == nil && $0.assert })
    }

    @Test func reservedDeliveryModesSendNothing() {
        program(0, 3 << 8 | 0x80)
        program(1, 6 << 8 | 0x80)
        program(2, Self.level | 3 << 8 | 0x80)
        for pin in 0...2 { ioapic.setPin(pin, asserted: true) }
        #expect(sent.messages.isEmpty)
        #expect(entry(2) & Self.remoteIRR == 0)
    }

    @Test func physicalDestinationIsTheFullEightBitField() {
        program(6, 0xFE00_0000_0000_0046)
        ioapic.setPin(6, asserted: true)
        #expect(sent.messages == [fixed(0x46, to: 0xFE)])
    }

    @Test func logicalDestinationIsTheMessageDestinationAddress() {
        program(7, 0x0C00_0000_0000_0000 | Self.logical | 1 << 8 | 0x47)
        ioapic.setPin(7, asserted: true)
        #expect(sent.messages == [InterruptMessage(mode: .lowestPriority, destination: .logical(0x0C), vector: 0x47)])
    }

    @Test func levelTriggeredNMIFollowsTheEntry() {
        program(8, Self.level | 4 << 8)
        ioapic.setPin(8, asserted: true)
        #expect(sent.messages == [InterruptMessage(mode: .nonMaskable, destination: .physical(0), vector: 0,
                                                   levelTriggered: true)])
        #expect(entry(8) & Self.remoteIRR != 0)
    }

    // MARK: Reset

    @Test func hardResetMasksEveryEntryAndClearsTheRest() {
        for kind in [ResetKind.hard, .full] {
            write(0x00, 0x0700_0000)
            program(0, Self.level | 0xFF00_0000_0000_0031)
            ioapic.setPin(0, asserted: true)
            #expect(entry(0) & Self.remoteIRR != 0)
            select(0x21)
            ioapic.reset(kind)
            #expect(ioapic.readMemory(Self.base, size: 4) == 0)
            #expect(read(0x00) == 0)
            #expect(read(0x02) == 0)
            for pin in 0..<24 { #expect(entry(pin) == Self.masked) }
            ioapic.setPin(0, asserted: false)
        }
    }

    @Test func pinLevelsSurviveReset() {
        ioapic.setPin(9, asserted: true)
        ioapic.reset(.hard)
        program(9, Self.level | 0x49)
        #expect(sent.messages == [fixed(0x49, level: true)])
    }

    @Test func initSignalLeavesTheIOAPICAlone() {
        write(0x00, 0x0200_0000)
        program(3, 0x0100_0000_0000_0043)
        select(0x17)
        ioapic.reset(.initSignal)
        #expect(ioapic.readMemory(Self.base, size: 4) == 0x17)
        #expect(read(0x00) == 0x0200_0000)
        #expect(entry(3) == 0x0100_0000_0000_0043)
    }
}
