/// The debug registers and the breakpoints they arm (SDM Vol. 3A, 17.2–17.3): instruction
/// breakpoints (faults, masked by RF), data-write and data-read/write breakpoints and, with
/// CR4.DE, I/O breakpoints (traps after the instruction), general detect (DR7.GD).
///
/// Nothing of this costs anything while DR7 enables no breakpoint. When one is enabled, the
/// `Signals.debug` bit makes the run loop go one instruction at a time and check; data
/// breakpoints keep their pages out of the TLB's read and write tags, so every access to
/// such a page takes the slow path, which compares it with the breakpoints.
extension CPU {
    /// DR6 bits.
    enum DebugStatus {
        static let generalDetect: UInt64 = 1 << 13
        static let singleStep: UInt64 = 1 << 14
        static let taskSwitch: UInt64 = 1 << 15
    }

    /// One enabled breakpoint of DR7, decoded.
    struct Breakpoint {
        enum Kind {
            case execute, write, io, readWrite
            var watchesData: Bool { self == .write || self == .readWrite }
        }
        let index: Int
        let kind: Kind
        let address: UInt64
        let length: UInt64

        /// Whether an access of `size` bytes at `address` touches the watched bytes.
        func overlaps(_ start: UInt64, _ size: Int) -> Bool {
            start < address &+ length && address < start &+ UInt64(size)
        }
    }

    /// Decodes the breakpoints DR7 enables (locally or globally), with their aligned ranges.
    private func decodeEnabledBreakpoints() -> [Breakpoint] {
        let control = debugRegisters[7]
        var result: [Breakpoint] = []
        for n in 0..<4 where control & (3 << (2 * UInt64(n))) != 0 {
            let kind: Breakpoint.Kind
            switch (control >> (16 + 4 * UInt64(n))) & 3 {
            case 0: kind = .execute
            case 1: kind = .write
            case 2:
                // I/O breakpoints exist only with CR4.DE; otherwise the encoding is undefined.
                guard cr4 & ControlRegister4.debuggingExtensions != 0 else { continue }
                kind = .io
            default: kind = .readWrite
            }
            let length: UInt64 = kind == .execute ? 1 : [1, 2, 8, 4][Int((control >> (18 + 4 * UInt64(n))) & 3)]
            // Linear addresses: 64 bits in IA-32e mode (MOV to DR0–3 outside 64-bit mode writes 32).
            let address = debugRegisters[n] & ~(length - 1)
            result.append(Breakpoint(index: n, kind: kind, address: address, length: length))
        }
        return result
    }

    /// Re-derives what the run loop and the memory slow path must watch after DR0–3, DR7 or CR4 change.
    func updateBreakpoints() {
        armedBreakpoints = decodeEnabledBreakpoints()
        setSignal(Signals.debug, !armedBreakpoints.isEmpty)
        watchesData = armedBreakpoints.contains { $0.kind.watchesData } || !debuggerWatchpoints.isEmpty
        // Pages with a data breakpoint or watchpoint must lose their fast read and write entries
        // (pages no longer watched simply get them back at their next fill).
        if watchesData { flushTLB() }
    }

    /// Whether a linear page holds bytes a data breakpoint or a debugger watchpoint watches (so
    /// the TLB must not map it for data).
    func isWatchedDataPage(_ pageBase: UInt64) -> Bool {
        armedBreakpoints.contains { $0.kind.watchesData && $0.overlaps(pageBase, 4096) } || debuggerWatchesPage(pageBase)
    }

    /// Called by the memory slow path for every data access while data breakpoints or debugger
    /// watchpoints are armed (a page-crossing access once per byte).
    func noteDataAccess(_ linear: UInt64, size: Int, write: Bool) {
        if !debuggerWatchpoints.isEmpty { noteDebuggerWatchpoints(linear, size: size, write: write) }
        for breakpoint in armedBreakpoints where breakpoint.overlaps(linear, size) {
            if breakpoint.kind == .readWrite || (breakpoint.kind == .write && write) {
                pendingDebugStatus |= 1 << UInt64(breakpoint.index)
            }
        }
    }

    /// Called by IN, OUT, INS and OUTS while breakpoints are armed.
    func noteIOAccess(_ port: UInt16, size: Int) {
        guard signals & Signals.debug != 0 else { return }
        for breakpoint in armedBreakpoints where breakpoint.kind == .io && breakpoint.overlaps(UInt64(port), size) {
            pendingDebugStatus |= 1 << UInt64(breakpoint.index)
        }
    }

    /// The instruction breakpoints matching the instruction about to run (none while RF is set).
    func instructionBreakpointHits() -> UInt64 {
        if eflagsStored & EFlags.resume != 0 { return 0 }
        let linear = codeLinearAddress
        var hits: UInt64 = 0
        for breakpoint in armedBreakpoints where breakpoint.kind == .execute && breakpoint.address == linear {
            hits |= 1 << UInt64(breakpoint.index)
        }
        return hits
    }

    /// Delivers the #DB trap for what the instruction that just completed did: data or I/O
    /// breakpoint hits and/or a single step.
    func deliverDebugTrap(singleStep: Bool) {
        debugRegisters[6] |= pendingDebugStatus | (singleStep ? DebugStatus.singleStep : 0)
        pendingDebugStatus = 0
        deliverEvent(vector: ExceptionVector.debug.rawValue, errorCode: nil, kind: .trap)
    }

    /// Delivers the #DB fault of an instruction breakpoint; the pushed RF stays as it was, so the
    /// handler decides (by setting RF in the image) whether the instruction then runs.
    func deliverInstructionBreakpoint(_ hits: UInt64) {
        debugRegisters[6] |= hits
        deliveringInstructionBreakpoint = true
        deliverEvent(vector: ExceptionVector.debug.rawValue, errorCode: nil, kind: .fault)
        deliveringInstructionBreakpoint = false
    }

    // MARK: MOV to and from debug registers

    /// DR4/DR5 alias DR6/DR7 unless CR4.DE is set, when they are #UD (SDM Vol. 3A, 17.2.2).
    private func debugRegisterIndex(_ n: UInt8) -> Int? {
        if n == 4 || n == 5 {
            return cr4 & ControlRegister4.debuggingExtensions != 0 ? nil : Int(n) + 2
        }
        return Int(n)
    }

    /// DR7.GD: any MOV to or from a debug register is a #DB fault with DR6.BD, and GD clears
    /// so the handler can use the registers.
    private func generalDetectFault() -> Step? {
        guard debugRegisters[7] & (1 << 13) != 0 else { return nil }
        debugRegisters[7] &= ~(1 << 13)
        debugRegisters[6] |= DebugStatus.generalDetect
        return raiseFault(.debug)
    }

    func execMovFromDR(_ d: Instruction) -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        guard let n = debugRegisterIndex(d.sub) else { return raiseFault(.invalidOpcode) }
        if let fault = generalDetectFault() { return fault }
        writeRegister(d.rm, executing64 ? .qword : .dword, debugRegisters[n])
        return .next
    }

    func execMovToDR(_ d: Instruction) -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        guard let n = debugRegisterIndex(d.sub) else { return raiseFault(.invalidOpcode) }
        if let fault = generalDetectFault() { return fault }
        // 64 bits in 64-bit mode, where DR6 and DR7 keep bits 63:32 zero: #GP(0) for a 1 there
        // (SDM Vol. 2, MOV—Move to/from Debug Registers).
        let value = readRegister(d.rm, executing64 ? .qword : .dword)
        if n >= 6 && value >> 32 != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        switch n {
        case 6: debugRegisters[6] = (value & 0x0000_E00F) | 0xFFFF_0FF0   // reserved bits read as 1
        case 7: debugRegisters[7] = (value & 0xFFFF_2BFF) | 0x400
        default: debugRegisters[n] = value
        }
        if n != 6 { updateBreakpoints() }
        return .exit
    }
}
