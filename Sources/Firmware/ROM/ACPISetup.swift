import X86Asm

/// The ROM's ACPI steps, as a BIOS's POST does them: program the chipset's power-management
/// decode (early, for the S3 resume check) and install the ACPI tables the machine built
/// (``ACPIInstallation``).
public enum ACPISetup {
    /// The I/O base the ROM gives the power-management block (the FADT's, by default).
    public static let powerManagementBase: UInt16 = 0x600
    /// PCI configuration mechanism #1 addresses of the LPC bridge (00:1F.0) registers PMBASE
    /// (40h) and ACPI_CNTL (44h).
    static let pmBaseAddress: UInt32 = 0x8000_F840
    static let acpiControlAddress: UInt32 = 0x8000_F844
    /// ACPI_CNTL: ACPI_EN, SCI_IRQ_SEL 000b (IRQ 9).
    static let acpiControl: UInt8 = 0x80
    /// The second ELCR port (IRQ 8–15) and IRQ 9's bit: the SCI is level-triggered.
    static let elcrPort: UInt16 = 0x4D1
    static let elcrIRQ9: UInt8 = 0x02
    /// POST code when a table file could not be copied (the fw_cfg DMA reported an error).
    public static let failurePostCode: UInt8 = 0xEA
    /// The milestone logged then (only then: a normal boot logs nothing for this step).
    public static let failureMilestone = "acpi-failed"
}

extension Assembler {
    /// Emits the chipset's power-management decode, for 16-bit real-mode code, early in POST
    /// (before the S3 resume check reads the PM block): the LPC bridge (00:1F.0, through
    /// CF8h/CFCh) gets PMBASE ← ``ACPISetup/powerManagementBase`` (bit 0 is the read-only I/O
    /// indicator) and ACPI_CNTL ← ACPI_EN with the SCI on IRQ 9; the ELCR marks IRQ 9
    /// level-triggered (the SCI is a level interrupt). Both are core-well registers, lost in
    /// every reset and in S3. Clobbers EAX and DX.
    public mutating func emitPowerManagementDecode() {
        mov(.dx, Int(PCIMechanism1.addressPort))
        mov(.eax, Int(ACPISetup.pmBaseAddress))
        out(.dx, .eax)
        mov(.dx, Int(PCIMechanism1.dataPort))
        mov(.eax, Int(ACPISetup.powerManagementBase) | 1)
        out(.dx, .eax)
        mov(.dx, Int(PCIMechanism1.addressPort))
        mov(.eax, Int(ACPISetup.acpiControlAddress))
        out(.dx, .eax)
        mov(.dx, Int(PCIMechanism1.dataPort))
        mov(.al, Int(ACPISetup.acpiControl))
        out(.dx, .al)
        mov(.dx, Int(ACPISetup.elcrPort))
        `in`(.al, .dx)
        or(.al, Int(ACPISetup.elcrIRQ9))
        out(.dx, .al)
    }

    /// Emits the ACPI table step, for 16-bit real-mode code with DS = CS = F000h and SS = 0
    /// (the DMA descriptor lives on the stack, whose offset is then its physical address):
    /// for each of ``ACPIInstallation/tablesFileName`` and ``ACPIInstallation/rsdpFileName``
    /// present in the firmware configuration, reads the 32-bit destination through the data
    /// port, then has the fw_cfg DMA interface copy the rest of the file there (an
    /// `FWCfgDmaAccess` with control READ, big-endian, written to 514h/518h). A DMA error
    /// logs ``ACPISetup/failureMilestone`` through `log` and sends ``ACPISetup/failurePostCode``.
    ///
    /// `lookup` is the ROM's ``emitFirmwareConfigLookup()`` routine. Clobbers EAX, EBX, ECX,
    /// EDX, EDI, SI and BP.
    public mutating func emitACPISetup(log: Label, lookup: Label) {
        let done = newLabel("acpiSetupDone"), failed = newLabel("acpiSetupFailed")
        let tablesName = newLabel("acpiTablesName"), rsdpName = newLabel("acpiRSDPName")
        let failureText = newLabel("acpiFailureText")

        for name in [tablesName, rsdpName] {
            let skip = newLabel()
            mov(.si, name)
            call(lookup)
            jcc(.c, skip)
            cmp(.ecx, 4)
            jcc(.be, skip)
            selectFirmwareConfigItemInBX()
            readLittleEndianDword()                // EAX = destination
            sub(.ecx, 4)                           // ECX = bytes after it
            bswap(.eax)
            push(.eax)                             // +12 address, low half (big-endian)
            push(0, size: .dword)                  // +8  address, high half
            bswap(.ecx)
            push(.ecx)                             // +4  length
            push(0x0200_0000, size: .dword)        // +0  control: READ (02h, big-endian)
            mov(.bp, .sp)
            xor(.eax, .eax)
            mov(.dx, Int(FirmwareConfigInterface.dmaAddressPort))
            out(.dx, .eax)                         // high half of the descriptor's address: 0
            movzx(.eax, .sp)
            bswap(.eax)
            add(.dx, 4)
            out(.dx, .eax)                         // low half: the transfer runs now
            mov(.eax, Mem(.bp, size: .dword))      // control as the device left it: 0 when done
            add(.sp, 16)
            test(.eax, .eax)
            jcc(.nz, failed)
            bind(skip)
        }
        jmp(done)

        bind(failed)
        outByte(0x80, ACPISetup.failurePostCode)
        mov(.si, failureText)
        call(log)
        jmp(done)

        emitFirmwareConfigName(ACPIInstallation.tablesFileName, label: tablesName)
        emitFirmwareConfigName(ACPIInstallation.rsdpFileName, label: rsdpName)
        bind(failureText)
        db(Array(ACPISetup.failureMilestone.utf8) + [0])
        bind(done)
    }
}

/// PCI configuration mechanism #1's ports, as the ROM uses them.
enum PCIMechanism1 {
    static let addressPort: UInt16 = 0xCF8
    static let dataPort: UInt16 = 0xCFC
}

extension FirmwareConfigInterface {
    /// The DMA address register (high half; the low half, whose write starts the transfer, at +4).
    public static let dmaAddressPort: UInt16 = 0x514
}
