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
    /// How far to shift all ones right for the address-size mask: 48 (16-bit addressing), 32
    /// (32-bit) or 0 (64-bit), so wrapping an offset is one shift and one AND.
    var addressMaskShift: UInt8 = 48
    var disp: UInt32 = 0
    var imm: UInt32 = 0
    /// Second immediate: a far pointer's selector, ENTER's nesting level.
    var imm2: UInt16 = 0
    /// Where this instruction ends, in bytes from the start of its block (a block's end
    /// record: where the last instruction ends). EIP after the instruction is the block's
    /// starting EIP plus this, so the run loop need not advance EIP record by record. Negative
    /// where the block went on at a branch target before its start (a followed transfer).
    var endOffset: Int16 = 0
    /// In a block's first record, the code segment it was decoded for
    /// (`SegmentCache.decodeKey`: the limit and the default size); a lookup reuses the block
    /// only while CS has the same. It also pads the record to 32 bytes, so that record
    /// arithmetic is shifts rather than divisions.
    var codeSegmentKey: UInt64 = 0

    struct Attributes {
        static let addressSize32: UInt8 = 1 << 0
        static let hasMemoryOperand: UInt8 = 1 << 1
        static let lock: UInt8 = 1 << 2
        static let repeatZ: UInt8 = 1 << 3     // F3
        static let repeatNZ: UInt8 = 1 << 4    // F2
        static let operandSize32: UInt8 = 1 << 5
        /// A 66 prefix was present (it selects SSE forms of the MMX opcodes).
        static let operandSizePrefix: UInt8 = 1 << 6
        /// 64-bit addressing (64-bit mode without 67h).
        static let addressSize64: UInt8 = 1 << 7
    }

    /// The `sub` of an `.rdtsc` record that is RDTSCP (0F 01 F9) rather than RDTSC.
    static let readTimeStampCounterAndAux: UInt8 = 1

    @inline(__always) var hasMemoryOperand: Bool { attributes & Attributes.hasMemoryOperand != 0 }

    /// A RIP-relative operand is the block's starting RIP (`RegisterFile.instructionPointerSlot`)
    /// plus the displacement plus where the instruction ends in the block, which is known only
    /// once the instruction has its place: this folds `endOffset` into the displacement, moving
    /// 2^31 into the index (`halfRangeSlot`) when the sum leaves the signed 32-bit range.
    /// Returns false when the sum is below the signed 32-bit range (an instruction after a
    /// backward followed branch): the block must end before it.
    mutating func relocateInstructionPointerOperand() -> Bool {
        guard hasMemoryOperand && base == RegisterFile.instructionPointerSlot else { return true }
        let sum = Int64(Int32(bitPattern: disp)) + Int64(endOffset)
        if sum < Int64(Int32.min) { return false }
        if sum > Int64(Int32.max) {
            index = RegisterFile.halfRangeSlot
            scale = 0
            disp = UInt32(truncatingIfNeeded: sum - Int64(RegisterFile.halfRange))
        } else {
            disp = UInt32(truncatingIfNeeded: sum)
        }
        return true
    }
    /// MOV SS or POP SS: opens an interrupt and debug-trap shadow.
    var loadsStackSegment: Bool {
        (op == .movSegRm || op == .popSeg) && sub == UInt8(SegmentRegister.ss.rawValue)
    }
    @inline(__always) var addressSize32: Bool { attributes & Attributes.addressSize32 != 0 }
    @inline(__always) var addressSize64: Bool { attributes & Attributes.addressSize64 != 0 }
    @inline(__always) var operandSize32: Bool { attributes & Attributes.operandSize32 != 0 }
    @inline(__always) var hasRepeat: Bool { attributes & (Attributes.repeatZ | Attributes.repeatNZ) != 0 }
    @inline(__always) var hasOperandSizePrefix: Bool { attributes & Attributes.operandSizePrefix != 0 }
}

/// A decoded instruction as handlers see it: a pointer into the decoded cache,
/// passed in one register, whose fields are read only where a handler uses them.
struct Instruction {
    let pointer: UnsafePointer<DecodedInstruction>

    @inline(__always) init(_ pointer: UnsafePointer<DecodedInstruction>) { self.pointer = pointer }

    @inline(__always) var op: Op { pointer.pointee.op }
    @inline(__always) var length: UInt8 { pointer.pointee.length }
    @inline(__always) var size: OperandSize { pointer.pointee.size }
    @inline(__always) var attributes: UInt8 { pointer.pointee.attributes }
    @inline(__always) var reg: UInt8 { pointer.pointee.reg }
    @inline(__always) var rm: UInt8 { pointer.pointee.rm }
    @inline(__always) var sub: UInt8 { pointer.pointee.sub }
    @inline(__always) var segment: UInt8 { pointer.pointee.segment }
    @inline(__always) var base: UInt8 { pointer.pointee.base }
    @inline(__always) var index: UInt8 { pointer.pointee.index }
    @inline(__always) var scale: UInt8 { pointer.pointee.scale }
    /// All ones at the address size.
    @inline(__always) var addressMask: UInt64 { UInt64.max &>> UInt64(pointer.pointee.addressMaskShift) }
    @inline(__always) var disp: UInt32 { pointer.pointee.disp }
    @inline(__always) var imm: UInt32 { pointer.pointee.imm }
    /// The immediate sign-extended to 64 bits: a branch displacement, exact at any operand size
    /// once the sum is masked to it.
    @inline(__always) var displacement: UInt64 { UInt64(bitPattern: Int64(Int32(bitPattern: imm))) }
    /// The immediate operand at the instruction's operand size, zero-extended to 64 bits; for
    /// a 64-bit operand, the 32-bit immediate sign-extended (SDM Vol. 2, 2.2.1.5).
    @inline(__always) var immediate: UInt64 {
        size == .qword ? UInt64(bitPattern: Int64(Int32(bitPattern: imm))) : UInt64(imm)
    }
    @inline(__always) var imm2: UInt16 { pointer.pointee.imm2 }
    /// The bit of an `.sse` or `.mmx` record's `imm` that REX.W sets.
    static let sseREXW: UInt32 = 1 << 24
    /// An `.sse` or `.mmx` instruction with REX.W: its general-register or memory integer
    /// operand is 64 bits (MOVQ, CVTSI2SS/SD, CVT(T)SS2SI/SD2SI, MOVNTI).
    @inline(__always) var sseOperand64: Bool { imm & Instruction.sseREXW != 0 }
    @inline(__always) var endOffset: Int16 { pointer.pointee.endOffset }
    @inline(__always) var hasMemoryOperand: Bool { pointer.pointee.hasMemoryOperand }
    @inline(__always) var addressSize32: Bool { pointer.pointee.addressSize32 }
    /// The address size: 16, 32 or (64-bit mode) 64 bits.
    @inline(__always) var addressSize: OperandSize {
        pointer.pointee.addressSize64 ? .qword : pointer.pointee.addressSize32 ? .dword : .word
    }
    @inline(__always) var hasRepeat: Bool { pointer.pointee.hasRepeat }
    @inline(__always) var hasOperandSizePrefix: Bool { pointer.pointee.hasOperandSizePrefix }
}
