/// Descriptor-table entries as data (SDM Vol. 3A, 3.4.5 and 6.11), for guests that build
/// their own GDT, IDT and TSS.
extension Assembler {
    /// An 8-byte code, data or system segment descriptor. `access` is the type/S/DPL/P byte;
    /// `flags` the high nibble (G, D/B, L, AVL).
    public mutating func segmentDescriptor(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) {
        dw(UInt16(truncatingIfNeeded: limit))
        dw(UInt16(truncatingIfNeeded: base))
        db([UInt8(truncatingIfNeeded: base >> 16), access,
            UInt8(truncatingIfNeeded: limit >> 16) & 0xF | (flags & 0xF) << 4, UInt8(truncatingIfNeeded: base >> 24)])
    }

    /// An 8-byte DPL-0 gate with offset 0 (a task gate's offset is unused; other gates here
    /// point at a segment that faults first). `type` is the gate type (5 task, 0xE interrupt, 0xF trap).
    public mutating func gateDescriptor(selector: UInt16, type: UInt8, present: Bool = true) {
        dw(0)
        dw(selector)
        db([0, (present ? 0x80 : 0) | type & 0xF])
        dw(0)
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
