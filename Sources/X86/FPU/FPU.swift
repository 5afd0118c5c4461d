/// The x87 floating-point unit and MMX: entry points for the escape opcodes D8–DF, WAIT,
/// the MMX opcodes of the 0F map and the 0F AE group (FXSAVE/FXRSTOR), plus the rules they
/// share: device-not-available checks, pending-exception reporting and the FERR#/IGNNE# pins.
extension CPU {
    /// x87 escape (D8–DF): #NM when CR0.EM or CR0.TS is set (SDM Vol. 3A, Table 2-2); #UD for
    /// undefined encodings, which check for no pending exception (SDM Vol. 3A, Architecture
    /// Compatibility, "FPU Error Signals"); then the pending-exception check of waiting
    /// instructions, the instruction, and the update of the last-instruction pointers.
    func execFPUEscape(_ d: Instruction) -> Step {
        if cr0 & (ControlRegister0.emulation | ControlRegister0.taskSwitched) != 0 {
            return raiseFault(.deviceNotAvailable)
        }
        // ST(0)–ST(7) only: REX.B does not extend an x87 register operand (SDM Vol. 2A, 2.2.1.7).
        let rm = Int(d.rm >> 3) & 7
        guard let kind = X87Encoding.kind(escape: UInt8(truncatingIfNeeded: d.imm), reg: d.sub, rm: rm,
                                          memory: d.hasMemoryOperand) else {
            return raiseFault(.invalidOpcode)
        }
        if kind != .noWait, let stop = reportPendingFloatingPointError() { return stop }
        let step = d.hasMemoryOperand ? executeX87Memory(d) : executeX87Register(d, rm)
        guard step == .next else { return step }
        if kind == .waiting { recordLastInstruction(d) }
        updateFloatingPointErrorSignal()
        return .next
    }

    /// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set, then pending x87 exceptions.
    func execWait() -> Step {
        let both = ControlRegister0.monitorCoprocessor | ControlRegister0.taskSwitched
        if cr0 & both == both { return raiseFault(.deviceNotAvailable) }
        return reportPendingFloatingPointError() ?? .next
    }

    // MARK: Pending exceptions and the PC-style error pins

    /// Reports a pending unmasked x87 exception before a waiting x87 instruction, WAIT or
    /// an MMX instruction, or returns `nil` to let it run.
    ///
    /// With CR0.NE = 1 that is #MF on this instruction (SDM Vol. 1, 8.7.1). With CR0.NE = 0
    /// and IGNNE# deasserted the processor asserts FERR# and stops immediately before the
    /// instruction until an external interrupt arrives (Vol. 3A, 2.5 "NE"; Vol. 1, 8.7.2 and
    /// D.2.1.1): here it enters the halted activity state without retiring the instruction, so
    /// the interrupt's return address is this instruction and it runs again afterwards. With
    /// IGNNE# asserted the error is ignored and the instruction executes.
    func reportPendingFloatingPointError() -> Step? {
        guard fpu.errorPending else { return nil }
        if cr0 & ControlRegister0.numericError != 0 { return raiseFault(.x87FloatingPoint) }
        if fpu.ignoreNumericError { return nil }
        setFloatingPointErrorSignal(true)
        activity = .halted
        return .blockEnd
    }

    /// Drives FERR# after an x87 instruction: the P6 family asserts it when an instruction
    /// completes with an unmasked exception and CR0.NE = 0 (SDM Vol. 3A, Architecture
    /// Compatibility, "Assertion of the FERR# Pin"); it stays asserted until the exception
    /// flags are cleared.
    func updateFloatingPointErrorSignal() {
        if !fpu.errorPending {
            setFloatingPointErrorSignal(false)
        } else if cr0 & ControlRegister0.numericError == 0 {
            setFloatingPointErrorSignal(true)
        }
    }

    private func setFloatingPointErrorSignal(_ asserted: Bool) {
        guard fpu.errorSignal != asserted else { return }
        fpu.errorSignal = asserted
        if hasObserver { observer?.cpu(self, floatingPointErrorChanged: asserted) }
    }

    /// The FERR# output pin.
    public var floatingPointErrorOutput: Bool { fpu.errorSignal }

    /// The IGNNE# input pin, driven by the board's coprocessor-error logic (port F0h).
    public var ignoreNumericErrorInput: Bool {
        get { fpu.ignoreNumericError }
        set { fpu.ignoreNumericError = newValue }
    }

    // MARK: Last instruction and operand pointers

    /// The offset of the instruction being executed (RIP has already moved past it): 64 bits in
    /// 64-bit mode.
    func currentInstructionOffset(_ d: Instruction) -> UInt64 {
        (rip &- UInt64(d.length)) & instructionPointerMask
    }

    /// Records FIP, FCS, FOP and, for a memory operand, FDP and FDS (SDM Vol. 1, 8.1.8–8.1.9).
    /// FIP points at the instruction's first prefix; FOP is the low three bits of the escape
    /// byte and the ModR/M byte, which is fetched again from the instruction's bytes.
    func recordLastInstruction(_ d: Instruction) {
        let offset = currentInstructionOffset(d)
        let cs = segs[SegmentRegister.cs.rawValue]
        fpu.lastInstructionOffset = offset
        fpu.lastCodeSelector = cs.selector
        // Prefixes (26 2E 36 3E 64–67 F0 F2 F3) never fall in D8–DF: the first byte that does is the escape.
        let start = segmentBase(UInt8(SegmentRegister.cs.rawValue)) &+ offset
        for i in 0..<Int(d.length) - 1 {
            guard let byte = fetchLinear(linear(start, plus: i)) else { break }
            if byte & 0xF8 == 0xD8 {
                let modrm = fetchLinear(linear(start, plus: i + 1)) ?? 0
                fpu.lastOpcode = UInt16(byte & 7) << 8 | UInt16(modrm)
                break
            }
        }
        if d.hasMemoryOperand {
            fpu.lastOperandOffset = effectiveAddress(d)
            fpu.lastOperandSelector = segs[Int(d.segment)].selector
        }
    }
}
