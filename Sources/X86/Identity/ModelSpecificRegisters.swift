/// Model-specific registers. Any index not listed here is #GP(0), as is a write with
/// reserved bits set (SDM Vol. 4 names the registers; Vol. 3A 11.11 the MTRRs, 11.12 the PAT).
struct ModelSpecificRegisters {
    static let timeStampCounter: UInt32 = 0x10
    static let apicBase: UInt32 = 0x1B
    /// IA32_TSC_DEADLINE: the local APIC timer's deadline in TSC-deadline mode.
    static let timeStampDeadline: UInt32 = 0x6E0
    /// The x2APIC registers (SDM Vol. 3A, 11.12.1.2): MSR 800h + offset / 16, reached only in
    /// x2APIC mode, through the CPU's interrupt controller.
    static let x2APICRegisters: ClosedRange<UInt32> = 0x800...0x8FF
    static let mtrrCapabilities: UInt32 = 0xFE
    static let sysenterCS: UInt32 = 0x174
    static let sysenterESP: UInt32 = 0x175
    static let sysenterEIP: UInt32 = 0x176
    static let miscEnable: UInt32 = 0x1A0
    static let mtrrVariableBase: UInt32 = 0x200   // 0x200–0x20F: PHYSBASE0, PHYSMASK0, … PHYSMASK7
    static let pageAttributeTable: UInt32 = 0x277
    static let mtrrDefaultType: UInt32 = 0x2FF
    static let efer: UInt32 = 0xC000_0080
    // The long-mode MSRs (SDM Vol. 4, Table 2-2), present only where CPUID reports long mode.
    static let star: UInt32 = 0xC000_0081
    static let longModeSystemCallTarget: UInt32 = 0xC000_0082
    static let compatibilitySystemCallTarget: UInt32 = 0xC000_0083
    static let systemCallFlagMask: UInt32 = 0xC000_0084
    static let fsBase: UInt32 = 0xC000_0100
    static let gsBase: UInt32 = 0xC000_0101
    static let kernelGSBase: UInt32 = 0xC000_0102
    /// IA32_TSC_AUX, which RDTSCP returns in ECX (present with CPUID 80000001h EDX bit 27).
    static let timeStampCounterAux: UInt32 = 0xC000_0103
    /// The eleven fixed-range MTRRs.
    static let mtrrFixed: [UInt32] = [0x250, 0x258, 0x259] + Array(0x268...0x26F)

    /// IA32_APIC_BASE: base FEE00000h, global enable, BSP flag per processor (SDM Vol. 3A, 11.4.4).
    var apicBase: UInt64 = 0xFEE0_0000 | ModelSpecificRegisters.apicGlobalEnable
    /// IA32_APIC_BASE bit 11.
    static let apicGlobalEnable: UInt64 = 1 << 11
    /// IA32_APIC_BASE bit 10 (EXTD): x2APIC mode, with bit 11 set.
    static let apicExtendedMode: UInt64 = 1 << 10

    /// Whether a WRMSR may take IA32_APIC_BASE's enable bits from `old` to `new` (SDM Vol. 3A,
    /// 11.12.5, Figure 11-27): EXTD without EN is an invalid state, x2APIC mode is left only
    /// for the disabled state (EN = EXTD = 0), and x2APIC mode is entered only from xAPIC mode.
    /// Every other transition (staying put, xAPIC ↔ disabled) is legal.
    static func isLegalAPICTransition(from old: UInt64, to new: UInt64) -> Bool {
        func state(_ value: UInt64) -> (enabled: Bool, extended: Bool) {
            (value & apicGlobalEnable != 0, value & apicExtendedMode != 0)
        }
        let (wasEnabled, wasExtended) = state(old), (enabled, extended) = state(new)
        if extended && !enabled { return false }
        if wasExtended && enabled && !extended { return false }
        if !wasEnabled && extended { return false }
        return true
    }
    var sysenterCS: UInt64 = 0
    /// SYSENTER's RSP and RIP (only their low halves outside IA-32e mode).
    var sysenterESP: UInt64 = 0
    var sysenterEIP: UInt64 = 0
    /// IA32_MISC_ENABLE: fast strings (bit 0) set at reset.
    var miscEnable: UInt64 = 1
    /// The power-up PAT: WB, WT, UC-, UC, repeated (SDM Vol. 3A, Table 11-12).
    var pageAttributeTable: UInt64 = 0x0007_0406_0007_0406
    var mtrrDefaultType: UInt64 = 0
    var mtrrVariable = [UInt64](repeating: 0, count: 16)
    var mtrrFixed = [UInt64](repeating: 0, count: 11)
    /// SYSCALL's and SYSRET's selectors (bits 47:32 and 63:48) and the legacy target.
    var star: UInt64 = 0
    /// SYSCALL's target in 64-bit mode (LSTAR) and in compatibility mode (CSTAR, unused by
    /// Intel processors, whose SYSCALL is #UD there).
    var longModeSystemCallTarget: UInt64 = 0
    var compatibilitySystemCallTarget: UInt64 = 0
    /// The RFLAGS bits SYSCALL clears (SFMASK).
    var systemCallFlagMask: UInt64 = 0
    /// The GS base SWAPGS exchanges with GS's.
    var kernelGSBase: UInt64 = 0
    /// IA32_TSC_AUX: bits 31:0 are the operating system's (a processor number, usually);
    /// 63:32 are reserved.
    var timeStampCounterAux: UInt64 = 0

    /// IA32_MTRRCAP: 8 variable ranges, fixed ranges and write-combining supported.
    static let mtrrCapabilityValue: UInt64 = 8 | 1 << 8 | 1 << 10
    /// Memory types an MTRR may hold (UC, WC, WT, WP, WB); the PAT also allows UC- (7).
    static func isMTRRType(_ type: UInt64) -> Bool { [0, 1, 4, 5, 6].contains(type) }
    static func isPATType(_ type: UInt64) -> Bool { [0, 1, 4, 5, 6, 7].contains(type) }
    /// Whether each of the eight bytes of `value` passes `isType` (PAT entries, fixed-range MTRRs).
    static func eachByte(of value: UInt64, is isType: (UInt64) -> Bool) -> Bool {
        (0..<8).allSatisfy { isType((value >> (8 * UInt64($0))) & 0xFF) }
    }
}

extension CPU {
    /// Whether this CPU's local APIC is in x2APIC mode (IA32_APIC_BASE.EXTD): its registers are
    /// MSRs 800h–8FFh; outside it those MSRs are #GP(0) (SDM Vol. 3A, 11.12.2).
    public var isInX2APICMode: Bool {
        hasLocalAPIC && msrs.apicBase & ModelSpecificRegisters.apicExtendedMode != 0
    }

    func readMSR(_ index: UInt32) -> UInt64? {
        if CPUIDIdentity.reportsLongMode, let value = readLongModeMSR(index) { return value }
        switch index {
        case ModelSpecificRegisters.timeStampCounter: return timeStampCounter
        case ModelSpecificRegisters.apicBase: return msrs.apicBase | (isBootstrapProcessor ? 1 << 8 : 0)
        case ModelSpecificRegisters.timeStampDeadline where hasLocalAPIC:
            return interruptController?.readTimeStampDeadline() ?? 0
        case ModelSpecificRegisters.x2APICRegisters where isInX2APICMode:
            return interruptController?.readAPICRegister(index)
        case ModelSpecificRegisters.mtrrCapabilities: return ModelSpecificRegisters.mtrrCapabilityValue
        case ModelSpecificRegisters.sysenterCS: return msrs.sysenterCS
        case ModelSpecificRegisters.sysenterESP: return msrs.sysenterESP
        case ModelSpecificRegisters.sysenterEIP: return msrs.sysenterEIP
        case ModelSpecificRegisters.miscEnable: return msrs.miscEnable
        case ModelSpecificRegisters.mtrrVariableBase..<ModelSpecificRegisters.mtrrVariableBase + 16:
            return msrs.mtrrVariable[Int(index - ModelSpecificRegisters.mtrrVariableBase)]
        case ModelSpecificRegisters.pageAttributeTable: return msrs.pageAttributeTable
        case ModelSpecificRegisters.mtrrDefaultType: return msrs.mtrrDefaultType
        case ModelSpecificRegisters.efer: return efer
        case ModelSpecificRegisters.timeStampCounterAux: return msrs.timeStampCounterAux
        default:
            if let fixed = ModelSpecificRegisters.mtrrFixed.firstIndex(of: index) { return msrs.mtrrFixed[fixed] }
            return nil
        }
    }

    func writeMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        if CPUIDIdentity.reportsLongMode, let written = writeLongModeMSR(index, value) { return written }
        switch index {
        case ModelSpecificRegisters.timeStampCounter:
            tscOffset = value &- timeStampBase
        case ModelSpecificRegisters.apicBase:
            // Reserved bits (above the physical address width, 0–7, 9, and 10 without a local
            // APIC to put in x2APIC mode) must be zero; the BSP flag (8) is read-only.
            let reserved = CPU.aboveAddressWidth | 0x2FF | (hasLocalAPIC ? 0 : ModelSpecificRegisters.apicExtendedMode)
            if value & reserved != 0 { return false }
            let value = value & ~(1 << 8)
            if !ModelSpecificRegisters.isLegalAPICTransition(from: msrs.apicBase, to: value) { return false }
            msrs.apicBase = value
            if hasObserver { observer?.cpu(self, changedAPICBase: msrs.apicBase) }
        case ModelSpecificRegisters.timeStampDeadline where hasLocalAPIC:
            interruptController?.writeTimeStampDeadline(value, timeStampCounter: timeStampCounter)
        case ModelSpecificRegisters.x2APICRegisters where isInX2APICMode:
            return interruptController?.writeAPICRegister(index, value) ?? false
        case ModelSpecificRegisters.sysenterCS: msrs.sysenterCS = value & 0xFFFF_FFFF
        case ModelSpecificRegisters.sysenterESP, ModelSpecificRegisters.sysenterEIP:
            // Linear addresses: 64 bits and canonical (else #GP) where long mode exists, which
            // SYSENTER uses whole in IA-32e mode (SDM Vol. 2, WRMSR and SYSENTER).
            let address = CPUIDIdentity.reportsLongMode ? value : value & 0xFFFF_FFFF
            if !isCanonical(address) { return false }
            if index == ModelSpecificRegisters.sysenterESP { msrs.sysenterESP = address } else { msrs.sysenterEIP = address }
        case ModelSpecificRegisters.miscEnable: msrs.miscEnable = value
        case ModelSpecificRegisters.mtrrVariableBase..<ModelSpecificRegisters.mtrrVariableBase + 16:
            let n = Int(index - ModelSpecificRegisters.mtrrVariableBase)
            // PHYSBASE: type in 7:0, 11:8 reserved; PHYSMASK: valid in bit 11, 10:0 reserved.
            let reserved: UInt64 = n % 2 == 0 ? 0xF00 : 0x7FF
            if value & (reserved | CPU.aboveAddressWidth) != 0 { return false }
            if n % 2 == 0 && !ModelSpecificRegisters.isMTRRType(value & 0xFF) { return false }
            msrs.mtrrVariable[n] = value
        case ModelSpecificRegisters.pageAttributeTable:
            if !ModelSpecificRegisters.eachByte(of: value, is: ModelSpecificRegisters.isPATType) { return false }
            msrs.pageAttributeTable = value
        case ModelSpecificRegisters.mtrrDefaultType:
            if value & ~0xCFF != 0 || !ModelSpecificRegisters.isMTRRType(value & 0xFF) { return false }
            msrs.mtrrDefaultType = value
        case ModelSpecificRegisters.efer:
            // LMA is the processor's: writes to it are ignored. LME cannot change while paging is on
            // (SDM Vol. 3A, 10.8.5). Long mode and SYSCALL are reported in CPUID only once 64-bit
            // code runs, so until then they are reserved bits, as CPUID says.
            let writable = ExtendedFeatureEnable.noExecuteEnable
                | (CPUIDIdentity.reportsLongMode ? ExtendedFeatureEnable.longModeEnable | ExtendedFeatureEnable.systemCallEnable : 0)
            let value = value & ~ExtendedFeatureEnable.longModeActive
            if value & ~writable != 0 { return false }
            if pagingEnabled && (value ^ efer) & ExtendedFeatureEnable.longModeEnable != 0 { return false }
            efer = value | (efer & ExtendedFeatureEnable.longModeActive)
            flushTLB()
        case ModelSpecificRegisters.timeStampCounterAux:
            if value >> 32 != 0 { return false }
            msrs.timeStampCounterAux = value
        default:
            guard let fixed = ModelSpecificRegisters.mtrrFixed.firstIndex(of: index) else { return false }
            if !ModelSpecificRegisters.eachByte(of: value, is: ModelSpecificRegisters.isMTRRType) { return false }
            msrs.mtrrFixed[fixed] = value
        }
        return true
    }
}

extension CPU {
    /// The long-mode MSRs; `nil` for any other index.
    func readLongModeMSR(_ index: UInt32) -> UInt64? {
        switch index {
        case ModelSpecificRegisters.star: msrs.star
        case ModelSpecificRegisters.longModeSystemCallTarget: msrs.longModeSystemCallTarget
        case ModelSpecificRegisters.compatibilitySystemCallTarget: msrs.compatibilitySystemCallTarget
        case ModelSpecificRegisters.systemCallFlagMask: msrs.systemCallFlagMask
        case ModelSpecificRegisters.fsBase: segs[SegmentRegister.fs.rawValue].base
        case ModelSpecificRegisters.gsBase: segs[SegmentRegister.gs.rawValue].base
        case ModelSpecificRegisters.kernelGSBase: msrs.kernelGSBase
        default: nil
        }
    }

    /// Writes a long-mode MSR: `false` for a value the SDM makes #GP(0) (a non-canonical
    /// address), `nil` for any other index.
    func writeLongModeMSR(_ index: UInt32, _ value: UInt64) -> Bool? {
        typealias MSR = ModelSpecificRegisters
        // LSTAR, CSTAR, FS.base, GS.base and KernelGSBase hold linear addresses.
        let holdsAddress = (MSR.longModeSystemCallTarget...MSR.compatibilitySystemCallTarget).contains(index)
            || (MSR.fsBase...MSR.kernelGSBase).contains(index)
        if holdsAddress && !isCanonical(value) { return false }
        switch index {
        case ModelSpecificRegisters.star: msrs.star = value
        case ModelSpecificRegisters.longModeSystemCallTarget: msrs.longModeSystemCallTarget = value
        case ModelSpecificRegisters.compatibilitySystemCallTarget: msrs.compatibilitySystemCallTarget = value
        case ModelSpecificRegisters.systemCallFlagMask: msrs.systemCallFlagMask = value & 0xFFFF_FFFF
        case ModelSpecificRegisters.fsBase: segs[SegmentRegister.fs.rawValue].base = value
        case ModelSpecificRegisters.gsBase: segs[SegmentRegister.gs.rawValue].base = value
        case ModelSpecificRegisters.kernelGSBase: msrs.kernelGSBase = value
        default: return nil
        }
        return true
    }
}
