/// Emits x86 machine code for 16-bit and 32-bit code, nasm-style.
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
/// Every instruction method appends one instruction to ``bytes``, choosing the shortest
/// standard encoding and adding the `0x66`/`0x67` prefixes when an operand or address size
/// differs from the current ``bits``. Label references are patched in by ``finish()``.
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
