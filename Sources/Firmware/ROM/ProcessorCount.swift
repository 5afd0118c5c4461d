import X86Asm

/// The ROM counts the processors as a BIOS does (MP specification 1.4, appendix B.4): the
/// BSP sends INIT and then a start-up IPI to all excluding itself; each AP starts in the ROM's
/// last page, notes its APIC ID in a check-in list and halts; the BSP waits until as many
/// have checked in as the firmware configuration's CPU count says (a second start-up IPI if
/// they are late, then it gives up), and parks them all with one more INIT, so the operating
/// system finds every AP waiting for its own start-up IPI, as after power-on. The BSP then
/// builds the MP tables (`MultiprocessorTable`) from the list.
enum ProcessorCount {
    /// The check-in list, in the EBDA (RAM no guest owns): a word counting the APs, then
    /// their APIC IDs, a byte each (64 at most). Offsets from the EBDA's start.
    static let checkInCount = 0x0800
    static let checkInIDs = 0x0810
    /// Where the APs start: the ROM's last page, start-up vector FFh (FF00:0000).
    static let startupPage: UInt32 = 0xF_F000
    /// How long the BSP waits for the APs after each start-up IPI, in loop iterations (four
    /// instructions each). The machine runs every AP within a round of 10,000-instruction
    /// slices, so this is many rounds, even with 64 processors.
    static let waitIterations = 200_000
    /// The local APIC's interrupt command register.
    static let commandLow = 0xFEE0_0300
    static let commandHigh = 0xFEE0_0310
    /// INIT and start-up messages: assert, edge, to all excluding self.
    static let initAllExcludingSelf = 0x000C_4500
    static let startUpAllExcludingSelf = 0x000C_4600 | Int(startupPage >> 12)
    /// fw_cfg's FW_CFG_NB_CPUS: the processor count, 16-bit little-endian.
    static let processorCountItem = 0x0005
    /// Where the configuration table lies in the EBDA (segment `ebdaSegment`).
    static let ebdaSegment = Int(MultiprocessorTable.floatingPointerAddress >> 4)
    static let tableOffset = Int(MultiprocessorTable.configurationTableAddress - MultiprocessorTable.floatingPointerAddress)
}

extension Assembler {
    /// Emits the BSP's count and the MP tables, for real-mode code with DS = F000h, FS a flat
    /// 4 GiB segment at base 0 (`emitLocalAPICVirtualWire`), a stack and interrupts off. BX
    /// is kept; EAX, ECX, EDX, ESI, EDI, EBP and ES are clobbered.
    mutating func emitProcessorCountAndTables() {
        let counted = newLabel("processorsCounted"), allIn = newLabel("allCheckedIn")
        let floatingPointer = newLabel("mpFloatingPointer"), header = newLabel("mpHeader")
        let fixedEntries = newLabel("mpFixedEntries"), code = newLabel()
        jmp(code)
        bind(floatingPointer)
        db(MultiprocessorTable.floatingPointer)
        bind(header)
        db(MultiprocessorTable.headerTemplate)
        bind(fixedEntries)
        db(MultiprocessorTable.fixedEntries)
        bind(code)
        push(.bx)
        mov(.ax, ProcessorCount.ebdaSegment)
        mov(.es, .ax)
        mov(Mem(disp: ProcessorCount.checkInCount, size: .word, segment: .es), 0)
        mov(.dx, Int(FirmwareConfigInterface.selectorPort))
        mov(.ax, ProcessorCount.processorCountItem)
        out(.dx, .ax)
        inc(.dx)
        `in`(.al, .dx)
        mov(.cl, .al)
        `in`(.al, .dx)
        mov(.ch, .al)                                     // CX = processors, the BSP included
        cmp(.cx, 1)
        jcc(.be, counted)
        mov(Mem(disp: ProcessorCount.commandHigh, size: .dword, segment: .fs), 0)
        mov(Mem(disp: ProcessorCount.commandLow, size: .dword, segment: .fs), ProcessorCount.initAllExcludingSelf)
        for _ in 0..<2 {
            mov(Mem(disp: ProcessorCount.commandLow, size: .dword, segment: .fs), ProcessorCount.startUpAllExcludingSelf)
            let wait = newLabel()
            mov(.ebx, ProcessorCount.waitIterations)
            bind(wait)
            mov(.ax, Mem(disp: ProcessorCount.checkInCount, size: .word, segment: .es))
            inc(.ax)
            cmp(.ax, .cx)
            jcc(.ae, allIn)
            dec(.ebx)
            jcc(.nz, wait)
        }
        bind(allIn)
        mov(Mem(disp: ProcessorCount.commandLow, size: .dword, segment: .fs), ProcessorCount.initAllExcludingSelf)
        bind(counted)

        // The tables in the EBDA: the floating pointer, the header, a processor entry for the
        // BSP and for each AP that checked in, the fixed entries; then length, count, checksum.
        mov(.eax, 1)
        cpuid()
        mov(.ebp, .eax)                                   // EBP = signature, EDX = feature flags
        shr(.ebx, 24)                                     // BL = the BSP's APIC ID
        xor(.di, .di)
        mov(.si, floatingPointer)
        mov(.cx, MultiprocessorTable.floatingPointer.count)
        movsb(.rep)
        mov(.di, ProcessorCount.tableOffset)
        mov(.si, header)
        mov(.cx, MultiprocessorTable.headerLength)
        movsb(.rep)
        mov(.al, .bl)
        mov(.ah, 3)                                       // enabled, bootstrap processor
        emitProcessorEntry()
        xor(.si, .si)
        let nextAP = newLabel(), apsDone = newLabel()
        bind(nextAP)
        cmp(.si, Mem(disp: ProcessorCount.checkInCount, size: .word, segment: .es))
        jccShort(.ae, apsDone)
        mov(.al, Mem(.si, disp: ProcessorCount.checkInIDs, size: .byte, segment: .es))
        mov(.ah, 1)                                       // enabled
        emitProcessorEntry()
        inc(.si)
        jmpShort(nextAP)
        bind(apsDone)
        mov(.si, fixedEntries)
        mov(.cx, MultiprocessorTable.fixedEntries.count)
        movsb(.rep)

        let table = ProcessorCount.tableOffset
        mov(.cx, .di)
        sub(.cx, table)
        mov(Mem(disp: table + MultiprocessorTable.baseTableLengthOffset, size: .word, segment: .es), .cx)
        mov(.ax, Mem(disp: ProcessorCount.checkInCount, size: .word, segment: .es))
        add(.ax, 1 + MultiprocessorTable.fixedEntryCount)
        mov(Mem(disp: table + MultiprocessorTable.entryCountOffset, size: .word, segment: .es), .ax)
        mov(.si, table)
        xor(.al, .al)
        let sum = newLabel()
        bind(sum)
        add(.al, Mem(.si, size: .byte, segment: .es))
        inc(.si)
        loop(sum)
        neg(.al)
        mov(Mem(disp: table + MultiprocessorTable.checksumOffset, size: .byte, segment: .es), .al)
        pop(.bx)
    }

    /// A processor entry at ES:DI for APIC ID AL with flags AH, signature EBP and feature
    /// flags EDX; DI moves past it.
    private mutating func emitProcessorEntry() {
        let entry = { (offset: Int, size: OperandSize) in Mem(.di, disp: offset, size: size, segment: .es) }
        mov(entry(0, .byte), 0)
        mov(entry(1, .byte), .al)
        mov(entry(2, .byte), Int(MultiprocessorTable.localAPICVersion))
        mov(entry(3, .byte), .ah)
        mov(entry(4, .dword), .ebp)
        mov(entry(8, .dword), .edx)
        mov(entry(12, .dword), 0)
        mov(entry(16, .dword), 0)
        add(.di, MultiprocessorTable.processorEntryLength)
    }

    /// Emits what each AP runs after the ROM's start-up IPI, at `ProcessorCount.startupPage`
    /// (the caller fills up to it): take a place in the check-in list, note the APIC ID
    /// (CPUID.01H:EBX[31:24]) there, and halt with interrupts off until the BSP's INIT.
    mutating func emitApplicationProcessorCheckIn() {
        cli()
        mov(.ax, ProcessorCount.ebdaSegment)
        mov(.ds, .ax)
        mov(.eax, 1)
        cpuid()
        shr(.ebx, 24)
        mov(.ax, 1)
        lock()
        xadd(Mem(disp: ProcessorCount.checkInCount, size: .word), .ax)
        mov(.si, .ax)
        mov(Mem(.si, disp: ProcessorCount.checkInIDs, size: .byte), .bl)
        let park = newLabel()
        bind(park)
        hlt()
        jmpShort(park)
    }
}
