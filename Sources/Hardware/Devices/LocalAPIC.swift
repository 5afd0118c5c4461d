/// One CPU's local APIC (SDM Vol. 3A, chapter 11), modelled on the Pentium 4 / Xeon
/// generation: version 0x14, six LVT entries (timer, thermal, performance counter, LINT0,
/// LINT1, error; no CMCI), 8-bit APIC IDs and a fully writable spurious vector; with the
/// x2APIC mode of later processors (SDM 11.12): registers as MSRs, 32-bit IDs, a 64-bit ICR,
/// the SELF IPI register (see `isX2APICMode`).
///
/// The device owns the register page and the interrupt state; the machine owns the wiring.
/// It maps the page at `baseAddress` while `isEnabled` (both mirror the CPU's
/// IA32_APIC_BASE MSR), routes the messages `onSend` hands it to the APICs that
/// `isAddressed(by:fromSelf:)` selects, calls `accept(_:)` on each and applies the
/// `Signal`s that come back to the CPU, forwards `onEndOfInterrupt` to the I/O APIC, drives
/// the LINT pins with `setLocalInterruptLine(_:level:)`, and gives the CPU the vector of
/// `acknowledge()` when `hasDeliverableInterrupt` (or asks the 8259 while
/// `isExternalInterruptRequested`). `onInterruptRequestChanged` tells it when either of
/// those two may have changed.
///
/// Registers sit 16 bytes apart in the 4 KiB page and answer aligned 32-bit accesses only
/// (SDM 11.4.1): any other size or offset reads 0 and ignores writes. An aligned access to
/// an offset with no register sets the "illegal register address" error (ESR bit 7).
/// Writes to read-only registers are ignored.
///
/// Delivery is immediate in this machine: a message is on its way when the ICR write
/// returns, so the delivery status bits of the ICR and of the LVT entries always read 0
/// (idle).
///
/// The timer counts bus clocks at `timerFrequency`, 1 GHz (one clock per nanosecond of
/// virtual time, before the divider); guests calibrate it against the PIT or the PM timer.
/// Nothing ticks: the count is a closed form of `Platform.now`. Its interrupt goes to this
/// APIC's own CPU, not to an ISA line, so `interruptLine` is `nil` and the machine must not
/// skip its deadlines.
public final class LocalAPIC: TimedDevice {
    /// What the CPU must do about a message or local interrupt that does not go through the
    /// IRR (SDM 11.6.1, 11.5.1). Fixed and lowest-priority interrupts are queued instead.
    public enum Signal: Sendable, Equatable {
        /// A non-maskable interrupt (vector 2).
        case nmi
        /// A system management interrupt.
        case systemManagement
        /// INIT: the CPU enters its INIT state (and the machine calls `initialize()`).
        case initialize
        /// A start-up IPI: the CPU, if waiting for one, starts at `vector` × 0x1000.
        case startUp(vector: UInt8)
        /// An ExtINT message: the CPU takes one interrupt whose vector the 8259 supplies.
        case externalInterrupt
    }

    /// A moment of the timer's life that the trace shows.
    public enum TimerEvent: Sendable, Equatable {
        /// A count or a TSC deadline was set: the timer's mode and the virtual time (ns) of
        /// its next expiry, whether or not the LVT entry is masked.
        case armed(mode: TimerMode, deadline: UInt64)
        /// An expiry raised the LVT timer interrupt, `vector` (unmasked entries only).
        case fired(vector: UInt8)
    }

    /// The timer modes of LVT timer bits 18:17, as traces name them.
    public enum TimerMode: String, Sendable {
        case oneShot = "one-shot"
        case periodic
        case timeStampDeadline = "tsc-deadline"
    }

    public let name = "lapic"

    /// The architectural default of IA32_APIC_BASE's base field.
    public static let defaultBaseAddress: UInt64 = 0xFEE0_0000
    /// IA32_APIC_BASE bits 35:12, the page's physical address (36 address bits).
    public static let baseAddressMask: UInt64 = 0xF_FFFF_F000
    /// The bus clock the timer counts before its divider (one clock per nanosecond).
    public static let timerFrequency: UInt64 = 1_000_000_000
    /// The version register: version 0x14 (Pentium 4 / Xeon xAPIC), bits 23:16 the index of
    /// the last LVT entry (5, six entries), no EOI-broadcast suppression (bit 24 clear).
    public static let version: UInt32 = 0x0005_0014

    /// The power-on APIC ID, restored by a hard reset (a CPU's initial APIC ID is strapped).
    public let initialID: UInt8
    /// The physical address of the register page (IA32_APIC_BASE bits 35:12, mirrored by
    /// the machine). Changing it moves `memoryRanges`; the machine remaps the page.
    public var baseAddress: UInt64 = LocalAPIC.defaultBaseAddress
    /// IA32_APIC_BASE bit 11, the global enable, mirrored by the machine. While clear the
    /// APIC is off (SDM 11.4.3): it accepts no messages, delivers nothing, and its LINT0
    /// and LINT1 pins act as the CPU's INTR and NMI inputs. Its registers keep their values
    /// (the SDM allows either; software reprograms the APIC after re-enabling it).
    public var isEnabled = true {
        didSet { requestMayHaveChanged() }
    }

    /// Sends the message an ICR write describes; the machine delivers it on the APIC bus.
    public var onSend: ((InterruptMessage) -> Void)?
    /// The timer was armed or fired (`TimerEvent`), for the machine's trace. Called only for
    /// those two moments, so a machine that traces nothing pays one check per expiry.
    public var onTimerEvent: ((TimerEvent) -> Void)?
    /// An EOI for a level-triggered vector (its TMR bit set): the machine broadcasts it to the
    /// I/O APICs so they clear their remote IRR (SDM 11.8.5).
    public var onEndOfInterrupt: ((UInt8) -> Void)?
    /// `hasDeliverableInterrupt` or `isExternalInterruptRequested` may have changed.
    public var onInterruptRequestChanged: (() -> Void)?

    private unowned let platform: any Platform

    /// APIC ID register bits 31:24.
    private var id: UInt8
    private var taskPriorityRegister: UInt8 = 0
    private var logicalDestination: UInt32 = 0
    /// DFR bits 31:28: 0xF flat model, 0x0 cluster model (bits 27:0 read as ones).
    private var destinationModel: UInt32 = 0xF
    private var spuriousVectorRegister: UInt32 = 0xFF
    private var inService = VectorSet()
    private var triggerMode = VectorSet()
    private var requests = VectorSet()
    /// Errors since the last ESR write, and what the last write latched (SDM 11.5.3).
    private var accumulatedErrors: UInt32 = 0
    private var errorStatus: UInt32 = 0
    private var commandLow: UInt32 = 0
    private var commandHigh: UInt32 = 0
    private var lvt = LocalAPIC.powerOnLVT
    private var initialCount: UInt32 = 0
    private var divideConfiguration: UInt32 = 0
    private var timer: TimerRun?
    /// The armed TSC deadline: the MSR's value and the virtual time it stands for.
    private var timeStampDeadline: (value: UInt64, time: UInt64)?
    /// The levels on the LINT0 and LINT1 pins (inputs: kept across resets).
    private var lintLevels = [false, false]

    /// Creates an APIC in its power-up state with APIC ID `id`. The platform owns the device.
    public init(platform: any Platform, id: UInt8) {
        self.platform = platform
        self.initialID = id
        self.id = id
    }

    public var memoryRanges: [ClosedRange<UInt64>] { [baseAddress...baseAddress + 0xFFF] }

    // MARK: Registers

    /// Register offsets within the page.
    public enum Register {
        public static let id: UInt64 = 0x020
        public static let version: UInt64 = 0x030
        public static let taskPriority: UInt64 = 0x080
        public static let arbitrationPriority: UInt64 = 0x090
        public static let processorPriority: UInt64 = 0x0A0
        public static let endOfInterrupt: UInt64 = 0x0B0
        public static let remoteRead: UInt64 = 0x0C0
        public static let logicalDestination: UInt64 = 0x0D0
        public static let destinationFormat: UInt64 = 0x0E0
        public static let spuriousVector: UInt64 = 0x0F0
        /// ISR, TMR and IRR: eight registers each, vectors 32·i to 32·i + 31 at base + 0x10·i.
        public static let inService: UInt64 = 0x100
        public static let triggerMode: UInt64 = 0x180
        public static let interruptRequest: UInt64 = 0x200
        public static let errorStatus: UInt64 = 0x280
        public static let commandLow: UInt64 = 0x300
        public static let commandHigh: UInt64 = 0x310
        /// LVT timer; thermal, performance, LINT0, LINT1 and error follow 0x10 apart.
        public static let lvtTimer: UInt64 = 0x320
        public static let lvtThermal: UInt64 = 0x330
        public static let lvtPerformance: UInt64 = 0x340
        public static let lvtLINT0: UInt64 = 0x350
        public static let lvtLINT1: UInt64 = 0x360
        public static let lvtError: UInt64 = 0x370
        public static let initialCount: UInt64 = 0x380
        public static let currentCount: UInt64 = 0x390
        public static let divideConfiguration: UInt64 = 0x3E0
    }

    /// Error status bits (SDM 11.5.3, Figure 11-9).
    public enum ErrorBit {
        public static let sendIllegalVector: UInt32 = 1 << 5
        public static let receiveIllegalVector: UInt32 = 1 << 6
        public static let illegalRegisterAddress: UInt32 = 1 << 7
    }

    public func readMemory(_ address: UInt64, size: Int) -> UInt64 {
        guard !isX2APICMode, let offset = registerOffset(address, size: size) else { return 0 }
        advance(to: platform.now)
        return UInt64(readRegister(offset))
    }

    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        guard !isX2APICMode, let offset = registerOffset(address, size: size) else { return }
        advance(to: platform.now)
        writeRegister(offset, UInt32(truncatingIfNeeded: value))
        requestMayHaveChanged()
    }

    /// The page offset of an aligned 32-bit access to a register slot, or `nil`.
    private func registerOffset(_ address: UInt64, size: Int) -> UInt64? {
        let offset = address &- baseAddress
        guard size == 4, offset < 0x1000, offset & 0xF == 0 else { return nil }
        return offset
    }

    private func readRegister(_ offset: UInt64) -> UInt32 {
        switch offset {
        case Register.id: return UInt32(id) << 24
        case Register.version: return Self.version
        case Register.taskPriority: return UInt32(taskPriorityRegister)
        case Register.arbitrationPriority: return UInt32(arbitrationPriority)
        case Register.processorPriority: return UInt32(processorPriority)
        case Register.endOfInterrupt, Register.remoteRead: return 0
        case Register.logicalDestination: return logicalDestination
        case Register.destinationFormat: return destinationModel << 28 | 0x0FFF_FFFF
        case Register.spuriousVector: return spuriousVectorRegister
        case Register.inService..<Register.triggerMode: return inService.word(Int(offset - Register.inService) >> 4)
        case Register.triggerMode..<Register.interruptRequest:
            return triggerMode.word(Int(offset - Register.triggerMode) >> 4)
        case Register.interruptRequest..<Register.errorStatus:
            return requests.word(Int(offset - Register.interruptRequest) >> 4)
        case Register.errorStatus: return errorStatus
        case Register.commandLow: return commandLow
        case Register.commandHigh: return commandHigh
        case Register.lvtTimer...Register.lvtError: return lvt[Int(offset - Register.lvtTimer) >> 4]
        case Register.initialCount: return initialCount
        case Register.currentCount: return isDeadlineMode ? 0 : currentCount(at: platform.now)
        case Register.divideConfiguration: return divideConfiguration
        default:
            recordError(ErrorBit.illegalRegisterAddress)
            return 0
        }
    }

    private func writeRegister(_ offset: UInt64, _ value: UInt32) {
        switch offset {
        case Register.id: id = UInt8(value >> 24)
        case Register.taskPriority: taskPriorityRegister = UInt8(truncatingIfNeeded: value)
        case Register.endOfInterrupt: endOfInterrupt()
        case Register.logicalDestination: logicalDestination = value & 0xFF00_0000
        case Register.destinationFormat: destinationModel = value >> 28
        case Register.spuriousVector: writeSpuriousVector(value)
        case Register.errorStatus:
            // A write latches the errors seen since the last one (SDM 11.5.3).
            errorStatus = accumulatedErrors
            accumulatedErrors = 0
        case Register.commandLow:
            commandLow = value & 0x000C_CFFF
            send()
        case Register.commandHigh: commandHigh = value & 0xFF00_0000
        case Register.lvtTimer...Register.lvtError: writeLVT(Int(offset - Register.lvtTimer) >> 4, value)
        case Register.initialCount where !isDeadlineMode: startTimer(count: value)
        case Register.divideConfiguration:
            rebaseTimer { divideConfiguration = value & 0xB }
        case Register.version, Register.arbitrationPriority, Register.processorPriority, Register.remoteRead,
             Register.inService..<Register.errorStatus, Register.currentCount, Register.initialCount:
            break
        default: recordError(ErrorBit.illegalRegisterAddress)
        }
    }

    // MARK: x2APIC mode (SDM 11.12)

    /// IA32_APIC_BASE bit 10 (EXTD), mirrored by the machine: x2APIC mode. The registers are
    /// then MSRs 800h + offset / 16 (`readMSR`, `writeMSR`) and the page is not decoded
    /// (`readMemory` reads 0 and writes do nothing; the machine maps nothing there). The APIC
    /// ID is the 32-bit x2APIC ID, read-only, and the LDR is derived from it; there is no DFR
    /// (logical destinations are always clustered), the ICR is one 64-bit register with a
    /// 32-bit destination, and SELF IPI exists. Entering the mode (only from xAPIC mode; the
    /// CPU enforces the transitions) sets the ID to the initial one and keeps the other
    /// registers; leaving it (only for the disabled state) keeps the ID and initializes the
    /// rest as INIT does, since none of it is preserved (SDM 11.12.5.1). INIT keeps the mode.
    public var isX2APICMode = false {
        didSet {
            guard isX2APICMode != oldValue else { return }
            id = initialID
            if !isX2APICMode { initialize() }
            requestMayHaveChanged()
        }
    }

    /// The x2APIC ID (MSR 802h): the initial APIC ID, zero-extended.
    public var x2APICID: UInt32 { UInt32(initialID) }

    /// The logical x2APIC ID (MSR 80Dh, SDM 11.12.10.2): the cluster, ID bits 31:4, in bits
    /// 31:16, and bit ID[3:0] of bits 15:0.
    public var x2APICLogicalID: UInt32 { (x2APICID >> 4) << 16 | 1 << (x2APICID & 0xF) }

    /// The x2APIC register MSRs, where they differ from offset / 16.
    public enum X2APICRegister {
        public static let first: UInt32 = 0x800
        public static let last: UInt32 = 0x8FF
        /// The 64-bit ICR (offsets 300h and 310h of the page, merged).
        public static let command: UInt32 = 0x830
        /// SELF IPI (write-only, x2APIC mode only): bits 7:0 the vector.
        public static let selfIPI: UInt32 = 0x83F
    }

    /// The page offset an x2APIC MSR stands for (SELF IPI: 3F0h, an offset with no xAPIC register).
    private static let selfIPIOffset: UInt64 = 0x3F0
    /// ICR bits reserved in x2APIC mode (13, 17:16, 31:20 of the low half); bit 12, the
    /// delivery status of xAPIC mode, is ignored (SDM 11.12.9, Figure 11-28).
    private static let x2APICCommandReserved: UInt32 = 0xFFF3_2000

    /// RDMSR of MSR `index` in x2APIC mode: the register's value, or `nil` for #GP(0) — outside
    /// x2APIC mode, a reserved MSR (no register there: 80Eh, the DFR; 831h, the ICR's high
    /// half; 809h and 80Ch, which x2APIC mode drops; 82Fh, no CMCI), and the write-only EOI
    /// and SELF IPI (SDM 11.12.1.2, Table 11-6).
    public func readMSR(_ index: UInt32) -> UInt64? {
        guard isX2APICMode, (X2APICRegister.first...X2APICRegister.last).contains(index) else { return nil }
        let offset = UInt64(index - X2APICRegister.first) << 4
        switch offset {
        case Register.id:
            return UInt64(x2APICID)
        case Register.logicalDestination:
            return UInt64(x2APICLogicalID)
        case Register.commandLow:
            return UInt64(commandHigh) << 32 | UInt64(commandLow)
        case Register.version, Register.taskPriority, Register.processorPriority, Register.spuriousVector,
             Register.inService..<Register.errorStatus, Register.errorStatus, Register.lvtTimer...Register.lvtError,
             Register.initialCount, Register.currentCount, Register.divideConfiguration:
            advance(to: platform.now)
            return UInt64(readRegister(offset))
        default:
            return nil
        }
    }

    /// WRMSR of MSR `index` in x2APIC mode; `false` for #GP(0): outside x2APIC mode, a reserved
    /// MSR, a read-only register (ID, version, PPR, LDR, ISR, TMR, IRR, current count), bits
    /// 63:32 set anywhere but the ICR, or a reserved bit set (SDM 11.12.1.3): TPR bits 31:8,
    /// SVR bits 31:10, the ICR's (`x2APICCommandReserved`), an LVT entry's undefined bits (its
    /// read-only delivery status and remote IRR are ignored), the divide configuration's bits
    /// other than 3, 1, 0, SELF IPI bits 31:8, and any bit of EOI and ESR, which take only 0.
    public func writeMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        guard isX2APICMode, (X2APICRegister.first...X2APICRegister.last).contains(index) else { return false }
        let offset = UInt64(index - X2APICRegister.first) << 4
        if offset != Register.commandLow && value >> 32 != 0 { return false }
        let low = UInt32(truncatingIfNeeded: value)
        let reserved: UInt32
        switch offset {
        case Register.taskPriority: reserved = 0xFFFF_FF00
        case Register.endOfInterrupt, Register.errorStatus: reserved = 0xFFFF_FFFF
        case Register.spuriousVector: reserved = 0xFFFF_FC00
        case Register.commandLow: reserved = Self.x2APICCommandReserved
        case Register.lvtTimer...Register.lvtError:
            reserved = ~(Self.writableLVTBits[Int(offset - Register.lvtTimer) >> 4] | Self.deliveryStatus | Self.remoteIRR)
        case Register.initialCount: reserved = 0
        case Register.divideConfiguration: reserved = 0xFFFF_FFF4
        case Self.selfIPIOffset: reserved = 0xFFFF_FF00
        default: return false
        }
        guard low & reserved == 0 else { return false }
        advance(to: platform.now)
        switch offset {
        case Register.commandLow:
            commandHigh = UInt32(truncatingIfNeeded: value >> 32)
            commandLow = low & 0x000C_CFFF
            send()
        case Self.selfIPIOffset:
            // A fixed, edge-triggered IPI to this APIC alone (SDM 11.12.11).
            let command = commandLow
            commandLow = 1 << 18 | 1 << 14 | low
            send()
            commandLow = command
        default:
            writeRegister(offset, low)
        }
        requestMayHaveChanged()
        return true
    }

    // MARK: Priorities (SDM 11.8.3)

    /// The task-priority register as CR8 sees it: CR8[3:0] is TPR[7:4], and a CR8 write
    /// clears TPR[3:0] (SDM 11.8.6).
    public var taskPriority: UInt8 {
        get { taskPriorityRegister >> 4 }
        set {
            taskPriorityRegister = (newValue & 0xF) << 4
            requestMayHaveChanged()
        }
    }

    /// The processor-priority register: TPR when its class is at least the class of the
    /// highest vector in service, else that class (SDM 11.8.3.1).
    public var processorPriority: UInt8 {
        let serviced = inService.highest ?? 0
        return taskPriorityRegister >> 4 >= serviced >> 4 ? taskPriorityRegister : serviced & 0xF0
    }

    /// The arbitration-priority register, which lowest-priority delivery compares across
    /// APICs (the lowest wins), computed as SDM 11.6.2.4 gives it for xAPICs.
    public var arbitrationPriority: UInt8 {
        let task = taskPriorityRegister >> 4
        let serviced = (inService.highest ?? 0) >> 4
        let requested = (requests.highest ?? 0) >> 4
        if task >= requested && task > serviced { return taskPriorityRegister }
        return max(task & serviced, requested) << 4
    }

    /// Whether this APIC is the focus of a lowest-priority `vector`: it has the vector
    /// pending or in service and focus checking is on (SVR bit 9 clear). The focus wins the
    /// arbitration outright (SDM 11.6.2.4).
    public func isFocus(of vector: UInt8) -> Bool {
        spuriousVectorRegister & 0x200 == 0 && (requests.contains(vector) || inService.contains(vector))
    }

    /// Whether the APIC is software enabled (SVR bit 8).
    public var isSoftwareEnabled: Bool { spuriousVectorRegister & 0x100 != 0 }

    /// The spurious-interrupt vector (SVR bits 7:0).
    public var spuriousVector: UInt8 { UInt8(truncatingIfNeeded: spuriousVectorRegister) }

    // MARK: Accepting messages (SDM 11.6.1)

    /// Whether a message sent to `destination` is for this APIC; `fromSelf` when this APIC
    /// sent it (for the shorthands). Physical: this APIC ID, or 0xFF for all. Logical
    /// (SDM 11.6.2.2): in the flat model the LDR's bits 31:24 and the mask share a bit; in the
    /// cluster model the high nibbles (cluster) are equal and the low nibbles share a bit,
    /// or the mask is 0xFF (all). A globally disabled APIC is addressed by nothing.
    ///
    /// The 32-bit destinations of an x2APIC's ICR (SDM 11.12.10): physical, the x2APIC ID;
    /// logical, the cluster (bits 31:16) equals the LDR's and bits 15:0 share a bit with it;
    /// 0xFFFFFFFF is every APIC in both. An APIC in x2APIC mode reads an 8-bit destination
    /// (an I/O APIC's, or an xAPIC's IPI) the same way, with 0xFF for all, as KVM does; an
    /// xAPIC reached by a 32-bit one (the SDM leaves mixed modes undefined; Linux starts its
    /// processors this way, the BSP in x2APIC mode and the APs still in xAPIC mode) compares
    /// its 8-bit ID, or its logical ID with the low 8 bits.
    public func isAddressed(by destination: InterruptMessage.Destination, fromSelf: Bool) -> Bool {
        guard isEnabled else { return false }
        switch destination {
        case .physical(let target):
            if target == 0xFF { return true }
            return isX2APICMode ? UInt32(target) == x2APICID : target == id
        case .logical(let mask):
            if isX2APICMode { return mask == 0xFF || isInCluster(UInt32(mask)) }
            return matchesLogical(mask)
        case .extendedPhysical(let target):
            if target == 0xFFFF_FFFF { return true }
            return target == (isX2APICMode ? x2APICID : UInt32(id))
        case .extendedLogical(let mask):
            if mask == 0xFFFF_FFFF { return true }
            return isX2APICMode ? isInCluster(mask) : matchesLogical(UInt8(truncatingIfNeeded: mask))
        case .selfOnly: return fromSelf
        case .allIncludingSelf: return true
        case .allExcludingSelf: return !fromSelf
        }
    }

    /// The xAPIC logical match under the DFR's model (flat or cluster).
    private func matchesLogical(_ mask: UInt8) -> Bool {
        let logicalID = UInt8(logicalDestination >> 24)
        if destinationModel == 0xF { return logicalID & mask != 0 }
        if mask == 0xFF { return true }
        return logicalID >> 4 == mask >> 4 && logicalID & mask & 0xF != 0
    }

    /// The x2APIC logical match (always the cluster model): same cluster, a shared bit.
    private func isInCluster(_ mask: UInt32) -> Bool {
        let logicalID = x2APICLogicalID
        return logicalID >> 16 == mask >> 16 && logicalID & mask & 0xFFFF != 0
    }

    /// Accepts a message addressed to this APIC (the machine has matched the destination
    /// and, for lowest priority, arbitrated). Fixed and lowest-priority vectors are queued
    /// in the IRR, with their TMR bit set for level trigger; vectors 0–15 are refused with
    /// "receive illegal vector". A software-disabled APIC still answers NMI, SMI, INIT and
    /// start-up messages (SDM 11.4.7.2) but drops fixed and lowest-priority ones: it holds
    /// the requests it had, and sets no IRR bit for new ones (as Linux's CPU hot-unplug
    /// code relies on). The other modes return what the CPU must do; an INIT level
    /// de-assert only resynchronises arbitration IDs, which this machine does not model,
    /// so it returns `nil`.
    public func accept(_ message: InterruptMessage) -> Signal? {
        guard isEnabled else { return nil }
        switch message.mode {
        case .fixed, .lowestPriority:
            if isSoftwareEnabled { queue(message.vector, levelTriggered: message.levelTriggered) }
            return nil
        case .systemManagement: return .systemManagement
        case .nonMaskable: return .nmi
        case .initialize: return message.levelTriggered && !message.assert ? nil : .initialize
        case .startUp: return .startUp(vector: message.vector)
        case .externalInterrupt: return .externalInterrupt
        }
    }

    // MARK: Delivery to the CPU (SDM 11.8.3 to 11.8.5)

    /// Whether the CPU should be interrupted: the APIC is enabled, globally and by software,
    /// and the highest pending vector's priority class is above the PPR's. Requests held
    /// while the APIC is software disabled wait for it to be enabled again.
    public var hasDeliverableInterrupt: Bool { deliverableVector != nil }

    private var deliverableVector: UInt8? {
        guard isEnabled, isSoftwareEnabled, let vector = requests.highest,
              vector >> 4 > processorPriority >> 4 else { return nil }
        return vector
    }

    /// The CPU's interrupt acknowledge: moves the highest deliverable vector from the IRR to
    /// the ISR and returns it. If none is deliverable any more (the TPR was raised since),
    /// returns the spurious vector and changes nothing (SDM 11.9).
    public func acknowledge() -> UInt8 {
        guard let vector = deliverableVector else { return spuriousVector }
        requests.remove(vector)
        inService.insert(vector)
        requestMayHaveChanged()
        return vector
    }

    /// An EOI: retires the highest vector in service. A level-triggered one (TMR set) is
    /// reported through `onEndOfInterrupt`, and frees the LINT pin whose remote IRR it held.
    private func endOfInterrupt() {
        guard let vector = inService.highest else { return }
        inService.remove(vector)
        guard triggerMode.contains(vector) else { return }
        triggerMode.remove(vector)
        onEndOfInterrupt?(vector)
        for pin in 0..<2 {
            let entry = lvt[Self.lint0 + pin]
            guard entry & Self.remoteIRR != 0, UInt8(truncatingIfNeeded: entry) == vector else { continue }
            lvt[Self.lint0 + pin] = entry & ~Self.remoteIRR
            deliverLevel(pin: pin)
        }
    }

    private func queue(_ vector: UInt8, levelTriggered: Bool) {
        guard vector >= 16 else {
            recordError(ErrorBit.receiveIllegalVector)
            return
        }
        requests.insert(vector)
        if levelTriggered { triggerMode.insert(vector) } else { triggerMode.remove(vector) }
        requestMayHaveChanged()
    }

    // MARK: Errors (SDM 11.5.3)

    /// Notes an error; a new one raises the LVT error interrupt.
    private func recordError(_ bit: UInt32) {
        guard accumulatedErrors & bit == 0 else { return }
        accumulatedErrors |= bit
        deliverLocal(Self.errorEntry)
    }

    // MARK: Sending (SDM 11.6.1)

    /// Sends the IPI the ICR now describes. Fixed and lowest-priority IPIs with a vector
    /// below 16 are not sent and set "send illegal vector". Delivery mode 3 is reserved and
    /// sends nothing. Other combinations the SDM calls invalid (a lowest-priority self IPI,
    /// for one) are sent as written, as Bochs and QEMU do.
    private func send() {
        let modeBits = UInt8(commandLow >> 8 & 7)
        guard let mode = InterruptMessage.DeliveryMode(rawValue: modeBits) else { return }
        let vector = UInt8(truncatingIfNeeded: commandLow)
        if (mode == .fixed || mode == .lowestPriority) && vector < 16 {
            recordError(ErrorBit.sendIllegalVector)
            return
        }
        let target = UInt8(commandHigh >> 24)
        let logical = commandLow & 0x800 != 0
        let destination: InterruptMessage.Destination = switch commandLow >> 18 & 3 {
        case 1: .selfOnly
        case 2: .allIncludingSelf
        case 3: .allExcludingSelf
        default:
            // x2APIC mode: the ICR's bits 63:32 are a 32-bit destination (SDM 11.12.9).
            isX2APICMode ? (logical ? .extendedLogical(commandHigh) : .extendedPhysical(commandHigh))
                : logical ? .logical(target) : .physical(target)
        }
        onSend?(InterruptMessage(mode: mode, destination: destination, vector: vector,
                                 levelTriggered: commandLow & 0x8000 != 0, assert: commandLow & 0x4000 != 0,
                                 source: id))
    }

    // MARK: The local vector table (SDM 11.5.1)

    private static let timerEntry = 0, lint0 = 3, errorEntry = 5
    private static let masked: UInt32 = 1 << 16
    private static let remoteIRR: UInt32 = 1 << 14
    private static let deliveryStatus: UInt32 = 1 << 12
    private static let activeLow: UInt32 = 1 << 13
    private static let levelTrigger: UInt32 = 1 << 15
    /// Writable bits per entry: the timer has vector, mask and the mode in bits 18:17
    /// (one-shot, periodic, TSC-deadline); thermal and performance add the delivery mode;
    /// LINT0/1 add polarity and trigger mode; error is vector and mask.
    private static let writableLVTBits: [UInt32] = [0x0007_00FF, 0x0001_07FF, 0x0001_07FF, 0x0001_A7FF,
                                                    0x0001_A7FF, 0x0001_00FF]
    private static let powerOnLVT = [UInt32](repeating: masked, count: 6)

    private func writeLVT(_ index: Int, _ value: UInt32) {
        let writable = Self.writableLVTBits[index]
        var entry = value & writable | lvt[index] & Self.remoteIRR
        if !isSoftwareEnabled { entry |= Self.masked }
        if index == Self.timerEntry {
            let wasDeadlineMode = isDeadlineMode
            rebaseTimer { lvt[index] = entry }
            // Entering or leaving TSC-deadline mode disarms the timer (SDM 11.5.4.1); KVM
            // and QEMU keep a count running across one-shot and periodic, and so does this.
            if isDeadlineMode != wasDeadlineMode {
                timer = nil
                initialCount = 0
                timeStampDeadline = nil
            }
        } else {
            lvt[index] = entry
        }
        if index == Self.lint0 || index == Self.lint0 + 1 { deliverLevel(pin: index - Self.lint0) }
    }

    private func writeSpuriousVector(_ value: UInt32) {
        spuriousVectorRegister = value & 0x3FF
        // Software disable masks every LVT entry (SDM 11.4.7.2).
        if !isSoftwareEnabled { lvt = lvt.map { $0 | Self.masked } }
    }

    /// Delivers LVT entry `index` if it is unmasked: a fixed one is queued edge-triggered
    /// (timer and error entries are always fixed; a level-triggered LINT0 goes through
    /// `deliverLevel(pin:)`), the other modes are returned.
    /// Reserved mode 6 and the modes an entry does not support deliver nothing.
    @discardableResult
    private func deliverLocal(_ index: Int) -> Signal? {
        let entry = lvt[index]
        guard entry & Self.masked == 0 else { return nil }
        let supportsModes = index != Self.timerEntry && index != Self.errorEntry
        switch supportsModes ? entry >> 8 & 7 : 0 {
        case 0: queue(UInt8(truncatingIfNeeded: entry), levelTriggered: false)
        case 2: return .systemManagement
        case 4: return .nmi
        case 5 where index == Self.lint0 || index == Self.lint0 + 1: return .initialize
        default: break
        }
        return nil
    }

    // MARK: LINT0 and LINT1

    /// Drives the LINT0 (`index` 0) or LINT1 (`index` 1) pin. Through its LVT entry
    /// (SDM 11.5.1): an active edge (high, or low with bit 13 set) delivers an edge-triggered
    /// fixed interrupt, an NMI, SMI or INIT, which is returned; a level-triggered fixed entry
    /// queues its vector while the pin is active and remote IRR (bit 14) is clear, sets remote
    /// IRR, and waits for the EOI. LINT1 is edge-sensitive whatever bit 15 says, as the SDM
    /// notes. ExtINT is a level: while the pin is active, `isExternalInterruptRequested`.
    /// With the APIC globally disabled the pins are the CPU's INTR (LINT0, the same
    /// property) and NMI (LINT1: a rising edge returns `.nmi`).
    @discardableResult
    public func setLocalInterruptLine(_ index: Int, level: Bool) -> Signal? {
        let previous = lintLevels[index]
        lintLevels[index] = level
        defer { requestMayHaveChanged() }
        guard isEnabled else { return index == 1 && level && !previous ? .nmi : nil }
        let entry = lvt[Self.lint0 + index]
        let polarity = entry & Self.activeLow != 0
        let active = level != polarity
        if isLevelTriggered(pin: index) {
            deliverLevel(pin: index)
            return nil
        }
        guard active && previous == polarity, entry >> 8 & 7 != 7 else { return nil }
        return deliverLocal(Self.lint0 + index)
    }

    /// Whether the CPU's INTR should be up for the 8259 ("virtual wire", SDM 11.5.1): a LINT
    /// pin in ExtINT mode, unmasked, is active; or, with the APIC globally disabled, LINT0 is
    /// high. The CPU then takes its vector from the 8259's acknowledge cycle.
    public var isExternalInterruptRequested: Bool {
        guard isEnabled else { return lintLevels[0] }
        return (0..<2).contains { pin in
            let entry = lvt[Self.lint0 + pin]
            return entry & Self.masked == 0 && entry >> 8 & 7 == 7 && lintLevels[pin] != (entry & Self.activeLow != 0)
        }
    }

    private func isLevelTriggered(pin: Int) -> Bool {
        let entry = lvt[Self.lint0 + pin]
        return pin == 0 && entry & Self.levelTrigger != 0 && entry >> 8 & 7 == 0
    }

    /// A level-triggered fixed LINT0 that is active, unmasked and not awaiting an EOI
    /// queues its vector and sets remote IRR.
    private func deliverLevel(pin: Int) {
        let index = Self.lint0 + pin
        let entry = lvt[index]
        guard isLevelTriggered(pin: pin), entry & (Self.masked | Self.remoteIRR) == 0,
              lintLevels[pin] != (entry & Self.activeLow != 0) else { return }
        let vector = UInt8(truncatingIfNeeded: entry)
        queue(vector, levelTriggered: true)
        if vector >= 16 { lvt[index] |= Self.remoteIRR }
    }

    // MARK: The timer (SDM 11.5.4)

    /// A count in progress: it held `count` at time `start` and has raised `raised`
    /// expiries since.
    private struct TimerRun {
        var start: UInt64
        var count: UInt32
        var raised: UInt64 = 0
    }

    /// The divider the divide configuration register selects: bits 3, 1, 0 = 111 divide by
    /// 1, else by 2 << (those bits) (SDM Figure 11-10).
    public var timerDivisor: UInt64 {
        let code = (divideConfiguration & 8) >> 1 | divideConfiguration & 3
        return code == 7 ? 1 : 2 << UInt64(code)
    }

    /// LVT timer bits 18:17: 00 one-shot, 01 periodic, 10 TSC-deadline (11 reserved,
    /// counting as one-shot here).
    private var timerMode: UInt32 { lvt[Self.timerEntry] >> 17 & 3 }
    private var isPeriodic: Bool { timerMode == 1 }
    private var isDeadlineMode: Bool { timerMode == 2 }

    /// IA32_TSC_DEADLINE (MSR 6E0h), as the CPU reads it: the armed deadline in TSC ticks,
    /// 0 when disarmed or outside TSC-deadline mode (SDM 11.5.4.1).
    public var timeStampDeadlineMSR: UInt64 { isDeadlineMode ? timeStampDeadline?.value ?? 0 : 0 }

    /// A WRMSR to IA32_TSC_DEADLINE, with the CPU's TSC at the time of the write. Outside
    /// TSC-deadline mode it is ignored; 0 disarms; a deadline already passed fires at once.
    /// The TSC counts the platform's nanoseconds, so a deadline `d` falls `d - tsc` ns on.
    public func writeTimeStampDeadline(_ value: UInt64, timeStampCounter tsc: UInt64) {
        guard isDeadlineMode else { return }
        let now = platform.now
        timeStampDeadline = value == 0 ? nil : (value, now &+ (value > tsc ? value - tsc : 0))
        if let deadline = timeStampDeadline, let onTimerEvent {
            onTimerEvent(.armed(mode: .timeStampDeadline, deadline: deadline.time))
        }
        advance(to: now)
        requestMayHaveChanged()
    }

    /// A write to the initial count loads the current count and starts counting; 0 stops
    /// the timer (SDM 11.5.4).
    private func startTimer(count: UInt32) {
        initialCount = count
        timer = count == 0 ? nil : TimerRun(start: platform.now, count: count)
        timerArmed()
    }

    /// Tells `onTimerEvent` that a count now runs (nothing if none does).
    private func timerArmed() {
        guard let onTimerEvent, let run = timer else { return }
        onTimerEvent(.armed(mode: isPeriodic ? .periodic : .oneShot,
                            deadline: run.start &+ UInt64(run.count) &* timerDivisor))
    }

    /// Raises the LVT timer interrupt for an expiry, and tells `onTimerEvent` when one is raised.
    private func timerFired() {
        let entry = lvt[Self.timerEntry]
        deliverLocal(Self.timerEntry)
        if entry & Self.masked == 0, let onTimerEvent { onTimerEvent(.fired(vector: UInt8(truncatingIfNeeded: entry))) }
    }

    /// Applies a register write that may change the mode or the divider: if either changes,
    /// the count continues from its present value under the new setting.
    private func rebaseTimer(_ change: () -> Void) {
        let now = platform.now
        let count = currentCount(at: now)
        let setting = (timerDivisor, isPeriodic)
        change()
        guard timer != nil, setting != (timerDivisor, isPeriodic) else { return }
        timer = count == 0 ? nil : TimerRun(start: now, count: count)
        timerArmed()
    }

    /// Expiries of `run` up to `time`: the first after `count` clocks, then (periodic) one
    /// per `initialCount` clocks.
    private func expiries(of run: TimerRun, at time: UInt64) -> UInt64 {
        let clocks = (time &- run.start) / timerDivisor
        guard time >= run.start, clocks >= UInt64(run.count) else { return 0 }
        return isPeriodic ? 1 + (clocks - UInt64(run.count)) / UInt64(initialCount) : 1
    }

    /// The current-count register at `time`.
    private func currentCount(at time: UInt64) -> UInt32 {
        guard let run = timer, time >= run.start else { return timer?.count ?? 0 }
        let clocks = (time - run.start) / timerDivisor
        if clocks < UInt64(run.count) { return run.count - UInt32(clocks) }
        guard isPeriodic else { return 0 }
        return initialCount - UInt32((clocks - UInt64(run.count)) % UInt64(initialCount))
    }

    /// The next expiry, while the LVT timer entry is unmasked (a masked one raises nothing;
    /// the count is computed on reads whatever the mask).
    public func nextDeadline() -> UInt64? {
        guard lvt[Self.timerEntry] & Self.masked == 0 else { return nil }
        if isDeadlineMode { return timeStampDeadline?.time }
        guard let run = timer else { return nil }
        let clocks = UInt64(run.count) + run.raised * UInt64(initialCount)
        return run.start + clocks * timerDivisor
    }

    /// Raises the expiries due by `now`: one IRR bit for however many (an interrupt already
    /// pending absorbs the others). A one-shot count stops at 0.
    public func advance(to now: UInt64) {
        if let deadline = timeStampDeadline, isDeadlineMode {
            // It fires once, disarms itself and clears the MSR, masked or not (SDM 11.5.4.1).
            guard now >= deadline.time else { return }
            timeStampDeadline = nil
            timerFired()
            return
        }
        guard var run = timer else { return }
        let due = expiries(of: run, at: now)
        guard due > run.raised else { return }
        run.raised = due
        timer = isPeriodic ? run : nil
        timerFired()
    }

    public var interruptLine: Int? { nil }

    // MARK: Reset and INIT (SDM 11.4.7.1, 11.4.7.3)

    /// A platform reset or power cycle restores the power-up state, with the strapped APIC
    /// ID, the default base and the global enable (IA32_APIC_BASE resets too). INIT (the
    /// board's INIT# reaching every CPU) is `initialize()`.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else {
            initialize()
            return
        }
        id = initialID
        baseAddress = Self.defaultBaseAddress
        isEnabled = true
        isX2APICMode = false
        initialize()
    }

    /// An INIT, by the INIT# pin or an INIT IPI: the power-up state except the APIC ID, and
    /// IA32_APIC_BASE (base and global enable), which belong to the CPU (SDM 11.4.7.3). The
    /// machine calls it when it applies `.initialize` to the CPU. IRR, ISR, TMR, ICR, LDR and
    /// TPR clear, the DFR reads all ones, the SVR 0xFF (software disabled), every LVT entry
    /// is masked, and the timer stops with its counts and divider at 0. Errors clear too.
    public func initialize() {
        taskPriorityRegister = 0
        logicalDestination = 0
        destinationModel = 0xF
        spuriousVectorRegister = 0xFF
        inService = VectorSet()
        triggerMode = VectorSet()
        requests = VectorSet()
        accumulatedErrors = 0
        errorStatus = 0
        commandLow = 0
        commandHigh = 0
        lvt = Self.powerOnLVT
        initialCount = 0
        divideConfiguration = 0
        timer = nil
        timeStampDeadline = nil
        requestMayHaveChanged()
    }

    private func requestMayHaveChanged() {
        onInterruptRequestChanged?()
    }
}

/// 256 bits, one per vector: the IRR, ISR and TMR.
private struct VectorSet {
    private var words = [UInt32](repeating: 0, count: 8)

    func word(_ index: Int) -> UInt32 { words[index] }
    func contains(_ vector: UInt8) -> Bool { words[Int(vector >> 5)] & 1 << (vector & 31) != 0 }
    mutating func insert(_ vector: UInt8) { words[Int(vector >> 5)] |= 1 << (vector & 31) }
    mutating func remove(_ vector: UInt8) { words[Int(vector >> 5)] &= ~(1 << (vector & 31)) }

    /// The highest vector in the set (the highest priority), or `nil`.
    var highest: UInt8? {
        guard let index = words.lastIndex(where: { $0 != 0 }) else { return nil }
        return UInt8(index * 32 + 31 - words[index].leadingZeroBitCount)
    }
}
