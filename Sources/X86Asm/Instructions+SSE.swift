/// An SSE register: `xmm0`–`xmm15` (8–15 in 64-bit code only).
public struct XMM: Sendable, Hashable, CustomStringConvertible {
    public let number: UInt8

    public init(_ number: UInt8) {
        precondition(number < 16, "there is no xmm\(number)")
        self.number = number
    }

    public var description: String { "xmm\(number)" }

    var code: RegisterCode { RegisterCode(number: number) }
}

/// The SSE2 moves and integer additions the guests use. An SSE instruction's `66`, `F2` or `F3`
/// is part of its opcode (a mandatory prefix), so it goes after the other prefixes and
/// before REX.
extension Assembler {
    /// `movdqa xmm, m128` (66 0F 6F): the operand must be 16-byte aligned.
    public mutating func movdqa(_ destination: XMM, _ source: Mem) {
        emit(mandatory: 0x66, [0x0F, 0x6F], size: nil, reg: destination.code, rm: .memory(source.unsized))
    }

    /// `movdqa m128, xmm` (66 0F 7F).
    public mutating func movdqa(_ destination: Mem, _ source: XMM) {
        emit(mandatory: 0x66, [0x0F, 0x7F], size: nil, reg: source.code, rm: .memory(destination.unsized))
    }

    /// `movdqu xmm, m128` (F3 0F 6F): no alignment required.
    public mutating func movdqu(_ destination: XMM, _ source: Mem) {
        emit(mandatory: 0xF3, [0x0F, 0x6F], size: nil, reg: destination.code, rm: .memory(source.unsized))
    }

    /// `movdqu m128, xmm` (F3 0F 7F).
    public mutating func movdqu(_ destination: Mem, _ source: XMM) {
        emit(mandatory: 0xF3, [0x0F, 0x7F], size: nil, reg: source.code, rm: .memory(destination.unsized))
    }

    /// `movq xmm, r64` (66 REX.W 0F 6E): the register into the low quadword, the rest zeroed.
    public mutating func movq(_ destination: XMM, _ source: Reg64) {
        emit(mandatory: 0x66, [0x0F, 0x6E], size: .qword, reg: destination.code, rm: RM(source))
    }

    /// `movq r64, xmm` (66 REX.W 0F 7E): the low quadword.
    public mutating func movq(_ destination: Reg64, _ source: XMM) {
        emit(mandatory: 0x66, [0x0F, 0x7E], size: .qword, reg: source.code, rm: RM(destination))
    }

    /// `paddq xmm, xmm` (66 0F D4): two 64-bit additions.
    public mutating func paddq(_ destination: XMM, _ source: XMM) {
        emit(mandatory: 0x66, [0x0F, 0xD4], size: nil, reg: destination.code, rm: .register(source.code))
    }
}
