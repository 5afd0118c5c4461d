import X86Asm

extension Assembler {
    /// Emits, for 16-bit real-mode code: `segments` become 4 GiB segments at base 0 ("unreal
    /// mode"). A moment in protected mode loads their descriptor caches with a flat data
    /// descriptor; back in real mode a segment load changes only selector and base, so the
    /// limit stays (SDM Vol. 3A, 20.1.1). EAX is clobbered; interrupts must be off. The GDT
    /// lies in the emitted code, jumped over.
    public mutating func emitUnrealMode(_ segments: [SegReg]) {
        let gdt = newLabel("unrealGDT"), gdtPointer = newLabel("unrealGDTPointer"), code = newLabel()
        jmp(code)
        align(8)
        bind(gdt)
        dd(0); dd(0)
        dd(0x0000_FFFF); dd(0x00CF_9300)                 // 08h: flat data, G = 1, accessed preset
        bind(gdtPointer)
        dw(UInt16(2 * 8 - 1))
        dd(gdt)
        bind(code)
        lgdt(Mem(label: gdtPointer, size: .dword, segment: .cs))
        mov(.eax, .cr0)
        or(.al, 1)
        mov(.cr0, .eax)
        mov(.ax, 0x08)
        for segment in segments { mov(segment, .ax) }
        mov(.eax, .cr0)
        and(.al, 0xFE)
        mov(.cr0, .eax)
        xor(.ax, .ax)
        for segment in segments { mov(segment, .ax) }
    }
}
