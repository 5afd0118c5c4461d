/// The r/m operand of a ModR/M byte: a register (mod = 11) or a memory address.
enum RM {
    case register(UInt8)
    case memory(Mem)

    init(_ register: some GeneralRegister) {
        self = .register(register.number)
    }

    /// A memory operand accessed at `size`, which its own declared size (if any) must match.
    init(_ memory: Mem, size: OperandSize) {
        precondition(memory.size == nil || memory.size == size, "\(memory.size!) memory operand used as \(size)")
        self = .memory(memory)
    }

    var memory: Mem? {
        if case .memory(let m) = self { m } else { nil }
    }

    var isAccumulator: Bool {
        if case .register(0) = self { true } else { false }
    }
}

extension Mem {
    /// The declared ``size``, for instructions that have no register operand to imply one.
    var requiredSize: OperandSize {
        guard let size else { preconditionFailure("ambiguous operand size: give the Mem a size") }
        return size
    }
}

/// Whether the low `bytes` bytes of `value`, read as a signed number, fit in a signed byte.
func isSignedByte(_ value: Int, truncatedTo bytes: Int) -> Bool {
    let shift = 64 - 8 * bytes
    return (-128...127).contains((value << shift) >> shift)
}

extension OperandSize {
    /// The opcode for this operand size in a byte/word pair: `byteForm` for bytes, else
    /// `byteForm | 1`, the pattern most integer instructions follow.
    func opcode(_ byteForm: UInt8) -> UInt8 {
        self == .byte ? byteForm : byteForm | 1
    }

    /// Checks that `value` fits an immediate of this size, signed or unsigned, as nasm accepts.
    func checkImmediate(_ value: Int) {
        let bits = 8 * bytes
        precondition((-(1 << (bits - 1))...((1 << bits) - 1)).contains(value), "immediate \(value) does not fit a \(self)")
    }

    /// Checks that `value` fits an immediate of this size, and tells whether the shorter
    /// sign-extended `imm8` encodings (`83`, `6B`, `6A`) carry it: the size is a word or dword
    /// and the value equals a sign-extended byte.
    func takesSignExtendedByte(_ value: Int) -> Bool {
        checkImmediate(value)
        return self != .byte && isSignedByte(value, truncatedTo: bytes)
    }
}

extension Assembler {
    /// Emits the prefixes an instruction needs in the current code: segment override, then
    /// operand size (`0x66`) when `size` is not the default, then address size (`0x67`) when
    /// `memory` uses the other addressing mode. `size` is `nil` for instructions without one.
    mutating func emitPrefixes(size: OperandSize?, memory: Mem? = nil) {
        if let segment = memory?.segment { emit(segment.overridePrefix) }
        if let size, size != .byte, size != bits.operandSize { emit(0x66) }
        if let memory, memory.addressSize(in: bits) != bits { emit(0x67) }
    }

    /// Emits an instruction without ModR/M byte: the operand-size prefix if `size` needs one,
    /// then `opcode`.
    mutating func emit(_ opcode: [UInt8], size: OperandSize) {
        emitPrefixes(size: size)
        emit(opcode)
    }

    /// Emits a ModR/M instruction: prefixes, `opcode`, ModR/M, SIB and displacement.
    /// - Parameters:
    ///   - size: The operand size, for the `0x66` prefix, or `nil` when the instruction has none.
    ///   - reg: The ModR/M reg field: a register number or an opcode extension (`/digit`).
    mutating func emit(_ opcode: [UInt8], size: OperandSize?, reg: UInt8, rm: RM) {
        emitPrefixes(size: size, memory: rm.memory)
        emit(opcode)
        switch rm {
        case .register(let r): emit(0xC0 | reg << 3 | r)
        case .memory(let m): emitAddress(reg: reg, m)
        }
    }

    /// Emits a ModR/M instruction that has a byte form `opcode` and a word/dword form with
    /// the low bit of the last opcode byte set, as most integer instructions do.
    mutating func emit(byteForm opcode: [UInt8], size: OperandSize, reg: UInt8, rm: RM) {
        emit(Array(opcode.dropLast()) + [size.opcode(opcode.last!)], size: size, reg: reg, rm: rm)
    }

    /// Emits an immediate of `size`, checking that it fits.
    mutating func emitImmediate(_ value: Int, size: OperandSize) {
        size.checkImmediate(value)
        emit(value, bytes: size.bytes)
    }

    /// Emits a `count`-byte field holding `value`, plus the address of `label` if there is one.
    mutating func emit(_ value: Int, plus label: Label?, bytes count: Int) {
        if let label {
            emitReference(to: label, size: count, .absolute(addend: value))
        } else {
            emit(value, bytes: count)
        }
    }

    /// Emits the ModR/M byte, SIB byte and displacement addressing `m`.
    private mutating func emitAddress(reg: UInt8, _ m: Mem) {
        let sixteen = m.addressSize(in: bits) == .b16
        let (mod, rm, sib, dispSize): (UInt8, UInt8, UInt8?, Int)
        switch m.base {
        case .absolute:
            (mod, rm, sib, dispSize) = (0, sixteen ? 6 : 5, nil, sixteen ? 2 : 4)
        case .mode16(let r):
            // [bp] has no mod-00 form: that encoding means [disp16].
            (mod, dispSize) = m.displacementMode(baseNeedsDisplacement: r == 6, wide: 2)
            (rm, sib) = (r, nil)
        case .indexed32(let index, let scaleShift):
            // SIB base 101 with mod 00 means "no base, disp32".
            (mod, rm, sib, dispSize) = (0, 4, scaleShift << 6 | index.number << 3 | 5, 4)
        case .based32(let base, let index, let scaleShift):
            // [ebp] has no mod-00 form: that encoding means [disp32].
            (mod, dispSize) = m.displacementMode(baseNeedsDisplacement: base == .ebp, wide: 4)
            // r/m 100 means "a SIB byte follows", so [esp] needs one too.
            if index != nil || base == .esp {
                (rm, sib) = (4, scaleShift << 6 | (index ?? .esp).number << 3 | base.number)
            } else {
                (rm, sib) = (base.number, nil)
            }
        }
        emit(mod << 6 | reg << 3 | rm)
        if let sib { emit(sib) }
        emit(m.disp, plus: m.label, bytes: dispSize)
    }
}

extension Mem {
    /// The ModR/M mod field and displacement size for a based address: none if the
    /// displacement is zero (and the base allows it), a byte if it fits one, else `wide` bytes.
    /// A label's address is unknown until ``Assembler/finish()``, so it always takes `wide`.
    func displacementMode(baseNeedsDisplacement: Bool, wide: Int) -> (mod: UInt8, size: Int) {
        if label != nil { return (2, wide) }
        if disp == 0, !baseNeedsDisplacement { return (0, 0) }
        if isSignedByte(disp, truncatedTo: wide) { return (1, 1) }
        return (2, wide)
    }
}
