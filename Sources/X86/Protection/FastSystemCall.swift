/// SYSENTER and SYSEXIT, SYSCALL and SYSRET (SDM Vol. 2): flat segments derived from an MSR
/// (IA32_SYSENTER_CS, IA32_STAR), no descriptor reads, no stack frame.
extension CPU {
    /// SYSCALL in 64-bit mode: RCX and R11 take RIP and RFLAGS, RFLAGS loses the IA32_FMASK
    /// bits and RF, and execution goes on at IA32_LSTAR in the flat 64-bit code segment
    /// STAR[47:32] at CPL 0 (SS the selector after it). #UD without EFER.SCE.
    func execSyscall() -> Step {
        if efer & ExtendedFeatureEnable.systemCallEnable == 0 { return raiseFault(.invalidOpcode) }
        let selector = UInt16(truncatingIfNeeded: msrs.star >> 32) & 0xFFFC
        regs[GeneralRegister.rcx.rawValue] = rip
        let flags = eflags
        regs[GeneralRegister.r11.rawValue] = UInt64(flags & ~EFlags.resume)
        // RFLAGS ← RFLAGS AND NOT(IA32_FMASK), status flags included (so not on the lazy copy);
        // bit 1 is reserved and stays 1 whatever the mask (SDM Vol. 2, SYSCALL; Vol. 1, 3.4.3).
        setEFlags(flags & ~(UInt32(truncatingIfNeeded: msrs.systemCallFlagMask) | EFlags.resume))
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: selector, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatCode | SegmentCache.longModeCode)
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: selector &+ 8, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000)
        setPrivilegeLevel(0)
        rip = msrs.longModeSystemCallTarget
        return .exit
    }

    /// SYSRET from 64-bit mode at CPL 0: RIP from RCX (from ECX for the 32-bit form, into
    /// compatibility code), RFLAGS from R11, CS and SS derived from STAR[63:48] at CPL 3. A
    /// non-canonical RCX is #GP(0) here, before anything changes, as on Intel processors.
    func execSysret(_ d: Instruction) -> Step {
        if efer & ExtendedFeatureEnable.systemCallEnable == 0 { return raiseFault(.invalidOpcode) }
        if cpl != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        let toLongMode = d.size == .qword
        let target = toLongMode ? regs[GeneralRegister.rcx.rawValue] : UInt64(reg32(.rcx))
        if !isCanonical(target) { return raiseFault(.generalProtection, errorCode: 0) }
        let base = UInt16(truncatingIfNeeded: msrs.star >> 48)
        let codeSelector = (toLongMode ? base &+ 16 : base) | 3
        let codeAttributes = SegmentCache.flatCode | 0x60 | (toLongMode ? SegmentCache.longModeCode : 0x4000)
        setEFlags(UInt32(truncatingIfNeeded: regs[GeneralRegister.r11.rawValue]) & ~(EFlags.resume | EFlags.virtual8086))
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: codeSelector, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: codeAttributes)
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: (base &+ 8) | 3, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000 | 0x60)
        setPrivilegeLevel(3)
        rip = target
        return .exit
    }

    func execSysenter() -> Step {
        let codeSelector = UInt16(truncatingIfNeeded: msrs.sysenterCS)
        if !isProtectedMode || codeSelector.isNullSelector { return raiseFault(.generalProtection, errorCode: 0) }
        eflagsStored &= ~(EFlags.virtual8086 | EFlags.interrupt | EFlags.resume)
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: codeSelector & 0xFFFC, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatCode | 0x4000)
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: (codeSelector & 0xFFFC) &+ 8, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000)
        setPrivilegeLevel(0)
        setReg32(.rsp, UInt32(truncatingIfNeeded: msrs.sysenterESP))
        rip = UInt64(UInt32(truncatingIfNeeded: msrs.sysenterEIP))
        return .exit
    }

    func execSysexit(_ d: Instruction) -> Step {
        let codeSelector = UInt16(truncatingIfNeeded: msrs.sysenterCS)
        if !isProtectedMode || isVirtual8086 || cpl != 0 || codeSelector.isNullSelector {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: (codeSelector &+ 16) | 3, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatCode | 0x4000 | 0x60)
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: (codeSelector &+ 24) | 3, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000 | 0x60)
        setPrivilegeLevel(3)
        setReg32(.rsp, reg32(.rcx))
        rip = UInt64(reg32(.rdx))
        return .exit
    }
}

extension SegmentCache {
    /// Present, accessed, execute/read code with G set (D/B added by the caller).
    static let flatCode: UInt32 = 0x809B
    /// Present, accessed, read/write data with G set.
    static let flatData: UInt32 = 0x8093
    /// L: 64-bit code (with D clear).
    static let longModeCode: UInt32 = 0x2000
}
