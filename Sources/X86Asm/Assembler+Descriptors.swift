/// Descriptor-table entries as data (SDM Vol. 3A, 3.4.5, 6.11, 6.14.1 and 8.2.3), for guests
/// that build their own GDT, IDT and TSS.
extension Assembler {
    /// An 8-byte code, data or system segment descriptor. `access` is the type/S/DPL/P byte;
    /// `flags` the high nibble (G, D/B, L, AVL).
    public mutating func segmentDescriptor(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) {
        segmentDescriptor(base: Int(base), label: nil, limit: limit, access: access, flags: flags)
    }

    /// A 64-bit code segment descriptor (L = 1, D = 0, G = 1): base and limit are ignored in
    /// 64-bit mode. `dpl` is the privilege level of the code.
    public mutating func longModeCodeDescriptor(dpl: UInt8 = 0) {
        segmentDescriptor(base: 0, limit: 0xF_FFFF, access: 0x9A | (dpl & 3) << 5, flags: 0xA)
    }

    /// A 16-byte system-segment descriptor of 64-bit mode: an available 64-bit TSS (`type`
    /// 9) unless another type is given (2 for an LDT, 0xB for a busy TSS).
    public mutating func systemDescriptor64(base: UInt64, limit: UInt32, type: UInt8 = 9, dpl: UInt8 = 0) {
        systemDescriptor64(base: Int(bitPattern: UInt(base)), label: nil, limit: limit, type: type, dpl: dpl)
    }

    /// A 16-byte system-segment descriptor of 64-bit mode whose base is `label`'s address.
    public mutating func systemDescriptor64(base label: Label, limit: UInt32, type: UInt8 = 9, dpl: UInt8 = 0) {
        systemDescriptor64(base: 0, label: label, limit: limit, type: type, dpl: dpl)
    }

    private mutating func systemDescriptor64(base: Int, label: Label?, limit: UInt32, type: UInt8, dpl: UInt8) {
        segmentDescriptor(base: base, label: label, limit: limit, access: 0x80 | (dpl & 3) << 5 | type & 0xF, flags: 0)
        emit(base, plus: label, bytes: 4, shift: 32)
        dd(0)
    }

    /// The 8-byte descriptor layout, with the base taken from `label` plus `base` if given.
    private mutating func segmentDescriptor(base: Int, label: Label?, limit: UInt32, access: UInt8, flags: UInt8) {
        dw(UInt16(truncatingIfNeeded: limit))
        emit(base, plus: label, bytes: 2)
        emit(base, plus: label, bytes: 1, shift: 16)
        db([access, UInt8(truncatingIfNeeded: limit >> 16) & 0xF | (flags & 0xF) << 4])
        emit(base, plus: label, bytes: 1, shift: 24)
    }

    /// An 8-byte DPL-0 gate with offset 0 (a task gate's offset is unused; other gates here
    /// point at a segment that faults first). `type` is the gate type (5 task, 0xE interrupt, 0xF trap).
    public mutating func gateDescriptor(selector: UInt16, type: UInt8, present: Bool = true) {
        dw(0)
        dw(selector)
        db([0, (present ? 0x80 : 0) | type & 0xF])
        dw(0)
    }

    /// A 16-byte 64-bit-mode interrupt (`type` 0xE) or trap (0xF) gate to `offset`.
    /// - Parameters:
    ///   - ist: The interrupt-stack-table slot, 1–7, to switch stacks to; 0 for none.
    ///   - dpl: The privilege level `int n` needs to reach the gate.
    public mutating func gateDescriptor64(
        offset: UInt64, selector: UInt16, type: UInt8 = 0xE, ist: UInt8 = 0, dpl: UInt8 = 0, present: Bool = true
    ) {
        gateDescriptor64(offset: Int(bitPattern: UInt(offset)), label: nil, selector: selector, type: type, ist: ist, dpl: dpl, present: present)
    }

    /// A 16-byte 64-bit-mode interrupt or trap gate to the handler at `label`; see
    /// ``gateDescriptor64(offset:selector:type:ist:dpl:present:)``.
    public mutating func gateDescriptor64(
        handler label: Label, selector: UInt16, type: UInt8 = 0xE, ist: UInt8 = 0, dpl: UInt8 = 0, present: Bool = true
    ) {
        gateDescriptor64(offset: 0, label: label, selector: selector, type: type, ist: ist, dpl: dpl, present: present)
    }

    private mutating func gateDescriptor64(
        offset: Int, label: Label?, selector: UInt16, type: UInt8, ist: UInt8, dpl: UInt8, present: Bool
    ) {
        emit(offset, plus: label, bytes: 2)
        dw(selector)
        db([ist & 7, (present ? 0x80 : 0) | (dpl & 3) << 5 | type & 0xF])
        emit(offset, plus: label, bytes: 2, shift: 16)
        emit(offset, plus: label, bytes: 4, shift: 32)
        dd(0)
    }
}

extension Assembler {
    /// From real mode into flat 32-bit protected mode: LGDT `gdtr`, CR0.PE, a far jump to
    /// `codeSelector`, then `dataSelector` in DS, ES, FS, GS and SS (SDM Vol. 3A, 9.9.1).
    /// Interrupts must already be off; assembly continues in 32-bit mode. The stack pointer
    /// and the IDT are the caller's.
    public mutating func enterProtectedMode(gdtr: Mem, codeSelector: UInt16, dataSelector: UInt16) {
        let flat = newLabel("flat32")
        lgdt(gdtr)
        mov(.eax, .cr0)
        or(.eax, 1)
        mov(.cr0, .eax)
        jmpFar(segment: codeSelector, flat, size: .dword)
        bits(.b32)
        bind(flat)
        mov(.ax, Int(dataSelector))
        for segment in [SegReg.ds, .es, .fs, .gs, .ss] { mov(segment, .ax) }
    }
}

extension Assembler {
    /// From flat 32-bit protected mode with paging off into 64-bit code, as a 64-bit kernel
    /// does (SDM Vol. 3A, 10.8.5): CR4.PAE, CR3 = `pml4`, EFER.LME through WRMSR, CR0.PG, then
    /// a far jump to the 64-bit `codeSelector` of the loaded GDT. The page tables are the
    /// caller's and must identity-map this code; assembly continues in 64-bit mode.
    public mutating func enterLongMode(pml4: Int, codeSelector: UInt16) {
        let long = newLabel("long64")
        mov(.eax, .cr4)
        or(.eax, 1 << 5)
        mov(.cr4, .eax)
        mov(.eax, pml4)
        mov(.cr3, .eax)
        mov(.ecx, Int(bitPattern: 0xC000_0080))
        rdmsr()
        or(.eax, 1 << 8)
        wrmsr()
        mov(.eax, .cr0)
        or(.eax, Int(bitPattern: 0x8000_0000))
        mov(.cr0, .eax)
        jmpFar(segment: codeSelector, long)
        bits(.b64)
        bind(long)
    }
}

extension Assembler {
    /// Emits code that builds 4-level page tables in the three pages at `tables` (PML4, PDPT,
    /// page directory) identity-mapping the first `twoMiBPages` × 2 MiB with large pages,
    /// writable, and supervisor-only unless `userAccessible` (then U/S is set at every level, so
    /// CPL 3 code may use the mapping): the tables `enterLongMode(pml4:codeSelector:)` wants.
    /// Uses EAX, ECX and EDI; runs in 32-bit code with paging off.
    public mutating func buildIdentityPageTables(at tables: Int, twoMiBPages: Int, userAccessible: Bool = false) {
        let flags = userAccessible ? 7 : 3                                  // present, writable (, user)
        mov(.edi, tables)
        mov(.ecx, 3 * 1024)
        xor(.eax, .eax)
        stosd(.rep)
        mov(Mem(disp: tables, size: .dword), tables + 0x1000 + flags)          // PML4[0] → PDPT
        mov(Mem(disp: tables + 0x1000, size: .dword), tables + 0x2000 + flags) // PDPT[0] → directory
        mov(.edi, tables + 0x2000)
        mov(.eax, 0x80 | flags)                                                 // 2 MiB pages
        mov(.ecx, twoMiBPages)
        let fill = newLabel("fill")
        bind(fill)
        mov(Mem(.edi, size: .dword), .eax)
        add(.eax, 0x20_0000)
        add(.edi, 8)
        loop(fill)
    }
}
