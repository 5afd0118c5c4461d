/// Emits x86 machine code for 16-bit, 32-bit and 64-bit code, nasm-style.
///
/// ```swift
/// var a = Assembler(bits: .b16, origin: 0x7C00)
/// let loop = a.newLabel()
/// a.mov(.si, 0x1000)
/// a.bind(loop)
/// a.lodsb()
/// a.out(0xE9, .al)
/// a.test(.al, .al)
/// a.jcc(.nz, loop)
/// a.hlt()
/// let code = try a.finish()
/// ```
/// 64-bit code takes the 64-bit registers, r8–r15 and RIP-relative operands:
/// ```swift
/// var a = Assembler(bits: .b64, origin: 0x20_0000)
/// let counter = a.newLabel()
/// a.mov(.r8, Mem(rip: counter))
/// a.add(.r8, 1)
/// a.mov(Mem(rip: counter), .r8)
/// a.ret()
/// a.bind(counter)
/// a.dq(0)
/// ```
/// Every instruction method appends one instruction to ``bytes``, choosing the shortest
/// standard encoding and adding the `0x66`/`0x67` prefixes when an operand or address size
/// differs from the current ``bits``, and in 64-bit code the REX prefix its operands need.
/// Label references are patched in by ``finish()``, which also throws for an instruction
/// the current ``bits`` cannot encode (``AssemblerError``). Addresses are 32-bit: 64-bit code
/// is assembled to run below 4 GiB.
public struct Assembler: Sendable {
    /// The code emitted so far. Label references read as zero until ``finish()`` resolves them.
    public internal(set) var bytes: [UInt8] = []
    /// The address of the first byte, as nasm's `org`.
    public let origin: UInt32
    /// The current default operand and address size; see ``bits(_:)``.
    public private(set) var bits: Bits

    /// The offset of each label, by ``Label/id``, once bound.
    var labelOffsets: [Int?] = []
    /// Label references to patch.
    var fixups: [Fixup] = []
    /// Problems found while emitting, reported by ``finish()``.
    var deferredErrors: [AssemblerError] = []

    /// Creates an empty assembler.
    /// - Parameters:
    ///   - bits: The default operand and address size of the code.
    ///   - origin: The address the first byte will be loaded at.
    public init(bits: Bits = .b16, origin: UInt32 = 0) {
        self.bits = bits
        self.origin = origin
    }

    /// The address of the next byte emitted.
    public var position: UInt32 { origin &+ UInt32(bytes.count) }

    /// Switches the default operand and address size from here on, as nasm's `[bits 32]`.
    public mutating func bits(_ bits: Bits) {
        self.bits = bits
    }

    /// Appends raw bytes: the escape hatch for anything this assembler does not spell.
    public mutating func emit(_ bytes: [UInt8]) {
        self.bytes += bytes
    }

    /// Appends one byte.
    mutating func emit(_ byte: UInt8) {
        bytes.append(byte)
    }

    /// Appends the low `count` bytes of `value`, little-endian.
    mutating func emit(_ value: Int, bytes count: Int) {
        bytes += littleEndian(value, bytes: count)
    }
}

/// The low `count` bytes of `value`, least significant first.
func littleEndian(_ value: Int, bytes count: Int) -> [UInt8] {
    (0..<count).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
}
