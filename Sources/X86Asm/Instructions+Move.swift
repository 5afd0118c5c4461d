extension Assembler {
    /// `mov dst, src` between two registers of the same width.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ src: R) {
        emit(byteForm: [0x88], size: R.size, reg: src.number, rm: RM(dst))
    }

    /// `mov dst, [src]`.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ src: Mem) {
        if dst.number == 0, src.isAbsolute {
            movAccumulator(0xA0, R.size, src)
        } else {
            emit(byteForm: [0x8A], size: R.size, reg: dst.number, rm: RM(src, size: R.size))
        }
    }

    /// `mov [dst], src`.
    public mutating func mov<R: GeneralRegister>(_ dst: Mem, _ src: R) {
        if src.number == 0, dst.isAbsolute {
            movAccumulator(0xA2, R.size, dst)
        } else {
            emit(byteForm: [0x88], size: R.size, reg: src.number, rm: RM(dst, size: R.size))
        }
    }

    /// `mov dst, imm`. The immediate may be given signed or unsigned.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ imm: Int) {
        movImmediateOpcode(dst)
        emitImmediate(imm, size: R.size)
    }

    /// `mov dst, label`: loads the label's address (its low 16 bits into a 16-bit register).
    public mutating func mov<R: WideRegister>(_ dst: R, _ label: Label) {
        movImmediateOpcode(dst)
        emit(0, plus: label, bytes: R.size.bytes)
    }

    /// `mov size [dst], imm`; `dst` must have a ``Mem/size``.
    public mutating func mov(_ dst: Mem, _ imm: Int) {
        let size = dst.requiredSize
        emit(byteForm: [0xC6], size: size, reg: 0, rm: .memory(dst))
        emitImmediate(imm, size: size)
    }

    /// `mov sreg, src`: loads a segment register. nasm accepts a 32-bit source as well, with
    /// the same encoding.
    public mutating func mov(_ dst: SegReg, _ src: some WideRegister) {
        emit([0x8E], size: nil, reg: dst.rawValue, rm: RM(src))
    }

    /// `mov sreg, [src]`.
    public mutating func mov(_ dst: SegReg, _ src: Mem) {
        emit([0x8E], size: nil, reg: dst.rawValue, rm: RM(src, size: .word))
    }

    /// `mov dst, sreg`; a 32-bit destination is zero-extended.
    public mutating func mov<R: WideRegister>(_ dst: R, _ src: SegReg) {
        emit([0x8C], size: R.size, reg: src.rawValue, rm: RM(dst))
    }

    /// `mov [dst], sreg`.
    public mutating func mov(_ dst: Mem, _ src: SegReg) {
        emit([0x8C], size: nil, reg: src.rawValue, rm: RM(dst, size: .word))
    }

    /// `mov crN, src`.
    public mutating func mov(_ dst: ControlReg, _ src: Reg32) {
        emit([0x0F, 0x22], size: nil, reg: dst.rawValue, rm: RM(src))
    }

    /// `mov dst, crN`.
    public mutating func mov(_ dst: Reg32, _ src: ControlReg) {
        emit([0x0F, 0x20], size: nil, reg: src.rawValue, rm: RM(dst))
    }

    /// The `A0`–`A3` forms: the accumulator to or from an absolute address.
    private mutating func movAccumulator(_ opcode: UInt8, _ size: OperandSize, _ address: Mem) {
        emitPrefixes(size: size, memory: address)
        emit(size.opcode(opcode))
        emit(address.disp, plus: address.label, bytes: address.addressSize(in: bits) == .b16 ? 2 : 4)
    }

    /// The `B0+r`/`B8+r` opcode (and prefix) of `mov reg, imm`, before its immediate.
    private mutating func movImmediateOpcode<R: GeneralRegister>(_ dst: R) {
        emit([(R.size == .byte ? 0xB0 : 0xB8) + dst.number], size: R.size)
    }

    /// `movzx dst, src`: zero-extends a narrower register.
    public mutating func movzx<D: WideRegister, S: GeneralRegister>(_ dst: D, _ src: S) {
        extend(0xB6, dst, RM(src), from: S.size)
    }

    /// `movzx dst, size [src]`; `src` must have a ``Mem/size`` of byte or word.
    public mutating func movzx(_ dst: some WideRegister, _ src: Mem) {
        extend(0xB6, dst, .memory(src), from: src.requiredSize)
    }

    /// `movsx dst, src`: sign-extends a narrower register.
    public mutating func movsx<D: WideRegister, S: GeneralRegister>(_ dst: D, _ src: S) {
        extend(0xBE, dst, RM(src), from: S.size)
    }

    /// `movsx dst, size [src]`; `src` must have a ``Mem/size`` of byte or word.
    public mutating func movsx(_ dst: some WideRegister, _ src: Mem) {
        extend(0xBE, dst, .memory(src), from: src.requiredSize)
    }

    private mutating func extend<D: WideRegister>(_ opcode: UInt8, _ dst: D, _ src: RM, from size: OperandSize) {
        precondition(size.bytes < D.size.bytes, "cannot extend a \(size) to a \(D.size)")
        emit([0x0F, size.opcode(opcode)], size: D.size, reg: dst.number, rm: src)
    }

    /// `lea dst, [src]`: loads the effective address.
    public mutating func lea<R: WideRegister>(_ dst: R, _ src: Mem) {
        emit([0x8D], size: R.size, reg: dst.number, rm: .memory(src))
    }

    /// `xchg a, b` between registers; uses the one-byte `90+r` form when either is the accumulator.
    public mutating func xchg<R: GeneralRegister>(_ a: R, _ b: R) {
        if R.size != .byte, a.number == 0 || b.number == 0 {
            emit([0x90 + (a.number | b.number)], size: R.size)
        } else {
            emit(byteForm: [0x86], size: R.size, reg: a.number, rm: RM(b))
        }
    }

    /// `xchg reg, [mem]`.
    public mutating func xchg<R: GeneralRegister>(_ a: R, _ b: Mem) {
        emit(byteForm: [0x86], size: R.size, reg: a.number, rm: RM(b, size: R.size))
    }

    /// `xchg [mem], reg`: the same instruction as `xchg reg, [mem]`.
    public mutating func xchg<R: GeneralRegister>(_ a: Mem, _ b: R) {
        xchg(b, a)
    }
}

// MARK: - Stack

extension Assembler {
    /// `push reg`.
    public mutating func push<R: WideRegister>(_ src: R) {
        emit([0x50 + src.number], size: R.size)
    }

    /// `pop reg`.
    public mutating func pop<R: WideRegister>(_ dst: R) {
        emit([0x58 + dst.number], size: R.size)
    }

    /// `push sreg`.
    public mutating func push(_ src: SegReg) {
        emit(segmentStackOpcode(src))
    }

    /// `pop sreg`; `cs` cannot be popped.
    public mutating func pop(_ dst: SegReg) {
        precondition(dst != .cs, "pop cs does not exist")
        var opcode = segmentStackOpcode(dst)
        opcode[opcode.count - 1] += 1
        emit(opcode)
    }

    /// The `push sreg` opcode; `pop sreg` is one more.
    private func segmentStackOpcode(_ segment: SegReg) -> [UInt8] {
        switch segment {
        case .es, .cs, .ss, .ds: [0x06 | segment.rawValue << 3]
        case .fs, .gs: [0x0F, 0xA0 | (segment.rawValue - 4) << 3]
        }
    }

    /// `push [src]`, of the ``Mem/size`` or else the current operand size.
    public mutating func push(_ src: Mem) {
        emit([0xFF], size: stackSize(src.size), reg: 6, rm: .memory(src))
    }

    /// `pop [dst]`, of the ``Mem/size`` or else the current operand size.
    public mutating func pop(_ dst: Mem) {
        emit([0x8F], size: stackSize(dst.size), reg: 0, rm: .memory(dst))
    }

    /// `push imm`, using the sign-extended `6A ib` form when the value allows.
    /// - Parameter size: `.word` or `.dword`; the current operand size if `nil`.
    public mutating func push(_ imm: Int, size: OperandSize? = nil) {
        let size = stackSize(size)
        let short = size.takesSignExtendedByte(imm)
        emit([short ? 0x6A : 0x68], size: size)
        emit(imm, bytes: short ? 1 : size.bytes)
    }

    /// `push label`: pushes the label's address.
    /// - Parameter size: `.word` or `.dword`; the current operand size if `nil`.
    public mutating func push(_ label: Label, size: OperandSize? = nil) {
        let size = stackSize(size)
        emit([0x68], size: size)
        emit(0, plus: label, bytes: size.bytes)
    }

    private func stackSize(_ size: OperandSize?) -> OperandSize {
        let size = size ?? bits.operandSize
        precondition(size != .byte, "the stack has no byte operations")
        return size
    }

    /// `pusha` (current operand size).
    public mutating func pusha() { emit([0x60]) }
    /// `popa` (current operand size).
    public mutating func popa() { emit([0x61]) }
    /// `pushad`: pushes the 32-bit registers.
    public mutating func pushad() { emit([0x60], size: .dword) }
    /// `popad`: pops the 32-bit registers.
    public mutating func popad() { emit([0x61], size: .dword) }
    /// `pushf` (current operand size).
    public mutating func pushf() { emit([0x9C]) }
    /// `popf` (current operand size).
    public mutating func popf() { emit([0x9D]) }
    /// `pushfd`: pushes EFLAGS.
    public mutating func pushfd() { emit([0x9C], size: .dword) }
    /// `popfd`: pops EFLAGS.
    public mutating func popfd() { emit([0x9D], size: .dword) }
}
