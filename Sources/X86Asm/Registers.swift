/// The width of an operand.
public enum OperandSize: Int, Hashable, Sendable {
    /// 8 bits.
    case byte = 1
    /// 16 bits.
    case word = 2
    /// 32 bits.
    case dword = 4
    /// 64 bits, in 64-bit code only.
    case qword = 8

    /// The width in bytes.
    public var bytes: Int { rawValue }
}

/// The default operand and address size of the code being assembled (nasm's `bits 16` /
/// `bits 32` / `bits 64`).
public enum Bits: Hashable, Sendable {
    /// 16-bit code: real mode, virtual-8086 mode, or a 16-bit protected-mode segment.
    case b16
    /// 32-bit code: a 32-bit protected-mode segment.
    case b32
    /// 64-bit code: a long-mode code segment with L = 1. The operand size stays 32 bits by
    /// default (REX.W selects 64), the address size is 64 bits.
    case b64

    /// The operand size instructions have without a `0x66` prefix or REX.W.
    var operandSize: OperandSize { self == .b16 ? .word : .dword }
}

/// A general-purpose register of some fixed width: ``Reg8``, ``Reg16``, ``Reg32`` or ``Reg64``.
///
/// The registers themselves are static members (`.al`, `.ax`, `.eax`, `.rax`, `.r8d`, …), so
/// they can be written with a leading dot wherever a `GeneralRegister` is expected.
public protocol GeneralRegister: Hashable, Sendable, CustomStringConvertible {
    /// The register's number, 0–15: the low three bits go in ModR/M and opcode encodings,
    /// bit 3 in a REX prefix (r8–r15, 64-bit code only).
    var number: UInt8 { get }
    /// The register's width.
    static var size: OperandSize { get }
}

/// A 16-, 32- or 64-bit general-purpose register: ``Reg16``, ``Reg32`` or ``Reg64``.
public protocol WideRegister: GeneralRegister {}

/// A register that can form a 32- or 64-bit address: ``Reg32`` or ``Reg64``.
public protocol AddressRegister: WideRegister {}

/// An 8-bit general-purpose register: `al cl dl bl ah ch dh bh`, and in 64-bit code
/// `spl bpl sil dil r8b`–`r15b`.
///
/// `ah`, `ch`, `dh` and `bh` share their encodings 4–7 with `spl`, `bpl`, `sil` and `dil`:
/// without a REX prefix they mean the high bytes, with one the low bytes of the stack and
/// index registers. So the high bytes cannot appear in an instruction that needs a REX prefix.
public struct Reg8: GeneralRegister {
    public let number: UInt8
    /// Whether this is `ah`, `ch`, `dh` or `bh`.
    public let isHighByte: Bool
    public static var size: OperandSize { .byte }

    init(number: UInt8, isHighByte: Bool = false) {
        self.number = number
        self.isHighByte = isHighByte
    }

    /// Whether the register needs a REX prefix: `spl`, `bpl`, `sil`, `dil` and `r8b`–`r15b`.
    var needsREX: Bool { number >= 4 && !isHighByte }

    public var description: String {
        switch number {
        case 0...3: ["al", "cl", "dl", "bl"][Int(number)]
        case 4...7: isHighByte ? ["ah", "ch", "dh", "bh"][Int(number - 4)] : Reg16(number: number).description + "l"
        default: "r\(number)b"
        }
    }
}

/// A 16-bit general-purpose register: `ax cx dx bx sp bp si di`, and `r8w`–`r15w` in 64-bit code.
public struct Reg16: WideRegister {
    public let number: UInt8
    public static var size: OperandSize { .word }
    public var description: String {
        number < 8 ? ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"][Int(number)] : "r\(number)w"
    }
}

/// A 32-bit general-purpose register: `eax ecx edx ebx esp ebp esi edi`, and `r8d`–`r15d` in
/// 64-bit code.
public struct Reg32: AddressRegister {
    public let number: UInt8
    public static var size: OperandSize { .dword }
    public var description: String { number < 8 ? "e" + Reg16(number: number).description : "r\(number)d" }
}

/// A 64-bit general-purpose register, in 64-bit code only: `rax rcx rdx rbx rsp rbp rsi rdi
/// r8`–`r15`.
public struct Reg64: AddressRegister {
    public let number: UInt8
    public static var size: OperandSize { .qword }
    public var description: String { number < 8 ? "r" + Reg16(number: number).description : "r\(number)" }
}

// The registers are declared on the protocol (SE-0299) so that `.ax` also works where the
// parameter type is a generic `R: GeneralRegister`; `Reg16.ax` works as usual.

extension GeneralRegister where Self == Reg8 {
    public static var al: Reg8 { Reg8(number: 0) }
    public static var cl: Reg8 { Reg8(number: 1) }
    public static var dl: Reg8 { Reg8(number: 2) }
    public static var bl: Reg8 { Reg8(number: 3) }
    public static var ah: Reg8 { Reg8(number: 4, isHighByte: true) }
    public static var ch: Reg8 { Reg8(number: 5, isHighByte: true) }
    public static var dh: Reg8 { Reg8(number: 6, isHighByte: true) }
    public static var bh: Reg8 { Reg8(number: 7, isHighByte: true) }
    public static var spl: Reg8 { Reg8(number: 4) }
    public static var bpl: Reg8 { Reg8(number: 5) }
    public static var sil: Reg8 { Reg8(number: 6) }
    public static var dil: Reg8 { Reg8(number: 7) }
    public static var r8b: Reg8 { Reg8(number: 8) }
    public static var r9b: Reg8 { Reg8(number: 9) }
    public static var r10b: Reg8 { Reg8(number: 10) }
    public static var r11b: Reg8 { Reg8(number: 11) }
    public static var r12b: Reg8 { Reg8(number: 12) }
    public static var r13b: Reg8 { Reg8(number: 13) }
    public static var r14b: Reg8 { Reg8(number: 14) }
    public static var r15b: Reg8 { Reg8(number: 15) }
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
    public static var r8w: Reg16 { Reg16(number: 8) }
    public static var r9w: Reg16 { Reg16(number: 9) }
    public static var r10w: Reg16 { Reg16(number: 10) }
    public static var r11w: Reg16 { Reg16(number: 11) }
    public static var r12w: Reg16 { Reg16(number: 12) }
    public static var r13w: Reg16 { Reg16(number: 13) }
    public static var r14w: Reg16 { Reg16(number: 14) }
    public static var r15w: Reg16 { Reg16(number: 15) }
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
    public static var r8d: Reg32 { Reg32(number: 8) }
    public static var r9d: Reg32 { Reg32(number: 9) }
    public static var r10d: Reg32 { Reg32(number: 10) }
    public static var r11d: Reg32 { Reg32(number: 11) }
    public static var r12d: Reg32 { Reg32(number: 12) }
    public static var r13d: Reg32 { Reg32(number: 13) }
    public static var r14d: Reg32 { Reg32(number: 14) }
    public static var r15d: Reg32 { Reg32(number: 15) }
}

extension GeneralRegister where Self == Reg64 {
    public static var rax: Reg64 { Reg64(number: 0) }
    public static var rcx: Reg64 { Reg64(number: 1) }
    public static var rdx: Reg64 { Reg64(number: 2) }
    public static var rbx: Reg64 { Reg64(number: 3) }
    public static var rsp: Reg64 { Reg64(number: 4) }
    public static var rbp: Reg64 { Reg64(number: 5) }
    public static var rsi: Reg64 { Reg64(number: 6) }
    public static var rdi: Reg64 { Reg64(number: 7) }
    public static var r8: Reg64 { Reg64(number: 8) }
    public static var r9: Reg64 { Reg64(number: 9) }
    public static var r10: Reg64 { Reg64(number: 10) }
    public static var r11: Reg64 { Reg64(number: 11) }
    public static var r12: Reg64 { Reg64(number: 12) }
    public static var r13: Reg64 { Reg64(number: 13) }
    public static var r14: Reg64 { Reg64(number: 14) }
    public static var r15: Reg64 { Reg64(number: 15) }
}

/// A segment register. The raw value is its number in ModR/M encodings.
public enum SegReg: UInt8, Hashable, Sendable, CaseIterable {
    case es, cs, ss, ds, fs, gs

    /// The segment-override prefix byte selecting this register.
    var overridePrefix: UInt8 { [0x26, 0x2E, 0x36, 0x3E, 0x64, 0x65][Int(rawValue)] }
}

/// A control register. The raw value is its number in `mov crN` encodings; `cr8` (the task
/// priority register) exists in 64-bit code only.
public enum ControlReg: UInt8, Hashable, Sendable, CaseIterable {
    case cr0 = 0, cr2 = 2, cr3 = 3, cr4 = 4, cr8 = 8
}
