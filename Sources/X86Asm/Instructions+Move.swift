extension Assembler {
    /// `mov dst, src` between two registers of the same width.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ src: R) {
        emit(byteForm: [0x88], size: R.size, reg: src, rm: RM(dst))
    }

    /// `mov dst, [src]`.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ src: Mem) {
        if dst.number == 0, src.takesAccumulatorForm(in: bits) {
            movAccumulator(0xA0, R.size, src)
        } else {
            emit(byteForm: [0x8A], size: R.size, reg: dst, rm: RM(src, size: R.size))
        }
    }

    /// `mov [dst], src`.
    public mutating func mov<R: GeneralRegister>(_ dst: Mem, _ src: R) {
        if src.number == 0, dst.takesAccumulatorForm(in: bits) {
            movAccumulator(0xA2, R.size, dst)
        } else {
            emit(byteForm: [0x88], size: R.size, reg: src, rm: RM(dst, size: R.size))
        }
    }

    /// `mov dst, imm`. The immediate may be given signed or unsigned.
    ///
    /// A 64-bit register takes the shortest form, as nasm does: `mov r32, imm32` (which
    /// zero-extends) for 0...2³²-1, the sign-extended `mov r/m64, imm32` for other values
    /// down to -2³¹, else ``movabs(_:_:)``.
    public mutating func mov<R: GeneralRegister>(_ dst: R, _ imm: Int) {
        switch R.size {
        case .qword where bits == .b64 && (0...0xFFFF_FFFF).contains(imm):
            mov(Reg32(number: dst.number), imm)
        case .qword where (-0x8000_0000...0x7FFF_FFFF).contains(imm):
            emit([0xC7], size: .qword, reg: 0, rm: RM(dst), immediate: Immediate(imm, size: .qword))
        case .qword:
            movabs(Reg64(number: dst.number), imm)
        default:
            emit([R.size == .byte ? 0xB0 : 0xB8], plus: dst, size: R.size)
            emitImmediate(imm, size: R.size)
        }
    }

    /// `mov dst, imm64` (nasm's `mov r64, qword imm`, GNU `movabs`): `REX.W B8+r` with all
    /// eight bytes of the value, whatever its magnitude (64-bit code).
    public mutating func movabs(_ dst: Reg64, _ imm: Int) {
        emit([0xB8], plus: dst, size: .qword)
        emit(imm, bytes: 8)
    }

    /// `mov dst, label`: loads the label's address (its low 16 bits into a 16-bit register,
    /// all eight bytes with ``movabs(_:_:)``'s encoding into a 64-bit one).
    public mutating func mov<R: WideRegister>(_ dst: R, _ label: Label) {
        emit([0xB8], plus: dst, size: R.size)
        emit(0, plus: label, bytes: R.size.bytes)
    }

    /// `mov size [dst], imm`; `dst` must have a ``Mem/size``. A qword takes a dword
    /// immediate, sign-extended.
    public mutating func mov(_ dst: Mem, _ imm: Int) {
        let size = dst.requiredSize
        emit(byteForm: [0xC6], size: size, reg: 0, rm: .memory(dst), immediate: Immediate(imm, size: size))
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

    /// `mov dst, sreg`; a 32- or 64-bit destination is zero-extended.
    public mutating func mov<R: WideRegister>(_ dst: R, _ src: SegReg) {
        emit([0x8C], size: R.size, reg: src.rawValue, rm: RM(dst))
    }

    /// `mov [dst], sreg`.
    public mutating func mov(_ dst: Mem, _ src: SegReg) {
        emit([0x8C], size: nil, reg: src.rawValue, rm: RM(dst, size: .word))
    }

    /// `mov crN, src` (outside 64-bit code).
    public mutating func mov(_ dst: ControlReg, _ src: Reg32) { moveSystemRegister(0x22, dst.rawValue, src) }
    /// `mov crN, src` (64-bit code).
    public mutating func mov(_ dst: ControlReg, _ src: Reg64) { moveSystemRegister(0x22, dst.rawValue, src) }
    /// `mov dst, crN` (outside 64-bit code).
    public mutating func mov(_ dst: Reg32, _ src: ControlReg) { moveSystemRegister(0x20, src.rawValue, dst) }
    /// `mov dst, crN` (64-bit code).
    public mutating func mov(_ dst: Reg64, _ src: ControlReg) { moveSystemRegister(0x20, src.rawValue, dst) }

    /// `0F opcode /r` moving between a general register and control or debug register
    /// `number`: 32-bit registers outside 64-bit code, 64-bit ones in it.
    mutating func moveSystemRegister<R: AddressRegister>(_ opcode: UInt8, _ number: UInt8, _ register: R) {
        if bits == .b64, R.size != .qword {
            deferredErrors.append(.invalidInstruction("mov with \(register) and a control or debug register", bits: bits, position: position))
            return
        }
        emit([0x0F, opcode], size: nil, reg: number, rm: RM(register))
    }

    /// The `A0`–`A3` forms: the accumulator to or from an absolute address.
    private mutating func movAccumulator(_ opcode: UInt8, _ size: OperandSize, _ address: Mem) {
        emitPrefixes(size: size, memory: address)
        emit(size.opcode(opcode))
        emit(address.disp, plus: address.label, bytes: address.addressSize(in: bits) == .b16 ? 2 : 4)
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

    /// `0F B6`/`B7` (movzx) and `0F BE`/`BF` (movsx) from a byte or word; `movsx` from a
    /// dword is ``movsxd(_:_:)-(Reg64,Reg32)``.
    private mutating func extend<D: WideRegister>(_ opcode: UInt8, _ dst: D, _ src: RM, from size: OperandSize) {
        precondition(size.bytes < D.size.bytes, "cannot extend a \(size) to a \(D.size)")
        if size == .dword {
            precondition(opcode == 0xBE, "movzx from a dword does not exist: a 32-bit mov zero-extends")
            emit([0x63], size: .qword, reg: dst, rm: src)
        } else {
            emit([0x0F, size.opcode(opcode)], size: D.size, reg: dst, rm: src)
        }
    }

    /// `movsxd dst, src` (64-bit code): sign-extends a 32-bit register.
    public mutating func movsxd(_ dst: Reg64, _ src: Reg32) { extend(0xBE, dst, RM(src), from: .dword) }

    /// `movsxd dst, dword [src]` (64-bit code).
    public mutating func movsxd(_ dst: Reg64, _ src: Mem) { extend(0xBE, dst, RM(src, size: .dword), from: .dword) }

    /// `lea dst, [src]`: loads the effective address.
    public mutating func lea<R: WideRegister>(_ dst: R, _ src: Mem) {
        emit([0x8D], size: R.size, reg: dst, rm: .memory(src))
    }

    /// `xchg a, b` between registers; uses the one-byte `90+r` form when either is the
    /// accumulator, except `xchg eax, eax` in 64-bit code, where `90` is a `nop` that does not
    /// clear the upper half of `rax`.
    public mutating func xchg<R: GeneralRegister>(_ a: R, _ b: R) {
        if R.size != .byte, a.number == 0 || b.number == 0, !(bits == .b64 && R.size == .dword && a == b) {
            emit([0x90], plus: a.number == 0 ? b : a, size: R.size)
        } else {
            emit(byteForm: [0x86], size: R.size, reg: a, rm: RM(b))
        }
    }

    /// `xchg reg, [mem]`.
    public mutating func xchg<R: GeneralRegister>(_ a: R, _ b: Mem) {
        emit(byteForm: [0x86], size: R.size, reg: a, rm: RM(b, size: R.size))
    }

    /// `xchg [mem], reg`: the same instruction as `xchg reg, [mem]`.
    public mutating func xchg<R: GeneralRegister>(_ a: Mem, _ b: R) {
        xchg(b, a)
    }
}

// MARK: - Stack

extension Assembler {
    /// `push reg`: 64-bit registers in 64-bit code, where a 32-bit push does not exist.
    public mutating func push<R: WideRegister>(_ src: R) {
        emit([0x50], plus: src, size: defaultQwordSize(R.size, "push"))
    }

    /// `pop reg`: 64-bit registers in 64-bit code, where a 32-bit pop does not exist.
    public mutating func pop<R: WideRegister>(_ dst: R) {
        emit([0x58], plus: dst, size: defaultQwordSize(R.size, "pop"))
    }

    /// `push sreg`; only `fs` and `gs` in 64-bit code.
    public mutating func push(_ src: SegReg) {
        guard src.rawValue >= SegReg.fs.rawValue || requireLegacyMode("push \(src)") else { return }
        emit(segmentStackOpcode(src))
    }

    /// `pop sreg`; `cs` cannot be popped, and only `fs` and `gs` in 64-bit code.
    public mutating func pop(_ dst: SegReg) {
        precondition(dst != .cs, "pop cs does not exist")
        guard dst.rawValue >= SegReg.fs.rawValue || requireLegacyMode("pop \(dst)") else { return }
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

    /// `push [src]`, of the ``Mem/size`` or else the current stack operand size.
    public mutating func push(_ src: Mem) {
        emit([0xFF], size: defaultQwordSize(stackSize(src.size), "push"), reg: 6, rm: .memory(src))
    }

    /// `pop [dst]`, of the ``Mem/size`` or else the current stack operand size.
    public mutating func pop(_ dst: Mem) {
        emit([0x8F], size: defaultQwordSize(stackSize(dst.size), "pop"), reg: 0, rm: .memory(dst))
    }

    /// `push imm`, using the sign-extended `6A ib` form when the value allows. In 64-bit code
    /// a qword push takes a dword immediate, sign-extended.
    /// - Parameter size: `.word` or `.dword` (`.word` or `.qword` in 64-bit code); the
    ///   current stack operand size if `nil`.
    public mutating func push(_ imm: Int, size: OperandSize? = nil) {
        let size = stackSize(size)
        let short = size.takesSignExtendedByte(imm)
        emit([short ? 0x6A : 0x68], size: defaultQwordSize(size, "push"))
        emit(imm, bytes: short ? 1 : size.immediateBytes)
    }

    /// `push label`: pushes the label's address (sign-extended from 32 bits in 64-bit code).
    /// - Parameter size: as for ``push(_:size:)-(Int,_)``.
    public mutating func push(_ label: Label, size: OperandSize? = nil) {
        let size = stackSize(size)
        emit([0x68], size: defaultQwordSize(size, "push"))
        emit(0, plus: label, bytes: size.immediateBytes)
    }

    /// `size`, or else the stack operand size of the current code: 64 bits in 64-bit code.
    private func stackSize(_ size: OperandSize?) -> OperandSize {
        let size = size ?? (bits == .b64 ? .qword : bits.operandSize)
        precondition(size != .byte, "the stack has no byte operations")
        return size
    }

    /// `pusha` (current operand size; not in 64-bit code).
    public mutating func pusha() { if requireLegacyMode("pusha") { emit([0x60]) } }
    /// `popa` (current operand size; not in 64-bit code).
    public mutating func popa() { if requireLegacyMode("popa") { emit([0x61]) } }
    /// `pushad`: pushes the 32-bit registers (not in 64-bit code).
    public mutating func pushad() { if requireLegacyMode("pushad") { emit([0x60], size: .dword) } }
    /// `popad`: pops the 32-bit registers (not in 64-bit code).
    public mutating func popad() { if requireLegacyMode("popad") { emit([0x61], size: .dword) } }
    /// `pushf` (current stack operand size).
    public mutating func pushf() { emit([0x9C]) }
    /// `popf` (current stack operand size).
    public mutating func popf() { emit([0x9D]) }
    /// `pushfd`: pushes EFLAGS (not in 64-bit code).
    public mutating func pushfd() { if requireLegacyMode("pushfd") { emit([0x9C], size: .dword) } }
    /// `popfd`: pops EFLAGS (not in 64-bit code).
    public mutating func popfd() { if requireLegacyMode("popfd") { emit([0x9D], size: .dword) } }
    /// `pushfq`: pushes RFLAGS (64-bit code).
    public mutating func pushfq() { if requireLongMode("pushfq") { emit([0x9C]) } }
    /// `popfq`: pops RFLAGS (64-bit code).
    public mutating func popfq() { if requireLongMode("popfq") { emit([0x9D]) } }
}
