import X86Asm

/// The register ALU work both benchmark workloads repeat, in 16- or 32-bit form: two rounds
/// with data-dependent branches and memory operands, including read-modify-writes and
/// PUSH/POP.
struct BenchmarkRounds<R: WideRegister> {
    let a, b, c, d, si, di: R
    /// Keeps `b` an aligned offset inside the data area.
    let offsetMask: Int
    /// The two operands of a round: `[b + si + disp]` and `[b + disp]` in the second data area.
    let pairOperand: (_ round: Int) -> Mem
    let secondAreaOperand: (_ round: Int) -> Mem
    /// `[si]` with the operand size.
    let indirectOperand: Mem

    func emit(_ assembler: inout Assembler) {
        for round in 0..<2 {
            let skip = assembler.newLabel("skip\(round)")
            assembler.add(a, b)
            assembler.xor(d, a)
            assembler.shl(b, 1)
            assembler.adc(si, 7)
            assembler.sub(di, a)
            assembler.and(a, 0x7FFF)
            assembler.or(b, 3)
            assembler.inc(d)
            assembler.cmp(a, d)
            assembler.jccShort(.be, skip)
            assembler.neg(d)
            assembler.bind(skip)
            assembler.and(b, offsetMask)
            assembler.mov(si, b)
            assembler.mov(pairOperand(round), a)
            assembler.add(secondAreaOperand(round), d)
            assembler.mov(c, pairOperand(round))
            assembler.push(c)
            assembler.add(indirectOperand, 0x11)
            assembler.pop(c)
            assembler.sub(c, secondAreaOperand(round))
            assembler.mov(di, c)
            assembler.shr(di, 2)
            assembler.xor(di, d)
        }
    }
}
