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

    /// The same in x2APIC mode, through the MSRs: random RDMSR and WRMSR over 800h–8FFh with
    /// random values (half of them 32-bit, so that some pass the reserved-bit checks), mode
    /// changes, messages, acknowledges, EOIs and time. Nothing traps; refused writes are
    /// refused; what the APIC calls deliverable is what an acknowledge hands out.
    @Test func randomMSRTrafficKeepsTheX2APICCoherent() {
        var rng = SeededGenerator(state: 0x2A91_C0DE)
        let platform = FakePlatform()
        let apic = LocalAPIC(platform: platform, id: 0x12)
        var sent = 0, written = 0
        apic.onSend = { _ in sent += 1 }
        apic.isX2APICMode = true
        _ = apic.writeMSR(0x80F, 0x1FF)
        let modes: [InterruptMessage.DeliveryMode] = [.fixed, .lowestPriority, .nonMaskable, .initialize, .startUp]
        for _ in 0..<50_000 {
            // Half the time one of the registers that do something when written.
            let busy: [UInt32] = [0x808, 0x80B, 0x80F, 0x828, 0x830, 0x832, 0x835, 0x838, 0x83E, 0x83F]
            let msr = rng.next() & 1 == 0 ? busy[Int(rng.next() % 10)] : 0x800 + UInt32(rng.next() & 0xFF)
            switch rng.next() % 10 {
            case 0, 1, 2, 3:
                var value = rng.next()
                if value & 1 == 0 { value &= 0xFFFF_FFFF }
                if value & 2 == 0 { value &= 0x000C_CFFF }
                if apic.writeMSR(msr, value) { written += 1 }
            case 4:
                _ = apic.readMSR(msr)
            case 5:
                let destination: InterruptMessage.Destination = rng.next() & 1 == 0
                    ? .extendedPhysical(UInt32(truncatingIfNeeded: rng.next() & 0x1F)) : .extendedLogical(UInt32(truncatingIfNeeded: rng.next()))
                let message = InterruptMessage(mode: modes[Int(rng.next() % 5)], destination: destination,
                                               vector: UInt8(truncatingIfNeeded: rng.next()), levelTriggered: rng.next() & 1 == 0)
                if apic.isAddressed(by: message.destination, fromSelf: false) { _ = apic.accept(message) }
            case 6:
                if apic.hasDeliverableInterrupt {
                    let vector = apic.acknowledge()
                    #expect(vector >= 16, "an accepted vector below 16: \(vector)")
                }
            case 7:
                // x2APIC → disabled → xAPIC → x2APIC, as software may; or an INIT.
                switch rng.next() % 4 {
                case 0:
                    apic.isEnabled = false
                    apic.isX2APICMode = false
                    apic.isEnabled = true
                    apic.writeMemory(0xFEE0_0000 + (rng.next() & 0xFF0), size: 4, value: rng.next())
                    apic.isX2APICMode = true
                case 1: apic.reset(.initSignal)
                default: _ = apic.writeMSR(0x80F, 0x100 | rng.next() & 0xFF)
                }
            case 8:
                apic.setLocalInterruptLine(Int(rng.next() & 1), level: rng.next() & 1 == 0)
            default:
                platform.advance(apic, by: rng.next() % 100_000)
            }
            #expect(apic.readMSR(0x802) == 0x12)
        }
        #expect(sent > 100 && written > 1_000, "sent \(sent), written \(written)")
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
