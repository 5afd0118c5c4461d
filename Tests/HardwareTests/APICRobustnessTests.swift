import Hardware
import Testing

/// Random guest traffic never traps or hangs the APIC models: accesses of every size to every
/// offset of the local APIC page and the I/O APIC window, random messages, pin changes,
/// acknowledges and EOIs, and time moving on. After each step the local APIC stays coherent:
/// what it calls deliverable is what an acknowledge then hands out.
@Suite struct APICRobustnessTests {
    @Test func randomTrafficKeepsTheLocalAPICCoherent() {
        var rng = SeededGenerator(state: 0x5EED_A41C)
        let platform = FakePlatform()
        let apic = LocalAPIC(platform: platform, id: 1)
        var sent = 0
        apic.onSend = { _ in sent += 1 }
        let modes: [InterruptMessage.DeliveryMode] = [.fixed, .lowestPriority, .systemManagement, .nonMaskable,
                                                     .initialize, .startUp, .externalInterrupt]
        for _ in 0..<50_000 {
            let offset = rng.next() & 0xFFF
            let size = [1, 2, 4, 8][Int(rng.next() & 3)]
            switch rng.next() % 8 {
            case 0, 1, 2:
                apic.writeMemory(0xFEE0_0000 + offset, size: size, value: rng.next())
            case 3:
                _ = apic.readMemory(0xFEE0_0000 + offset, size: size)
            case 4:
                let message = InterruptMessage(mode: modes[Int(rng.next() % 7)], destination: .physical(UInt8(rng.next() & 3)),
                                               vector: UInt8(truncatingIfNeeded: rng.next()), levelTriggered: rng.next() & 1 == 0,
                                               assert: rng.next() & 7 != 0)
                if apic.isAddressed(by: message.destination, fromSelf: false) { _ = apic.accept(message) }
            case 5:
                apic.setLocalInterruptLine(Int(rng.next() & 1), level: rng.next() & 1 == 0)
            case 6:
                if apic.hasDeliverableInterrupt {
                    let vector = apic.acknowledge()
                    #expect(vector >= 16, "an accepted vector below 16: \(vector)")
                }
            default:
                platform.advance(apic, by: rng.next() % 100_000)
            }
        }
        #expect(sent > 0, "some ICR writes sent")
    }

    @Test func randomTrafficNeverTrapsTheIOAPIC() {
        var rng = SeededGenerator(state: 0x10A9_1C00)
        var sent: [InterruptMessage] = []
        let ioapic = IOAPIC(onSend: { sent.append($0) })
        for _ in 0..<50_000 {
            let offset = rng.next() & 0xFFF
            let size = [1, 2, 4, 8][Int(rng.next() & 3)]
            switch rng.next() % 6 {
            case 0: ioapic.writeMemory(0xFEC0_0000, size: 4, value: rng.next() & 0x3F)          // IOREGSEL
            case 1: ioapic.writeMemory(0xFEC0_0010, size: 4, value: rng.next() & ~0x1_0000)     // IOWIN, unmasked
            case 2: ioapic.writeMemory(0xFEC0_0000 + offset, size: size, value: rng.next())
            case 3: _ = ioapic.readMemory(0xFEC0_0000 + offset, size: size)
            case 4: ioapic.setPin(Int(rng.next() % 30), asserted: rng.next() & 1 == 0)
            default: ioapic.endOfInterrupt(vector: UInt8(truncatingIfNeeded: rng.next()))
            }
        }
        #expect(!sent.isEmpty, "unmasked pins delivered")
    }
}

/// A deterministic generator for the sweeps (SplitMix64).
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
