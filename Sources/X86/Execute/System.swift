/// Flag instructions, descriptor-table and control-register access, and the other
/// system instructions valid in real mode.
extension CPU {
    func execFlagInstruction(_ op: Op) -> Step {
        switch op {
        case .clc: setStatusFlags(EFlags.carry, 0)
        case .stc: setStatusFlags(EFlags.carry, EFlags.carry)
        case .cmc: setStatusFlags(EFlags.carry, carryFlag ? 0 : EFlags.carry)
        case .cld: eflagsStored &= ~EFlags.direction
        default: eflagsStored |= EFlags.direction   // std
        }
        return .next
    }

    /// CLI/STI need CPL ≤ IOPL in protected mode (SDM Vol. 2, CLI).
    private var mayChangeInterruptFlag: Bool {
        cpl <= iopl
    }

    func execCli() -> Step {
        guard mayChangeInterruptFlag else { return raiseFault(.generalProtection, errorCode: 0) }
        eflagsStored &= ~EFlags.interrupt
        return .next
    }

    /// STI: interrupts are recognized only after the next instruction (SDM Vol. 2, STI).
    func execSti() -> Step {
        guard mayChangeInterruptFlag else { return raiseFault(.generalProtection, errorCode: 0) }
        if !interruptFlag { interruptShadow = true }
        eflagsStored |= EFlags.interrupt
        return .exit
    }

    var privileged: Bool { cpl == 0 }

    /// 0F 01: SGDT, SIDT, LGDT, LIDT, SMSW, LMSW, INVLPG.
    func execDescriptorTable(_ d: Instruction) -> Step {
        switch d.sub {
        case 0, 1:
            let table = d.sub == 0 ? gdtr : idtr
            let offset = effectiveAddress(d)
            // 64-bit mode stores an 8-byte base (SDM Vol. 2, SGDT/SIDT).
            guard write(d.segment, offset, .word, UInt64(table.limit)),
                  write(d.segment, wrappedOffset(offset &+ 2, d), executing64 ? .qword : .dword,
                        executing64 ? table.base : table.base & 0xFFFF_FFFF)
            else { return .fault }
            return .exit
        case 2, 3:
            guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
            let offset = effectiveAddress(d)
            // 64-bit mode loads an 8-byte base; elsewhere a 16-bit operand size loads a 24-bit one
            // (SDM Vol. 2, LGDT/LIDT).
            guard let limit = read16(d.segment, offset),
                  var base = read(d.segment, wrappedOffset(offset &+ 2, d), executing64 ? .qword : .dword) else { return .fault }
            if !executing64 && d.size != .dword { base &= 0x00FF_FFFF }
            let table = DescriptorTableRegister(base: base, limit: UInt32(limit))
            if d.sub == 2 { gdtr = table } else { idtr = table }
            return .exit
        case 4:
            // SMSW: a register destination with a 32-bit operand gets all of CR0's low half.
            let size: OperandSize = d.hasMemoryOperand ? .word : d.size
            return writeRM(d, size, UInt64(cr0) & size.mask) ? .exit : .fault
        case 6:
            guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
            guard let v = readRM(d, .word) else { return .fault }
            // LMSW changes PE, MP, EM and TS only, and cannot clear PE.
            let newCR0 = (cr0 & ~0xE) | (UInt32(truncatingIfNeeded: v) & 0xF) | (cr0 & ControlRegister0.protectionEnable)
            return writeCR0(newCR0)
        case 7 where !d.hasMemoryOperand:
            // SWAPGS (0F 01 F8, decoded only in 64-bit mode): GS's base and IA32_KERNEL_GS_BASE trade places.
            guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
            swap(&segs[SegmentRegister.gs.rawValue].base, &msrs.kernelGSBase)
            return .exit
        case 7:
            guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
            // INVLPG names a linear address; no segment check applies beyond the address computation.
            let offset = effectiveAddress(d)
            let linear = executing64 ? segmentBase(d.segment) &+ offset : (segs[Int(d.segment)].base &+ offset) & 0xFFFF_FFFF
            invalidateTLBEntry(linear)
            return .exit
        default:
            return raiseFault(.invalidOpcode)
        }
    }

    func execClts() -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        cr0 &= ~ControlRegister0.taskSwitched
        return .exit
    }

    /// The time-stamp counter: one per nanosecond of the platform's clock (or, without one, per
    /// clock tick of this CPU), plus the offset WRMSR and power-on set.
    var timeStampCounter: UInt64 { timeStampBase &+ tscOffset }

    /// What the TSC counts: platform time, or this CPU's ticks.
    var timeStampBase: UInt64 { timeSource?.now ?? ticks }

    /// RDTSC, and RDTSCP (`sub` 1), which also loads ECX with IA32_TSC_AUX[31:0]. With CR4.TSD
    /// both are #GP(0) outside CPL 0 (SDM Vol. 2, RDTSC and RDTSCP).
    func execRdtsc(_ d: Instruction) -> Step {
        if cr4 & ControlRegister4.timeStampDisable != 0 && !privileged { return raiseFault(.generalProtection, errorCode: 0) }
        let tsc = timeStampCounter
        setReg32(.rax, UInt32(truncatingIfNeeded: tsc))
        setReg32(.rdx, UInt32(truncatingIfNeeded: tsc >> 32))
        if d.sub == DecodedInstruction.readTimeStampCounterAndAux {
            setReg32(.rcx, UInt32(truncatingIfNeeded: msrs.timeStampCounterAux))
        }
        return .next
    }

    func execRdmsr() -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        guard let value = readMSR(reg32(.rcx)) else { return raiseFault(.generalProtection, errorCode: 0) }
        setReg32(.rax, UInt32(truncatingIfNeeded: value))
        setReg32(.rdx, UInt32(truncatingIfNeeded: value >> 32))
        return .next
    }

    func execWrmsr() -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        let value = UInt64(reg32(.rdx)) << 32 | UInt64(reg32(.rax))
        guard writeMSR(reg32(.rcx), value) else { return raiseFault(.generalProtection, errorCode: 0) }
        return .exit
    }

    /// INVD and WBINVD: caches are not modelled, so only the privilege check remains.
    func execCacheControl() -> Step {
        privileged ? .exit : raiseFault(.generalProtection, errorCode: 0)
    }
}
