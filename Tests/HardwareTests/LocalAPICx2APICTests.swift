import Hardware
import Testing

/// The local APIC in x2APIC mode (SDM Vol. 3A, 11.12): its registers as MSRs 800h–8FFh with
/// the #GP rules of Table 11-6 and 11.12.1.3, the 32-bit x2APIC ID and the LDR derived from
/// it, the 64-bit ICR and SELF IPI, 32-bit destinations, the mode's entry and exit, and the
/// timer events the trace shows.
@Suite struct LocalAPICx2APICTests {
    typealias R = LocalAPIC.Register
    let platform = FakePlatform()
    /// APIC ID 23h: x2APIC cluster 2, member bit 3.
    let apic: LocalAPIC
    let log = Log()

    final class Log {
        var sent: [InterruptMessage] = []
        var endOfInterrupts: [UInt8] = []
        var timerEvents: [LocalAPIC.TimerEvent] = []
    }

    init() {
        apic = LocalAPIC(platform: platform, id: 0x23)
        let log = log
        apic.onSend = { log.sent.append($0) }
        apic.onEndOfInterrupt = { log.endOfInterrupts.append($0) }
        apic.onTimerEvent = { log.timerEvents.append($0) }
    }

    private func mmioRead(_ offset: UInt64) -> UInt32 { UInt32(apic.readMemory(0xFEE0_0000 + offset, size: 4)) }
    private func mmioWrite(_ offset: UInt64, _ value: UInt32) {
        apic.writeMemory(0xFEE0_0000 + offset, size: 4, value: UInt64(value))
    }
    private func read(_ msr: UInt32) -> UInt64? { apic.readMSR(msr) }
    @discardableResult
    private func write(_ msr: UInt32, _ value: UInt64) -> Bool { apic.writeMSR(msr, value) }
    /// Enters x2APIC mode and software-enables the APIC (SVR 1FFh).
    private func enterX2APIC(enable: Bool = true) {
        apic.isX2APICMode = true
        if enable { #expect(write(0x80F, 0x1FF)) }
    }
    private func readESR() -> UInt64? {
        #expect(write(0x828, 0))
        return read(0x828)
    }

    /// The MSRs with a register behind them in x2APIC mode, readable ones first.
    static let readable: Set<UInt32> = Set([0x802, 0x803, 0x808, 0x80A, 0x80D, 0x80F, 0x828, 0x830, 0x838, 0x839, 0x83E]
        + Array(0x810...0x827) + Array(0x832...0x837))
    static let writable: Set<UInt32> = Set([0x808, 0x80B, 0x80F, 0x828, 0x830, 0x838, 0x83E, 0x83F] + Array(0x832...0x837))

    // MARK: Access rules

    @Test func theMSRsAreGeneralProtectionOutsideX2APICMode() {
        for msr in [0x802, 0x803, 0x808, 0x80B, 0x830, 0x83F] as [UInt32] {
            #expect(read(msr) == nil && !write(msr, 0), "MSR \(String(msr, radix: 16)) in xAPIC mode")
        }
        apic.isX2APICMode = true
        #expect(read(0x803) == UInt64(LocalAPIC.version))
        #expect(read(0x7FF) == nil && read(0x900) == nil && !write(0x900, 0), "outside 800h–8FFh")
    }

    /// Every MSR of 800h–8FFh: the readable ones read, the rest (reserved, write-only EOI and
    /// SELF IPI, 809h APR, 80Ch remote read, 80Eh DFR, 82Fh CMCI, 831h the ICR's high half) are
    /// #GP; writing 0 works exactly where a writable register is.
    @Test func everyMSRFollowsTheRegisterMap() {
        enterX2APIC(enable: false)
        for msr in UInt32(0x800)...0x8FF {
            #expect((read(msr) != nil) == Self.readable.contains(msr), "RDMSR \(String(msr, radix: 16))")
        }
        for msr in UInt32(0x800)...0x8FF {
            #expect(write(msr, 0) == Self.writable.contains(msr), "WRMSR \(String(msr, radix: 16)), 0")
        }
    }

    @Test func theMMIOPageIsNotDecodedInX2APICMode() {
        mmioWrite(R.taskPriority, 0x20)
        #expect(mmioRead(R.version) == LocalAPIC.version)
        apic.isX2APICMode = true
        #expect(mmioRead(R.version) == 0 && mmioRead(R.taskPriority) == 0)
        mmioWrite(R.taskPriority, 0x70)
        mmioWrite(R.commandLow, 0x4041)
        #expect(read(0x808) == 0x20, "the MMIO write went nowhere")
        #expect(log.sent.isEmpty)
    }

    @Test func theIDIsTheInitialX2APICIDAndReadOnly() {
        mmioWrite(R.id, 0x0700_0000)                 // the xAPIC ID is writable
        #expect(mmioRead(R.id) == 0x0700_0000)
        apic.isX2APICMode = true
        #expect(read(0x802) == 0x23, "entering x2APIC mode restores the initial ID, 32 bits wide")
        #expect(!write(0x802, 0x44))
        #expect(read(0x802) == 0x23)
        #expect(apic.x2APICID == 0x23)
    }

    @Test func theLogicalIDDerivesFromTheX2APICID() {
        apic.isX2APICMode = true
        #expect(read(0x80D) == 0x0002_0008, "cluster 23h >> 4 = 2 in bits 31:16, bit 23h & 15 = 3")
        #expect(!write(0x80D, 0x0001_0001))
        #expect(read(0x80D) == 0x0002_0008)
        let other = LocalAPIC(platform: platform, id: 0x0F)
        other.isX2APICMode = true
        #expect(other.readMSR(0x80D) == 0x0000_8000)
    }

    @Test func readOnlyRegistersRefuseEveryWrite() {
        enterX2APIC()
        for msr in [0x802, 0x803, 0x80A, 0x80D, 0x839] + Array(0x810...0x827) as [UInt32] {
            #expect(!write(msr, 0) && !write(msr, 1), "MSR \(String(msr, radix: 16))")
        }
        #expect(read(0x803) == UInt64(LocalAPIC.version))
    }

    @Test func writeOnlyRegistersRefuseReads() {
        enterX2APIC()
        #expect(read(0x80B) == nil, "EOI")
        #expect(read(0x83F) == nil, "SELF IPI")
    }

    /// Bits 63:32 are reserved everywhere but the ICR.
    @Test func theUpperHalfIsReservedButInTheICR() {
        enterX2APIC()
        for msr in [0x808, 0x80F, 0x832, 0x838, 0x83E, 0x83F] as [UInt32] {
            #expect(!write(msr, 1 << 32), "MSR \(String(msr, radix: 16))")
        }
        #expect(write(0x830, 0x0000_0023_0000_4041))
    }

    @Test func reservedBitsAreGeneralProtection() {
        enterX2APIC()
        // TPR: bits 31:8.
        #expect(!write(0x808, 0x100))
        #expect(write(0x808, 0xFF) && read(0x808) == 0xFF)
        #expect(write(0x808, 0))
        // SVR: bits 31:10 (bit 12, EOI-broadcast suppression, is not supported).
        #expect(!write(0x80F, 0x400) && !write(0x80F, 0x11FF))
        #expect(write(0x80F, 0x3FF) && read(0x80F) == 0x3FF)
        // Divide configuration: only bits 3, 1, 0.
        #expect(!write(0x83E, 0x4) && !write(0x83E, 0x10))
        #expect(write(0x83E, 0xB) && read(0x83E) == 0xB)
        // LVT entries: undefined bits refuse; the read-only delivery status and remote IRR
        // are ignored (a read-modify-write of an entry works).
        #expect(!write(0x832, 1 << 19))                          // timer
        #expect(!write(0x832, 0x100))                            // timer: no delivery mode
        #expect(write(0x832, 0x6_1040) && read(0x832) == 0x6_0040)
        #expect(!write(0x837, 0x400))                            // error: no delivery mode
        #expect(write(0x835, 0x1_E7FF) && read(0x835) == 0x1_A7FF)   // LINT0
        #expect(!write(0x836, 1 << 17))                          // LINT1
        #expect(!write(0x833, 1 << 13) && !write(0x834, 1 << 15))  // thermal, performance
        // ICR: bits 13, 17:16 and 31:20; bit 12 is ignored.
        for bit in [13, 16, 17, 20, 31] {
            #expect(!write(0x830, 1 << UInt64(bit) | 0x40), "ICR bit \(bit)")
        }
        #expect(log.sent.isEmpty, "a refused ICR write sends nothing")
        // SELF IPI: bits 31:8.
        #expect(!write(0x83F, 0x140))
        #expect(log.sent.isEmpty)
        #expect(readESR() == 0, "#GP is the whole answer: no APIC error")
    }

    @Test func endOfInterruptAndErrorStatusTakeOnlyZero() {
        enterX2APIC()
        _ = apic.accept(InterruptMessage(mode: .fixed, destination: .physical(0x23), vector: 0x60, levelTriggered: true))
        #expect(apic.acknowledge() == 0x60)
        #expect(read(0x813) == 1, "ISR bit 60h")
        #expect(!write(0x80B, 1))
        #expect(read(0x813) == 1, "a refused EOI retires nothing")
        #expect(write(0x80B, 0))
        #expect(read(0x813) == 0)
        #expect(log.endOfInterrupts == [0x60])
        // ESR: a write of 0 latches the errors since the last one.
        #expect(write(0x830, 0x0000_0005), "a fixed IPI with vector 5")
        #expect(!write(0x828, 0x20))
        #expect(write(0x828, 0))
        #expect(read(0x828) == 0x20, "send illegal vector")
    }

    @Test func prioritiesAndTheVectorRegistersThroughMSRs() {
        enterX2APIC()
        _ = apic.accept(InterruptMessage(mode: .fixed, destination: .physical(0x23), vector: 0x81))
        #expect(read(0x824) == 1 << 1, "IRR bits 159:128")
        #expect(write(0x808, 0x90))
        #expect(!apic.hasDeliverableInterrupt, "TPR class 9 holds vector 81h")
        #expect(read(0x80A) == 0x90)
        #expect(write(0x808, 0x70))
        #expect(apic.acknowledge() == 0x81)
        #expect(read(0x814) == 1 << 1, "ISR bits 159:128")
        #expect(read(0x80A) == 0x80, "PPR: the class in service")
        #expect(read(0x824) == 0)
    }

    // MARK: Sending

    @Test func theICRIsOne64BitRegister() {
        enterX2APIC()
        #expect(write(0x830, 0x0000_0045_0000_5041))            // bit 12 set: ignored
        #expect(log.sent == [InterruptMessage(mode: .fixed, destination: .extendedPhysical(0x45), vector: 0x41, source: 0x23)])
        #expect(read(0x830) == 0x0000_0045_0000_4041)
        #expect(write(0x830, 0x0003_0005_0000_4952))            // lowest priority, logical
        #expect(log.sent.last == InterruptMessage(mode: .lowestPriority, destination: .extendedLogical(0x0003_0005),
                                                  vector: 0x52, source: 0x23))
        #expect(write(0x830, 0xFFFF_FFFF_0000_4500))            // INIT to every APIC
        #expect(log.sent.last?.destination == .extendedPhysical(0xFFFF_FFFF))
        #expect(write(0x830, 0x0000_0001_000C_4699))            // start-up, all excluding self
        #expect(log.sent.last == InterruptMessage(mode: .startUp, destination: .allExcludingSelf, vector: 0x99, source: 0x23))
        #expect(write(0x830, 0x0000_0000_0004_4400))            // NMI to self
        #expect(log.sent.last?.destination == .selfOnly)
        #expect(log.sent.count == 5)
    }

    @Test func selfIPIQueuesAFixedEdgeInterruptForItself() {
        enterX2APIC()
        #expect(write(0x830, 0x0000_0007_0000_4041))
        #expect(write(0x83F, 0x66))
        #expect(log.sent.last == InterruptMessage(mode: .fixed, destination: .selfOnly, vector: 0x66, source: 0x23))
        #expect(read(0x830) == 0x0000_0007_0000_4041, "SELF IPI leaves the ICR alone")
        #expect(write(0x83F, 0x0F))
        #expect(log.sent.count == 2, "vector 0Fh is not sent")
        #expect(readESR() == 0x20, "send illegal vector")
    }

    // MARK: Destinations

    @Test func x2APICPhysicalDestinations() {
        apic.isX2APICMode = true
        #expect(apic.isAddressed(by: .extendedPhysical(0x23), fromSelf: false))
        #expect(!apic.isAddressed(by: .extendedPhysical(0x24), fromSelf: false))
        #expect(!apic.isAddressed(by: .extendedPhysical(0x123), fromSelf: false), "all 32 bits compare")
        #expect(!apic.isAddressed(by: .extendedPhysical(0xFF), fromSelf: false), "0xFF is an ID in x2APIC mode")
        #expect(apic.isAddressed(by: .extendedPhysical(0xFFFF_FFFF), fromSelf: false))
        // 8-bit destinations (the I/O APIC's): the ID, or 0xFF for all.
        #expect(apic.isAddressed(by: .physical(0x23), fromSelf: false))
        #expect(!apic.isAddressed(by: .physical(0x22), fromSelf: false))
        #expect(apic.isAddressed(by: .physical(0xFF), fromSelf: false))
    }

    @Test func x2APICLogicalDestinationsAreClusters() {
        apic.isX2APICMode = true
        #expect(apic.isAddressed(by: .extendedLogical(0x0002_0008), fromSelf: false))
        #expect(apic.isAddressed(by: .extendedLogical(0x0002_000C), fromSelf: false), "several members")
        #expect(!apic.isAddressed(by: .extendedLogical(0x0002_0004), fromSelf: false), "another member")
        #expect(!apic.isAddressed(by: .extendedLogical(0x0003_0008), fromSelf: false), "another cluster")
        #expect(apic.isAddressed(by: .extendedLogical(0x0002_FFFF), fromSelf: false))
        #expect(apic.isAddressed(by: .extendedLogical(0xFFFF_FFFF), fromSelf: false))
        // The DFR is gone: a flat-model write in xAPIC mode before changes nothing.
        #expect(!apic.isAddressed(by: .logical(0x08), fromSelf: false), "an 8-bit mask is cluster 0")
        #expect(apic.isAddressed(by: .logical(0xFF), fromSelf: false))
        let low = LocalAPIC(platform: platform, id: 5)
        low.isX2APICMode = true
        #expect(low.isAddressed(by: .logical(0x20), fromSelf: false))
        #expect(!low.isAddressed(by: .logical(0x10), fromSelf: false))
    }

    /// An xAPIC reached by a 32-bit destination (an x2APIC BSP starting xAPIC APs) compares
    /// its 8-bit ID, or its logical ID with the mask's low byte.
    @Test func anXAPICReadsExtendedDestinations() {
        #expect(apic.isAddressed(by: .extendedPhysical(0x23), fromSelf: false))
        #expect(!apic.isAddressed(by: .extendedPhysical(0x123), fromSelf: false))
        #expect(apic.isAddressed(by: .extendedPhysical(0xFFFF_FFFF), fromSelf: false))
        mmioWrite(R.logicalDestination, 0x0400_0000)
        #expect(apic.isAddressed(by: .extendedLogical(0x0000_0004), fromSelf: false))
        #expect(!apic.isAddressed(by: .extendedLogical(0x0000_0002), fromSelf: false))
        apic.isEnabled = false
        #expect(!apic.isAddressed(by: .extendedPhysical(0xFFFF_FFFF), fromSelf: false))
    }

    // MARK: Mode transitions (SDM 11.12.5)

    @Test func enteringKeepsTheProgrammedRegisters() {
        mmioWrite(R.spuriousVector, 0x1F0)
        mmioWrite(R.taskPriority, 0x30)
        mmioWrite(R.lvtLINT0, 0x700)
        apic.isX2APICMode = true
        #expect(read(0x80F) == 0x1F0 && read(0x808) == 0x30 && read(0x835) == 0x700)
    }

    @Test func leavingForTheDisabledStateInitializesAllButTheID() {
        enterX2APIC()
        #expect(write(0x808, 0x40) && write(0x832, 0x2_0030) && write(0x838, 1000))
        apic.isEnabled = false
        apic.isX2APICMode = false
        apic.isEnabled = true
        #expect(mmioRead(R.id) == 0x2300_0000)
        #expect(mmioRead(R.spuriousVector) == 0xFF && mmioRead(R.taskPriority) == 0)
        #expect(mmioRead(R.lvtTimer) == 0x1_0000 && mmioRead(R.initialCount) == 0)
        #expect(mmioRead(R.destinationFormat) == 0xFFFF_FFFF && mmioRead(R.logicalDestination) == 0)
        #expect(read(0x802) == nil, "the MSRs are gone with the mode")
    }

    @Test func initKeepsX2APICModeAndTheID() {
        enterX2APIC()
        #expect(write(0x808, 0x40))
        apic.reset(.initSignal)
        #expect(apic.isX2APICMode)
        #expect(read(0x802) == 0x23 && read(0x80D) == 0x0002_0008)
        #expect(read(0x808) == 0 && read(0x80F) == 0xFF && read(0x832) == 0x1_0000)
    }

    @Test func aHardResetReturnsToXAPICMode() {
        enterX2APIC()
        apic.reset(.hard)
        #expect(!apic.isX2APICMode && apic.isEnabled)
        #expect(mmioRead(R.version) == LocalAPIC.version)
        #expect(read(0x803) == nil)
    }

    // MARK: The timer through MSRs, and its trace events

    @Test func theTimerRunsThroughMSRs() {
        enterX2APIC()
        #expect(write(0x83E, 0xB))                               // divide by 1
        #expect(write(0x832, 0x40))                              // one-shot, vector 40h
        #expect(write(0x838, 500))
        platform.now = 200
        #expect(read(0x839) == 300)
        platform.advance(apic, by: 300)
        #expect(read(0x822) == 1, "IRR bit 40h")
        #expect(read(0x839) == 0)
    }

    @Test func timerEventsSayWhenItIsArmedAndWhenItFires() {
        mmioWrite(R.spuriousVector, 0x1FF)
        mmioWrite(R.divideConfiguration, 0xB)
        mmioWrite(R.lvtTimer, 0x2_0050)                          // periodic, vector 50h
        platform.now = 100
        mmioWrite(R.initialCount, 1000)
        #expect(log.timerEvents == [.armed(mode: .periodic, deadline: 1100)])
        platform.advance(apic, by: 1000)
        platform.advance(apic, by: 1000)
        #expect(log.timerEvents.dropFirst() == [.fired(vector: 0x50), .fired(vector: 0x50)])
        // A masked one counts without firing; a one-shot rearm reports its deadline.
        log.timerEvents = []
        mmioWrite(R.lvtTimer, 0x1_0051)
        mmioWrite(R.divideConfiguration, 0x0)                    // divide by 2
        mmioWrite(R.initialCount, 10)
        #expect(log.timerEvents.last == .armed(mode: .oneShot, deadline: platform.now + 20))
        platform.advance(apic, by: 100)
        #expect(!log.timerEvents.contains(.fired(vector: 0x51)))
        // TSC-deadline mode: armed at the deadline's time, fired once.
        log.timerEvents = []
        mmioWrite(R.lvtTimer, 0x4_0052)
        apic.writeTimeStampDeadline(10_000, timeStampCounter: 9_000)
        #expect(log.timerEvents == [.armed(mode: .timeStampDeadline, deadline: platform.now + 1000)])
        platform.advance(apic, by: 1000)
        platform.advance(apic, by: 1000)
        #expect(log.timerEvents.dropFirst() == [.fired(vector: 0x52)])
    }
}
