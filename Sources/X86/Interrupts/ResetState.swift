/// Power-on reset, INIT and start-up IPI (SDM Vol. 3A, 10.1.1, Table 10-1).
extension CPU {
    /// RESET#: every register to its power-up value.
    public func powerOnReset() {
        enterInitState()
        cr0 = 0x6000_0010
        tscOffset = 0 &- timeStampBase
        msrs = ModelSpecificRegisters()
        fpu = FPUState()
        sse = SSEState()
        nmiPending = false
        nmiBlocked = false
        interruptRequested = false
        initPending = false
        startupPending = false
        setA20(enabled: true)
        activity = isBootstrapProcessor ? .active : .waitingForStartup
    }

    /// The INIT state: as power-up, except that CR0.CD/NW keep their values and
    /// caches, MSRs, x87/SSE state and the TSC are untouched. The BSP restarts
    /// at F000:FFF0; an application processor waits for a start-up IPI.
    ///
    /// INIT also drops every decoded block. A processor restarted by INIT fetches afresh what
    /// memory holds now; blocks decoded before it would otherwise survive into a new boot whose
    /// code sits elsewhere (a KASLR kernel written by the bootstrap processor over the pages an
    /// application processor last ran) and run stale instructions there.
    ///
    /// INIT also ends NMI blocking and drops an NMI not yet taken: the handler that blocked
    /// NMIs is gone, and no IRET will come to unblock them (SDM Vol. 3A, 6.7.1). A processor
    /// that shut down inside its NMI handler — each AP of Windows's multiprocessor reboot —
    /// must take NMIs again once INIT and a start-up IPI have restarted it. QEMU's
    /// `do_cpu_init` (only a start-up IPI survives) and KVM's vCPU reset do the same.
    func enterInitState() {
        nmiPending = false
        nmiBlocked = false
        for i in 0..<16 { regs[i] = 0 }
        regs[GeneralRegister.rdx.rawValue] = UInt64(CPUIDIdentity.signature)
        setEFlags(EFlags.reserved1)
        rip = 0xFFF0
        for s in SegmentRegister.allCases {
            segs[s.rawValue] = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.realModeData)
        }
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: 0xF000, base: 0xFFFF_0000, limit: 0xFFFF,
                                                        attributes: SegmentCache.realModeCode)
        cr0 = (cr0 & (ControlRegister0.cacheDisable | ControlRegister0.notWriteThrough)) | ControlRegister0.extensionType
        cr2 = 0
        cr3 = 0
        cr4 = 0
        cr8 = 0
        efer = 0
        setPrivilegeLevel(0)
        for i in 0..<4 { debugRegisters[i] = 0 }
        debugRegisters[6] = 0xFFFF_0FF0
        debugRegisters[7] = 0x400
        pendingDebugStatus = 0
        updateBreakpoints()
        gdtr = DescriptorTableRegister()
        idtr = DescriptorTableRegister()
        ldtr = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.initialLDT)
        taskRegister = SegmentCache(selector: 0, base: 0, limit: 0xFFFF, attributes: SegmentCache.initialTaskRegister)
        refreshSegmentBounds()
        interruptShadow = false
        pendingVector = 0
        shutdownChain = []
        flushTLB()
        flushDecodedCode()
        activity = isBootstrapProcessor ? .active : .waitingForStartup
    }

    /// Begins execution after a start-up IPI at VV000h: CS = VV00h, base VV000h, IP 0.
    func startAt(vector: UInt8) {
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: UInt16(vector) << 8, base: UInt64(vector) << 12,
                                                        limit: 0xFFFF, attributes: SegmentCache.realModeCode)
        refreshSegmentBounds()
        rip = 0
        activity = .active
    }

    // MARK: Signals from the platform

    /// Latches an NMI; it is delivered at the next instruction boundary unless blocked.
    public func signalNMI() { nmiPending = true }

    /// INIT#: taken at the next instruction boundary.
    public func signalINIT() { initPending = true }

    /// Takes INIT now (the caller is at an instruction boundary, e.g. the power & reset
    /// controller between run slices).
    public func applyINIT() {
        initPending = false
        enterInitState()
    }

    /// Whether a start-up IPI (or an INIT) waits to be taken at the next instruction boundary:
    /// a processor waiting for start-up then has something to do.
    public var hasStartupPending: Bool { startupPending || initPending }

    /// A start-up IPI; ignored unless the processor is waiting for one (SDM Vol. 3A, 10.4.4).
    public func signalStartup(vector: UInt8) {
        if activity == .waitingForStartup || initPending {
            startupVector = vector
            startupPending = true
        }
    }
}
