import X86Asm

/// The start the paged benchmark workloads share: from real mode (CS = 0, interrupts off) into
/// flat 32-bit protected mode, or 64-bit mode, at CPL 0 with 4 KiB pages identity-mapping RAM.
struct FlatPagedSetup {
    /// Where the GDT (null, flat code 08h, flat data 10h, and for 64-bit mode 64-bit code 18h)
    /// is written.
    let gdtBase: Int
    /// The page directory (32-bit paging) or the PML4 (4-level paging); the other tables follow.
    let pageDirectory: Int
    /// RAM the page tables map (a multiple of 4 MiB).
    let memorySize: Int
    let stackTop: Int

    var pageTables: Int { pageDirectory + 0x1000 }

    /// Emits the GDTR image (to place among the program's data, reachable in real mode).
    func emitGDTR(_ a: inout Assembler, label: Label) {
        a.align(8)
        a.bind(label)
        a.dw(0x1F)
        a.dd(UInt32(gdtBase))
    }

    /// Real mode with DS = 0: writes the GDT, enters protected mode, loads ESP, fills the page
    /// tables and turns paging on. Assembly continues in 32-bit mode.
    func emitEntry(_ a: inout Assembler, gdtr: Label) {
        emitProtectedModeEntry(&a, gdtr: gdtr)
        emitEntries(&a, at: pageTables, firstFrame: 0, count: memorySize >> 12, entryBytes: 4)
        emitEntries(&a, at: pageDirectory, firstFrame: pageTables, count: memorySize >> 22, entryBytes: 4)
        a.mov(.eax, pageDirectory)
        a.mov(.cr3, .eax)
        a.mov(.eax, .cr0)
        a.or(.eax, Int(bitPattern: 0x8000_0000))
        a.mov(.cr0, .eax)
    }

    /// Real mode with DS = 0: as `emitEntry`, but with 4-level tables (PML4 at `pageDirectory`,
    /// one PDPT, the page directories, then the page tables), CR4.OSFXSR for SSE, and IA-32e
    /// mode. Assembly continues in 64-bit mode with RSP = `stackTop`.
    func emitLongModeEntry(_ a: inout Assembler, gdtr: Label) {
        let pdpt = pageDirectory + 0x1000, directories = pageDirectory + 0x2000
        let tables = directories + (((memorySize >> 21) * 8 + 0xFFF) & ~0xFFF)
        a.mov(Mem(disp: gdtBase + 24, size: .dword), 0)
        a.mov(Mem(disp: gdtBase + 28, size: .dword), 0x0020_9A00)
        emitProtectedModeEntry(&a, gdtr: gdtr)
        emitEntries(&a, at: tables, firstFrame: 0, count: memorySize >> 12, entryBytes: 8)
        emitEntries(&a, at: directories, firstFrame: tables, count: memorySize >> 21, entryBytes: 8)
        emitEntries(&a, at: pdpt, firstFrame: directories, count: (memorySize + (1 << 30) - 1) >> 30, entryBytes: 8)
        emitEntries(&a, at: pageDirectory, firstFrame: pdpt, count: 1, entryBytes: 8)
        a.mov(.eax, .cr4)
        a.or(.eax, 1 << 9)                             // OSFXSR
        a.mov(.cr4, .eax)
        a.enterLongMode(pml4: pageDirectory, codeSelector: 0x18)
        a.mov(.rsp, stackTop)
    }

    /// Writes the GDT, enters protected mode and loads ESP; clears DF.
    private func emitProtectedModeEntry(_ a: inout Assembler, gdtr: Label) {
        let gdt: [(Int, UInt32)] = [(gdtBase + 8, 0x0000_FFFF), (gdtBase + 12, 0x00CF_9A00),
                                    (gdtBase + 16, 0x0000_FFFF), (gdtBase + 20, 0x00CF_9200)]
        for (address, value) in gdt { a.mov(Mem(disp: address, size: .dword), Int(value)) }
        a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: 0x08, dataSelector: 0x10)
        a.mov(.esp, stackTop)
        a.cld()
    }

    /// `count` present, writable paging entries of `entryBytes` (4, or 8 with the high half
    /// zero) at `table` for consecutive 4 KiB frames from `firstFrame`.
    private func emitEntries(_ a: inout Assembler, at table: Int, firstFrame: Int, count: Int, entryBytes: Int) {
        let next = a.newLabel()
        a.mov(.edi, table)
        a.mov(.eax, firstFrame | 0x003)
        a.mov(.ecx, count)
        a.bind(next)
        a.stosd()
        if entryBytes == 8 { a.mov(Mem(.edi, size: .dword), 0); a.add(.edi, 4) }
        a.add(.eax, 0x1000)
        a.loop(next)
    }
}
