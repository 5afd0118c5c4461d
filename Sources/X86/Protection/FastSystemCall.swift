/// SYSENTER and SYSEXIT (SDM Vol. 2): flat segments derived from IA32_SYSENTER_CS, no
/// descriptor reads, no stack frame.
extension CPU {
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
}
