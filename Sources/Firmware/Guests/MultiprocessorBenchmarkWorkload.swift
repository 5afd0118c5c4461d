import X86Asm

/// The programs of `resetvector bench --smp N`: register-only ALU work in an endless loop for
/// a busy processor, HLT with interrupts off in a loop for an idle one. Real mode, no memory
/// operands, so any number of processors can run them at once.
public enum MultiprocessorBenchmarkWorkload {
    /// Where the application processors start (SIPI vectors 90h and 91h).
    public static let spinAddress: UInt64 = 0x9_0000
    public static let parkAddress: UInt64 = 0x9_1000

    /// The bootstrap processor's payload (at 0000:7C00): a start-up IPI to each application
    /// processor, which the firmware left waiting for one — the first `busy - 1` start at
    /// `spinAddress`, the rest at `parkAddress` — then the busy loop.
    public static func bootstrap(processors: Int, busy: Int) throws -> [UInt8] {
        try loop(origin: 0x7C00, prologue: { a in
            a.emitUnrealMode([.fs])
            for index in 1..<processors {
                let page = index < busy ? spinAddress : parkAddress
                a.mov(Mem(disp: 0xFEE0_0310, size: .dword, segment: .fs), index << 24)
                a.mov(Mem(disp: 0xFEE0_0300, size: .dword, segment: .fs), 0x4600 | Int(page >> 12))
            }
        }, body: spinBody)
    }

    /// The busy loop, assembled for `origin`.
    public static func spin(origin: UInt32) throws -> [UInt8] {
        try loop(origin: origin, body: spinBody)
    }

    private static func spinBody(_ a: inout Assembler) {
        a.add(.eax, .ebx)
        a.xor(.edx, .eax)
        a.shl(.ebx, 1)
        a.adc(.esi, 7)
        a.inc(.ebx)
    }

    /// The idle loop, assembled for `origin`.
    public static func park(origin: UInt32) throws -> [UInt8] {
        try loop(origin: origin) { a in a.hlt() }
    }

    private static func loop(origin: UInt32, prologue: (inout Assembler) -> Void = { _ in },
                             body: (inout Assembler) -> Void) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let top = a.newLabel()
        a.cli()
        prologue(&a)
        a.bind(top)
        body(&a)
        a.jmpShort(top)
        return try a.finish()
    }
}
