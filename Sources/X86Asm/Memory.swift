/// A memory operand: an effective address, with an optional segment override and operand size.
///
/// 16-bit addressing (`[bx+si+4]`, `[bp]`, `[di]`, …):
/// ```swift
/// Mem(.bx, .si, disp: 4)
/// Mem(.bp, size: .word, segment: .es)
/// ```
/// 32-bit addressing (`[ebp+esi*4+0x100]`, `[esp]`, `[esi*4]`, …), and 64-bit addressing in
/// 64-bit code, with any of the sixteen registers (`[rsp+8]`, `[r13+r12*8]`, …):
/// ```swift
/// Mem(.ebp, index: .esi, scale: 4, disp: 0x100)
/// Mem(index: .esi, scale: 4, size: .dword)
/// Mem(.r13, index: .r12, scale: 8)
/// ```
/// RIP-relative addressing, in 64-bit code only (`[rel msg]`, `[rip+16]`):
/// ```swift
/// Mem(rip: msg, size: .qword)
/// Mem(rip: 16)
/// ```
/// An absolute address (`[0x400]`, `[msg]`) uses the address size of the code it appears in,
/// except that a constant beyond 16 bits takes 32-bit addressing in 16-bit code too, and a
/// constant from 2 GiB to 4 GiB takes 32-bit addressing in 64-bit code, where a 64-bit
/// address would sign-extend it:
/// ```swift
/// Mem(disp: 0x400, size: .byte)
/// Mem(label: msg)
/// ```
/// The `size` is needed only where no register operand fixes it, as in nasm's `word [bx]`.
/// An address size different from the current ``Bits`` gets a `0x67` prefix.
public struct Mem: Hashable, Sendable {
    /// Which registers form the address, in encoding terms.
    enum Base: Hashable, Sendable {
        /// `[disp]`, of the address size of the code it appears in (see ``addressSize(in:)``).
        case absolute
        /// 16-bit addressing; `rm` is the ModR/M r/m field (0 `bx+si` … 7 `bx`, 6 meaning `bp`).
        case mode16(rm: UInt8)
        /// 32- or 64-bit addressing (`addressSize`): a base plus an optional index scaled by
        /// `1 << scaleShift`, as register numbers 0–15.
        case based(base: UInt8, index: UInt8?, scaleShift: UInt8, addressSize: Bits)
        /// 32- or 64-bit addressing without a base: an index scaled by `1 << scaleShift`.
        case indexed(index: UInt8, scaleShift: UInt8, addressSize: Bits)
        /// `[rip + disp]`, or `[rel label + disp]` when there is a label.
        case ripRelative
    }

    let base: Base
    /// The constant displacement.
    let disp: Int
    /// A label whose address is added to the displacement, resolved by ``Assembler/finish()``.
    let label: Label?
    /// The operand size, where no register operand implies it (nasm's `byte`/`word`/`dword`/`qword`).
    public var size: OperandSize?
    /// A segment-override prefix, or `nil` for the instruction's default segment.
    public var segment: SegReg?

    /// `[base + index + disp]` with 16-bit addressing.
    ///
    /// Valid forms are those the 8086 has: `bx` or `bp`, plus `si` or `di`, or any one of the four.
    /// - Parameters:
    ///   - base: `bx`, `bp`, `si` or `di`.
    ///   - index: `si` or `di` when `base` is `bx` or `bp`.
    ///   - disp: A displacement, -32768...65535.
    ///   - label: A label whose address is added to `disp`.
    public init(
        _ base: Reg16, _ index: Reg16? = nil, disp: Int = 0, label: Label? = nil,
        size: OperandSize? = nil, segment: SegReg? = nil
    ) {
        let rm: UInt8
        switch (base, index) {
        case (.bx, .si?), (.si, .bx?): rm = 0
        case (.bx, .di?), (.di, .bx?): rm = 1
        case (.bp, .si?), (.si, .bp?): rm = 2
        case (.bp, .di?), (.di, .bp?): rm = 3
        case (.si, nil): rm = 4
        case (.di, nil): rm = 5
        case (.bp, nil): rm = 6
        case (.bx, nil): rm = 7
        default: preconditionFailure("[\(base)+\(index.map(\.description) ?? "")] is not a 16-bit address")
        }
        self.init(.mode16(rm: rm), disp: disp, label: label, size: size, segment: segment)
    }

    /// `[base + index*scale + disp]` with 32-bit addressing (``Reg32``) or, in 64-bit code,
    /// 64-bit addressing (``Reg64``).
    /// - Parameters:
    ///   - base: Any register of the address size.
    ///   - index: Any register of the address size but `esp`/`rsp`.
    ///   - scale: 1, 2, 4 or 8.
    ///   - disp: A displacement, -2³¹...2³²-1 (-2³¹...2³¹-1 with 64-bit addressing).
    ///   - label: A label whose address is added to `disp`.
    public init<R: AddressRegister>(
        _ base: R, index: R? = nil, scale: Int = 1, disp: Int = 0, label: Label? = nil,
        size: OperandSize? = nil, segment: SegReg? = nil
    ) {
        let shift = Self.scaleShift(scale)
        var (base, index) = (base.number, index?.number)
        // An unscaled esp index is the same address with esp as the base, which encodes.
        if index == Self.stackPointer, shift == 0 { (base, index) = (Self.stackPointer, base) }
        let addressed = Base.based(base: base, index: index, scaleShift: shift, addressSize: Self.addressSize(R.self))
        self.init(addressed, disp: disp, label: label, size: size, segment: segment)
    }

    /// `[index*scale + disp]`: 32- or 64-bit addressing without a base register.
    public init<R: AddressRegister>(
        index: R, scale: Int, disp: Int = 0, label: Label? = nil,
        size: OperandSize? = nil, segment: SegReg? = nil
    ) {
        // As nasm does, [r*1] is encoded as [r] and [r*2] as [r+r*1], avoiding a disp32.
        switch scale {
        case 1: self.init(index, disp: disp, label: label, size: size, segment: segment)
        case 2: self.init(index, index: index, disp: disp, label: label, size: size, segment: segment)
        default:
            let base = Base.indexed(index: index.number, scaleShift: Self.scaleShift(scale), addressSize: Self.addressSize(R.self))
            self.init(base, disp: disp, label: label, size: size, segment: segment)
        }
    }

    /// `[disp + label]`: an absolute address, of the address size of the code it appears in.
    ///
    /// In 16-bit code, a `disp` outside -32768...65535 (with no label) takes 32-bit
    /// addressing, as nasm's `[dword disp]`, to reach beyond 64 KiB in flat real mode. In
    /// 64-bit code, a `disp` of 2³¹...2³²-1 (with no label) takes 32-bit addressing, which
    /// zero-extends it. A label's address is used sign-extended from 32 bits there.
    public init(disp: Int = 0, label: Label? = nil, size: OperandSize? = nil, segment: SegReg? = nil) {
        self.init(.absolute, disp: disp, label: label, size: size, segment: segment)
    }

    /// `[rel label + disp]`: the address of `label` plus `disp`, as a displacement from the
    /// end of the instruction (64-bit code only).
    public init(rip label: Label, disp: Int = 0, size: OperandSize? = nil, segment: SegReg? = nil) {
        self.init(.ripRelative, disp: disp, label: label, size: size, segment: segment)
    }

    /// `[rip + disp]`: `disp` bytes from the end of the instruction (64-bit code only).
    public init(rip disp: Int, size: OperandSize? = nil, segment: SegReg? = nil) {
        self.init(.ripRelative, disp: disp, label: nil, size: size, segment: segment)
    }

    private init(_ base: Base, disp: Int, label: Label?, size: OperandSize?, segment: SegReg?) {
        switch base {
        case .mode16: precondition((-0x8000...0xFFFF).contains(disp), "16-bit displacement \(disp) out of range")
        case .based(_, _, _, .b64), .indexed(_, _, .b64), .ripRelative:
            precondition((-0x8000_0000...0x7FFF_FFFF).contains(disp), "displacement \(disp) out of range")
        default: precondition((-0x8000_0000...0xFFFF_FFFF).contains(disp), "displacement \(disp) out of range")
        }
        switch base {
        case .based(_, Self.stackPointer?, _, _), .indexed(Self.stackPointer, _, _):
            preconditionFailure("esp/rsp cannot be an index register")
        default: break
        }
        self.base = base
        self.disp = disp
        self.label = label
        self.size = size
        self.segment = segment
    }

    /// The number of `esp`/`rsp`, which cannot be an index (r12 can).
    private static var stackPointer: UInt8 { 4 }

    private static func scaleShift(_ scale: Int) -> UInt8 {
        guard let shift = [1: 0, 2: 1, 4: 2, 8: 3][scale] else { preconditionFailure("scale \(scale) is not 1, 2, 4 or 8") }
        return UInt8(shift)
    }

    private static func addressSize<R: AddressRegister>(_: R.Type) -> Bits {
        R.size == .qword ? .b64 : .b32
    }

    /// Whether the address is a bare displacement.
    var isAbsolute: Bool { base == .absolute }

    /// The address size this operand needs in code of the given default size.
    func addressSize(in bits: Bits) -> Bits {
        switch base {
        case .absolute:
            switch bits {
            case .b16: label == nil && !(-0x8000...0xFFFF).contains(disp) ? .b32 : .b16
            case .b32: .b32
            case .b64: label == nil && disp > 0x7FFF_FFFF ? .b32 : .b64
            }
        case .mode16: .b16
        case .based(_, _, _, let size), .indexed(_, _, let size): size
        case .ripRelative: .b64
        }
    }
}
