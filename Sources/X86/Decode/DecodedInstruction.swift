/// One instruction decoded once and kept in the decoded-instruction cache.
///
/// A flat, trivially copyable record in unsafe memory: the executor dispatches on
/// `op` with a switch, and every operand is pre-resolved (register byte offsets,
/// effective-address parts, sign-extended immediates), so executing it neither
/// allocates nor retains.
struct DecodedInstruction {
    var op: Op = .endBlock
    /// Length in bytes including prefixes.
    var length: UInt8 = 0
    /// Operand size of the instruction.
    var size: OperandSize = .byte
    /// `Attributes` bits.
    var attributes: UInt8 = 0
    /// Byte offset in the register file of the ModRM.reg operand (or of the
    /// register encoded in the opcode).
    var reg: UInt8 = 0
    /// Byte offset of the ModRM.rm register operand when there is no memory operand.
    var rm: UInt8 = 0
    /// A small per-op selector: ModRM.reg, an ALU or shift kind, a condition code, a segment.
    var sub: UInt8 = 0
    /// Segment register index used by the memory operand (after overrides).
    var segment: UInt8 = 0
    /// Effective-address parts: register slots (16 is constant zero) and the index shift.
    var base: UInt8 = RegisterFile.zeroSlot
    var index: UInt8 = RegisterFile.zeroSlot
    var scale: UInt8 = 0
    var disp: UInt32 = 0
    var imm: UInt32 = 0
    /// Second immediate: a far pointer's selector, ENTER's nesting level.
    var imm2: UInt16 = 0

    struct Attributes {
        static let addressSize32: UInt8 = 1 << 0
        static let hasMemoryOperand: UInt8 = 1 << 1
        static let lock: UInt8 = 1 << 2
        static let repeatZ: UInt8 = 1 << 3     // F3
        static let repeatNZ: UInt8 = 1 << 4    // F2
        static let operandSize32: UInt8 = 1 << 5
    }

    @inline(__always) var hasMemoryOperand: Bool { attributes & Attributes.hasMemoryOperand != 0 }
    @inline(__always) var addressSize32: Bool { attributes & Attributes.addressSize32 != 0 }
    @inline(__always) var operandSize32: Bool { attributes & Attributes.operandSize32 != 0 }
    @inline(__always) var hasRepeat: Bool { attributes & (Attributes.repeatZ | Attributes.repeatNZ) != 0 }
}
