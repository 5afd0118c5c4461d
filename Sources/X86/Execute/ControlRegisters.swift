/// MOV to and from CR0, CR2, CR3 and CR4, with the mode changes they make.
extension CPU {
    /// CR0 bits that MOV to CR0 can change.
    private static let cr0Writable: UInt32 = ControlRegister0.protectionEnable | ControlRegister0.monitorCoprocessor
        | ControlRegister0.emulation | ControlRegister0.taskSwitched | ControlRegister0.numericError
        | ControlRegister0.writeProtect | ControlRegister0.alignmentMask | ControlRegister0.notWriteThrough
        | ControlRegister0.cacheDisable | ControlRegister0.paging

    /// CR4 bits implemented (the features CPUID reports): DE, TSD, PSE, PAE, PGE, PCE, OSFXSR
    /// and OSXMMEXCPT. Setting any other bit is #GP(0).
    static let cr4Writable: UInt32 = ControlRegister4.timeStampDisable | ControlRegister4.debuggingExtensions
        | ControlRegister4.pageSizeExtensions | ControlRegister4.physicalAddressExtension
        | ControlRegister4.pageGlobalEnable | ControlRegister4.performanceCounterEnable | ControlRegister4.osfxsr
        | ControlRegister4.osxmmexcpt

    /// Loads CR0 with the SDM's checks (Vol. 3A, 2.5; Vol. 2, MOV CR): PG without PE,
    /// or NW without CD, is #GP(0). ET is hardwired to 1. Turning on PAE paging loads the PDPTEs.
    ///
    /// Turning paging on with EFER.LME set activates IA-32e mode (EFER.LMA) and needs CR4.PAE;
    /// turning it off leaves IA-32e mode, but not from 64-bit code (SDM Vol. 3A, 10.8.5 and 10.8.5.4).
    func writeCR0(_ value: UInt32) -> Step {
        if value & ControlRegister0.paging != 0 && value & ControlRegister0.protectionEnable == 0 {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        if value & ControlRegister0.notWriteThrough != 0 && value & ControlRegister0.cacheDisable == 0 {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        let newValue = (value & CPU.cr0Writable) | ControlRegister0.extensionType
        let changed = newValue ^ cr0
        let oldValue = cr0
        let activating = changed & newValue & ControlRegister0.paging != 0 && efer & ExtendedFeatureEnable.longModeEnable != 0
        let leaving = changed & ControlRegister0.paging != 0 && newValue & ControlRegister0.paging == 0 && longModeActive
        if activating && !paeEnabled { return raiseFault(.generalProtection, errorCode: 0) }
        if leaving && segs[SegmentRegister.cs.rawValue].isLongMode { return raiseFault(.generalProtection, errorCode: 0) }
        cr0 = newValue
        if activating {
            efer |= ExtendedFeatureEnable.longModeActive
        } else if leaving {
            efer &= ~ExtendedFeatureEnable.longModeActive
        } else if changed & newValue & ControlRegister0.paging != 0 && paeEnabled {
            guard loadPageDirectoryPointers() else {
                cr0 = oldValue
                return .fault
            }
        }
        if changed & (ControlRegister0.paging | ControlRegister0.writeProtect | ControlRegister0.protectionEnable) != 0 {
            flushTLB()
        }
        if changed & ControlRegister0.protectionEnable != 0 {
            // Entering protected mode keeps CPL 0 until CS is reloaded; leaving it is real mode's 0.
            setPrivilegeLevel(0)
            refreshSegmentBounds()
        }
        if hasObserver && changed & (ControlRegister0.paging | ControlRegister0.protectionEnable) != 0 {
            observer?.cpu(self, changedModeFrom: oldValue, to: newValue)
        }
        return .exit
    }

    func execMovFromCR(_ d: Instruction) -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        let value: UInt64
        switch d.sub {
        case 0: value = UInt64(cr0)
        case 2: value = cr2
        case 3: value = cr3
        case 8: value = cr8
        default: value = UInt64(cr4)
        }
        // 64 bits in 64-bit mode, else 32.
        writeRegister(d.rm, d.size, value)
        return .next
    }

    func execMovToCR(_ d: Instruction) -> Step {
        guard privileged else { return raiseFault(.generalProtection, errorCode: 0) }
        let value = readRegister(d.rm, d.size)
        switch d.sub {
        case 0:
            return writeCR0(UInt32(truncatingIfNeeded: value))
        case 2:
            cr2 = UInt64(value)
        case 3:
            return writeCR3(value)
        case 8:
            // CR8 holds the task priority in bits 3:0; the rest are reserved (SDM Vol. 3A, 2.5).
            if value & ~0xF != 0 { return raiseFault(.generalProtection, errorCode: 0) }
            cr8 = value
        default:
            return writeCR4(UInt32(truncatingIfNeeded: value))
        }
        return .exit
    }

    /// CR3: with PAE paging on, the PDPTEs load now (not with 4-level paging). The TLB drops every
    /// non-global entry. All 32 bits are kept: bits 11:5, ignored by 32-bit paging, address the
    /// PDPT once PAE is on.
    func writeCR3(_ value: UInt64) -> Step {
        // In IA-32e mode the bits of CR3 at and above MAXPHYADDR (CPUID 80000008h EAX[7:0]) are
        // reserved, bit 63 too without PCIDs: #GP(0) (SDM Vol. 3A, 4.5.2 and Table 4-12; Vol. 2,
        // MOV to CR). The paging-structure entries use the same width (`aboveAddressWidth`).
        if longModeActive && value & CPU.aboveAddressWidth != 0 {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        let old = cr3
        cr3 = value
        if pagingEnabled && paeEnabled && !longModeActive {
            guard loadPageDirectoryPointers() else {
                cr3 = old
                return .fault
            }
        }
        flushTLB(keepingGlobal: true)
        return .exit
    }

    /// CR4: unimplemented bits are #GP(0); changing PSE, PAE or PGE flushes the whole TLB,
    /// and PAE with paging on loads the PDPTEs (SDM Vol. 3A, 4.10.4.1, 4.4.1).
    func writeCR4(_ value: UInt32) -> Step {
        if value & ~CPU.cr4Writable != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        // IA-32e mode needs PAE (SDM Vol. 3A, 10.8.5).
        if longModeActive && value & ControlRegister4.physicalAddressExtension == 0 {
            return raiseFault(.generalProtection, errorCode: 0)
        }
        let old = cr4
        cr4 = value
        if (old ^ value) & ControlRegister4.debuggingExtensions != 0 { updateBreakpoints() }
        let pagingBits = ControlRegister4.pageSizeExtensions | ControlRegister4.physicalAddressExtension
            | ControlRegister4.pageGlobalEnable
        if (old ^ value) & pagingBits != 0 {
            if pagingEnabled && paeEnabled && !longModeActive {
                guard loadPageDirectoryPointers() else {
                    cr4 = old
                    return .fault
                }
            }
            flushTLB()
        }
        return .exit
    }
}
