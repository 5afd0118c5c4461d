/// The eight classic two-operand ALU operations. The raw value is both the ModR/M `/digit`
/// of the immediate forms (`80`/`81`/`83`) and the opcode row (`raw << 3`) of the others.
enum ArithmeticOperation: UInt8 {
    case add, or, adc, sbb, and, sub, xor, cmp
}

extension Assembler {
    /// `op dst, src`: the `00`-row form `op r/m, reg`.
    private mutating func arithmetic<R: GeneralRegister>(_ op: ArithmeticOperation, _ dst: RM, _ src: R) {
        emit(byteForm: [op.rawValue << 3], size: R.size, reg: src, rm: dst)
    }

    /// `op dst, [src]`: the `02`-row form `op reg, r/m`.
    private mutating func arithmetic<R: GeneralRegister>(_ op: ArithmeticOperation, _ dst: R, _ src: Mem) {
        emit(byteForm: [op.rawValue << 3 | 2], size: R.size, reg: dst, rm: RM(src, size: R.size))
    }

    /// `op dst, imm`: the sign-extended `83 /op ib` form when the value allows and the operand
    /// is wider than a byte, else the accumulator form `04`-row, else `80`/`81 /op`. A qword
    /// operand takes a dword immediate, sign-extended.
    private mutating func arithmetic(_ op: ArithmeticOperation, _ dst: RM, _ size: OperandSize, _ imm: Int) {
        if size.takesSignExtendedByte(imm) {
            emit([0x83], size: size, reg: op.rawValue, rm: dst, immediate: Immediate(imm, bytes: 1))
        } else {
            immediateForm(accumulatorOpcode: op.rawValue << 3 | 4, groupOpcode: 0x80, reg: op.rawValue, dst, size, imm)
        }
    }

    /// The full-size immediate forms shared by the ALU operations and `test`: the short
    /// accumulator form (`op al/ax/eax, imm`) when `dst` is the accumulator, else the ModR/M group form.
    private mutating func immediateForm(
        accumulatorOpcode: UInt8, groupOpcode: UInt8, reg: UInt8, _ dst: RM, _ size: OperandSize, _ imm: Int
    ) {
        if dst.isAccumulator {
            emit([size.opcode(accumulatorOpcode)], size: size)
            emitImmediate(imm, size: size)
        } else {
            emit(byteForm: [groupOpcode], size: size, reg: reg, rm: dst, immediate: Immediate(imm, size: size))
        }
    }

    /// `add dst, src`.
    public mutating func add<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.add, RM(dst), src) }
    /// `add [dst], src`.
    public mutating func add<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.add, RM(dst, size: R.size), src) }
    /// `add dst, [src]`.
    public mutating func add<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.add, dst, src) }
    /// `add dst, imm`.
    public mutating func add<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.add, RM(dst), R.size, imm) }
    /// `add size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func add(_ dst: Mem, _ imm: Int) { arithmetic(.add, .memory(dst), dst.requiredSize, imm) }

    /// `or dst, src`.
    public mutating func or<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.or, RM(dst), src) }
    /// `or [dst], src`.
    public mutating func or<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.or, RM(dst, size: R.size), src) }
    /// `or dst, [src]`.
    public mutating func or<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.or, dst, src) }
    /// `or dst, imm`.
    public mutating func or<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.or, RM(dst), R.size, imm) }
    /// `or size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func or(_ dst: Mem, _ imm: Int) { arithmetic(.or, .memory(dst), dst.requiredSize, imm) }

    /// `adc dst, src`.
    public mutating func adc<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.adc, RM(dst), src) }
    /// `adc [dst], src`.
    public mutating func adc<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.adc, RM(dst, size: R.size), src) }
    /// `adc dst, [src]`.
    public mutating func adc<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.adc, dst, src) }
    /// `adc dst, imm`.
    public mutating func adc<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.adc, RM(dst), R.size, imm) }
    /// `adc size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func adc(_ dst: Mem, _ imm: Int) { arithmetic(.adc, .memory(dst), dst.requiredSize, imm) }

    /// `sbb dst, src`.
    public mutating func sbb<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.sbb, RM(dst), src) }
    /// `sbb [dst], src`.
    public mutating func sbb<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.sbb, RM(dst, size: R.size), src) }
    /// `sbb dst, [src]`.
    public mutating func sbb<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.sbb, dst, src) }
    /// `sbb dst, imm`.
    public mutating func sbb<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.sbb, RM(dst), R.size, imm) }
    /// `sbb size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func sbb(_ dst: Mem, _ imm: Int) { arithmetic(.sbb, .memory(dst), dst.requiredSize, imm) }

    /// `and dst, src`.
    public mutating func and<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.and, RM(dst), src) }
    /// `and [dst], src`.
    public mutating func and<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.and, RM(dst, size: R.size), src) }
    /// `and dst, [src]`.
    public mutating func and<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.and, dst, src) }
    /// `and dst, imm`.
    public mutating func and<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.and, RM(dst), R.size, imm) }
    /// `and size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func and(_ dst: Mem, _ imm: Int) { arithmetic(.and, .memory(dst), dst.requiredSize, imm) }

    /// `sub dst, src`.
    public mutating func sub<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.sub, RM(dst), src) }
    /// `sub [dst], src`.
    public mutating func sub<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.sub, RM(dst, size: R.size), src) }
    /// `sub dst, [src]`.
    public mutating func sub<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.sub, dst, src) }
    /// `sub dst, imm`.
    public mutating func sub<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.sub, RM(dst), R.size, imm) }
    /// `sub size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func sub(_ dst: Mem, _ imm: Int) { arithmetic(.sub, .memory(dst), dst.requiredSize, imm) }

    /// `xor dst, src`.
    public mutating func xor<R: GeneralRegister>(_ dst: R, _ src: R) { arithmetic(.xor, RM(dst), src) }
    /// `xor [dst], src`.
    public mutating func xor<R: GeneralRegister>(_ dst: Mem, _ src: R) { arithmetic(.xor, RM(dst, size: R.size), src) }
    /// `xor dst, [src]`.
    public mutating func xor<R: GeneralRegister>(_ dst: R, _ src: Mem) { arithmetic(.xor, dst, src) }
    /// `xor dst, imm`.
    public mutating func xor<R: GeneralRegister>(_ dst: R, _ imm: Int) { arithmetic(.xor, RM(dst), R.size, imm) }
    /// `xor size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func xor(_ dst: Mem, _ imm: Int) { arithmetic(.xor, .memory(dst), dst.requiredSize, imm) }

    /// `cmp a, b`.
    public mutating func cmp<R: GeneralRegister>(_ a: R, _ b: R) { arithmetic(.cmp, RM(a), b) }
    /// `cmp [a], b`.
    public mutating func cmp<R: GeneralRegister>(_ a: Mem, _ b: R) { arithmetic(.cmp, RM(a, size: R.size), b) }
    /// `cmp a, [b]`.
    public mutating func cmp<R: GeneralRegister>(_ a: R, _ b: Mem) { arithmetic(.cmp, a, b) }
    /// `cmp a, imm`.
    public mutating func cmp<R: GeneralRegister>(_ a: R, _ imm: Int) { arithmetic(.cmp, RM(a), R.size, imm) }
    /// `cmp size [a], imm`; `a` must have a ``Mem/size``.
    public mutating func cmp(_ a: Mem, _ imm: Int) { arithmetic(.cmp, .memory(a), a.requiredSize, imm) }

    /// `test a, b`.
    public mutating func test<R: GeneralRegister>(_ a: R, _ b: R) { test(RM(a), b) }
    /// `test [a], b`.
    public mutating func test<R: GeneralRegister>(_ a: Mem, _ b: R) { test(RM(a, size: R.size), b) }
    /// `test a, [b]`: the same instruction as `test [b], a`.
    public mutating func test<R: GeneralRegister>(_ a: R, _ b: Mem) { test(RM(b, size: R.size), a) }
    /// `test a, imm`.
    public mutating func test<R: GeneralRegister>(_ a: R, _ imm: Int) { test(RM(a), R.size, imm) }
    /// `test size [a], imm`; `a` must have a ``Mem/size``.
    public mutating func test(_ a: Mem, _ imm: Int) { test(.memory(a), a.requiredSize, imm) }

    private mutating func test<R: GeneralRegister>(_ a: RM, _ b: R) {
        emit(byteForm: [0x84], size: R.size, reg: b, rm: a)
    }

    private mutating func test(_ a: RM, _ size: OperandSize, _ imm: Int) {
        immediateForm(accumulatorOpcode: 0xA8, groupOpcode: 0xF6, reg: 0, a, size, imm)
    }
}

// MARK: - One-operand arithmetic

extension Assembler {
    /// `inc reg`; the one-byte `40+r` form for 16- and 32-bit registers outside 64-bit code,
    /// where those bytes are REX prefixes.
    public mutating func inc<R: GeneralRegister>(_ dst: R) { incDec(0, dst) }
    /// `inc size [dst]`; `dst` must have a ``Mem/size``.
    public mutating func inc(_ dst: Mem) { emit(byteForm: [0xFE], size: dst.requiredSize, reg: 0, rm: .memory(dst)) }
    /// `dec reg`; the one-byte `48+r` form for 16- and 32-bit registers outside 64-bit code.
    public mutating func dec<R: GeneralRegister>(_ dst: R) { incDec(1, dst) }
    /// `dec size [dst]`; `dst` must have a ``Mem/size``.
    public mutating func dec(_ dst: Mem) { emit(byteForm: [0xFE], size: dst.requiredSize, reg: 1, rm: .memory(dst)) }

    private mutating func incDec<R: GeneralRegister>(_ digit: UInt8, _ dst: R) {
        if R.size == .byte || bits == .b64 {
            emit(byteForm: [0xFE], size: R.size, reg: digit, rm: RM(dst))
        } else {
            emit([0x40 | digit << 3], plus: dst, size: R.size)
        }
    }

    /// `not reg`.
    public mutating func not<R: GeneralRegister>(_ dst: R) { group3(2, RM(dst), R.size) }
    /// `not size [dst]`.
    public mutating func not(_ dst: Mem) { group3(2, .memory(dst), dst.requiredSize) }
    /// `neg reg`.
    public mutating func neg<R: GeneralRegister>(_ dst: R) { group3(3, RM(dst), R.size) }
    /// `neg size [dst]`.
    public mutating func neg(_ dst: Mem) { group3(3, .memory(dst), dst.requiredSize) }
    /// `mul src`: unsigned multiply of the accumulator.
    public mutating func mul<R: GeneralRegister>(_ src: R) { group3(4, RM(src), R.size) }
    /// `mul size [src]`.
    public mutating func mul(_ src: Mem) { group3(4, .memory(src), src.requiredSize) }
    /// `imul src`: signed multiply of the accumulator.
    public mutating func imul<R: GeneralRegister>(_ src: R) { group3(5, RM(src), R.size) }
    /// `imul size [src]`.
    public mutating func imul(_ src: Mem) { group3(5, .memory(src), src.requiredSize) }
    /// `div src`: unsigned divide of the accumulator (and `dx`/`edx`/`rdx`).
    public mutating func div<R: GeneralRegister>(_ src: R) { group3(6, RM(src), R.size) }
    /// `div size [src]`.
    public mutating func div(_ src: Mem) { group3(6, .memory(src), src.requiredSize) }
    /// `idiv src`: signed divide of the accumulator (and `dx`/`edx`/`rdx`).
    public mutating func idiv<R: GeneralRegister>(_ src: R) { group3(7, RM(src), R.size) }
    /// `idiv size [src]`.
    public mutating func idiv(_ src: Mem) { group3(7, .memory(src), src.requiredSize) }

    /// The `F6`/`F7 /digit` group: not neg mul imul div idiv.
    private mutating func group3(_ digit: UInt8, _ operand: RM, _ size: OperandSize) {
        emit(byteForm: [0xF6], size: size, reg: digit, rm: operand)
    }

    /// `imul dst, src`: two-operand signed multiply.
    public mutating func imul<R: WideRegister>(_ dst: R, _ src: R) {
        emit([0x0F, 0xAF], size: R.size, reg: dst, rm: RM(src))
    }

    /// `imul dst, [src]`.
    public mutating func imul<R: WideRegister>(_ dst: R, _ src: Mem) {
        emit([0x0F, 0xAF], size: R.size, reg: dst, rm: RM(src, size: R.size))
    }

    /// `imul dst, src, imm`: three-operand signed multiply, `6B ib` when the value allows; a
    /// qword operand takes a dword immediate, sign-extended.
    public mutating func imul<R: WideRegister>(_ dst: R, _ src: R, _ imm: Int) {
        imul(dst, RM(src), imm)
    }

    /// `imul dst, [src], imm`.
    public mutating func imul<R: WideRegister>(_ dst: R, _ src: Mem, _ imm: Int) {
        imul(dst, RM(src, size: R.size), imm)
    }

    private mutating func imul<R: WideRegister>(_ dst: R, _ src: RM, _ imm: Int) {
        let short = R.size.takesSignExtendedByte(imm)
        emit([short ? 0x6B : 0x69], size: R.size, reg: dst, rm: src, immediate: Immediate(imm, bytes: short ? 1 : R.size.immediateBytes))
    }

    /// `xadd dst, src`: exchange and add.
    public mutating func xadd<R: GeneralRegister>(_ dst: R, _ src: R) {
        emit(byteForm: [0x0F, 0xC0], size: R.size, reg: src, rm: RM(dst))
    }

    /// `xadd [dst], src`; usually after ``lock()``.
    public mutating func xadd<R: GeneralRegister>(_ dst: Mem, _ src: R) {
        emit(byteForm: [0x0F, 0xC0], size: R.size, reg: src, rm: RM(dst, size: R.size))
    }

    /// `cmpxchg dst, src`: compare with the accumulator and exchange.
    public mutating func cmpxchg<R: GeneralRegister>(_ dst: R, _ src: R) {
        emit(byteForm: [0x0F, 0xB0], size: R.size, reg: src, rm: RM(dst))
    }

    /// `cmpxchg [dst], src`; usually after ``lock()``.
    public mutating func cmpxchg<R: GeneralRegister>(_ dst: Mem, _ src: R) {
        emit(byteForm: [0x0F, 0xB0], size: R.size, reg: src, rm: RM(dst, size: R.size))
    }

    /// `cmpxchg8b [dst]`: compares `edx:eax` with the qword at `dst` and exchanges with `ecx:ebx`.
    public mutating func cmpxchg8b(_ dst: Mem) {
        emit([0x0F, 0xC7], size: nil, reg: 1, rm: .memory(dst.unsized))
    }

    /// `cmpxchg16b [dst]` (64-bit code): compares `rdx:rax` with the 16 bytes at `dst`, which
    /// must be 16-byte aligned, and exchanges with `rcx:rbx`.
    public mutating func cmpxchg16b(_ dst: Mem) {
        emit([0x0F, 0xC7], size: .qword, reg: 1, rm: .memory(dst.unsized))
    }
}

// MARK: - Conversions and decimal arithmetic

extension Assembler {
    /// `cbw`: sign-extends `al` into `ax`.
    public mutating func cbw() { emit([0x98], size: .word) }
    /// `cwde`: sign-extends `ax` into `eax`.
    public mutating func cwde() { emit([0x98], size: .dword) }
    /// `cwd`: sign-extends `ax` into `dx:ax`.
    public mutating func cwd() { emit([0x99], size: .word) }
    /// `cdq`: sign-extends `eax` into `edx:eax`.
    public mutating func cdq() { emit([0x99], size: .dword) }
    /// `cdqe`: sign-extends `eax` into `rax` (64-bit code).
    public mutating func cdqe() { emit([0x98], size: .qword) }
    /// `cqo`: sign-extends `rax` into `rdx:rax` (64-bit code).
    public mutating func cqo() { emit([0x99], size: .qword) }

    // The decimal adjustments do not exist in 64-bit code.

    /// `daa`: decimal adjust after addition.
    public mutating func daa() { if requireLegacyMode("daa") { emit([0x27]) } }
    /// `das`: decimal adjust after subtraction.
    public mutating func das() { if requireLegacyMode("das") { emit([0x2F]) } }
    /// `aaa`: ASCII adjust after addition.
    public mutating func aaa() { if requireLegacyMode("aaa") { emit([0x37]) } }
    /// `aas`: ASCII adjust after subtraction.
    public mutating func aas() { if requireLegacyMode("aas") { emit([0x3F]) } }
    /// `aam base`: ASCII adjust after multiplication (base 10 unless given).
    public mutating func aam(_ base: UInt8 = 10) { if requireLegacyMode("aam") { emit([0xD4, base]) } }
    /// `aad base`: ASCII adjust before division (base 10 unless given).
    public mutating func aad(_ base: UInt8 = 10) { if requireLegacyMode("aad") { emit([0xD5, base]) } }
}
