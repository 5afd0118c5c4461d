extension Assembler {
    /// Emits `opcode` followed by a `size`-byte displacement to `label`, relative to the end
    /// of the instruction.
    private mutating func jump(_ opcode: [UInt8], to label: Label, displacementSize size: Int) {
        emit(opcode)
        emitReference(to: label, size: size, .relative(addend: 0))
    }

    /// Whether `label` is already bound close enough behind for a two-byte short jump.
    private func isShortBackward(_ label: Label) -> Bool {
        guard let target = address(of: label) else { return false }
        return (-128...127).contains(Int(target) - Int(position) - 2)
    }

    /// The width of a near jump's displacement: 16 or 32 bits, following the code (32 in
    /// 64-bit code).
    private var nearDisplacementSize: Int { bits.operandSize.bytes }

    /// `jmp label`: a short jump (`EB`) if the label is bound within reach behind, else a
    /// near jump (`E9`).
    public mutating func jmp(_ label: Label) {
        if isShortBackward(label) {
            jmpShort(label)
        } else {
            jump([0xE9], to: label, displacementSize: nearDisplacementSize)
        }
    }

    /// `jmp short label` (`EB`). ``finish()`` throws if the label is out of reach.
    public mutating func jmpShort(_ label: Label) {
        jump([0xEB], to: label, displacementSize: 1)
    }

    /// `jcc label`: a short jump (`70+cc`) if the label is bound within reach behind, else a
    /// near jump (`0F 80+cc`, 386 and later).
    public mutating func jcc(_ condition: Condition, _ label: Label) {
        if isShortBackward(label) {
            jccShort(condition, label)
        } else {
            jump([0x0F, 0x80 + condition.rawValue], to: label, displacementSize: nearDisplacementSize)
        }
    }

    /// `jcc short label` (`70+cc`). ``finish()`` throws if the label is out of reach.
    public mutating func jccShort(_ condition: Condition, _ label: Label) {
        jump([0x70 + condition.rawValue], to: label, displacementSize: 1)
    }

    /// `loop label`: decrements `cx`/`ecx`/`rcx` (by the address size) and jumps if nonzero.
    public mutating func loop(_ label: Label) { jump([0xE2], to: label, displacementSize: 1) }
    /// `loope label`: as `loop`, and only while ZF = 1.
    public mutating func loope(_ label: Label) { jump([0xE1], to: label, displacementSize: 1) }
    /// `loopne label`: as `loop`, and only while ZF = 0.
    public mutating func loopne(_ label: Label) { jump([0xE0], to: label, displacementSize: 1) }

    /// `jcxz label`: jumps if `cx` is zero (not in 64-bit code).
    public mutating func jcxz(_ label: Label) {
        if requireLegacyMode("jcxz") { jumpIfCounterZero(.b16, label) }
    }
    /// `jecxz label`: jumps if `ecx` is zero.
    public mutating func jecxz(_ label: Label) { jumpIfCounterZero(.b32, label) }
    /// `jrcxz label`: jumps if `rcx` is zero (64-bit code).
    public mutating func jrcxz(_ label: Label) {
        if requireLongMode("jrcxz") { jumpIfCounterZero(.b64, label) }
    }

    /// `E3`, whose address size picks `cx`, `ecx` or `rcx`.
    private mutating func jumpIfCounterZero(_ addressSize: Bits, _ label: Label) {
        if bits != addressSize { emit(0x67) }
        jump([0xE3], to: label, displacementSize: 1)
    }

    /// `call label`: a near call (`E8`).
    public mutating func call(_ label: Label) {
        jump([0xE8], to: label, displacementSize: nearDisplacementSize)
    }

    /// `jmp reg`: a near jump to the address in a register (a 64-bit one in 64-bit code).
    public mutating func jmp<R: WideRegister>(_ target: R) { nearIndirect(4, RM(target), R.size, "jmp") }
    /// `jmp [mem]`: a near jump through memory, of the ``Mem/size`` or else the current
    /// operand size (64 bits in 64-bit code).
    public mutating func jmp(_ target: Mem) { nearIndirect(4, .memory(target), target.size, "jmp") }
    /// `call reg`: a near call to the address in a register (a 64-bit one in 64-bit code).
    public mutating func call<R: WideRegister>(_ target: R) { nearIndirect(2, RM(target), R.size, "call") }
    /// `call [mem]`: a near call through memory, sized as ``jmp(_:)-(Mem)``.
    public mutating func call(_ target: Mem) { nearIndirect(2, .memory(target), target.size, "call") }

    /// `FF /digit` near: the target is 64 bits, and only that, in 64-bit code.
    private mutating func nearIndirect(_ digit: UInt8, _ target: RM, _ size: OperandSize?, _ instruction: String) {
        let size = defaultQwordSize(size ?? (bits == .b64 ? .qword : bits.operandSize), instruction, wordAllowed: false)
        emit([0xFF], size: size, reg: digit, rm: target)
    }

    /// `jmp far [mem]`: a far jump through a `seg:offset` pointer in memory. The ``Mem/size``,
    /// else the current operand size (a qword in 64-bit code, as nasm), is the width of the
    /// offset (nasm's `word far`/`dword far`/`qword far`, the last with REX.W).
    public mutating func jmpFar(_ pointer: Mem) { farIndirect(5, pointer) }
    /// `call far [mem]`: a far call through a `seg:offset` pointer in memory; sized as ``jmpFar(_:)``.
    public mutating func callFar(_ pointer: Mem) { farIndirect(3, pointer) }

    /// `FF /digit` far, through memory.
    private mutating func farIndirect(_ digit: UInt8, _ pointer: Mem) {
        emit([0xFF], size: pointer.size ?? (bits == .b64 ? .qword : bits.operandSize), reg: digit, rm: .memory(pointer))
    }

    /// `jmp segment:offset`: a direct far jump (`EA`; not in 64-bit code).
    /// - Parameter size: The width of the offset, `.word` or `.dword`; the current operand size
    ///   if `nil`. A 32-bit offset from 16-bit code (`jmp dword sel:off`) enters 32-bit code.
    public mutating func jmpFar(segment: UInt16, offset: UInt32, size: OperandSize? = nil) {
        farDirect(0xEA, segment: segment, offset: Int(offset), label: nil, size: size)
    }

    /// `jmp segment:label`: a direct far jump to a label's address.
    public mutating func jmpFar(segment: UInt16, _ label: Label, size: OperandSize? = nil) {
        farDirect(0xEA, segment: segment, offset: 0, label: label, size: size)
    }

    /// `call segment:offset`: a direct far call (`9A`; not in 64-bit code); sized as
    /// ``jmpFar(segment:offset:size:)``.
    public mutating func callFar(segment: UInt16, offset: UInt32, size: OperandSize? = nil) {
        farDirect(0x9A, segment: segment, offset: Int(offset), label: nil, size: size)
    }

    /// `call segment:label`: a direct far call to a label's address.
    public mutating func callFar(segment: UInt16, _ label: Label, size: OperandSize? = nil) {
        farDirect(0x9A, segment: segment, offset: 0, label: label, size: size)
    }

    private mutating func farDirect(_ opcode: UInt8, segment: UInt16, offset: Int, label: Label?, size: OperandSize?) {
        guard requireLegacyMode(opcode == 0xEA ? "jmp far ptr" : "call far ptr") else { return }
        let size = size ?? bits.operandSize
        precondition(size != .byte, "a far pointer has a word or dword offset")
        emit([opcode], size: size)
        emit(offset, plus: label, bytes: size.bytes)
        emit(Int(segment), bytes: 2)
    }

    /// `ret` or `ret n`: near return, then release `n` bytes of arguments.
    public mutating func ret(_ n: UInt16? = nil) { ret(0xC2, n) }
    /// `retf` or `retf n`: far return (to a 32-bit offset in 64-bit code; see
    /// ``retf(size:_:)`` for `retfq`), then release `n` bytes of arguments.
    public mutating func retf(_ n: UInt16? = nil) { ret(0xCA, n) }

    /// `C2 iw`/`C3` and `CA iw`/`CB`.
    private mutating func ret(_ opcode: UInt8, _ n: UInt16?) {
        if let n {
            emit(opcode)
            emit(Int(n), bytes: 2)
        } else {
            emit(opcode | 1)
        }
    }

    /// `int n`: software interrupt.
    public mutating func int(_ n: UInt8) { emit([0xCD, n]) }
    /// `int3`: the one-byte breakpoint interrupt.
    public mutating func int3() { emit([0xCC]) }
    /// `into`: interrupt 4 if OF = 1 (not in 64-bit code).
    public mutating func into() { if requireLegacyMode("into") { emit([0xCE]) } }
    /// `iret`: interrupt return at the current operand size (32 bits in 64-bit code).
    public mutating func iret() { emit([0xCF]) }
    /// `iretd`: 32-bit interrupt return.
    public mutating func iretd() { emit([0xCF], size: .dword) }
    /// `iretq`: 64-bit interrupt return (64-bit code), `REX.W CF`.
    public mutating func iretq() { emit([0xCF], size: .qword) }

    /// `enter frameSize, nesting`: creates a stack frame.
    public mutating func enter(_ frameSize: UInt16, _ nesting: UInt8) {
        emit(0xC8)
        emit(Int(frameSize), bytes: 2)
        emit(nesting)
    }

    /// `leave`: releases the stack frame made by `enter`.
    public mutating func leave() { emit([0xC9]) }

    /// `bound reg, [mem]`: raises interrupt 5 unless the register lies within the pair of
    /// bounds at `mem` (not in 64-bit code).
    public mutating func bound<R: WideRegister>(_ index: R, _ bounds: Mem) {
        if requireLegacyMode("bound") { emit([0x62], size: R.size, reg: index, rm: .memory(bounds)) }
    }
}
