import X86Asm

/// The start the protected-mode benchmark workloads share: from real mode (CS = 0, interrupts
/// off) into flat 32-bit protected mode at CPL 0 with 4 KiB pages identity-mapping RAM.
struct FlatPagedSetup {
    /// Where the GDT (null, flat code 08h, flat data 10h) is written.
    let gdtBase: Int
    /// The page directory; the page tables follow it.
    let pageDirectory: Int
    /// RAM the page tables map (a multiple of 4 MiB).
    let memorySize: Int
    let stackTop: Int

    var pageTables: Int { pageDirectory + 0x1000 }

    /// Emits the GDTR image (to place among the program's data, reachable in real mode).
    func emitGDTR(_ a: inout Assembler, label: Label) {
        a.align(8)
        a.bind(label)
        a.dw(0x17)
        a.dd(UInt32(gdtBase))
    }

    /// Real mode with DS = 0: writes the GDT, enters protected mode, loads ESP, fills the page
    /// tables and turns paging on. Assembly continues in 32-bit mode.
    func emitEntry(_ a: inout Assembler, gdtr: Label) {
        let gdt: [(Int, UInt32)] = [(gdtBase + 8, 0x0000_FFFF), (gdtBase + 12, 0x00CF_9A00),
                                    (gdtBase + 16, 0x0000_FFFF), (gdtBase + 20, 0x00CF_9200)]
        for (address, value) in gdt { a.mov(Mem(disp: address, size: .dword), Int(value)) }
        a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: 0x08, dataSelector: 0x10)
        a.mov(.esp, stackTop)
        a.cld()
        emitEntries(&a, at: pageTables, firstFrame: 0, count: memorySize >> 12)
        emitEntries(&a, at: pageDirectory, firstFrame: pageTables, count: memorySize >> 22)
        a.mov(.eax, pageDirectory)
        a.mov(.cr3, .eax)
        a.mov(.eax, .cr0)
        a.or(.eax, Int(bitPattern: 0x8000_0000))
        a.mov(.cr0, .eax)
    }

    /// `count` present, writable paging entries at `table` for consecutive 4 KiB frames from
    /// `firstFrame`.
    private func emitEntries(_ a: inout Assembler, at table: Int, firstFrame: Int, count: Int) {
        let next = a.newLabel()
        a.mov(.edi, table)
        a.mov(.eax, firstFrame | 0x003)
        a.mov(.ecx, count)
        a.bind(next)
        a.stosd()
        a.add(.eax, 0x1000)
        a.loop(next)
    }
}
