import X86Asm

/// The main loop the two paged benchmark workloads share, as flat code at the width of `R`
/// (32-bit for protected-paged, 64-bit for long-mode), with the interrupt handler and the near
/// subroutine it calls. Each iteration: two `BenchmarkRounds`, a `REP MOVS` of 32 bytes from
/// 2 MiB to 3 MiB plus `LODSB`/`STOSB`, the workload's own `extra` instructions, every fourth
/// iteration a read-modify-write in a new page of the 64 MiB walk region (a 17-page stride), a
/// near call and an `INT` through the IDT; EBP counts the iterations down, then HLT.
struct PagedBenchmarkLoop<R: AddressRegister> {
    let a, b, c, d, si, di: R
    let iterations: UInt32
    let interruptVector: Int
    /// Emitted after the string moves in each iteration.
    var extra: (inout Assembler) -> Void = { _ in }

    /// The operand width: 4 or 8 bytes.
    private var width: Int { R.size.bytes }

    /// Emits the loop; the handler for `interruptVector` is bound to `handler`.
    func emit(_ asm: inout Assembler, handler: Label) {
        let loop = asm.newLabel("loop"), nearSub = asm.newLabel("nearSub")
        let region = PagedBenchmarkWorkload.self
        asm.mov(.ebp, Int(iterations))
        asm.mov(.ebx, 0x1234)
        asm.mov(.edx, 0x5678)
        asm.bind(loop)
        BenchmarkRounds(a: a, b: b, c: c, d: d, si: si, di: di, offsetMask: 0x1000 - width,
                        pairOperand: { Mem(b, index: si, disp: 0x20_0010 + $0 * width) },
                        secondAreaOperand: { Mem(b, disp: 0x30_0020 + $0 * width) },
                        indirectOperand: Mem(si, disp: 0x20_0000, size: R.size)).emit(&asm)
        asm.mov(.esi, 0x20_0000)
        asm.mov(.edi, 0x30_0100)
        asm.mov(.ecx, 32 / width)
        if R.size == .qword { asm.movsq(.rep) } else { asm.movsd(.rep) }
        asm.lodsb()
        asm.stosb()
        extra(&asm)
        let sameRegionPage = asm.newLabel("sameRegionPage")
        asm.test(.ebp, 3)
        asm.jccShort(.nz, sameRegionPage)
        asm.mov(.edi, Mem(disp: region.walkPointer, size: .dword))
        asm.add(.edi, 17 << 12)
        asm.and(.edi, region.walkMask)
        asm.mov(Mem(disp: region.walkPointer, size: .dword), .edi)
        asm.mov(c, Mem(di, disp: region.walkBase, size: R.size))
        asm.add(Mem(di, disp: region.walkBase, size: R.size), a)
        asm.bind(sameRegionPage)
        asm.call(nearSub)
        asm.int(UInt8(interruptVector))
        asm.dec(.ebp)
        asm.jcc(.nz, loop)
        asm.hlt()

        asm.bind(nearSub)
        asm.add(a, 1)
        asm.ret()
        asm.bind(handler)
        asm.inc(Mem(disp: 0x20_0040, size: R.size))
        if R.size == .qword { asm.iretq() } else { asm.iretd() }
    }
}
