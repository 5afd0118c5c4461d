import X86Asm

/// The fixed 64-bit workload of `resetvector bench`: the protected-paged workload's loop as
/// flat 64-bit code at CPL 0 with 4-level paging (4 KiB pages identity-mapping 96 MiB).
///
/// Each iteration does two rounds of 64-bit register ALU work with data-dependent branches and
/// memory operands (loads, stores, read-modify-writes, PUSH/POP), a `REP MOVSQ` of 4 qwords plus
/// `LODSB`/`STOSB`, SSE2 moves (aligned and unaligned 16-byte loads and stores, `MOVQ` between
/// the register files, `PADDQ`), a near call and return, an `INT 60h` through a 64-bit interrupt
/// gate whose handler returns with `IRETQ`, and a read-modify-write of one qword in a new page
/// of a 64 MiB region every fourth iteration (the same 17-page stride as protected-paged, so
/// the same share of TLB misses, each a four-level walk). The guest halts when done.
public enum LongModeBenchmarkWorkload {
    /// Where the program is loaded and entered, in real mode with CS = 0.
    public static let origin: UInt32 = 0x1000
    /// RAM the workload needs (page tables map all of it).
    public static let memorySize = 96 << 20
    /// Iterations of the main loop in the standard run (≈ 290 M instructions).
    public static let standardIterations: UInt32 = 4_000_000
    static let gdtBase = 0x0500
    static let idtBase = 0x0800
    static let pml4 = 0x10_0000
    static let stackTop = 0x9_0000
    static let interruptVector = 0x60
    static let codeSelector = 0x18
    /// The SSE2 moves' buffer (16-byte aligned).
    static let vectorData = 0x20_0100

    /// The program's bytes, to load at `origin`.
    public static func program(iterations: UInt32) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let gdtr = a.newLabel("gdtr"), idtr = a.newLabel("idtr"), start = a.newLabel("start")
        let loop = a.newLabel("loop"), nearSub = a.newLabel("nearSub"), handler = a.newLabel("handler")
        let setup = FlatPagedSetup(gdtBase: gdtBase, pageDirectory: pml4, memorySize: memorySize, stackTop: stackTop)

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

        a.mov(.ebp, Int(iterations))
        a.mov(.ebx, 0x1234)
        a.mov(.edx, 0x5678)
        a.mov(.r8d, vectorData)
        a.bind(loop)
        BenchmarkRounds(a: Reg64.rax, b: .rbx, c: .rcx, d: .rdx, si: .rsi, di: .rdi, offsetMask: 0x0FF8,
                        pairOperand: { Mem(.rbx, index: .rsi, disp: 0x20_0010 + $0 * 8) },
                        secondAreaOperand: { Mem(.rbx, disp: 0x30_0020 + $0 * 8) },
                        indirectOperand: Mem(.rsi, disp: 0x20_0000, size: .qword)).emit(&a)
        // String moves: 4 qwords from 2 MiB to 3 MiB, then a byte each way.
        a.mov(.esi, 0x20_0000)
        a.mov(.edi, 0x30_0100)
        a.mov(.ecx, 4)
        a.movsq(.rep)
        a.lodsb()
        a.stosb()
        // SSE2: 16-byte moves, aligned and not, and a running 64-bit sum in XMM3.
        a.movdqa(XMM(0), Mem(.r8))
        a.movdqu(XMM(1), Mem(.r8, disp: 0x18))
        a.movdqa(Mem(.r8, disp: 0x100), XMM(0))
        a.movdqu(Mem(.r8, disp: 0x111), XMM(1))
        a.movq(XMM(2), .rax)
        a.paddq(XMM(3), XMM(2))
        // Every fourth iteration, a new page of the 64 MiB region: read-modify-write one qword.
        let sameRegionPage = a.newLabel("sameRegionPage")
        a.test(.ebp, 3)
        a.jccShort(.nz, sameRegionPage)
        a.mov(.edi, Mem(disp: PagedBenchmarkWorkload.walkPointer, size: .dword))
        a.add(.edi, 17 << 12)
        a.and(.edi, PagedBenchmarkWorkload.walkMask)
        a.mov(Mem(disp: PagedBenchmarkWorkload.walkPointer, size: .dword), .edi)
        a.mov(.rcx, Mem(.rdi, disp: PagedBenchmarkWorkload.walkBase, size: .qword))
        a.add(Mem(.rdi, disp: PagedBenchmarkWorkload.walkBase, size: .qword), .rax)
        a.bind(sameRegionPage)
        a.call(nearSub)
        a.int(UInt8(interruptVector))
        a.dec(.ebp)
        a.jcc(.nz, loop)
        a.hlt()

        a.bind(nearSub)
        a.add(.rax, 1)
        a.ret()
        a.bind(handler)
        a.inc(Mem(disp: 0x20_0040, size: .qword))
        a.iretq()
        return try a.finish()
    }
}
