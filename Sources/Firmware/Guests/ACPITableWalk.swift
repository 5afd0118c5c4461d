import X86Asm

/// What an operating system does with the ACPI tables before it resets or puts the board to
/// sleep, as routines for 16-bit code in flat real mode (DS a 4 GiB segment at base 0, from
/// ``Assembler/emitUnrealMode(_:)``), so they reach the tables at the top of RAM. The built-in
/// ACPI guests and the machine tests' guests use them.
///
/// Each check that fails jumps to the caller's `fail` label with BP = its step number
/// (``ACPITableWalkStep``).
public enum ACPITableWalkStep: Int, Sendable, CaseIterable {
    case noRSDP = 0, rsdpChecksum, extendedChecksum, rootSignature, rootChecksum, noFADT, fadtChecksum
    case noSleepPackage, notAPackage, sleepTypeNotAnInteger, noFACS
}

extension Assembler {
    /// Emits the checksum subroutine and returns its label: AL = the sum of ECX bytes at
    /// DS:ESI (flat), ZF set when it is zero. ESI and ECX are kept.
    public mutating func emitACPIChecksumRoutine() -> Label {
        let sum = newLabel("acpiChecksum"), nextByte = newLabel()
        bind(sum)
        push(.esi)
        push(.ecx)
        xor(.al, .al)
        bind(nextByte)
        add(.al, Mem(.esi, size: .byte))
        inc(.esi)
        dec(.ecx)
        jcc(.nz, nextByte)
        pop(.ecx)
        pop(.esi)
        test(.al, .al)
        ret()
        return sum
    }

    /// Emits, inline, the way Linux finds the FADT (`acpi_find_root_pointer`): the RSDP
    /// ("RSD PTR ", ACPI 6.5 §5.2.5.1) on a 16-byte boundary in the first KiB of the EBDA
    /// (its segment at BDA 40Eh), else in E0000h–FFFFFh; its checksums (20 bytes, and 36 for
    /// revision 2); then the XSDT (revision ≥ 2 and a nonzero address below 4 GiB), else the
    /// RSDT, checked; and among its entries the table signed "FACP", checked. Out: ESI = the
    /// FADT. `sum` is ``emitACPIChecksumRoutine()``. Clobbers EAX, EBX, ECX, EDX, EDI.
    public mutating func emitFindFADT(sum: Label, fail: Label) {
        func check(_ failing: Condition, _ step: ACPITableWalkStep) { failWalk(if: failing, step, to: fail) }
        let scan = newLabel(), next = newLabel(), found = newLabel()
        movzx(.esi, Mem(disp: 0x40E, size: .word))
        shl(.esi, 4)
        lea(.edi, Mem(.esi, disp: 0x400))                        // EDI = end of the area
        bind(scan)
        cmp(Mem(.esi, size: .dword), 0x2044_5352)                // "RSD "
        jcc(.ne, next)
        cmp(Mem(.esi, disp: 4, size: .dword), 0x2052_5450)       // "PTR "
        jcc(.e, found)
        bind(next)
        add(.esi, 16)
        cmp(.esi, .edi)
        jcc(.b, scan)
        cmp(.edi, 0x10_0000)
        check(.e, .noRSDP)
        mov(.esi, 0xE_0000)                                      // then the BIOS area
        mov(.edi, 0x10_0000)
        jmp(scan)
        bind(found)
        mov(.ecx, 20)
        call(sum)
        check(.nz, .rsdpChecksum)
        // Revision 2: the extended checksum and the XSDT, 8-byte entries; else the RSDT, 4-byte.
        let rsdt = newLabel(), root = newLabel()
        cmp(Mem(.esi, disp: 15, size: .byte), 2)
        jcc(.b, rsdt)
        mov(.ecx, 36)
        call(sum)
        check(.nz, .extendedChecksum)
        cmp(Mem(.esi, disp: 28, size: .dword), 0)
        jcc(.ne, rsdt)
        mov(.edi, Mem(.esi, disp: 24, size: .dword))
        test(.edi, .edi)
        jcc(.z, rsdt)
        mov(.edx, 8)
        mov(.eax, 0x5444_5358)                                   // "XSDT"
        jmp(root)
        bind(rsdt)
        mov(.edi, Mem(.esi, disp: 16, size: .dword))
        mov(.edx, 4)
        mov(.eax, 0x5444_5352)                                   // "RSDT"
        bind(root)
        mov(.esi, .edi)
        cmp(Mem(.esi, size: .dword), .eax)
        check(.ne, .rootSignature)
        mov(.ecx, Mem(.esi, disp: 4, size: .dword))
        call(sum)
        check(.nz, .rootChecksum)
        mov(.ecx, Mem(.esi, disp: 4, size: .dword))
        sub(.ecx, 36)
        lea(.ebx, Mem(.esi, disp: 36))
        let entry = newLabel(), fadt = newLabel()
        bind(entry)
        cmp(.ecx, .edx)
        check(.b, .noFADT)
        mov(.edi, Mem(.ebx, size: .dword))
        cmp(Mem(.edi, size: .dword), 0x5043_4146)                // "FACP"
        jcc(.e, fadt)
        add(.ebx, .edx)
        sub(.ecx, .edx)
        jmp(entry)
        bind(fadt)
        mov(.esi, .edi)
        mov(.ecx, Mem(.esi, disp: 4, size: .dword))
        call(sum)
        check(.nz, .fadtChecksum)
    }

    /// Emits, inline, for ESI = the FADT: `\_Sx`'s SLP_TYP for PM1a from the DSDT's AML, as
    /// Linux's `acpi_get_sleep_type_data` takes it — the NameOp object "_Sx_" whose value is a
    /// package, its first element (ZeroOp, OneOp or BytePrefix and a byte). Out: AL = SLP_TYP.
    /// Clobbers ECX, EDI.
    public mutating func emitSleepTypeLookup(state: String, fail: Label) {
        func check(_ failing: Condition, _ step: ACPITableWalkStep) { failWalk(if: failing, step, to: fail) }
        mov(.edi, Mem(.esi, disp: 40, size: .dword))             // DSDT
        mov(.ecx, Mem(.edi, disp: 4, size: .dword))
        sub(.ecx, 36 + 8)                                        // the AML, less a package's head
        check(.be, .noSleepPackage)
        add(.edi, 36)
        let name = Array("_\(state)_".utf8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let find = newLabel(), foundName = newLabel(), notHere = newLabel()
        bind(find)
        cmp(Mem(.edi, size: .dword), name)
        jcc(.ne, notHere)
        cmp(Mem(.edi, disp: -1, size: .byte), 0x08)              // NameOp "_Sx_"
        jcc(.e, foundName)
        cmp(Mem(.edi, disp: -1, size: .byte), 0x5C)              // NameOp "\_Sx_"
        jcc(.ne, notHere)
        cmp(Mem(.edi, disp: -2, size: .byte), 0x08)
        jcc(.e, foundName)
        bind(notHere)
        inc(.edi)
        dec(.ecx)
        check(.z, .noSleepPackage)
        jmp(find)
        bind(foundName)
        cmp(Mem(.edi, disp: 4, size: .byte), 0x12)               // PackageOp
        check(.ne, .notAPackage)
        // PkgLength (its lead byte's bits 7:6 count the bytes after it), then NumElements.
        movzx(.ecx, Mem(.edi, disp: 5, size: .byte))
        shr(.ecx, 6)
        add(.edi, .ecx)
        let byteConstant = newLabel(), haveType = newLabel()
        mov(.al, Mem(.edi, disp: 7, size: .byte))
        cmp(.al, 0x0A)
        jcc(.e, byteConstant)
        cmp(.al, 1)
        check(.a, .sleepTypeNotAnInteger)
        jmp(haveType)
        bind(byteConstant)
        mov(.al, Mem(.edi, disp: 8, size: .byte))
        bind(haveType)
    }

    /// Jumps to `fail` with BP = `step` when `failing` holds.
    private mutating func failWalk(if failing: Condition, _ step: ACPITableWalkStep, to fail: Label) {
        let ok = newLabel()
        jcc(failing.negated, ok)
        mov(.bp, step.rawValue)
        jmp(fail)
        bind(ok)
    }

    /// Emits, inline, for ESI = the FADT: ACPI mode as an OS enters it (ACPI 6.5 §16.3.1) —
    /// ACPI_ENABLE to SMI_CMD, unless SMI_CMD is 0 (always in ACPI mode), then a wait for
    /// SCI_EN in PM1a_CNT. Clobbers AX, DX.
    public mutating func emitEnterACPIMode() {
        let wait = newLabel(), done = newLabel()
        mov(.dx, Mem(.esi, disp: 48, size: .word))               // SMI_CMD
        test(.dx, .dx)
        jcc(.z, done)
        mov(.al, Mem(.esi, disp: 52, size: .byte))               // ACPI_ENABLE
        out(.dx, .al)
        mov(.dx, Mem(.esi, disp: 64, size: .word))               // PM1a_CNT_BLK
        bind(wait)
        `in`(.ax, .dx)
        test(.ax, 1)
        jcc(.z, wait)
        bind(done)
    }

    /// Emits, inline, for ESI = the FADT: SLP_TYP (in AL) | SLP_EN written to PM1a_CNT.
    /// Clobbers AX, DX.
    public mutating func emitEnterSleepState() {
        movzx(.ax, .al)
        shl(.ax, 10)
        or(.ax, 1 << 13)                                         // SLP_EN
        mov(.dx, Mem(.esi, disp: 64, size: .word))
        out(.dx, .ax)
    }

    /// Emits, inline, for ESI = the FADT: RESET_VALUE written to RESET_REG in the space it
    /// names (ACPI 6.5 §4.8.3.6) — System I/O, System Memory (flat), or PCI configuration space
    /// of a bus-0 function through mechanism #1 (the Generic Address's address holds device
    /// << 32 | function << 16 | offset). Jumps to `noRegister` when RESET_REG_SUP is clear and
    /// to `otherSpace` for any other space; falls through after the write. Clobbers EAX, BL, EDX, EDI.
    public mutating func emitResetRegisterWrite(noRegister: Label, otherSpace: Label) {
        let io = newLabel(), memory = newLabel(), pci = newLabel(), after = newLabel()
        test(Mem(.esi, disp: 112, size: .dword), 1 << 10)        // RESET_REG_SUP
        jcc(.z, noRegister)
        mov(.bl, Mem(.esi, disp: 116, size: .byte))              // address space ID
        mov(.al, Mem(.esi, disp: 128, size: .byte))              // RESET_VALUE
        cmp(.bl, 1)
        jcc(.e, io)
        cmp(.bl, 0)
        jcc(.e, memory)
        cmp(.bl, 2)
        jcc(.e, pci)
        jmp(otherSpace)
        bind(io)
        mov(.dx, Mem(.esi, disp: 120, size: .word))
        out(.dx, .al)
        jmp(after)
        bind(memory)
        mov(.edi, Mem(.esi, disp: 120, size: .dword))
        mov(Mem(.edi, size: .byte), .al)
        jmp(after)
        bind(pci)
        // CONFIG_ADDRESS = enable | device << 11 | function << 8 | offset & FCh.
        movzx(.eax, Mem(.esi, disp: 124, size: .word))
        shl(.eax, 11)
        movzx(.edx, Mem(.esi, disp: 122, size: .word))
        shl(.edx, 8)
        or(.eax, .edx)
        movzx(.edx, Mem(.esi, disp: 120, size: .word))
        and(.edx, 0xFC)
        or(.eax, .edx)
        or(.eax, 0x8000_0000)
        mov(.dx, 0xCF8)
        out(.dx, .eax)
        mov(.dx, Mem(.esi, disp: 120, size: .word))
        and(.dx, 3)
        add(.dx, 0xCFC)
        mov(.al, Mem(.esi, disp: 128, size: .byte))
        out(.dx, .al)
        bind(after)
    }
}
