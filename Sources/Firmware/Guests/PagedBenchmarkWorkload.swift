import X86Asm

/// The fixed protected-mode workload of `resetvector bench`: the real-mode workload's
/// kind of loop, as flat 32-bit code at CPL 0 with 4 KiB paging identity-mapping 96 MiB.
///
/// Each iteration does two rounds of register ALU work with data-dependent branches and
/// memory operands (loads, stores, read-modify-writes, PUSH/POP), a `REP MOVSD` of 8
/// dwords plus `LODSB`/`STOSB`, a near call and return, an `INT 60h` through an IDT
/// interrupt gate whose handler returns with `IRETD`, and a read-modify-write of one dword
/// in a new page of a 64 MiB region every fourth iteration (a 17-page stride visits every
/// page before repeating), so about one instruction in 250–270 misses the TLB and walks the page
/// tables — far more often than typical code. Flat 32-bit code makes no far calls, so neither
/// does this workload. The guest halts when done.
public enum PagedBenchmarkWorkload {
    /// Where the program is loaded and entered, in real mode with CS = 0.
    public static let origin: UInt32 = 0x1000
    /// RAM the workload needs (page tables map all of it).
    public static let memorySize = 96 << 20
    /// Iterations of the main loop in the standard run (≈ 274 M instructions).
    public static let standardIterations: UInt32 = 4_000_000
    /// The region the page walk strides over: 64 MiB from 16 MiB.
    public static let walkBase = 0x0100_0000
    public static let walkMask = 0x03FF_FFFF
    static let gdtBase = 0x0500
    static let idtBase = 0x0800
    static let pageDirectory = 0x10_0000
    static let stackTop = 0x9_0000
    static let interruptVector = 0x60
    /// The walk's current offset, kept in data memory (not beside the code, which a store would invalidate).
    static let walkPointer = 0x20_0080

    /// The program's bytes, to load at `origin`.
    public static func program(iterations: UInt32) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let gdtr = a.newLabel("gdtr"), idtr = a.newLabel("idtr"), start = a.newLabel("start")
        let handler = a.newLabel("handler")
        let setup = FlatPagedSetup(gdtBase: gdtBase, pageDirectory: pageDirectory, memorySize: memorySize, stackTop: stackTop)

        a.jmp(start)
        setup.emitGDTR(&a, label: gdtr)
        a.bind(idtr)
        a.dw(UInt16(interruptVector * 8 + 7))
        a.dd(UInt32(idtBase))

        // Real mode: the IDT gate, then flat protected mode with paging.
        a.bind(start)
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.eax, handler)
        a.mov(Mem(disp: idtBase + interruptVector * 8, size: .word), .ax)
        a.mov(Mem(disp: idtBase + interruptVector * 8 + 2, size: .word), 0x08)
        a.mov(Mem(disp: idtBase + interruptVector * 8 + 4, size: .word), 0x8E00)   // present 32-bit interrupt gate
        a.shr(.eax, 16)
        a.mov(Mem(disp: idtBase + interruptVector * 8 + 6, size: .word), .ax)
        a.lidt(Mem(label: idtr))
        setup.emitEntry(&a, gdtr: gdtr)

        PagedBenchmarkLoop(a: Reg32.eax, b: .ebx, c: .ecx, d: .edx, si: .esi, di: .edi, iterations: iterations,
                           interruptVector: interruptVector).emit(&a, handler: handler)
        return try a.finish()
    }
}
