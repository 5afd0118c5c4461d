import X86Asm

/// Routines and tables the tests' small guests share.
extension Assembler {
    /// Two 32-bit routines writing to `port`, bound at the given labels: `putHex` writes EAX
    /// as 8 lowercase hex digits (EAX and ECX kept), `putString` the NUL-terminated string
    /// at ESI (ESI moves past it, AL clobbered).
    mutating func emitPrintRoutines(port: UInt8, putHex: Label, putString: Label) {
        bind(putHex)
        push(.ecx)
        mov(.ecx, 8)
        let digit = newLabel(), decimal = newLabel()
        bind(digit)
        rol(.eax, 4)                                      // eight turns of 4 bits: EAX as it was
        push(.eax)
        and(.al, 0x0F)
        cmp(.al, 10)
        jccShort(.b, decimal)
        add(.al, Int(UInt8(ascii: "a")) - 10 - 0x30)
        bind(decimal)
        add(.al, 0x30)
        out(.immediate(port), .al)
        pop(.eax)
        loop(digit)
        pop(.ecx)
        ret()
        bind(putString)
        let done = newLabel(), next = newLabel()
        bind(next)
        lodsb()
        test(.al, .al)
        jccShort(.z, done)
        out(.immediate(port), .al)
        jmpShort(next)
        bind(done)
        ret()
    }

    /// A GDT at `gdt` (8-aligned): null, 08h flat 4 GiB 32-bit code, 10h flat data; and its
    /// pointer at `gdtr`.
    mutating func emitFlatGDT(gdt: Label, gdtr: Label) {
        align(8)
        bind(gdt)
        db([UInt8](repeating: 0, count: 8))
        segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)
        segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)
        bind(gdtr)
        dw(0x17)
        dd(gdt)
    }
}
