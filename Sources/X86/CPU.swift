/// One x86 logical processor: architectural state plus the engine that runs it.
///
/// State lives in plain stored properties and in a few unsafe buffers allocated
/// once (register file, segment caches, TLB, decoded-instruction cache), so the
/// per-instruction path does no reference counting, no dynamic dispatch and no
/// bounds checks. The owner (a machine, or a test) drives it with `run(limit:)`
/// and the signal entry points (`interruptRequested`, `signalNMI`, `signalINIT`,
/// `signalStartup`, `powerOnReset`).
public final class CPU {
    /// Index of this CPU in its machine (0 is the bootstrap processor).
    public let index: Int
    /// Whether this processor is the bootstrap processor (IA32_APIC_BASE.BSP).
    public let isBootstrapProcessor: Bool
    let bus: any Bus
    /// The controller answering interrupt-acknowledge cycles.
    public weak var interruptController: (any InterruptController)?
    /// The platform's clock for the TSC; without one the TSC counts this CPU's clock ticks.
    /// Unchecked, as `hasLocalAPIC`: RDTSC reads it in the TSC calibration loops of a kernel's boot.
    @exclusivity(unchecked) public weak var timeSource: (any TimeSource)?
    /// Whether the platform gives this CPU a local APIC (CPUID then reports it while
    /// IA32_APIC_BASE enables it).
    /// Unchecked, as `msrs`: a public or otherwise dynamically checked property that an inlined
    /// handler reads gets a `swift_beginAccess` hoisted to every block's start (about 75 host
    /// instructions each; this one cost 25–30% of every bench workload).
    @exclusivity(unchecked) public var hasLocalAPIC = false
    /// Told about deliveries, shutdown and other rare events (for traces and debuggers).
    public weak var observer: (any CPUObserver)? {
        didSet { hasObserver = observer != nil }
    }
    /// Whether `observer` was set, so that event paths skip the weak load when nobody listens.
    var hasObserver = false

    // MARK: Registers
    let regs: UnsafeMutablePointer<UInt64>
    let rawRegs: UnsafeMutableRawPointer
    let segs: UnsafeMutablePointer<SegmentCache>
    /// Instruction pointer of the next instruction, at block boundaries and for the handlers
    /// that read it (see Dispatch.swift); within a block the records' `endOffset` say it.
    var rip: UInt64 = 0
    /// 64-bit mode: IA-32e mode is active and CS.L is set. Brought up to date before each block
    /// is looked up (CS and EFER.LMA change only through instructions that end their block).
    var executing64 = false
    /// The mask EIP wraps with (CS's default size). Where the running block started is in
    /// the register file (`blockInstructionPointer`), where RIP-relative operands read it.
    var instructionPointerMask: UInt64 = 0xFFFF

    // MARK: Flags (status flags are lazy; see Flags.swift)
    var eflagsStored: UInt32 = EFlags.reserved1
    var flagOp: FlagOp = .stored
    var flagSize: OperandSize = .byte
    var flagResult: UInt64 = 0
    var flagDst: UInt64 = 0
    var flagSrc: UInt64 = 0
    /// Carry-in for ADC/SBB/INC/DEC, or the CF|OF|AF bits for `.resultWithAux`.
    var flagAux: UInt32 = 0

    // MARK: System registers
    var cr0: UInt32 = 0
    var cr2: UInt64 = 0
    var cr3: UInt64 = 0
    var cr4: UInt32 = 0
    /// The task-priority register of 64-bit mode (bits 3:0). With no local APIC yet it holds
    /// its value and masks nothing.
    var cr8: UInt64 = 0
    var efer: UInt64 = 0
    let debugRegisters: UnsafeMutablePointer<UInt64>
    var gdtr = DescriptorTableRegister()
    var idtr = DescriptorTableRegister()
    var ldtr = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.initialLDT)
    var taskRegister = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.initialTaskRegister)
    @exclusivity(unchecked) var msrs = ModelSpecificRegisters()
    /// x87 and MMX state (FPU/).
    var fpu = FPUState()
    /// XMM registers and MXCSR (SSE/).
    var sse = SSEState()
    /// Time-stamp counter; advanced by retired instructions.
    var tscOffset: UInt64 = 0

    // MARK: Execution state
    /// What the processor is doing (SDM "activity state").
    public internal(set) var activity: ActivityState = .active {
        didSet { setSignal(Signals.inactive, activity != .active) }
    }
    /// Instructions retired since power-on.
    /// Unchecked, as `hasLocalAPIC`: a REP string handler adds its iterations here.
    @exclusivity(unchecked) public internal(set) var instructionsRetired: UInt64 = 0
    /// Blocks decoded since the CPU was created (the decoded-code cache's misses).
    public internal(set) var blocksDecoded: UInt64 = 0
    /// Events delivered without retiring an instruction since power-on: exceptions raised by
    /// an instruction or a fetch, external interrupts, NMIs and debug traps (INT n is counted
    /// as the instruction it is). Hardware spends time on each, so they count as clock ticks.
    public internal(set) var eventsDelivered: UInt64 = 0
    /// The CPU's work in clock ticks: one per retired instruction and one per delivered event.
    /// Virtual time, the TSC and `run(limit:)` budgets count these, so a guest whose handler
    /// faults before retiring anything (an exception storm) still uses up its budget.
    public var ticks: UInt64 { instructionsRetired &+ eventsDelivered }
    /// Everything that needs the run loop's attention at a block boundary, as one
    /// word so the common case costs a single test (`Signals`).
    var signals: UInt8 = 0
    var startupVector: UInt8 = 0
    var nmiBlocked = false
    /// Records of the running block that taken forward branches passed over (`Op.jccSkip`):
    /// they did not retire. Zero between blocks.
    var skippedRecords = 0
    /// Instructions left in the current `run` budget when a block starts; a REP string
    /// instruction (always first in its block) repeats at most this often per execution.
    @exclusivity(unchecked) var repeatBudget = 0

    /// Bits of `signals`.
    enum Signals {
        static let interruptLine: UInt8 = 1 << 0
        static let nmi: UInt8 = 1 << 1
        static let initRequest: UInt8 = 1 << 2
        static let startup: UInt8 = 1 << 3
        static let stop: UInt8 = 1 << 4
        /// Interrupts, NMI and debug traps are inhibited until after the next instruction.
        static let shadow: UInt8 = 1 << 5
        /// `activity` is not `.active`.
        static let inactive: UInt8 = 1 << 6
        /// DR7 enables a breakpoint: run one instruction at a time and check (DebugRegisters.swift).
        static let debug: UInt8 = 1 << 7
    }

    @inline(__always) func setSignal(_ bit: UInt8, _ on: Bool) {
        signals = on ? signals | bit : signals & ~bit
    }

    /// The level of the INTR pin, driven by the interrupt controller's owner.
    public var interruptRequested: Bool {
        get { signals & Signals.interruptLine != 0 }
        set { setSignal(Signals.interruptLine, newValue) }
    }
    var nmiPending: Bool {
        get { signals & Signals.nmi != 0 }
        set { setSignal(Signals.nmi, newValue) }
    }
    var initPending: Bool {
        get { signals & Signals.initRequest != 0 }
        set { setSignal(Signals.initRequest, newValue) }
    }
    var startupPending: Bool {
        get { signals & Signals.startup != 0 }
        set { setSignal(Signals.startup, newValue) }
    }
    var stopRequested: Bool {
        get { signals & Signals.stop != 0 }
        set { setSignal(Signals.stop, newValue) }
    }
    /// Interrupts (and NMI, debug traps) are inhibited until after the next instruction (STI, MOV SS, POP SS).
    var interruptShadow: Bool {
        get { signals & Signals.shadow != 0 }
        set { setSignal(Signals.shadow, newValue) }
    }

    // MARK: Pending exception (faults are values: handlers record one and return `.fault`)
    var pendingVector: UInt8 = 0
    var pendingErrorCode: UInt32 = 0
    var pendingHasErrorCode = false
    /// A task switch committed before the pending exception arose: it belongs to the new task,
    /// whose EIP must not be rewound to the instruction that started the switch.
    var faultBelongsToNewTask = false
    /// DR6 bits of a #DB trap due after the current instruction: data and I/O breakpoint hits (B0–B3).
    var pendingDebugStatus: UInt64 = 0
    /// The breakpoints DR7 enables, decoded when DR0–3, DR7 or CR4 change (DebugRegisters.swift).
    var armedBreakpoints: [Breakpoint] = []
    /// One of them is a data breakpoint, or a debugger watches data (`dataWatchpoints`): the
    /// memory slow path compares accesses with them.
    var watchesData = false
    /// The debugger's data watchpoints (DataWatchpoints.swift), invisible to the guest.
    var debuggerWatchpoints: [DataWatchpoint] = []
    /// The first debugger watchpoint hit since the owner last took one (`takeDataWatchpointHit`).
    var dataWatchpointHit: DataWatchpointHit?
    /// The #DB being delivered is an instruction breakpoint's: its pushed RF is not forced to 1.
    var deliveringInstructionBreakpoint = false
    /// The last shutdown's exception chain, for the owner's trace.
    public internal(set) var shutdownChain: [UInt8] = []

    // MARK: Memory
    /// The data TLB: supervisor entries, then user entries (see `setPrivilegeLevel`), for each
    /// of its ways (`TLBEntry.ways`, `TLBEntry.wayStride`).
    let tlbStorage: UnsafeMutablePointer<TLBEntry>
    /// The half serving the current privilege level.
    var tlb: UnsafeMutablePointer<TLBEntry>
    /// The current privilege level (0 in real mode, 3 in virtual-8086 mode).
    var cpl: UInt8 = 0
    /// Some TLB entry may hold a piece of a large page (INVLPG must then look for the others).
    var tlbHoldsLargePages = false
    /// PAE paging's four page-directory-pointer-table entries, loaded with CR3 (SDM Vol. 3A, 4.4.1).
    var pdpte: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
    /// Host pages of recently walked paging structures (see `pagingStructurePage`); emptied with the TLB.
    let pagingStructureCache: UnsafeMutablePointer<(physicalPage: UInt64, pointer: UnsafeMutablePointer<UInt8>?)>
    /// Physical address mask applied before the bus: bit 20 clear while the A20 gate is off.
    @exclusivity(unchecked) public internal(set) var a20Mask: UInt64 = ~0
    var codeCache: CodeCache
    /// `codeCache.pool`, kept apart so the block lookup reads a plain pointer.
    let codePool: UnsafeMutablePointer<DecodedInstruction>
    /// The processors whose decoded code stays coherent with this one's stores (CodeCoherence.swift).
    let codeCoherence: CodeCoherence
    /// `codeCoherence.codePageBits`, kept apart so the check a TLB fill makes reads a plain pointer.
    let codePageBits: UnsafeMutablePointer<UInt64>
    /// Both halves of the code TLB (supervisor, then user): translations for instruction
    /// fetches only, so that data accesses never evict the running code's.
    let codeTLBStorage: UnsafeMutablePointer<CodeTLBEntry>
    /// The half serving the current privilege level.
    var codeTLB: UnsafeMutablePointer<CodeTLBEntry>

    /// Creates a processor in the power-on reset state. Processors that share memory share a
    /// `codeCoherence` domain, so each sees the others' stores to code it has decoded.
    public init(bus: any Bus, index: Int = 0, isBootstrapProcessor: Bool = true,
                codeCoherence: CodeCoherence = CodeCoherence()) {
        self.bus = bus
        self.index = index
        self.isBootstrapProcessor = isBootstrapProcessor
        regs = .allocate(capacity: RegisterFile.slotCount)
        regs.initialize(repeating: 0, count: RegisterFile.slotCount)
        regs[Int(RegisterFile.halfRangeSlot)] = RegisterFile.halfRange
        rawRegs = UnsafeMutableRawPointer(regs)
        segs = .allocate(capacity: 6)
        segs.initialize(repeating: SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.realModeData), count: 6)
        debugRegisters = .allocate(capacity: 8)
        debugRegisters.initialize(repeating: 0, count: 8)
        tlbStorage = .allocate(capacity: TLBEntry.storageCount)
        tlbStorage.initialize(repeating: TLBEntry(), count: TLBEntry.storageCount)
        tlb = tlbStorage
        codeTLBStorage = .allocate(capacity: 2 * TLBEntry.count)
        codeTLBStorage.initialize(repeating: CodeTLBEntry(), count: 2 * TLBEntry.count)
        codeTLB = codeTLBStorage
        pagingStructureCache = .allocate(capacity: CPU.pagingStructureCacheSize)
        pagingStructureCache.initialize(repeating: (.max, nil), count: CPU.pagingStructureCacheSize)
        codeCache = CodeCache()
        codePool = codeCache.pool
        self.codeCoherence = codeCoherence
        codePageBits = codeCoherence.codePageBits
        powerOnReset()
        codeCoherence.join(self)
    }

    deinit {
        regs.deallocate()
        segs.deallocate()
        debugRegisters.deallocate()
        tlbStorage.deallocate()
        codeTLBStorage.deallocate()
        pagingStructureCache.deallocate()
        codeCache.deallocate()
    }
}

/// GDTR or IDTR.
public struct DescriptorTableRegister: Sendable, Equatable {
    public var base: UInt64 = 0
    public var limit: UInt32 = 0xFFFF
    public init(base: UInt64 = 0, limit: UInt32 = 0xFFFF) {
        self.base = base
        self.limit = limit
    }
}

/// The processor's activity state.
public enum ActivityState: Sendable, Equatable {
    /// Executing instructions.
    case active
    /// Stopped by HLT until an interrupt, NMI, INIT or reset.
    case halted
    /// An application processor after INIT: waits for a start-up IPI.
    case waitingForStartup
    /// Stopped after a triple fault (or a fault while delivering #DF) until NMI, INIT or reset.
    case shutdown
}
