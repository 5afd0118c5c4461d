/// The count operand of a shift or rotate: an immediate (`shl ax, 4`) or `cl` (`shl ax, cl`).
///
/// Integer literals convert to ``immediate(_:)``.
public enum ShiftCount: Hashable, Sendable, ExpressibleByIntegerLiteral {
    /// A constant count; a count of 1 uses the short by-one encodings.
    case immediate(UInt8)
    /// The count in `cl`.
    case cl

    public init(integerLiteral value: UInt8) {
        self = .immediate(value)
    }
}

/// The rotates and shifts of the `C0`/`C1`/`D0`–`D3` groups. The raw value is the `/digit`.
enum ShiftOperation: UInt8 {
    case rol = 0, ror = 1, rcl = 2, rcr = 3, shl = 4, shr = 5, sar = 7
}

extension Assembler {
    /// Emits a shift or rotate: `D0`/`D1` by one, `D2`/`D3` by `cl`, `C0`/`C1 ib` otherwise.
    private mutating func shift(_ op: ShiftOperation, _ dst: RM, _ size: OperandSize, _ count: ShiftCount) {
        switch count {
        case .cl:
            emit(byteForm: [0xD2], size: size, reg: op.rawValue, rm: dst)
        case .immediate(1):
            emit(byteForm: [0xD0], size: size, reg: op.rawValue, rm: dst)
        case .immediate(let n):
            emit(byteForm: [0xC0], size: size, reg: op.rawValue, rm: dst, immediate: Immediate(Int(n), bytes: 1))
        }
    }

    /// `rol dst, count`.
    public mutating func rol<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.rol, RM(dst), R.size, count) }
    /// `rol size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func rol(_ dst: Mem, _ count: ShiftCount) { shift(.rol, .memory(dst), dst.requiredSize, count) }
    /// `ror dst, count`.
    public mutating func ror<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.ror, RM(dst), R.size, count) }
    /// `ror size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func ror(_ dst: Mem, _ count: ShiftCount) { shift(.ror, .memory(dst), dst.requiredSize, count) }
    /// `rcl dst, count`.
    public mutating func rcl<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.rcl, RM(dst), R.size, count) }
    /// `rcl size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func rcl(_ dst: Mem, _ count: ShiftCount) { shift(.rcl, .memory(dst), dst.requiredSize, count) }
    /// `rcr dst, count`.
    public mutating func rcr<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.rcr, RM(dst), R.size, count) }
    /// `rcr size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func rcr(_ dst: Mem, _ count: ShiftCount) { shift(.rcr, .memory(dst), dst.requiredSize, count) }
    /// `shl dst, count` (also known as `sal`).
    public mutating func shl<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.shl, RM(dst), R.size, count) }
    /// `shl size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func shl(_ dst: Mem, _ count: ShiftCount) { shift(.shl, .memory(dst), dst.requiredSize, count) }
    /// `shr dst, count`.
    public mutating func shr<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.shr, RM(dst), R.size, count) }
    /// `shr size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func shr(_ dst: Mem, _ count: ShiftCount) { shift(.shr, .memory(dst), dst.requiredSize, count) }
    /// `sar dst, count`.
    public mutating func sar<R: GeneralRegister>(_ dst: R, _ count: ShiftCount) { shift(.sar, RM(dst), R.size, count) }
    /// `sar size [dst], count`; `dst` must have a ``Mem/size``.
    public mutating func sar(_ dst: Mem, _ count: ShiftCount) { shift(.sar, .memory(dst), dst.requiredSize, count) }

    /// `shld dst, src, count`: double-precision shift left.
    public mutating func shld<R: WideRegister>(_ dst: R, _ src: R, _ count: ShiftCount) {
        doubleShift(0xA4, RM(dst), src, count)
    }

    /// `shld [dst], src, count`.
    public mutating func shld<R: WideRegister>(_ dst: Mem, _ src: R, _ count: ShiftCount) {
        doubleShift(0xA4, RM(dst, size: R.size), src, count)
    }

    /// `shrd dst, src, count`: double-precision shift right.
    public mutating func shrd<R: WideRegister>(_ dst: R, _ src: R, _ count: ShiftCount) {
        doubleShift(0xAC, RM(dst), src, count)
    }

    /// `shrd [dst], src, count`.
    public mutating func shrd<R: WideRegister>(_ dst: Mem, _ src: R, _ count: ShiftCount) {
        doubleShift(0xAC, RM(dst, size: R.size), src, count)
    }

    /// `0F A4 ib`/`0F A5` (shld) and `0F AC ib`/`0F AD` (shrd).
    private mutating func doubleShift<R: WideRegister>(_ opcode: UInt8, _ dst: RM, _ src: R, _ count: ShiftCount) {
        switch count {
        case .cl:
            emit([0x0F, opcode | 1], size: R.size, reg: src, rm: dst)
        case .immediate(let n):
            emit([0x0F, opcode], size: R.size, reg: src, rm: dst, immediate: Immediate(Int(n), bytes: 1))
        }
    }
}

// MARK: - Bit tests and scans

/// The bit-test instructions. The raw value orders both their opcodes
/// (`0F A3 + raw << 3`) and their `0F BA /digit` immediate forms (`/4 + raw`).
enum BitTestOperation: UInt8 {
    case bt, bts, btr, btc
}

extension Assembler {
    private mutating func bitTest<R: WideRegister>(_ op: BitTestOperation, _ base: RM, _ bit: R) {
        emit([0x0F, 0xA3 | op.rawValue << 3], size: R.size, reg: bit, rm: base)
    }

    private mutating func bitTest(_ op: BitTestOperation, _ base: RM, _ size: OperandSize, _ bit: UInt8) {
        precondition(size != .byte, "bit tests take a word, dword or qword operand")
        emit([0x0F, 0xBA], size: size, reg: 4 + op.rawValue, rm: base, immediate: Immediate(Int(bit), bytes: 1))
    }

    /// `bt base, bit`: copies a bit to CF.
    public mutating func bt<R: WideRegister>(_ base: R, _ bit: R) { bitTest(.bt, RM(base), bit) }
    /// `bt [base], bit`.
    public mutating func bt<R: WideRegister>(_ base: Mem, _ bit: R) { bitTest(.bt, RM(base, size: R.size), bit) }
    /// `bt base, imm`.
    public mutating func bt<R: WideRegister>(_ base: R, _ bit: UInt8) { bitTest(.bt, RM(base), R.size, bit) }
    /// `bt size [base], imm`; `base` must have a ``Mem/size``.
    public mutating func bt(_ base: Mem, _ bit: UInt8) { bitTest(.bt, .memory(base), base.requiredSize, bit) }
    /// `bts base, bit`: copies a bit to CF and sets it.
    public mutating func bts<R: WideRegister>(_ base: R, _ bit: R) { bitTest(.bts, RM(base), bit) }
    /// `bts [base], bit`.
    public mutating func bts<R: WideRegister>(_ base: Mem, _ bit: R) { bitTest(.bts, RM(base, size: R.size), bit) }
    /// `bts base, imm`.
    public mutating func bts<R: WideRegister>(_ base: R, _ bit: UInt8) { bitTest(.bts, RM(base), R.size, bit) }
    /// `bts size [base], imm`; `base` must have a ``Mem/size``.
    public mutating func bts(_ base: Mem, _ bit: UInt8) { bitTest(.bts, .memory(base), base.requiredSize, bit) }
    /// `btr base, bit`: copies a bit to CF and clears it.
    public mutating func btr<R: WideRegister>(_ base: R, _ bit: R) { bitTest(.btr, RM(base), bit) }
    /// `btr [base], bit`.
    public mutating func btr<R: WideRegister>(_ base: Mem, _ bit: R) { bitTest(.btr, RM(base, size: R.size), bit) }
    /// `btr base, imm`.
    public mutating func btr<R: WideRegister>(_ base: R, _ bit: UInt8) { bitTest(.btr, RM(base), R.size, bit) }
    /// `btr size [base], imm`; `base` must have a ``Mem/size``.
    public mutating func btr(_ base: Mem, _ bit: UInt8) { bitTest(.btr, .memory(base), base.requiredSize, bit) }
    /// `btc base, bit`: copies a bit to CF and complements it.
    public mutating func btc<R: WideRegister>(_ base: R, _ bit: R) { bitTest(.btc, RM(base), bit) }
    /// `btc [base], bit`.
    public mutating func btc<R: WideRegister>(_ base: Mem, _ bit: R) { bitTest(.btc, RM(base, size: R.size), bit) }
    /// `btc base, imm`.
    public mutating func btc<R: WideRegister>(_ base: R, _ bit: UInt8) { bitTest(.btc, RM(base), R.size, bit) }
    /// `btc size [base], imm`; `base` must have a ``Mem/size``.
    public mutating func btc(_ base: Mem, _ bit: UInt8) { bitTest(.btc, .memory(base), base.requiredSize, bit) }

    /// `bsf dst, src`: bit scan forward.
    public mutating func bsf<R: WideRegister>(_ dst: R, _ src: R) { bitScan(0xBC, dst, RM(src)) }
    /// `bsf dst, [src]`.
    public mutating func bsf<R: WideRegister>(_ dst: R, _ src: Mem) { bitScan(0xBC, dst, RM(src, size: R.size)) }
    /// `bsr dst, src`: bit scan reverse.
    public mutating func bsr<R: WideRegister>(_ dst: R, _ src: R) { bitScan(0xBD, dst, RM(src)) }
    /// `bsr dst, [src]`.
    public mutating func bsr<R: WideRegister>(_ dst: R, _ src: Mem) { bitScan(0xBD, dst, RM(src, size: R.size)) }

    private mutating func bitScan<R: WideRegister>(_ opcode: UInt8, _ dst: R, _ src: RM) {
        emit([0x0F, opcode], size: R.size, reg: dst, rm: src)
    }

    /// `bswap reg`: reverses the byte order of a 32- or 64-bit register.
    public mutating func bswap<R: AddressRegister>(_ dst: R) {
        emit([0x0F, 0xC8], plus: dst, size: R.size)
    }
}

// MARK: - Conditional set and move

extension Assembler {
    /// `setcc dst`: sets a byte to 1 if `condition` holds, else 0.
    public mutating func setcc(_ condition: Condition, _ dst: Reg8) {
        emit([0x0F, 0x90 + condition.rawValue], size: nil, reg: 0, rm: RM(dst))
    }

    /// `setcc byte [dst]`.
    public mutating func setcc(_ condition: Condition, _ dst: Mem) {
        emit([0x0F, 0x90 + condition.rawValue], size: nil, reg: 0, rm: RM(dst, size: .byte))
    }

    /// `cmovcc dst, src`: moves if `condition` holds.
    public mutating func cmovcc<R: WideRegister>(_ condition: Condition, _ dst: R, _ src: R) {
        emit([0x0F, 0x40 + condition.rawValue], size: R.size, reg: dst, rm: RM(src))
    }

    /// `cmovcc dst, [src]`.
    public mutating func cmovcc<R: WideRegister>(_ condition: Condition, _ dst: R, _ src: Mem) {
        emit([0x0F, 0x40 + condition.rawValue], size: R.size, reg: dst, rm: RM(src, size: R.size))
    }
}
