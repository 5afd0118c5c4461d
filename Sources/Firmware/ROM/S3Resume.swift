import X86Asm

/// How the ROM tells a wake from S3 from a boot, and resumes the operating system.
///
/// The chipset flag, as ICH-class firmware reads it (coreboot's ICH southbridges do the same):
/// after the power-management decode is programmed again (the wake reset it), PM1_STS's
/// WAK_STS is set and PM1_CNT's SLP_TYP still reads S3's value (both live in the resume well,
/// which S3 keeps powered). The CMOS shutdown byte is not used: it belongs to the AT's
/// protected-mode return codes (05h, 0Ah) the ROM honours first.
///
/// On a resume the ROM clears SLP_TYP (so a later reset boots normally), puts the board back
/// in ACPI mode (ACPI_ENABLE to SMI_CMD, as firmware must before it returns to the OS: ACPI
/// 6.5 §16.3.2), opens the A20 gate (fast A20), finds the FACS — the first table of the tables
/// file, at its destination (``ACPIInstallation``) — and jumps to its 32-bit
/// Firmware_Waking_Vector in real mode: CS = vector >> 4, IP = vector & 0Fh (ACPI 6.5 §5.2.10).
/// The processors other than the bootstrap one stay waiting for a start-up IPI (the ROM does
/// not count them again). X_Firmware_Waking_Vector is not used: the FACS offers no 64-bit or
/// protected-mode wake (its flags leave 64BIT_WAKE_SUPPORTED_F clear), so an OS sets the
/// real-mode vector. A vector of 0 (or one at or above 1 MiB, which real mode cannot reach)
/// means there is nothing to resume: the ROM logs ``noVectorMilestone`` and boots normally.
public enum S3Resume {
    /// The milestone logged when the ROM sees a wake from S3.
    public static let milestone = "s3-resume"
    /// The milestone logged when the FACS has no usable waking vector.
    public static let noVectorMilestone = "no-waking-vector"
    /// The POST code sent just before the jump to the waking vector.
    public static let postCode: UInt8 = 0x0B
    /// Firmware_Waking_Vector's offset in the FACS.
    static let wakingVectorOffset = 12
    static let wakeStatus = 1 << 15
    static let sleepTypeMask = 7 << 10
}

extension Assembler {
    /// Emits the resume check, for 16-bit real-mode code with DS = CS = F000h and SS:SP a
    /// stack, after ``emitPowerManagementDecode()``; it falls through on a boot. `log` logs
    /// the milestone at DS:SI (`milestone` and `noVector` are ``S3Resume/milestone`` and
    /// ``S3Resume/noVectorMilestone``); `lookup` is ``emitFirmwareConfigLookup()``.
    /// Clobbers EAX, EBX, ECX, EDX, EDI, SI, BP and FS.
    public mutating func emitS3Resume(log: Label, lookup: Label, milestone: Label, noVector: Label) {
        let boot = newLabel("s3NotResume"), noWakingVector = newLabel("s3NoVector"), tablesName = newLabel("s3TablesName")
        let pm1Status = Int(ACPISetup.powerManagementBase) + ACPIPowerManagementBlock.pm1EventOffset
        let pm1Control = Int(ACPISetup.powerManagementBase) + ACPIPowerManagementBlock.pm1ControlOffset
        let sleepTypes = ACPISleepTypes.ich

        mov(.dx, pm1Status)
        `in`(.ax, .dx)
        test(.ax, S3Resume.wakeStatus)
        jcc(.z, boot)
        mov(.dx, pm1Control)
        `in`(.ax, .dx)
        mov(.cx, .ax)
        and(.ax, S3Resume.sleepTypeMask)
        cmp(.ax, Int(sleepTypes.s3) << 10)
        jcc(.ne, boot)
        and(.cx, ~S3Resume.sleepTypeMask & 0xFFFF)
        or(.cx, Int(sleepTypes.s0) << 10)
        mov(.ax, .cx)
        out(.dx, .ax)                                  // SLP_TYP ← S0's
        if case .smiCommand(let port, let enable, _) = ACPIModeControl.ich {
            mov(.dx, Int(port))
            mov(.al, Int(enable))
            out(.dx, .al)                              // ACPI mode again
        }
        mov(.si, milestone)
        call(log)
        `in`(.al, 0x92)
        and(.al, 0xFE)
        or(.al, 0x02)
        out(0x92, .al)                                 // fast A20 on, no reset

        // The FACS: the tables file's destination.
        mov(.si, tablesName)
        call(lookup)
        jcc(.c, noWakingVector)
        cmp(.ecx, 4)
        jcc(.be, noWakingVector)
        selectFirmwareConfigItemInBX()
        readLittleEndianDword()
        mov(.ebx, .eax)
        emitUnrealMode([.fs])
        cmp(Mem(.ebx, size: .dword, segment: .fs), 0x5343_4146)          // "FACS"
        jcc(.ne, noWakingVector)
        mov(.eax, Mem(.ebx, disp: S3Resume.wakingVectorOffset, size: .dword, segment: .fs))
        test(.eax, .eax)
        jcc(.z, noWakingVector)
        cmp(.eax, 0x10_0000)
        jcc(.ae, noWakingVector)
        mov(.ecx, .eax)
        outByte(0x80, S3Resume.postCode)
        mov(.eax, .ecx)
        shr(.ecx, 4)
        push(.cx)                                      // CS = vector >> 4
        and(.ax, 0x0F)
        push(.ax)                                      // IP = vector & 0Fh
        retf()

        bind(noWakingVector)
        mov(.si, noVector)
        call(log)
        jmp(boot)
        emitFirmwareConfigName(ACPIInstallation.tablesFileName, label: tablesName)
        bind(boot)
    }
}
