/// A position in the code, created by ``Assembler/newLabel(_:)`` and fixed by ``Assembler/bind(_:)``.
///
/// A label may be referenced before and after it is bound; ``Assembler/finish()`` resolves
/// every reference.
public struct Label: Hashable, Sendable, CustomStringConvertible {
    /// The label's number within its assembler.
    public let id: Int
    /// The name given at creation, for diagnostics.
    public let name: String?

    public var description: String { name ?? "L\(id)" }
}

/// A problem that keeps ``Assembler/finish()`` from producing code.
public enum AssemblerError: Error, Hashable, Sendable {
    /// A referenced label was never bound.
    case unboundLabel(Label)
    /// A jump with an 8-bit displacement (`jmpShort`, `jccShort`, `loop`, `jcxz`, …) cannot
    /// reach its label; `displacement` is the distance it would need.
    case jumpOutOfRange(Label, displacement: Int)
    /// ``Assembler/fill(to:byte:)`` was asked to pad to an address the code had already passed.
    case fillTargetPassed(target: UInt32, position: UInt32)
    /// An operand that exists in 64-bit code only (a 64-bit register or operand size,
    /// r8–r15 and their parts, `spl`…`dil`, `cr8`, 64-bit or RIP-relative addressing) in the
    /// 16- or 32-bit code at `position`.
    case operandNeedsLongMode(position: UInt32)
    /// `ah`, `ch`, `dh` or `bh` in the instruction at `position`, which needs a REX prefix
    /// (for a 64-bit operand, r8–r15 or `spl`…`dil`) and so cannot encode them.
    case highByteRegisterWithREX(Reg8, position: UInt32)
    /// An instruction or operand form, spelled as in nasm, that does not exist in code of
    /// `bits` (`pusha`, `push ds` or 16-bit addressing in 64-bit code, `swapgs` outside it).
    case invalidInstruction(String, bits: Bits, position: UInt32)
}

/// A label reference waiting for the label's address.
struct Fixup: Sendable {
    enum Kind: Sendable {
        /// The label's address plus `addend`, relative to the end of the field (which ends a
        /// jump instruction; a RIP-relative address subtracts what follows it in `addend`).
        case relative(addend: Int)
        /// The label's address plus `addend`, shifted right by `shift` bits (to split an
        /// address across the fields of a 64-bit gate descriptor).
        case absolute(addend: Int, shift: Int)
    }

    /// Where the field starts in ``Assembler/bytes``.
    let offset: Int
    /// The field's width in bytes: 1, 2, 4 or 8.
    let size: Int
    let label: Label
    let kind: Kind
}

extension Assembler {
    /// Creates a label, unbound.
    /// - Parameter name: A name used in error descriptions.
    public mutating func newLabel(_ name: String? = nil) -> Label {
        labelOffsets.append(nil)
        return Label(id: labelOffsets.count - 1, name: name)
    }

    /// Binds `label` to the current ``position``. A label is bound once.
    public mutating func bind(_ label: Label) {
        precondition(labelOffsets[label.id] == nil, "label \(label) is already bound")
        labelOffsets[label.id] = bytes.count
    }

    /// The address `label` is bound to, or `nil` while it is unbound.
    public func address(of label: Label) -> UInt32? {
        labelOffsets[label.id].map { origin &+ UInt32($0) }
    }

    /// Records a reference to `label` in the `size` bytes about to be emitted, and emits them
    /// as zeros.
    mutating func emitReference(to label: Label, size: Int, _ kind: Fixup.Kind) {
        fixups.append(Fixup(offset: bytes.count, size: size, label: label, kind: kind))
        emit(0, bytes: size)
    }

    /// Resolves every label reference and returns the finished code.
    ///
    /// Absolute references in 16-bit fields take the address modulo 64 KiB, the label's offset
    /// within a 64 KiB-aligned segment; 16-bit relative jumps wrap likewise, as IP does.
    /// - Throws: An ``AssemblerError`` for the first problem found.
    public mutating func finish() throws(AssemblerError) -> [UInt8] {
        if let error = deferredErrors.first { throw error }
        for fixup in fixups {
            guard let target = address(of: fixup.label) else { throw .unboundLabel(fixup.label) }
            let value: Int
            switch fixup.kind {
            case .absolute(let addend, let shift):
                value = (Int(target) + addend) >> shift
            case .relative(let addend):
                value = Int(target) + addend - (Int(origin) + fixup.offset + fixup.size)
                if fixup.size == 1, !(-128...127).contains(value) {
                    throw .jumpOutOfRange(fixup.label, displacement: value)
                }
            }
            bytes.replaceSubrange(fixup.offset..<fixup.offset + fixup.size, with: littleEndian(value, bytes: fixup.size))
        }
        return bytes
    }
}
