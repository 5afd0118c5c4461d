/// The width of an operand.
public enum OperandSize: Int, Hashable, Sendable {
    /// 8 bits.
    case byte = 1
    /// 16 bits.
    case word = 2
    /// 32 bits.
    case dword = 4

    /// The width in bytes.
    public var bytes: Int { rawValue }
}

/// The default operand and address size of the code being assembled (nasm's `bits 16` / `bits 32`).
public enum Bits: Hashable, Sendable {
    /// 16-bit code: real mode, virtual-8086 mode, or a 16-bit protected-mode segment.
    case b16
    /// 32-bit code: a 32-bit protected-mode segment.
    case b32

    /// The operand size instructions have without a `0x66` prefix.
    var operandSize: OperandSize { self == .b16 ? .word : .dword }
}

/// A general-purpose register of some fixed width: ``Reg8``, ``Reg16`` or ``Reg32``.
///
/// The registers themselves are static members (`.al`, `.ax`, `.eax`, …), so they can be
/// written with a leading dot wherever a `GeneralRegister` is expected.
public protocol GeneralRegister: Hashable, Sendable, CustomStringConvertible {
    /// The register's 3-bit number in ModR/M and opcode encodings.
    var number: UInt8 { get }
    /// The register's width.
    static var size: OperandSize { get }
}

/// A 16-bit or 32-bit general-purpose register: ``Reg16`` or ``Reg32``.
public protocol WideRegister: GeneralRegister {}

/// An 8-bit general-purpose register: `al cl dl bl ah ch dh bh`.
public struct Reg8: GeneralRegister {
    public let number: UInt8
    public static var size: OperandSize { .byte }
    public var description: String { ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"][Int(number)] }
}

/// A 16-bit general-purpose register: `ax cx dx bx sp bp si di`.
public struct Reg16: WideRegister {
    public let number: UInt8
    public static var size: OperandSize { .word }
    public var description: String { ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"][Int(number)] }
}

/// A 32-bit general-purpose register: `eax ecx edx ebx esp ebp esi edi`.
public struct Reg32: WideRegister {
    public let number: UInt8
    public static var size: OperandSize { .dword }
    public var description: String { "e" + Reg16(number: number).description }
}

// The registers are declared on the protocol (SE-0299) so that `.ax` also works where the
// parameter type is a generic `R: GeneralRegister`; `Reg16.ax` works as usual.

extension GeneralRegister where Self == Reg8 {
    public static var al: Reg8 { Reg8(number: 0) }
    public static var cl: Reg8 { Reg8(number: 1) }
    public static var dl: Reg8 { Reg8(number: 2) }
    public static var bl: Reg8 { Reg8(number: 3) }
    public static var ah: Reg8 { Reg8(number: 4) }
    public static var ch: Reg8 { Reg8(number: 5) }
    public static var dh: Reg8 { Reg8(number: 6) }
    public static var bh: Reg8 { Reg8(number: 7) }
}

extension GeneralRegister where Self == Reg16 {
    public static var ax: Reg16 { Reg16(number: 0) }
    public static var cx: Reg16 { Reg16(number: 1) }
    public static var dx: Reg16 { Reg16(number: 2) }
    public static var bx: Reg16 { Reg16(number: 3) }
    public static var sp: Reg16 { Reg16(number: 4) }
    public static var bp: Reg16 { Reg16(number: 5) }
    public static var si: Reg16 { Reg16(number: 6) }
    public static var di: Reg16 { Reg16(number: 7) }
}

extension GeneralRegister where Self == Reg32 {
    public static var eax: Reg32 { Reg32(number: 0) }
    public static var ecx: Reg32 { Reg32(number: 1) }
    public static var edx: Reg32 { Reg32(number: 2) }
    public static var ebx: Reg32 { Reg32(number: 3) }
    public static var esp: Reg32 { Reg32(number: 4) }
    public static var ebp: Reg32 { Reg32(number: 5) }
    public static var esi: Reg32 { Reg32(number: 6) }
    public static var edi: Reg32 { Reg32(number: 7) }
}

/// A segment register. The raw value is its number in ModR/M encodings.
public enum SegReg: UInt8, Hashable, Sendable, CaseIterable {
    case es, cs, ss, ds, fs, gs

    /// The segment-override prefix byte selecting this register.
    var overridePrefix: UInt8 { [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65][Int(rawValue)] }
}

/// A control register. The raw value is its number in `mov crN` encodings.
public enum ControlReg: UInt8, Hashable, Sendable, CaseIterable {
    case cr0 = 0, cr2 = 2, cr3 = 3, cr4 = 4
}
