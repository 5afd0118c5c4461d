import X86Asm

/// The fixed 64-bit workload of `resetvector bench`: the protected-paged workload's loop
/// (`PagedBenchmarkLoop`) as flat 64-bit code at CPL 0 with 4-level paging (4 KiB pages
/// identity-mapping 96 MiB): 64-bit operands, `REP MOVSQ`, `INT 60h` through a 64-bit
/// interrupt gate and `IRETQ`, the same share of TLB misses (each a four-level walk), and SSE2
/// moves besides (aligned and unaligned 16-byte loads and stores, `MOVQ` between the register
/// files, `PADDQ`). The guest halts when done.
public enum LongModeBenchmarkWorkload {
    private typealias Paged = PagedBenchmarkWorkload
    /// Where the program is loaded and entered, in real mode with CS = 0.
    public static let origin = Paged.origin
    /// RAM the workload needs (page tables map all of it).
    public static let memorySize = Paged.memorySize
    /// Iterations of the main loop in the standard run (≈ 290 M instructions).
    public static let standardIterations = Paged.standardIterations
    /// The PML4, where protected-paged has its page directory.
    static let pml4 = Paged.pageDirectory
    static let codeSelector = 0x18
    /// The SSE2 moves' buffer (16-byte aligned).
    static let vectorData = 0x20_0100

    /// The program's bytes, to load at `origin`.
    public static func program(iterations: UInt32) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let gdtr = a.newLabel("gdtr"), idtr = a.newLabel("idtr"), start = a.newLabel("start")
        let handler = a.newLabel("handler")
        let (idtBase, interruptVector) = (Paged.idtBase, Paged.interruptVector)
        let setup = FlatPagedSetup(gdtBase: Paged.gdtBase, pageDirectory: pml4, memorySize: memorySize, stackTop: Paged.stackTop)

        a.jmp(start)
        setup.emitGDTR(&a, label: gdtr)
        a.bind(idtr)
        a.dw(UInt16(interruptVector * 16 + 15))
        a.dd(UInt32(idtBase))

        // Real mode: the 64-bit interrupt gate (the handler lies below 64 KiB), then 64-bit mode.
        a.bind(start)
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        let gate = idtBase + interruptVector * 16
        a.mov(.ax, handler)
        a.mov(Mem(disp: gate, size: .word), .ax)
        a.mov(Mem(disp: gate + 2, size: .word), codeSelector)
        a.mov(Mem(disp: gate + 4, size: .word), 0x8E00)   // present 64-bit interrupt gate
        a.mov(Mem(disp: gate + 6, size: .word), 0)
        a.mov(Mem(disp: gate + 8, size: .dword), 0)
        a.mov(Mem(disp: gate + 12, size: .dword), 0)
        a.lidt(Mem(label: idtr))
        setup.emitLongModeEntry(&a, gdtr: gdtr)

        a.mov(.r8d, vectorData)
        PagedBenchmarkLoop(a: Reg64.rax, b: .rbx, c: .rcx, d: .rdx, si: .rsi, di: .rdi, iterations: iterations,
                           interruptVector: interruptVector) { a in
            // SSE2: 16-byte moves, aligned and not, and a running 64-bit sum in XMM3.
            a.movdqa(XMM(0), Mem(.r8))
            a.movdqu(XMM(1), Mem(.r8, disp: 0x18))
            a.movdqa(Mem(.r8, disp: 0x100), XMM(0))
            a.movdqu(Mem(.r8, disp: 0x111), XMM(1))
            a.movq(XMM(2), .rax)
            a.paddq(XMM(3), XMM(2))
        }.emit(&a, handler: handler)
        return try a.finish()
    }
}
