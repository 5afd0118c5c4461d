/// EFLAGS bit positions (SDM Vol. 1, 3.4.3).
public enum EFlags {
    public static let carry: UInt32 = 1 << 0
    public static let reserved1: UInt32 = 1 << 1
    public static let parity: UInt32 = 1 << 2
    public static let auxiliary: UInt32 = 1 << 4
    public static let zero: UInt32 = 1 << 6
    public static let sign: UInt32 = 1 << 7
    public static let trap: UInt32 = 1 << 8
    public static let interrupt: UInt32 = 1 << 9
    public static let direction: UInt32 = 1 << 10
    public static let overflow: UInt32 = 1 << 11
    public static let iopl: UInt32 = 3 << 12
    public static let nestedTask: UInt32 = 1 << 14
    public static let resume: UInt32 = 1 << 16
    public static let virtual8086: UInt32 = 1 << 17
    public static let alignmentCheck: UInt32 = 1 << 18
    public static let virtualInterrupt: UInt32 = 1 << 19
    public static let virtualInterruptPending: UInt32 = 1 << 20
    public static let identification: UInt32 = 1 << 21

    /// The six status flags computed from results (lazily).
    public static let arithmetic: UInt32 = carry | parity | auxiliary | zero | sign | overflow
    /// Bits software can change at all on this CPU.
    static let writable: UInt32 = arithmetic | trap | interrupt | direction | iopl | nestedTask
        | resume | virtual8086 | alignmentCheck | virtualInterrupt | virtualInterruptPending | identification
}

/// How the status flags derive from the last flag-setting operation.
enum FlagOp: UInt8 {
    /// Status flags are stored in `CPU.eflagsStored` as they are.
    case stored
    case add, adc, sub, sbb, logic, inc, dec
    /// SF, ZF, PF from the result; CF, OF, AF from `flagAux` (shifts, multiplies).
    case resultWithAux
}

/// Parity of the low byte (PF is set when the number of set bits is even).
@inline(__always) func evenParity(_ value: UInt32) -> Bool {
    (UInt8(truncatingIfNeeded: value).nonzeroBitCount & 1) == 0
}

/// Operand sizes as stored in decoded instructions.
enum OperandSize: UInt8 {
    case byte = 0, word = 1, dword = 2, qword = 3

    /// All ones at this size, for values held in 64 bits.
    @inline(__always) var mask: UInt64 {
        switch self {
        case .byte: 0xFF
        case .word: 0xFFFF
        case .dword: 0xFFFF_FFFF
        case .qword: 0xFFFF_FFFF_FFFF_FFFF
        }
    }
    /// The sign bit at this size, for values held in 64 bits.
    @inline(__always) var signBit: UInt64 {
        switch self {
        case .byte: 0x80
        case .word: 0x8000
        case .dword: 0x8000_0000
        case .qword: 0x8000_0000_0000_0000
        }
    }
    /// The size of an operand held in `Value` (8, 16, 32 or 64 bits); a constant once specialized.
    @inline(__always) static func of<Value: FixedWidthInteger>(_: Value.Type) -> OperandSize {
        Value.bitWidth == 64 ? .qword : Value.bitWidth == 32 ? .dword : Value.bitWidth == 16 ? .word : .byte
    }
    @inline(__always) var bits: UInt32 { 8 << UInt32(rawValue) }
    @inline(__always) var bytes: Int { 1 << Int(rawValue) }
}
