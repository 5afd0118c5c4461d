/// A condition code for `jcc`, `setcc` and `cmovcc`. The raw value is the low nibble of the
/// opcode (`0x70 + cc`, `0x0F 0x80 + cc`, …).
public enum Condition: UInt8, Hashable, Sendable, CaseIterable {
    /// Overflow (OF = 1).
    case o
    /// No overflow (OF = 0).
    case no
    /// Below, unsigned (CF = 1).
    case b
    /// Above or equal, unsigned (CF = 0).
    case ae
    /// Equal (ZF = 1).
    case e
    /// Not equal (ZF = 0).
    case ne
    /// Below or equal, unsigned (CF = 1 or ZF = 1).
    case be
    /// Above, unsigned (CF = 0 and ZF = 0).
    case a
    /// Sign (SF = 1).
    case s
    /// No sign (SF = 0).
    case ns
    /// Parity even (PF = 1).
    case p
    /// Parity odd (PF = 0).
    case np
    /// Less, signed (SF ≠ OF).
    case l
    /// Greater or equal, signed (SF = OF).
    case ge
    /// Less or equal, signed (ZF = 1 or SF ≠ OF).
    case le
    /// Greater, signed (ZF = 0 and SF = OF).
    case g

    /// Carry: the same as ``b``.
    public static var c: Condition { .b }
    /// No carry: the same as ``ae``.
    public static var nc: Condition { .ae }
    /// Zero: the same as ``e``.
    public static var z: Condition { .e }
    /// Not zero: the same as ``ne``.
    public static var nz: Condition { .ne }

    /// The opposite condition.
    public var negated: Condition { Condition(rawValue: rawValue ^ 1)! }
}
