import X86Asm

/// The programs of `resetvector bench --smp N`: register-only ALU work in an endless loop for
/// a busy processor, HLT with interrupts off in a loop for an idle one. Real mode, no memory
/// operands, so any number of processors can run them at once.
public enum MultiprocessorBenchmarkWorkload {
    /// Where the application processors start (SIPI vectors 90h and 91h).
    public static let spinAddress: UInt64 = 0x9_0000
    public static let parkAddress: UInt64 = 0x9_1000

    /// The busy loop, assembled for `origin`.
    public static func spin(origin: UInt32) throws -> [UInt8] {
        try loop(origin: origin) { a in
            a.add(.eax, .ebx)
            a.xor(.edx, .eax)
            a.shl(.ebx, 1)
            a.adc(.esi, 7)
            a.inc(.ebx)
        }
    }

    /// The idle loop, assembled for `origin`.
    public static func park(origin: UInt32) throws -> [UInt8] {
        try loop(origin: origin) { a in a.hlt() }
    }

    private static func loop(origin: UInt32, _ body: (inout Assembler) -> Void) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let top = a.newLabel()
        a.cli()
        a.bind(top)
        body(&a)
        a.jmpShort(top)
        return try a.finish()
    }
}
