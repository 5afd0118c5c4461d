import Hardware
import Testing

@Suite struct LocalAPICTests {
    typealias R = LocalAPIC.Register
    let platform = FakePlatform()
    let apic: LocalAPIC
    /// What the APIC sent, and the EOIs it broadcast.
    let log = Log()

    final class Log {
        var sent: [InterruptMessage] = []
        var endOfInterrupts: [UInt8] = []
        var requestChanges = 0
    }

    init() {
        apic = LocalAPIC(platform: platform, id: 3)
        let log = log
        apic.onSend = { log.sent.append($0) }
        apic.onEndOfInterrupt = { log.endOfInterrupts.append($0) }
        apic.onInterruptRequestChanged = { log.requestChanges += 1 }
    }

    private func read(_ offset: UInt64) -> UInt32 { UInt32(apic.readMemory(0xFEE0_0000 + offset, size: 4)) }
    private func write(_ offset: UInt64, _ value: UInt32) {
        apic.writeMemory(0xFEE0_0000 + offset, size: 4, value: UInt64(value))
    }
    private func enable(spurious: UInt32 = 0xFF) { write(R.spuriousVector, 0x100 | spurious) }
    private func fixed(_ vector: UInt8, level: Bool = false) -> InterruptMessage {
        InterruptMessage(mode: .fixed, destination: .physical(3), vector: vector, levelTriggered: level)
    }
    private func bit(_ base: UInt64, _ vector: UInt8) -> Bool {
        read(base + UInt64(vector >> 5) * 0x10) & 1 << UInt32(vector & 31) != 0
    }
    private func readESR() -> UInt32 {
        write(R.errorStatus, 0)
        return read(R.errorStatus)
    }

    // MARK: Registers

    @Test func powerUpState() {
        #expect(read(R.id) == 0x0300_0000)
        #expect(read(R.version) == 0x0005_0014)
        #expect(read(R.taskPriority) == 0)
        #expect(read(R.processorPriority) == 0)
        #expect(read(R.arbitrationPriority) == 0)
        #expect(read(R.logicalDestination) == 0)
        #expect(read(R.destinationFormat) == 0xFFFF_FFFF)
        #expect(read(R.spuriousVector) == 0xFF)
        for offset in stride(from: R.lvtTimer, through: R.lvtError, by: 0x10) {
            #expect(read(offset) == 0x0001_0000)
        }
        #expect(read(R.initialCount) == 0)
        #expect(read(R.currentCount) == 0)
        #expect(read(R.divideConfiguration) == 0)
        #expect(read(R.commandLow) == 0)
        #expect(read(R.commandHigh) == 0)
        for index in 0..<8 {
            #expect(read(R.interruptRequest + UInt64(index) * 0x10) == 0)
            #expect(read(R.inService + UInt64(index) * 0x10) == 0)
            #expect(read(R.triggerMode + UInt64(index) * 0x10) == 0)
        }
        #expect(apic.memoryRanges == [0xFEE0_0000...0xFEE0_0FFF])
        #expect(!apic.isSoftwareEnabled)
        #expect(apic.interruptLine == nil)
    }

    @Test func writableBitsAndReservedBits() {
        write(R.id, 0xFFFF_FFFF)
        #expect(read(R.id) == 0xFF00_0000)
        write(R.id, 0x0700_0000)
        write(R.taskPriority, 0xFFFF_FFFF)
        #expect(read(R.taskPriority) == 0xFF)
        write(R.logicalDestination, 0xFFFF_FFFF)
        #expect(read(R.logicalDestination) == 0xFF00_0000)
        write(R.destinationFormat, 0x0000_0000)
        #expect(read(R.destinationFormat) == 0x0FFF_FFFF)
        write(R.spuriousVector, 0xFFFF_FFFF)
        #expect(read(R.spuriousVector) == 0x3FF)
        write(R.commandHigh, 0xFFFF_FFFF)
        #expect(read(R.commandHigh) == 0xFF00_0000)
        write(R.lvtTimer, 0xFFFF_FFFF)
        #expect(read(R.lvtTimer) == 0x0007_00FF)  // mode 11b is reserved but writable
        write(R.lvtThermal, 0xFFFF_FFFF)
        #expect(read(R.lvtThermal) == 0x0001_07FF)
        write(R.lvtPerformance, 0xFFFF_FFFF)
        #expect(read(R.lvtPerformance) == 0x0001_07FF)
        write(R.lvtLINT0, 0xFFFF_FFFF)
        #expect(read(R.lvtLINT0) == 0x0001_A7FF)  // remote IRR (14) and status (12) read-only
        write(R.lvtLINT1, 0xFFFF_FFFF)
        #expect(read(R.lvtLINT1) == 0x0001_A7FF)
        write(R.lvtError, 0xFFFF_FFFF)
        #expect(read(R.lvtError) == 0x0001_00FF)
        write(R.divideConfiguration, 0xFFFF_FFFF)
        #expect(read(R.divideConfiguration) == 0xB)
        // Read-only registers ignore writes.
        write(R.version, 0)
        write(R.processorPriority, 0x50)
        write(R.arbitrationPriority, 0x50)
        write(R.interruptRequest, 0xFFFF_FFFF)
        write(R.inService, 0xFFFF_FFFF)
        write(R.triggerMode, 0xFFFF_FFFF)
        write(R.currentCount, 1234)
        #expect(read(R.version) == 0x0005_0014)
        #expect(read(R.processorPriority) == 0xFF)  // = TPR
        #expect(read(R.interruptRequest) == 0)
        #expect(read(R.inService) == 0)
        #expect(read(R.triggerMode) == 0)
        #expect(read(R.currentCount) == 0)
        #expect(read(R.endOfInterrupt) == 0)
        #expect(readESR() == 0)
    }

    @Test func timerModeBitsHoldTheTSCDeadlineMode() {
        write(R.lvtTimer, 0x0004_0040)
        #expect(read(R.lvtTimer) == 0x0005_0040)  // still masked: software disabled
        enable()
        write(R.lvtTimer, 0x0006_0040)
        #expect(read(R.lvtTimer) == 0x0006_0040)
    }

    // MARK: TSC-deadline mode (SDM 11.5.4.1)

    @Test func tscDeadlineFiresOnceAtItsTimeAndClearsTheMSR() {
        enable()
        write(R.lvtTimer, 0x4_0070)
        platform.now = 1000
        apic.writeTimeStampDeadline(5000, timeStampCounter: 4000)   // 1000 TSC ticks on
        #expect(apic.timeStampDeadlineMSR == 5000)
        #expect(apic.nextDeadline() == 2000)
        platform.advance(apic, by: 999)
        #expect(!bit(R.interruptRequest, 0x70))
        platform.advance(apic, by: 1)
        #expect(bit(R.interruptRequest, 0x70))
        #expect(apic.timeStampDeadlineMSR == 0)
        #expect(apic.nextDeadline() == nil)
    }

    @Test func tscDeadlineIgnoresTheCountRegisters() {
        enable()
        write(R.lvtTimer, 0x4_0070)
        write(R.initialCount, 100)
        #expect(read(R.initialCount) == 0)
        #expect(read(R.currentCount) == 0)
        #expect(apic.nextDeadline() == nil)
    }

    @Test func aPassedTSCDeadlineFiresAtOnceAndZeroDisarms() {
        enable()
        write(R.lvtTimer, 0x4_0070)
        apic.writeTimeStampDeadline(10, timeStampCounter: 500)
        #expect(bit(R.interruptRequest, 0x70))
        #expect(apic.timeStampDeadlineMSR == 0)
        _ = apic.acknowledge()
        write(R.endOfInterrupt, 0)
        apic.writeTimeStampDeadline(900, timeStampCounter: 500)
        apic.writeTimeStampDeadline(0, timeStampCounter: 600)
        platform.advance(apic, by: 10_000)
        #expect(!bit(R.interruptRequest, 0x70))
    }

    @Test func leavingTSCDeadlineModeDisarmsAndTheMSRIsDeadOutsideIt() {
        enable()
        write(R.lvtTimer, 0x70)                                       // one-shot
        apic.writeTimeStampDeadline(900, timeStampCounter: 500)
        #expect(apic.timeStampDeadlineMSR == 0)
        #expect(apic.nextDeadline() == nil)
        write(R.lvtTimer, 0x4_0070)
        apic.writeTimeStampDeadline(900, timeStampCounter: 500)
        write(R.lvtTimer, 0x2_0070)                                   // periodic: disarmed
        write(R.lvtTimer, 0x4_0070)
        #expect(apic.timeStampDeadlineMSR == 0)
        platform.advance(apic, by: 10_000)
        #expect(!bit(R.interruptRequest, 0x70))
    }

    @Test func aMaskedTSCDeadlineDisarmsWithoutAnInterrupt() {
        enable()
        write(R.lvtTimer, 0x5_0070)
        apic.writeTimeStampDeadline(900, timeStampCounter: 500)
        #expect(apic.timeStampDeadlineMSR == 900)
        platform.advance(apic, by: 400)
        #expect(apic.timeStampDeadlineMSR == 0)
        #expect(!bit(R.interruptRequest, 0x70))
    }

    @Test func softwareDisabledForcesLVTMasks() {
        write(R.lvtLINT0, 0x700)
        #expect(read(R.lvtLINT0) == 0x0001_0700)
        enable()
        write(R.lvtLINT0, 0x700)
        write(R.lvtTimer, 0x40)
        #expect(read(R.lvtLINT0) == 0x700)
        write(R.spuriousVector, 0xFF)
        #expect(read(R.lvtLINT0) == 0x0001_0700)
        #expect(read(R.lvtTimer) == 0x0001_0040)
        // Re-enabling does not unmask them.
        enable()
        #expect(read(R.lvtLINT0) == 0x0001_0700)
    }

    @Test func oddAccessesReadZeroAndAreIgnored() {
        enable()
        write(R.taskPriority, 0x20)
        #expect(apic.readMemory(0xFEE0_0080, size: 1) == 0)
        #expect(apic.readMemory(0xFEE0_0084, size: 4) == 0)
        #expect(apic.readMemory(0xFEE0_0080, size: 8) == 0)
        apic.writeMemory(0xFEE0_0080, size: 2, value: 0x30)
        apic.writeMemory(0xFEE0_0084, size: 4, value: 0x30)
        #expect(read(R.taskPriority) == 0x20)
        #expect(readESR() == 0)
    }

    @Test func reservedOffsetsSetIllegalRegisterAddress() {
        enable()
        #expect(read(0x010) == 0)
        #expect(readESR() == LocalAPIC.ErrorBit.illegalRegisterAddress)
        #expect(readESR() == 0)  // the next write latched no new error
        write(0x2F0, 1)  // LVT CMCI: not on this model
        #expect(readESR() == LocalAPIC.ErrorBit.illegalRegisterAddress)
    }

    @Test func errorStatusLatchesOnWriteAndRaisesTheErrorInterrupt() {
        enable()
        write(R.lvtError, 0xFE)
        _ = apic.accept(fixed(5))  // illegal vector
        #expect(read(R.errorStatus) == 0)  // not latched yet
        #expect(bit(R.interruptRequest, 0xFE))
        write(R.errorStatus, 0)
        #expect(read(R.errorStatus) == LocalAPIC.ErrorBit.receiveIllegalVector)
        #expect(read(R.errorStatus) == LocalAPIC.ErrorBit.receiveIllegalVector)
        write(R.errorStatus, 0)
        #expect(read(R.errorStatus) == 0)
    }

    @Test func baseAddressMoves() {
        apic.baseAddress = 0xFED0_0000
        #expect(apic.memoryRanges == [0xFED0_0000...0xFED0_0FFF])
        #expect(apic.readMemory(0xFED0_0030, size: 4) == 0x0005_0014)
        #expect(apic.readMemory(0xFEE0_0030, size: 4) == 0)
    }

    // MARK: Priorities

    @Test func processorPriorityFollowsTPRAndInService() {
        enable()
        write(R.taskPriority, 0x45)
        #expect(read(R.processorPriority) == 0x45)
        _ = apic.accept(fixed(0x61))
        #expect(apic.acknowledge() == 0x61)
        #expect(read(R.processorPriority) == 0x60)  // ISR class above TPR's
        write(R.taskPriority, 0x6A)
        #expect(read(R.processorPriority) == 0x6A)  // same class: TPR
        #expect(apic.processorPriority == 0x6A)
    }

    @Test func taskPriorityAsCR8() {
        write(R.taskPriority, 0x5C)
        #expect(apic.taskPriority == 5)
        apic.taskPriority = 0x19
        #expect(read(R.taskPriority) == 0x90)
    }

    @Test func tprClassGatesDelivery() {
        enable()
        write(R.taskPriority, 0x50)
        _ = apic.accept(fixed(0x5F))
        #expect(!apic.hasDeliverableInterrupt)  // class 5 is not above 5
        #expect(apic.acknowledge() == 0xFF)  // spurious, IRR kept
        #expect(bit(R.interruptRequest, 0x5F))
        #expect(!bit(R.inService, 0x5F))
        apic.taskPriority = 4
        #expect(apic.hasDeliverableInterrupt)
        #expect(apic.acknowledge() == 0x5F)
    }

    @Test func arbitrationPriority() {
        enable()
        write(R.taskPriority, 0x35)
        #expect(apic.arbitrationPriority == 0x35)  // TPR above IRR and ISR classes
        _ = apic.accept(fixed(0x72))
        #expect(read(R.arbitrationPriority) == 0x70)  // IRR class wins
        write(R.taskPriority, 0x80)
        #expect(apic.arbitrationPriority == 0x80)
    }

    @Test func focus() {
        enable()
        _ = apic.accept(fixed(0x40))
        #expect(apic.isFocus(of: 0x40))
        #expect(!apic.isFocus(of: 0x41))
        write(R.spuriousVector, 0x3FF)  // focus checking disabled
        #expect(!apic.isFocus(of: 0x40))
    }

    // MARK: IRR, ISR, EOI

    @Test func nestedInterruptsAndEOI() {
        enable(spurious: 0xEF)
        _ = apic.accept(fixed(0x31))
        #expect(apic.acknowledge() == 0x31)
        #expect(!apic.hasDeliverableInterrupt)
        _ = apic.accept(fixed(0x38))  // same class: waits
        #expect(!apic.hasDeliverableInterrupt)
        _ = apic.accept(fixed(0x81))  // higher class: nests
        #expect(apic.hasDeliverableInterrupt)
        #expect(apic.acknowledge() == 0x81)
        #expect(read(R.inService + 0x10) == 1 << 17)  // 0x31
        #expect(read(R.inService + 0x40) == 1 << 1)  // 0x81
        #expect(apic.acknowledge() == 0xEF)  // nothing deliverable: spurious
        write(R.endOfInterrupt, 0)  // retires 0x81
        #expect(!bit(R.inService, 0x81))
        #expect(bit(R.inService, 0x31))
        #expect(!apic.hasDeliverableInterrupt)
        write(R.endOfInterrupt, 0)  // retires 0x31
        #expect(apic.hasDeliverableInterrupt)
        #expect(apic.acknowledge() == 0x38)
        write(R.endOfInterrupt, 0)
        write(R.endOfInterrupt, 0)  // nothing in service: no effect
        #expect(read(R.inService + 0x10) == 0)
        #expect(log.endOfInterrupts.isEmpty)
    }

    @Test func levelTriggeredEOIIsBroadcast() {
        enable()
        _ = apic.accept(fixed(0x51, level: true))
        _ = apic.accept(fixed(0x52))
        #expect(bit(R.triggerMode, 0x51))
        #expect(!bit(R.triggerMode, 0x52))
        #expect(apic.acknowledge() == 0x52)
        write(R.endOfInterrupt, 0)
        #expect(log.endOfInterrupts.isEmpty)
        #expect(apic.acknowledge() == 0x51)
        write(R.endOfInterrupt, 0)
        #expect(log.endOfInterrupts == [0x51])
        #expect(!bit(R.triggerMode, 0x51))
    }

    @Test func softwareDisabledHoldsRequestsAndDropsNewOnes() {
        enable()
        _ = apic.accept(fixed(0x40))
        write(R.spuriousVector, 0xFF)
        _ = apic.accept(fixed(0x50))
        _ = apic.accept(InterruptMessage(mode: .lowestPriority, destination: .logical(1), vector: 0x51))
        #expect(bit(R.interruptRequest, 0x40))
        #expect(!bit(R.interruptRequest, 0x50))
        #expect(!bit(R.interruptRequest, 0x51))
        #expect(!apic.hasDeliverableInterrupt)
        #expect(apic.acknowledge() == 0xFF)
        #expect(apic.accept(InterruptMessage(mode: .nonMaskable, destination: .physical(3), vector: 0)) == .nmi)
        #expect(apic.accept(InterruptMessage(mode: .startUp, destination: .physical(3), vector: 0x10))
            == .startUp(vector: 0x10))
        enable()
        #expect(apic.hasDeliverableInterrupt)
        #expect(apic.acknowledge() == 0x40)
    }

    @Test func requestChangesAreReported() {
        enable()
        let before = log.requestChanges
        _ = apic.accept(fixed(0x40))
        #expect(log.requestChanges > before)
    }

    // MARK: Accepting messages

    @Test func deliveryModes() {
        enable()
        #expect(apic.accept(InterruptMessage(mode: .lowestPriority, destination: .logical(1), vector: 0x44)) == nil)
        #expect(bit(R.interruptRequest, 0x44))
        #expect(apic.accept(InterruptMessage(mode: .nonMaskable, destination: .physical(3), vector: 0)) == .nmi)
        #expect(apic.accept(InterruptMessage(mode: .systemManagement, destination: .physical(3), vector: 0))
            == .systemManagement)
        #expect(apic.accept(InterruptMessage(mode: .initialize, destination: .physical(3), vector: 0)) == .initialize)
        #expect(apic.accept(InterruptMessage(mode: .initialize, destination: .physical(3), vector: 0,
                                             levelTriggered: true, assert: false)) == nil)
        #expect(apic.accept(InterruptMessage(mode: .startUp, destination: .physical(3), vector: 0x9A))
            == .startUp(vector: 0x9A))
        #expect(apic.accept(InterruptMessage(mode: .externalInterrupt, destination: .physical(3), vector: 0))
            == .externalInterrupt)
        // Only the fixed one was queued.
        #expect(read(R.interruptRequest) == 0)
        #expect(read(R.interruptRequest + 0x20) == 1 << 4)
    }

    @Test func illegalReceivedVectors() {
        enable()
        for vector: UInt8 in [0, 15] { _ = apic.accept(fixed(vector)) }
        #expect(read(R.interruptRequest) == 0)
        #expect(readESR() == LocalAPIC.ErrorBit.receiveIllegalVector)
        _ = apic.accept(fixed(16))
        #expect(read(R.interruptRequest) == 1 << 16)
        #expect(readESR() == 0)
    }

    @Test func globallyDisabledAcceptsNothing() {
        enable()
        apic.isEnabled = false
        #expect(apic.accept(InterruptMessage(mode: .nonMaskable, destination: .physical(3), vector: 0)) == nil)
        _ = apic.accept(fixed(0x40))
        #expect(!bit(R.interruptRequest, 0x40))
        #expect(!apic.isAddressed(by: .physical(3), fromSelf: false))
        #expect(!apic.isAddressed(by: .allIncludingSelf, fromSelf: false))
    }

    @Test func physicalDestinations() {
        #expect(apic.isAddressed(by: .physical(3), fromSelf: false))
        #expect(!apic.isAddressed(by: .physical(4), fromSelf: false))
        #expect(apic.isAddressed(by: .physical(0xFF), fromSelf: false))
        write(R.id, 0x0400_0000)
        #expect(apic.isAddressed(by: .physical(4), fromSelf: false))
        #expect(!apic.isAddressed(by: .physical(3), fromSelf: false))
    }

    @Test func logicalFlatModel() {
        #expect(!apic.isAddressed(by: .logical(0xFF), fromSelf: false))  // LDR 0
        write(R.logicalDestination, 0x2400_0000)
        #expect(apic.isAddressed(by: .logical(0x04), fromSelf: false))
        #expect(apic.isAddressed(by: .logical(0x21), fromSelf: false))
        #expect(!apic.isAddressed(by: .logical(0x42), fromSelf: false))
        #expect(apic.isAddressed(by: .logical(0xFF), fromSelf: false))
    }

    @Test func logicalClusterModel() {
        write(R.destinationFormat, 0x0FFF_FFFF)
        write(R.logicalDestination, 0x3200_0000)  // cluster 3, member bit 1
        #expect(apic.isAddressed(by: .logical(0x32), fromSelf: false))
        #expect(apic.isAddressed(by: .logical(0x3F), fromSelf: false))
        #expect(!apic.isAddressed(by: .logical(0x35), fromSelf: false))  // wrong member
        #expect(!apic.isAddressed(by: .logical(0x22), fromSelf: false))  // wrong cluster
        #expect(!apic.isAddressed(by: .logical(0xF2), fromSelf: false))
        #expect(apic.isAddressed(by: .logical(0xFF), fromSelf: false))  // broadcast
    }

    @Test func shorthands() {
        #expect(apic.isAddressed(by: .selfOnly, fromSelf: true))
        #expect(!apic.isAddressed(by: .selfOnly, fromSelf: false))
        #expect(apic.isAddressed(by: .allIncludingSelf, fromSelf: true))
        #expect(apic.isAddressed(by: .allIncludingSelf, fromSelf: false))
        #expect(!apic.isAddressed(by: .allExcludingSelf, fromSelf: true))
        #expect(apic.isAddressed(by: .allExcludingSelf, fromSelf: false))
    }

    // MARK: Sending

    @Test func icrSendsFixedPhysical() {
        enable()
        write(R.commandHigh, 0x0500_0000)
        write(R.commandLow, 0x0000_4041)
        #expect(log.sent == [InterruptMessage(mode: .fixed, destination: .physical(5), vector: 0x41, source: 3)])
        #expect(read(R.commandLow) == 0x0000_4041)  // delivery status (bit 12) idle
    }

    @Test func icrSendsEachMode() {
        write(R.commandHigh, 0x0100_0000)
        write(R.commandLow, 0x0000_4950)  // lowest priority, logical
        write(R.commandLow, 0x0000_4200)  // SMI
        write(R.commandLow, 0x0000_4400)  // NMI
        write(R.commandLow, 0x0000_C500)  // INIT assert, level
        write(R.commandLow, 0x0000_8500)  // INIT level de-assert
        write(R.commandLow, 0x0000_4699)  // start-up, vector 0x99
        write(R.commandLow, 0x0000_4700)  // ExtINT
        write(R.commandLow, 0x0000_4300)  // reserved mode: nothing
        let physical = InterruptMessage.Destination.physical(1)
        #expect(log.sent == [
            InterruptMessage(mode: .lowestPriority, destination: .logical(1), vector: 0x50, source: 3),
            InterruptMessage(mode: .systemManagement, destination: physical, vector: 0, source: 3),
            InterruptMessage(mode: .nonMaskable, destination: physical, vector: 0, source: 3),
            InterruptMessage(mode: .initialize, destination: physical, vector: 0, levelTriggered: true, source: 3),
            InterruptMessage(mode: .initialize, destination: physical, vector: 0, levelTriggered: true,
                             assert: false, source: 3),
            InterruptMessage(mode: .startUp, destination: physical, vector: 0x99, source: 3),
            InterruptMessage(mode: .externalInterrupt, destination: physical, vector: 0, source: 3),
        ])
    }

    @Test func icrShorthandsIgnoreTheDestinationField() {
        write(R.commandHigh, 0x0700_0000)
        write(R.commandLow, 0x0004_4030)
        write(R.commandLow, 0x0008_4031)
        write(R.commandLow, 0x000C_4832)  // logical bit ignored too
        #expect(log.sent.map(\.destination) == [.selfOnly, .allIncludingSelf, .allExcludingSelf])
        #expect(log.sent.map(\.vector) == [0x30, 0x31, 0x32])
    }

    @Test func icrReservedBitsReadZero() {
        write(R.commandLow, 0xFFFF_FFFF)
        #expect(read(R.commandLow) == 0x000C_CFFF)
    }

    @Test func sendIllegalVector() {
        enable()
        write(R.commandLow, 0x0000_400F)  // fixed, vector 15
        write(R.commandLow, 0x0000_4105)  // lowest priority, vector 5
        #expect(log.sent.isEmpty)
        #expect(readESR() == LocalAPIC.ErrorBit.sendIllegalVector)
        write(R.commandLow, 0x0000_4400)  // NMI: the vector does not matter
        #expect(log.sent.count == 1)
        #expect(readESR() == 0)
    }

    // MARK: LINT0 and LINT1

    @Test func lint1AsNMIOnRisingEdges() {
        enable()
        write(R.lvtLINT1, 0x400)
        #expect(apic.setLocalInterruptLine(1, level: true) == .nmi)
        #expect(apic.setLocalInterruptLine(1, level: true) == nil)  // no edge
        #expect(apic.setLocalInterruptLine(1, level: false) == nil)
        #expect(apic.setLocalInterruptLine(1, level: true) == .nmi)
        apic.setLocalInterruptLine(1, level: false)
        write(R.lvtLINT1, 0x1_0400)  // masked
        #expect(apic.setLocalInterruptLine(1, level: true) == nil)
    }

    @Test func lintActiveLowAndOtherModes() {
        enable()
        write(R.lvtLINT1, 0x2400)  // NMI, active low
        #expect(apic.setLocalInterruptLine(1, level: true) == nil)
        #expect(apic.setLocalInterruptLine(1, level: false) == .nmi)
        write(R.lvtLINT0, 0x200)  // SMI
        #expect(apic.setLocalInterruptLine(0, level: true) == .systemManagement)
        apic.setLocalInterruptLine(0, level: false)
        write(R.lvtLINT0, 0x500)  // INIT
        #expect(apic.setLocalInterruptLine(0, level: true) == .initialize)
        apic.setLocalInterruptLine(0, level: false)
        write(R.lvtLINT0, 0x600)  // reserved
        #expect(apic.setLocalInterruptLine(0, level: true) == nil)
        #expect(read(R.interruptRequest + 0x10 * 0) == 0)
    }

    @Test func lintEdgeFixedQueuesOnce() {
        enable()
        write(R.lvtLINT1, 0x0000_8047)  // fixed; LINT1 is edge-sensitive despite bit 15
        apic.setLocalInterruptLine(1, level: true)
        #expect(bit(R.interruptRequest, 0x47))
        #expect(!bit(R.triggerMode, 0x47))
        #expect(apic.acknowledge() == 0x47)
        apic.setLocalInterruptLine(1, level: true)
        #expect(!bit(R.interruptRequest, 0x47))
        #expect(read(R.lvtLINT1) & 0x4000 == 0)
    }

    @Test func lint0LevelFixedUsesRemoteIRR() {
        enable()
        write(R.lvtLINT0, 0x0000_8055)  // fixed, level, active high
        apic.setLocalInterruptLine(0, level: true)
        #expect(bit(R.interruptRequest, 0x55))
        #expect(bit(R.triggerMode, 0x55))
        #expect(read(R.lvtLINT0) == 0x0000_C055)  // remote IRR set
        #expect(apic.acknowledge() == 0x55)
        write(R.endOfInterrupt, 0)  // line still active: delivered again
        #expect(log.endOfInterrupts == [0x55])
        #expect(bit(R.interruptRequest, 0x55))
        #expect(read(R.lvtLINT0) == 0x0000_C055)
        #expect(apic.acknowledge() == 0x55)
        apic.setLocalInterruptLine(0, level: false)
        write(R.endOfInterrupt, 0)
        #expect(!bit(R.interruptRequest, 0x55))
        #expect(read(R.lvtLINT0) == 0x0000_8055)
    }

    @Test func lint0ExtINTIsAVirtualWire() {
        enable()
        apic.setLocalInterruptLine(0, level: true)
        #expect(!apic.isExternalInterruptRequested)  // masked
        write(R.lvtLINT0, 0x700)
        #expect(apic.isExternalInterruptRequested)
        #expect(apic.setLocalInterruptLine(0, level: false) == nil)
        #expect(!apic.isExternalInterruptRequested)
        #expect(!apic.hasDeliverableInterrupt)
        write(R.spuriousVector, 0xFF)  // software disable masks it
        apic.setLocalInterruptLine(0, level: true)
        #expect(!apic.isExternalInterruptRequested)
    }

    @Test func globallyDisabledPinsAreINTRAndNMI() {
        apic.isEnabled = false
        #expect(apic.setLocalInterruptLine(0, level: true) == nil)
        #expect(apic.isExternalInterruptRequested)
        #expect(apic.setLocalInterruptLine(1, level: true) == .nmi)
        apic.setLocalInterruptLine(0, level: false)
        #expect(!apic.isExternalInterruptRequested)
    }

    // MARK: The timer

    @Test(arguments: [(0x0, 2), (0x1, 4), (0x2, 8), (0x3, 16), (0x8, 32), (0x9, 64), (0xA, 128), (0xB, 1)])
    func oneShotAtEachDivider(configuration: UInt32, divisor: UInt64) {
        enable()
        write(R.divideConfiguration, configuration)
        #expect(apic.timerDivisor == divisor)
        write(R.lvtTimer, 0x40)
        platform.now = 1000
        write(R.initialCount, 100)
        #expect(read(R.currentCount) == 100)
        #expect(apic.nextDeadline() == 1000 + 100 * divisor)
        platform.now = 1000 + 30 * divisor + divisor - 1
        #expect(read(R.currentCount) == 70)
        platform.now = 1000 + 100 * divisor - 1
        #expect(read(R.currentCount) == 1)
        apic.advance(to: platform.now)
        #expect(!bit(R.interruptRequest, 0x40))
        platform.advance(apic, by: 1)
        #expect(bit(R.interruptRequest, 0x40))
        #expect(read(R.currentCount) == 0)
        #expect(apic.nextDeadline() == nil)
        platform.now += 10_000 * divisor
        #expect(read(R.currentCount) == 0)
        #expect(read(R.initialCount) == 100)
    }

    @Test func periodicReloadsAndRaisesEachPeriod() {
        enable()
        write(R.divideConfiguration, 0xB)  // by 1: one count per ns
        write(R.lvtTimer, 0x2_0050)
        write(R.initialCount, 1000)
        platform.now = 999
        #expect(read(R.currentCount) == 1)
        platform.now = 1000
        #expect(read(R.currentCount) == 1000)  // reloaded; reading raised the expiry
        #expect(bit(R.interruptRequest, 0x50))
        #expect(apic.nextDeadline() == 2000)
        #expect(apic.acknowledge() == 0x50)
        write(R.endOfInterrupt, 0)
        platform.now = 2250
        #expect(read(R.currentCount) == 750)
        #expect(bit(R.interruptRequest, 0x50))
        #expect(apic.nextDeadline() == 3000)
        // Several periods at once raise one request.
        _ = apic.acknowledge()
        write(R.endOfInterrupt, 0)
        platform.advance(apic, by: 5000)
        #expect(read(R.interruptRequest + 0x20) == 1 << 16)
        #expect(apic.nextDeadline() == 8000)
    }

    @Test func deadlinesRaiseTheVectorInTurn() {
        enable()
        write(R.lvtTimer, 0x2_0060)  // periodic, divide by 2
        write(R.initialCount, 50)
        var times: [UInt64] = []
        while let deadline = apic.nextDeadline(), deadline <= 400 {
            platform.now = deadline
            apic.advance(to: deadline)
            #expect(apic.acknowledge() == 0x60)
            write(R.endOfInterrupt, 0)
            times.append(deadline)
        }
        #expect(times == [100, 200, 300, 400])
    }

    @Test func maskedTimerCountsButRaisesNothing() {
        enable()
        write(R.divideConfiguration, 0xB)
        write(R.lvtTimer, 0x1_0040)
        write(R.initialCount, 200)
        #expect(apic.nextDeadline() == nil)
        platform.advance(apic, by: 150)
        #expect(read(R.currentCount) == 50)
        platform.advance(apic, by: 100)
        #expect(read(R.currentCount) == 0)
        write(R.lvtTimer, 0x40)  // unmasking does not raise the past expiry
        #expect(read(R.interruptRequest + 0x20) == 0)
    }

    @Test func zeroInitialCountStops() {
        enable()
        write(R.lvtTimer, 0x2_0040)
        write(R.initialCount, 100)
        platform.now = 50
        write(R.initialCount, 0)
        #expect(read(R.currentCount) == 0)
        #expect(apic.nextDeadline() == nil)
        platform.advance(apic, by: 1000)
        #expect(read(R.interruptRequest + 0x20) == 0)
    }

    @Test func rewritingTheInitialCountRestarts() {
        enable()
        write(R.lvtTimer, 0x40)
        write(R.initialCount, 100)
        platform.now = 150
        write(R.initialCount, 100)
        #expect(read(R.currentCount) == 100)
        #expect(apic.nextDeadline() == 350)
    }

    @Test func dividerChangeContinuesFromTheCurrentCount() {
        enable()
        write(R.lvtTimer, 0x40)
        write(R.initialCount, 100)  // divide by 2
        platform.now = 100
        #expect(read(R.currentCount) == 50)
        write(R.divideConfiguration, 0x3)  // by 16
        #expect(read(R.currentCount) == 50)
        platform.now = 100 + 16 * 10
        #expect(read(R.currentCount) == 40)
        #expect(apic.nextDeadline() == 100 + 16 * 50)
    }

    @Test func timerVectorBelowSixteenIsAnError() {
        enable()
        write(R.lvtTimer, 0x08)
        write(R.initialCount, 10)
        platform.advance(apic, by: 20)
        #expect(read(R.interruptRequest) == 0)
        #expect(readESR() == LocalAPIC.ErrorBit.receiveIllegalVector)
    }

    // MARK: Reset and INIT

    private func dirty() {
        enable()
        write(R.id, 0x0900_0000)
        write(R.taskPriority, 0x20)
        write(R.logicalDestination, 0x0100_0000)
        write(R.destinationFormat, 0x0FFF_FFFF)
        write(R.lvtTimer, 0x2_0040)
        write(R.lvtLINT0, 0x700)
        write(R.divideConfiguration, 0xB)
        write(R.initialCount, 1000)
        write(R.commandHigh, 0x0200_0000)
        write(R.commandLow, 0x4030)
        _ = apic.accept(fixed(0x70, level: true))
        _ = apic.accept(fixed(0x80))
        _ = apic.acknowledge()
        _ = apic.accept(fixed(0x03))
        apic.baseAddress = 0xFED0_0000
    }

    private func expectPowerUpRegisters() {
        let base = apic.baseAddress
        func read(_ offset: UInt64) -> UInt32 { UInt32(apic.readMemory(base + offset, size: 4)) }
        #expect(read(R.taskPriority) == 0)
        #expect(read(R.logicalDestination) == 0)
        #expect(read(R.destinationFormat) == 0xFFFF_FFFF)
        #expect(read(R.spuriousVector) == 0xFF)
        #expect(read(R.commandLow) == 0)
        #expect(read(R.commandHigh) == 0)
        for offset in stride(from: R.lvtTimer, through: R.lvtError, by: 0x10) {
            #expect(read(offset) == 0x0001_0000)
        }
        for index in 0..<8 {
            let offset = UInt64(index) * 0x10
            #expect(read(R.interruptRequest + offset) == 0)
            #expect(read(R.inService + offset) == 0)
            #expect(read(R.triggerMode + offset) == 0)
        }
        #expect(read(R.initialCount) == 0)
        #expect(read(R.currentCount) == 0)
        #expect(read(R.divideConfiguration) == 0)
        apic.writeMemory(base + R.errorStatus, size: 4, value: 0)
        #expect(read(R.errorStatus) == 0)
        #expect(apic.nextDeadline() == nil)
        #expect(!apic.isExternalInterruptRequested)
    }

    @Test func hardResetRestoresPowerUp() {
        dirty()
        apic.isEnabled = false
        apic.reset(.hard)
        expectPowerUpRegisters()
        #expect(read(R.id) == 0x0300_0000)
        #expect(apic.baseAddress == 0xFEE0_0000)
        #expect(apic.isEnabled)
    }

    @Test func initKeepsIDAndBase() {
        dirty()
        apic.initialize()
        expectPowerUpRegisters()
        #expect(apic.readMemory(0xFED0_0020, size: 4) == 0x0900_0000)
        #expect(apic.baseAddress == 0xFED0_0000)
    }

    @Test func initSignalResetIsInitialize() {
        dirty()
        apic.reset(.initSignal)
        expectPowerUpRegisters()
        #expect(apic.readMemory(0xFED0_0020, size: 4) == 0x0900_0000)
    }
}
