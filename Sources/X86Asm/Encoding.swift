/// A register as an instruction encodes it: its number and what it asks of the REX prefix.
struct RegisterCode {
    /// 0–15: bits 0–2 go in the ModR/M byte or opcode, bit 3 in REX.R, REX.X or REX.B.
    let number: UInt8
    /// `spl`, `bpl`, `sil`, `dil`: a REX prefix is needed even with no bit set (a bare `40`).
    var needsREX = false
    /// `ah`, `ch`, `dh`, `bh`, which no instruction with a REX prefix can name.
    var highByte: Reg8?
    /// A 64-bit register, which exists in 64-bit code only, REX.W or not.
    var isQword = false

    /// An opcode extension (`/digit`) or the number of a segment, control or debug register.
    init(number: UInt8) {
        self.number = number
    }

    init<R: GeneralRegister>(_ register: R) {
        number = register.number
        isQword = R.size == .qword
        if let byte = register as? Reg8 {
            needsREX = byte.needsREX
            highByte = byte.isHighByte ? byte : nil
        }
    }

    /// Bits 0–2, for the ModR/M byte, SIB byte or opcode.
    var low: UInt8 { number & 7 }
    /// Bit 3, for the REX prefix.
    var extended: Bool { number >= 8 }
}

/// The REX prefix of an instruction in 64-bit code, gathered from its operands.
struct REX {
    /// 64-bit operand size.
    var w = false
    /// Extends the ModR/M reg field.
    var r = false
    /// Extends the SIB index field.
    var x = false
    /// Extends the ModR/M r/m field, the SIB base field or the register in the opcode.
    var b = false
    /// An operand (`spl`…`dil`) needs the prefix even with no bit set.
    var required = false
    /// An operand (`ah`…`bh`) forbids the prefix.
    var highByte: Reg8?
    /// An operand exists in 64-bit code only even where no prefix encodes it (`push rax`).
    var longModeOnly = false

    /// Takes in the demands of `register`, whose bit 3 goes in `bit`.
    mutating func add(_ register: RegisterCode, extending bit: WritableKeyPath<REX, Bool>) {
        self[keyPath: bit] = self[keyPath: bit] || register.extended
        required = required || register.needsREX
        highByte = highByte ?? register.highByte
        longModeOnly = longModeOnly || register.isQword
    }

    /// The prefix byte, or `nil` when the instruction needs none.
    var byte: UInt8? {
        let bits = (w ? 8 : 0) | (r ? 4 : 0) | (x ? 2 : 0) | (b ? 1 : 0) as UInt8
        return bits != 0 || required ? 0x40 | bits : nil
    }
}

/// The r/m operand of a ModR/M byte: a register (mod = 11) or a memory address.
enum RM {
    case register(RegisterCode)
    case memory(Mem)

    init(_ register: some GeneralRegister) {
        self = .register(RegisterCode(register))
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
        if case .register(let r) = self { r.number == 0 } else { false }
    }
}

/// An immediate operand as encoded: the low `bytes` bytes of `value`.
struct Immediate {
    let value: Int
    let bytes: Int

    init(_ value: Int, bytes: Int) {
        self.value = value
        self.bytes = bytes
    }

    /// A full-size immediate for an operand of `size`, checked to fit; a qword operand takes
    /// a dword immediate, sign-extended.
    init(_ value: Int, size: OperandSize) {
        size.checkImmediate(value)
        self.init(value, bytes: size.immediateBytes)
    }
}

extension Mem {
    /// The declared ``size``, for instructions that have no register operand to imply one.
    var requiredSize: OperandSize {
        guard let size else { preconditionFailure("ambiguous operand size: give the Mem a size") }
        return size
    }

    /// This operand without its declared size, for instructions whose operand size is fixed.
    var unsized: Mem {
        var memory = self
        memory.size = nil
        return memory
    }

    /// Whether it is an absolute address that `mov` can encode with its short accumulator
    /// forms (`A0`–`A3`): with a 16- or 32-bit address (in 64-bit code these forms take a
    /// 64-bit address, which this assembler does not emit).
    func takesAccumulatorForm(in bits: Bits) -> Bool {
        isAbsolute && addressSize(in: bits) != .b64
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

    /// The width of an immediate operand of this size: a qword operand takes a sign-extended dword.
    var immediateBytes: Int { Swift.min(bytes, 4) }

    /// Checks that `value` fits an immediate of this size, signed or unsigned, as nasm accepts;
    /// for a qword, that it survives sign extension from 32 bits.
    func checkImmediate(_ value: Int) {
        let range = self == .qword ? -0x8000_0000...0x7FFF_FFFF : -(1 << (8 * bytes - 1))...((1 << (8 * bytes)) - 1)
        precondition(range.contains(value), "immediate \(value) does not fit a \(self)")
    }

    /// Checks that `value` fits an immediate of this size, and tells whether the shorter
    /// sign-extended `imm8` encodings (`83`, `6B`, `6A`) carry it: the size is a word, dword
    /// or qword and the value equals a sign-extended byte.
    func takesSignExtendedByte(_ value: Int) -> Bool {
        checkImmediate(value)
        return self != .byte && isSignedByte(value, truncatedTo: immediateBytes)
    }
}

extension Assembler {
    /// Emits the prefixes an instruction needs in the current code: segment override, then
    /// operand size (`0x66`) when `size` is a word or dword other than the default, then
    /// address size (`0x67`) when `memory` uses another addressing mode, then an SSE
    /// instruction's `mandatory` prefix (`66`, `F2` or `F3`, part of its opcode), then REX (for a
    /// qword `size` and the bits in `rex`). `size` is `nil` for instructions without one, or
    /// whose operand size is 64 bits by default in 64-bit code.
    ///
    /// Records an error, for ``finish()`` to throw, when the operands cannot be encoded in
    /// the current code.
    mutating func emitPrefixes(size: OperandSize?, memory: Mem? = nil, rex: REX = REX(), mandatory: UInt8? = nil) {
        var rex = rex
        rex.w = size == .qword
        let addressSize = memory?.addressSize(in: bits)
        if rex.byte != nil || rex.longModeOnly || addressSize == .b64, bits != .b64 {
            deferredErrors.append(.operandNeedsLongMode(position: position))
        } else if rex.byte != nil, let highByte = rex.highByte {
            deferredErrors.append(.highByteRegisterWithREX(highByte, position: position))
        } else if addressSize == .b16, bits == .b64 {
            deferredErrors.append(.invalidInstruction("16-bit addressing", bits: bits, position: position))
        }
        if let segment = memory?.segment { emit(segment.overridePrefix) }
        if let size, size == .word || size == .dword, size != bits.operandSize { emit(0x66) }
        if let addressSize, addressSize != bits { emit(0x67) }
        if let mandatory { emit(mandatory) }
        if let prefix = rex.byte { emit(prefix) }
    }

    /// Emits an instruction without ModR/M byte: the operand-size prefix or REX.W if `size`
    /// needs one, then `opcode`.
    mutating func emit(_ opcode: [UInt8], size: OperandSize?) {
        emitPrefixes(size: size)
        emit(opcode)
    }

    /// Emits an instruction that names `register` in the low three bits of its last opcode
    /// byte (`50+r`, `B8+r`, …), with REX.B for r8–r15.
    mutating func emit(_ opcode: [UInt8], plus register: some GeneralRegister, size: OperandSize?) {
        let code = RegisterCode(register)
        var rex = REX()
        rex.add(code, extending: \.b)
        emitPrefixes(size: size, rex: rex)
        emit(Array(opcode.dropLast()) + [opcode.last! + code.low])
    }

    /// Emits a ModR/M instruction: prefixes, `opcode`, ModR/M, SIB, displacement and immediate.
    /// - Parameters:
    ///   - size: The operand size, for the `0x66` prefix or REX.W, or `nil` when the
    ///     instruction has none.
    ///   - reg: The ModR/M reg field: an opcode extension (`/digit`), or the number of a
    ///     segment, control or debug register.
    ///   - immediate: An immediate that ends the instruction, which a RIP-relative address
    ///     must count.
    mutating func emit(_ opcode: [UInt8], size: OperandSize?, reg: UInt8, rm: RM, immediate: Immediate? = nil) {
        emit(opcode, size: size, regCode: RegisterCode(number: reg), rm: rm, immediate: immediate)
    }

    /// Emits a ModR/M instruction whose reg field is a general register; see
    /// ``emit(_:size:reg:rm:immediate:)``.
    mutating func emit<R: GeneralRegister>(_ opcode: [UInt8], size: OperandSize?, reg: R, rm: RM, immediate: Immediate? = nil) {
        emit(opcode, size: size, regCode: RegisterCode(reg), rm: rm, immediate: immediate)
    }

    /// Emits an SSE instruction: its `mandatory` prefix (if any) after the others and before
    /// REX, then `opcode` and ModR/M with the register number `reg` (an XMM register, or a
    /// general register for the moves between the two files).
    mutating func emit(mandatory: UInt8?, _ opcode: [UInt8], size: OperandSize?, reg: RegisterCode, rm: RM) {
        emit(opcode, size: size, regCode: reg, rm: rm, immediate: nil, mandatory: mandatory)
    }

    /// Emits a ModR/M instruction that has a byte form `opcode` and a word/dword/qword form
    /// with the low bit of the last opcode byte set, as most integer instructions do.
    mutating func emit(byteForm opcode: [UInt8], size: OperandSize, reg: UInt8, rm: RM, immediate: Immediate? = nil) {
        emit(opcode.wordForm(size), size: size, reg: reg, rm: rm, immediate: immediate)
    }

    /// Emits a ModR/M instruction with a byte form whose reg field is a general register; see
    /// ``emit(byteForm:size:reg:rm:immediate:)``.
    mutating func emit<R: GeneralRegister>(byteForm opcode: [UInt8], size: OperandSize, reg: R, rm: RM, immediate: Immediate? = nil) {
        emit(opcode.wordForm(size), size: size, reg: reg, rm: rm, immediate: immediate)
    }

    private mutating func emit(_ opcode: [UInt8], size: OperandSize?, regCode reg: RegisterCode, rm: RM, immediate: Immediate?,
                               mandatory: UInt8? = nil) {
        var rex = REX()
        rex.add(reg, extending: \.r)
        let address: AddressEncoding?
        switch rm {
        case .register(let r):
            rex.add(r, extending: \.b)
            address = nil
        case .memory(let m):
            let encoded = encodeAddress(m)
            (rex.x, rex.b) = (encoded.indexExtended, encoded.baseExtended)
            address = encoded
        }
        emitPrefixes(size: size, memory: rm.memory, rex: rex, mandatory: mandatory)
        emit(opcode)
        switch rm {
        case .register(let r): emit(0xC0 | reg.low << 3 | r.low)
        case .memory(let m): emit(address!, reg: reg.low, m, trailingBytes: immediate?.bytes ?? 0)
        }
        if let immediate { emit(immediate.value, bytes: immediate.bytes) }
    }

    /// Emits an immediate of `size`, checking that it fits.
    mutating func emitImmediate(_ value: Int, size: OperandSize) {
        let immediate = Immediate(value, size: size)
        emit(immediate.value, bytes: immediate.bytes)
    }

    /// Emits a `count`-byte field holding `value`, plus the address of `label` if there is
    /// one, shifted right by `shift` bits.
    mutating func emit(_ value: Int, plus label: Label?, bytes count: Int, shift: Int = 0) {
        if let label {
            emitReference(to: label, size: count, .absolute(addend: value, shift: shift))
        } else {
            emit(value >> shift, bytes: count)
        }
    }

    /// The size to encode for an operand of `size` that is 64 bits by default in 64-bit code
    /// (the stack, near branch targets): there a qword needs no REX.W (`nil`), a word takes
    /// `0x66` when `wordAllowed`, and a dword (or disallowed word) does not exist and is
    /// recorded as ``AssemblerError/invalidInstruction(_:bits:position:)``. Elsewhere `size`.
    mutating func defaultQwordSize(_ size: OperandSize, _ instruction: String, wordAllowed: Bool = true) -> OperandSize? {
        guard bits == .b64, size != .qword else { return bits == .b64 ? nil : size }
        if size == .word, wordAllowed { return size }
        deferredErrors.append(.invalidInstruction("\(instruction) \(size)", bits: bits, position: position))
        return nil
    }

    /// Checks that `instruction` exists in the current code, which it does not in 64-bit
    /// code; if not, records ``AssemblerError/invalidInstruction(_:bits:position:)`` and
    /// returns `false`, and the caller emits nothing.
    mutating func requireLegacyMode(_ instruction: String) -> Bool {
        guard bits == .b64 else { return true }
        deferredErrors.append(.invalidInstruction(instruction, bits: bits, position: position))
        return false
    }

    /// Checks that `instruction`, which exists in 64-bit code only, is in 64-bit code; if not,
    /// records ``AssemblerError/invalidInstruction(_:bits:position:)`` and returns `false`.
    mutating func requireLongMode(_ instruction: String) -> Bool {
        guard bits != .b64 else { return true }
        deferredErrors.append(.invalidInstruction(instruction, bits: bits, position: position))
        return false
    }

    /// Emits the ModR/M byte, SIB byte and displacement of `address`, the encoding of `m`.
    /// - Parameter trailingBytes: How many bytes of the instruction follow the displacement:
    ///   a RIP-relative displacement counts from the end of the instruction.
    private mutating func emit(_ address: AddressEncoding, reg: UInt8, _ m: Mem, trailingBytes: Int) {
        emit(address.mod << 6 | reg << 3 | address.rm)
        if let sib = address.sib { emit(sib) }
        if m.base == .ripRelative, let label = m.label {
            emitReference(to: label, size: 4, .relative(addend: m.disp - trailingBytes))
        } else {
            emit(m.disp, plus: m.label, bytes: address.displacementSize)
        }
    }

    /// How `m` is encoded in the current code.
    private func encodeAddress(_ m: Mem) -> AddressEncoding {
        switch m.base {
        case .absolute where bits == .b64:
            // mod 00 r/m 101 means [rip+disp32] in 64-bit code: an absolute address takes the
            // SIB form with no base (101) and no index (100).
            return AddressEncoding(mod: 0, rm: 4, sib: 0x25, displacementSize: 4)
        case .absolute:
            return m.addressSize(in: bits) == .b16
                ? AddressEncoding(mod: 0, rm: 6, displacementSize: 2)
                : AddressEncoding(mod: 0, rm: 5, displacementSize: 4)
        case .ripRelative:
            return AddressEncoding(mod: 0, rm: 5, displacementSize: 4)
        case .mode16(let r):
            // [bp] has no mod-00 form: that encoding means [disp16].
            return AddressEncoding(rm: r, m.displacementMode(baseNeedsDisplacement: r == 6, wide: 2))
        case .indexed(let index, let scaleShift, _):
            // SIB base 101 with mod 00 means "no base, disp32".
            return AddressEncoding(mod: 0, rm: 4, sib: scaleShift << 6 | (index & 7) << 3 | 5, displacementSize: 4,
                                   indexExtended: index >= 8)
        case .based(let base, let index, let scaleShift, _):
            // [ebp]/[rbp]/[r13] have no mod-00 form: that encoding means [disp32] or [rip+disp32].
            let mode = m.displacementMode(baseNeedsDisplacement: base & 7 == 5, wide: 4)
            // r/m 100 means "a SIB byte follows", so [esp]/[rsp]/[r12] need one too; SIB
            // index 100 without REX.X means "no index".
            guard index != nil || base & 7 == 4 else {
                return AddressEncoding(rm: base & 7, mode, baseExtended: base >= 8)
            }
            let sib = scaleShift << 6 | ((index ?? 4) & 7) << 3 | base & 7
            return AddressEncoding(rm: 4, mode, sib: sib, indexExtended: (index ?? 0) >= 8, baseExtended: base >= 8)
        }
    }
}

/// The ModR/M mod and r/m fields, SIB byte and displacement width that encode an address,
/// with the REX bits its registers need.
private struct AddressEncoding {
    let mod: UInt8
    let rm: UInt8
    var sib: UInt8?
    let displacementSize: Int
    var indexExtended = false
    var baseExtended = false

    init(mod: UInt8, rm: UInt8, sib: UInt8? = nil, displacementSize: Int, indexExtended: Bool = false) {
        (self.mod, self.rm, self.sib, self.displacementSize, self.indexExtended) = (mod, rm, sib, displacementSize, indexExtended)
    }

    /// A based address: `mode` from ``Mem/displacementMode(baseNeedsDisplacement:wide:)``.
    init(rm: UInt8, _ mode: (mod: UInt8, size: Int), sib: UInt8? = nil, indexExtended: Bool = false, baseExtended: Bool = false) {
        (self.mod, self.rm, self.sib, self.displacementSize) = (mode.mod, rm, sib, mode.size)
        (self.indexExtended, self.baseExtended) = (indexExtended, baseExtended)
    }
}

extension [UInt8] {
    /// This opcode, a byte form, with the low bit of its last byte set unless `size` is a byte.
    func wordForm(_ size: OperandSize) -> [UInt8] {
        dropLast() + [size.opcode(last!)]
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
