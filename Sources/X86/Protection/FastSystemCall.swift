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

    /// SYSENTER (SDM Vol. 2): CPL 0 in the flat code segment IA32_SYSENTER_CS (SS the selector
    /// after it) at IA32_SYSENTER_EIP with IA32_SYSENTER_ESP; VM, IF and RF cleared. In IA-32e
    /// mode, from 64-bit and compatibility code alike, CS is 64-bit code (L = 1, D = 0) and RSP and
    /// RIP take the MSRs' 64 bits; elsewhere 32-bit code with their low halves.
    func execSysenter() -> Step {
        let codeSelector = UInt16(truncatingIfNeeded: msrs.sysenterCS) & 0xFFFC
        if !isProtectedMode || codeSelector.isNullSelector { return raiseFault(.generalProtection, errorCode: 0) }
        let toLongMode = longModeActive
        eflagsStored &= ~(EFlags.virtual8086 | EFlags.interrupt | EFlags.resume)
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: codeSelector, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatCode | (toLongMode ? SegmentCache.longModeCode : 0x4000))
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: codeSelector &+ 8, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000)
        setPrivilegeLevel(0)
        let mask: UInt64 = toLongMode ? ~0 : 0xFFFF_FFFF
        regs[GeneralRegister.rsp.rawValue] = msrs.sysenterESP & mask
        rip = msrs.sysenterEIP & mask
        return .exit
    }

    /// SYSEXIT (SDM Vol. 2) from CPL 0: CPL 3 at RDX with RSP from RCX, in the flat code segment
    /// IA32_SYSENTER_CS + 16 (32-bit or compatibility code, from EDX and ECX) or, with REX.W,
    /// + 32 (64-bit code; a non-canonical RCX or RDX is #GP(0)); SS is the selector after CS.
    func execSysexit(_ d: Instruction) -> Step {
        let base = UInt16(truncatingIfNeeded: msrs.sysenterCS)
        if !isProtectedMode || isVirtual8086 || cpl != 0 || base.isNullSelector {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        let toLongMode = d.size == .qword
        let stackPointer = toLongMode ? regs[GeneralRegister.rcx.rawValue] : UInt64(reg32(.rcx))
        let target = toLongMode ? regs[GeneralRegister.rdx.rawValue] : UInt64(reg32(.rdx))
        if !isCanonical(stackPointer) || !isCanonical(target) { return raiseFault(.generalProtection, errorCode: 0) }
        let codeSelector = (base &+ (toLongMode ? 32 : 16)) | 3
        segs[SegmentRegister.cs.rawValue] = SegmentCache(selector: codeSelector, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatCode | 0x60 | (toLongMode ? SegmentCache.longModeCode : 0x4000))
        segs[SegmentRegister.ss.rawValue] = SegmentCache(selector: codeSelector &+ 8, base: 0, limit: 0xFFFF_FFFF,
                                                        attributes: SegmentCache.flatData | 0x4000 | 0x60)
        setPrivilegeLevel(3)
        regs[GeneralRegister.rsp.rawValue] = stackPointer
        rip = target
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
