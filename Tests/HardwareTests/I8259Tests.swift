import Hardware
import Testing

@Suite struct I8259Tests {
    let platform = FakePlatform()
    let pic: I8259

    init() {
        pic = I8259(platform: platform)
    }

    private func out(_ port: UInt16, _ value: UInt8) { pic.writePort(port, size: 1, value: UInt32(value)) }
    private func inb(_ port: UInt16) -> UInt8 { UInt8(pic.readPort(port, size: 1)) }
    private func raise(_ irq: Int) { pic.setInterruptLine(irq, high: true) }
    private func lower(_ irq: Int) { pic.setInterruptLine(irq, high: false) }

    /// The PC BIOS sequence: ICW1 0x11 (edge, cascade, ICW4 follows), ICW2 0x08 / 0x70,
    /// ICW3 0x04 (slave on IR2) / 0x02 (slave ID 2), ICW4 `icw4` (0x01: 8086 mode, normal EOI).
    private func initializePC(icw4: UInt8 = 0x01, slaveICW4: UInt8 = 0x01) {
        for (command, data, vectorBase, cascade, mode) in [
            (UInt16(0x20), UInt16(0x21), UInt8(0x08), UInt8(0x04), icw4),
            (0xA0, 0xA1, 0x70, 0x02, slaveICW4),
        ] {
            out(command, 0x11)
            out(data, vectorBase)
            out(data, cascade)
            out(data, mode)
        }
    }

    private func isr(_ commandPort: UInt16) -> UInt8 {
        out(commandPort, 0x0B)  // OCW3: read ISR
        return inb(commandPort)
    }

    private func irr(_ commandPort: UInt16) -> UInt8 {
        out(commandPort, 0x0A)  // OCW3: read IRR
        return inb(commandPort)
    }

    private func nonSpecificEOI(_ commandPort: UInt16 = 0x20) { out(commandPort, 0x20) }

    // MARK: Initialization and vectors

    @Test func standardInitializationThenIRQ1GivesVector9() {
        initializePC()
        #expect(!pic.interruptOutput)
        raise(1)
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x09)
        #expect(isr(0x20) == 0x02)
        #expect(irr(0x20) == 0x00)
        #expect(!pic.interruptOutput)
    }

    @Test func slaveIRQ8GivesVector0x70WithMasterIR2InService() {
        initializePC()
        raise(8)
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x70)
        #expect(isr(0x20) == 0x04)
        #expect(isr(0xA0) == 0x01)
        // Both chips need an EOI before IR2 can interrupt again.
        nonSpecificEOI(0xA0)
        raise(10)
        #expect(!pic.interruptOutput)
        nonSpecificEOI(0x20)
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x72)
    }

    @Test func vectorBaseTakesOnlyBits7To3OfICW2() {
        out(0x20, 0x13)  // ICW1: edge, single, ICW4
        out(0x21, 0x47)  // ICW2: T7–T3 = 0x40
        out(0x21, 0x01)  // ICW4 (no ICW3 in single mode)
        raise(3)
        #expect(pic.acknowledge() == 0x43)
    }

    @Test func anUninitializedControllerRaisesNoInterrupt() {
        raise(1)
        #expect(!pic.interruptOutput)
        out(0x20, 0x11)
        out(0x21, 0x08)
        out(0x21, 0x04)
        #expect(!pic.interruptOutput)  // ICW4 still expected
        out(0x21, 0x01)
        // ICW1 reset the edge sense: the line must rise again.
        #expect(!pic.interruptOutput)
        lower(1)
        raise(1)
        #expect(pic.interruptOutput)
    }

    @Test func reinitializationClearsTheMaskAndInServiceLevels() {
        initializePC()
        out(0x21, 0xF0)
        raise(1)
        _ = pic.acknowledge()
        initializePC()
        #expect(inb(0x21) == 0x00)
        #expect(isr(0x20) == 0x00)
        lower(1)
        raise(1)
        #expect(pic.interruptOutput)
    }

    @Test func withoutIC4TheSequenceEndsAfterICW3() {
        out(0x20, 0x10)  // ICW1: cascade, no ICW4
        out(0x21, 0x20)
        out(0x21, 0x04)
        out(0x21, 0xFD)  // now OCW1
        #expect(inb(0x21) == 0xFD)
        raise(1)
        #expect(pic.acknowledge() == 0x21)
    }

    // MARK: Masking and priority

    @Test func aMaskedRequestWaitsInTheIRRUntilUnmasked() {
        initializePC()
        out(0x21, 0xFF & ~0x04)  // OCW1: all masked but the cascade
        raise(1)
        #expect(!pic.interruptOutput)
        #expect(irr(0x20) == 0x02)
        #expect(inb(0x21) == 0xFB)
        let changes = platform.interruptOutputChanges
        out(0x21, 0xFB & ~0x02)
        #expect(pic.interruptOutput)
        #expect(platform.interruptOutputChanges == changes + 1)
        #expect(pic.acknowledge() == 0x09)
    }

    @Test func maskingASlaveIRQOnTheSlaveHoldsItBack() {
        initializePC()
        out(0xA1, 0x10)  // mask IRQ 12
        raise(12)
        #expect(!pic.interruptOutput)
        out(0xA1, 0x00)
        #expect(pic.acknowledge() == 0x74)
    }

    @Test func aHigherPriorityRequestPreemptsButALowerOneWaitsForTheEOI() {
        initializePC()
        raise(3)
        #expect(pic.acknowledge() == 0x0B)
        raise(5)
        #expect(!pic.interruptOutput)  // IR5 is below IR3, which is in service
        raise(1)
        #expect(pic.interruptOutput)  // IR1 is above it
        #expect(pic.acknowledge() == 0x09)
        #expect(isr(0x20) == 0x0A)
        nonSpecificEOI()  // ends IR1, the highest level in service
        #expect(isr(0x20) == 0x08)
        #expect(!pic.interruptOutput)
        nonSpecificEOI()
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x0D)
    }

    @Test func specificEOIEndsTheNamedLevel() {
        initializePC()
        raise(3)
        _ = pic.acknowledge()
        raise(1)
        _ = pic.acknowledge()
        out(0x20, 0x63)  // specific EOI, level 3
        #expect(isr(0x20) == 0x02)
    }

    @Test func rotateOnNonSpecificEOIGivesTheServicedLevelTheLowestPriority() {
        initializePC()
        raise(0)
        #expect(pic.acknowledge() == 0x08)
        out(0x20, 0xA0)  // rotate on non-specific EOI: IR0 becomes the lowest priority
        lower(0)
        raise(0)
        raise(1)
        #expect(pic.acknowledge() == 0x09)
    }

    @Test func setPriorityCommandMakesTheNamedLevelLowest() {
        initializePC()
        out(0x20, 0xC4)  // set priority: IR4 lowest, so IR5 highest
        raise(3)
        raise(6)
        #expect(pic.acknowledge() == 0x0E)
        // IR3 now ranks below IR6, which is in service.
        #expect(!pic.interruptOutput)
    }

    @Test func specialMaskModeLetsLowerLevelsInWhileTheMaskedOneIsInService() {
        initializePC()
        raise(3)
        _ = pic.acknowledge()
        raise(5)
        #expect(!pic.interruptOutput)
        out(0x21, 0x08)  // mask IR3
        out(0x20, 0x68)  // OCW3: set special mask mode
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x0D)
        out(0x20, 0x48)  // reset special mask mode: IR3 and IR5 in service block again
        raise(6)
        #expect(!pic.interruptOutput)
    }

    @Test func specialFullyNestedModeLetsAHigherSlaveRequestThroughIR2() {
        initializePC(icw4: 0x11)
        raise(9)
        #expect(pic.acknowledge() == 0x71)
        raise(8)
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x70)
    }

    @Test func withoutSpecialFullyNestedModeIR2InServiceBlocksTheSlave() {
        initializePC()
        raise(9)
        #expect(pic.acknowledge() == 0x71)
        raise(8)
        #expect(!pic.interruptOutput)
    }

    // MARK: Would a request interrupt? (the idle machine's question)

    /// A request on an unmasked line would raise INTR; masking the line, or (for IRQ 8–15) the
    /// cascade input, stops it; asking changes nothing.
    @Test func wouldInterruptFollowsTheMasks() {
        initializePC()
        #expect(pic.wouldInterrupt(onRequestAt: 0))
        #expect(pic.wouldInterrupt(onRequestAt: 8))
        out(0x21, 0x01)
        #expect(!pic.wouldInterrupt(onRequestAt: 0))
        #expect(pic.wouldInterrupt(onRequestAt: 1))
        out(0x21, 0x04)
        #expect(!pic.wouldInterrupt(onRequestAt: 8), "the cascade input is masked")
        out(0x21, 0x00)
        out(0xA1, 0x01)
        #expect(!pic.wouldInterrupt(onRequestAt: 8))
        #expect(pic.wouldInterrupt(onRequestAt: 9))
        #expect(!pic.interruptOutput)
        #expect(irr(0x20) == 0 && irr(0xA0) == 0)
        #expect(!pic.wouldInterrupt(onRequestAt: 16))
    }

    /// A level in service blocks requests of equal and lower priority until its EOI; a chip
    /// that has not been initialized passes nothing on.
    @Test func wouldInterruptRespectsThePriorityInService() {
        #expect(!pic.wouldInterrupt(onRequestAt: 0), "no ICW sequence yet")
        initializePC()
        raise(1)
        #expect(pic.acknowledge() == 0x09)
        lower(1)
        #expect(pic.wouldInterrupt(onRequestAt: 0))
        #expect(!pic.wouldInterrupt(onRequestAt: 1))
        #expect(!pic.wouldInterrupt(onRequestAt: 3))
        nonSpecificEOI()
        #expect(pic.wouldInterrupt(onRequestAt: 3))
    }

    // MARK: Triggering

    @Test func anEdgeTriggeredInputNeedsANewRisingEdge() {
        initializePC()
        raise(4)
        #expect(pic.acknowledge() == 0x0C)
        nonSpecificEOI()
        #expect(!pic.interruptOutput)  // the line is still high, but no new edge
        lower(4)
        raise(4)
        #expect(pic.acknowledge() == 0x0C)
    }

    @Test func reassertingALineThatIsAlreadyHighIsNoNewEdge() {
        initializePC()
        raise(4)
        _ = pic.acknowledge()
        nonSpecificEOI()
        raise(4)
        #expect(!pic.interruptOutput)
    }

    @Test func aLevelTriggeredInputPerELCRInterruptsAgainWhileHigh() {
        initializePC()
        out(0x4D0, 0x08)  // IRQ 3 level-triggered
        raise(3)
        #expect(pic.acknowledge() == 0x0B)
        #expect(irr(0x20) == 0x08)  // the IRR follows the line
        nonSpecificEOI()
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x0B)
        lower(3)
        nonSpecificEOI()
        #expect(!pic.interruptOutput)
        #expect(irr(0x20) == 0x00)
    }

    @Test func theELCRBitsOfIRQ0_1_2_8And13DoNotExist() {
        out(0x4D0, 0xFF)
        out(0x4D1, 0xFF)
        #expect(inb(0x4D0) == 0xF8)
        #expect(inb(0x4D1) == 0xDE)
    }

    @Test func ltimMakesEveryInputLevelTriggered() {
        out(0x20, 0x1B)  // ICW1: LTIM, single, ICW4
        out(0x21, 0x08)
        out(0x21, 0x01)
        raise(6)
        #expect(pic.acknowledge() == 0x0E)
        nonSpecificEOI()
        #expect(pic.acknowledge() == 0x0E)
    }

    @Test func autoEOILeavesNothingInService() {
        initializePC(icw4: 0x03)
        raise(1)
        #expect(pic.acknowledge() == 0x09)
        #expect(isr(0x20) == 0x00)
        raise(5)
        #expect(pic.interruptOutput)  // no EOI needed
        #expect(pic.acknowledge() == 0x0D)
    }

    @Test func rotateInAutoEOIModeRotatesOnEachAcknowledge() {
        initializePC(icw4: 0x03)
        out(0x20, 0x80)  // set rotate in automatic EOI mode
        raise(0)
        #expect(pic.acknowledge() == 0x08)
        lower(0)
        raise(0)
        raise(1)
        #expect(pic.acknowledge() == 0x09)  // IR0 is now the lowest priority
    }

    // MARK: Spurious interrupts

    @Test func aRequestThatVanishesBeforeTheAcknowledgeGivesSpuriousIRQ7() {
        initializePC()
        out(0x4D0, 0x20)  // IRQ 5 level-triggered
        raise(5)
        #expect(pic.interruptOutput)
        lower(5)  // the device withdrew it after the CPU saw INTR
        #expect(pic.acknowledge() == 0x0F)
        #expect(isr(0x20) == 0x00)  // a default IR7 sets no ISR bit
    }

    @Test func aRequestMaskedBeforeTheAcknowledgeGivesSpuriousIRQ7() {
        initializePC()
        raise(3)
        out(0x21, 0x08)
        #expect(pic.acknowledge() == 0x0F)
        #expect(isr(0x20) == 0x00)
    }

    @Test func aVanishedSlaveRequestGivesSpuriousIRQ15WithIR2InService() {
        initializePC()
        out(0x4D1, 0x04)  // IRQ 10 level-triggered
        raise(10)
        lower(10)
        // The master latched the slave's INT on IR2 and still asks for service.
        #expect(pic.interruptOutput)
        #expect(pic.acknowledge() == 0x77)
        #expect(isr(0xA0) == 0x00)
        #expect(isr(0x20) == 0x04)  // the master needs an EOI
        nonSpecificEOI()
        #expect(isr(0x20) == 0x00)
    }

    // MARK: OCW3 reads and poll

    @Test func readsReturnTheIRRAfterInitializationUntilOCW3SelectsTheISR() {
        initializePC()
        raise(1)
        raise(4)
        #expect(inb(0x20) == 0x12)
        _ = pic.acknowledge()
        out(0x20, 0x0B)
        #expect(inb(0x20) == 0x02)
        out(0x20, 0x08)  // OCW3 with RR = 0 keeps the selection
        #expect(inb(0x20) == 0x02)
        out(0x20, 0x0A)
        #expect(inb(0x20) == 0x10)
    }

    @Test func pollReturnsTheHighestRequestAndAcknowledgesIt() {
        initializePC()
        out(0x21, 0x01)
        raise(6)
        raise(4)
        out(0x20, 0x0C)  // OCW3: poll
        #expect(inb(0x20) == 0x84)
        #expect(isr(0x20) == 0x10)
        out(0x20, 0x0C)
        #expect(inb(0x21) == 0x00)  // IR6 is below IR4 in service; any read answers the poll
        out(0x20, 0x0C)
        nonSpecificEOI()
        #expect(inb(0x20) == 0x86)
        #expect(inb(0x21) == 0x01)  // the poll is over: the IMR again
    }

    // MARK: Notifications and reset

    @Test func theMachineHearsOfEveryINTRChange() {
        initializePC()
        #expect(platform.interruptOutputChanges == 0)
        raise(1)
        #expect(platform.interruptOutputChanges == 1)
        raise(3)  // INTR already high
        #expect(platform.interruptOutputChanges == 1)
        _ = pic.acknowledge()
        #expect(platform.interruptOutputChanges == 2)
    }

    @Test func aPlatformResetReturnsBothChipsToPowerOnButInitDoesNot() {
        initializePC()
        out(0x4D0, 0x08)
        out(0x21, 0xF0)
        raise(1)
        _ = pic.acknowledge()
        pic.reset(.initSignal)
        #expect(isr(0x20) == 0x02)
        #expect(inb(0x21) == 0xF0)

        pic.reset(.hard)
        #expect(inb(0x4D0) == 0x00)
        #expect(inb(0x21) == 0x00)
        #expect(inb(0x20) == 0x00)
        lower(1)
        raise(1)
        #expect(!pic.interruptOutput)  // uninitialized
        initializePC()
        lower(1)
        raise(1)
        #expect(pic.acknowledge() == 0x09)
    }

    @Test func resetDropsINTR() {
        initializePC()
        raise(1)
        #expect(pic.interruptOutput)
        pic.reset(.full)
        #expect(!pic.interruptOutput)
        #expect(platform.interruptOutputChanges == 2)
    }
}
