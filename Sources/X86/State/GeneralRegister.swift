/// The sixteen general-purpose registers, numbered as the instruction encoding numbers them.
public enum GeneralRegister: Int, CaseIterable, Sendable {
    case rax, rcx, rdx, rbx, rsp, rbp, rsi, rdi
    case r8, r9, r10, r11, r12, r13, r14, r15
}

/// Register file layout in the CPU's unsafe storage.
///
/// Slots 0–15 are the GPRs, slot 16 is a constant zero used as the "no base"
/// or "no index" register of an effective address, so address arithmetic needs no branch.
/// Slot 17 holds the running block's starting RIP and slot 18 the constant 2^31: a RIP-relative
/// operand is slot 17 plus a displacement that includes the instruction's end offset in the
/// block, with slot 18 as its index when that sum no longer fits a signed 32-bit displacement.
/// Operands are addressed by byte offset so AH/CH/DH/BH (byte 1 of slots 0–3) need no special case.
enum RegisterFile {
    static let slotCount = 19
    static let zeroSlot: UInt8 = 16
    static let instructionPointerSlot: UInt8 = 17
    static let halfRangeSlot: UInt8 = 18
    static let halfRange: UInt64 = 1 << 31
    /// Byte offset of an 8-bit register operand as encoded without REX (AL..BL, AH..BH).
    @inline(__always) static func byteOffset8(_ encoded: UInt8) -> UInt8 {
        encoded < 4 ? encoded &* 8 : (encoded &- 4) &* 8 &+ 1
    }
    @inline(__always) static func byteOffset(_ slot: UInt8) -> UInt8 { slot &* 8 }
}
