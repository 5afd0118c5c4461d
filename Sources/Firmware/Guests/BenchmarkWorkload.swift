import X86Asm

/// The fixed real-mode workload of `resetvector bench`.
///
/// One loop iteration retires about 90 instructions (a REP iteration counts as one):
/// two rounds of register ALU work with data-dependent branches and memory operands
/// in the DS, ES and SS segments (loads, stores, read-modify-writes, PUSH/POP), a
/// `REP MOVSW` of 8 words plus `LODSB`/`STOSB`, a near call and return, a far call
/// and return, a far jump, and an `INT 60h` whose handler returns with `IRET`.
/// The guest halts when done.
public enum BenchmarkWorkload {
    /// Where the program is loaded and entered (CS = 0, IP = origin).
    public static let origin: UInt32 = 0x1000
    /// The software-interrupt vector the workload installs and uses.
    public static let interruptVector: UInt8 = 0x60
    /// Iterations of the main loop in the standard run (≈ 350 M instructions).
    public static let standardIterations: UInt32 = 4_500_000

    /// The program's bytes, to load at `origin` in real mode with CS = 0.
    public static func program(iterations: UInt32) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let loop = a.newLabel("loop"), nearSub = a.newLabel("nearSub")
        let farSub = a.newLabel("farSub"), farTarget = a.newLabel("farTarget"), handler = a.newLabel("handler")

        // Install the INT 60h vector, then set up segments: DS 2000h, ES 3000h, SS:SP 9000:FFFE.
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.ax, handler)
        a.mov(Mem(disp: Int(interruptVector) * 4), .ax)
        a.mov(Mem(disp: Int(interruptVector) * 4 + 2, size: .word), 0)
        a.mov(.ax, 0x2000)
        a.mov(.ds, .ax)
        a.mov(.ax, 0x3000)
        a.mov(.es, .ax)
        a.mov(.ax, 0x9000)
        a.mov(.ss, .ax)
        a.mov(.sp, 0xFFFE)
        a.mov(.ebp, Int(iterations))
        a.mov(.bx, 0x1234)
        a.mov(.dx, 0x5678)
        a.cld()

        a.bind(loop)
        // Two rounds of register ALU work with data-dependent branches, and memory operands
        // with segment arithmetic (DS, ES, SS) including read-modify-writes.
        BenchmarkRounds(a: Reg16.ax, b: .bx, c: .cx, d: .dx, si: .si, di: .di, offsetMask: 0x0FFE,
                        pairOperand: { Mem(.bx, .si, disp: 0x10 + $0 * 2) },
                        secondAreaOperand: { Mem(.bx, disp: 0x20 + $0 * 2, segment: .es) },
                        indirectOperand: Mem(.si, size: .word)).emit(&a)
        // String moves: 8 words DS:0 → ES:100h, then a byte each way.
        a.xor(.si, .si)
        a.mov(.di, 0x100)
        a.mov(.cx, 8)
        a.movsw(.rep)
        a.lodsb()
        a.stosb()
        // Near call, far call, far jump, software interrupt.
        a.call(nearSub)
        a.callFar(segment: 0, farSub)
        a.jmpFar(segment: 0, farTarget)
        a.bind(farTarget)
        a.int(interruptVector)
        a.dec(.ebp)
        a.jcc(.nz, loop)
        a.hlt()

        a.bind(nearSub)
        a.add(.ax, 1)
        a.ret()
        a.bind(farSub)
        a.xor(.ax, .bx)
        a.retf()
        a.bind(handler)
        a.inc(Mem(disp: 0x40, size: .word))
        a.iret()
        return try a.finish()
    }
}
