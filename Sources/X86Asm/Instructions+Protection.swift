/// A debug register. The raw value is its number in `mov drN` encodings.
public enum DebugReg: UInt8, Hashable, Sendable, CaseIterable {
    case dr0 = 0, dr1 = 1, dr2 = 2, dr3 = 3, dr6 = 6, dr7 = 7
}

// MARK: - Protected-mode system instructions

extension Assembler {
    /// `sldt reg`: stores the LDT selector; a 32-bit register receives it zero-extended.
    public mutating func sldt<R: WideRegister>(_ dst: R) { emit([0x0F, 0x00], size: R.size, reg: 0, rm: RM(dst)) }
    /// `sldt [mem]`: stores the LDT selector (16 bits).
    public mutating func sldt(_ dst: Mem) { emit([0x0F, 0x00], size: nil, reg: 0, rm: RM(dst, size: .word)) }
    /// `str reg`: stores the task register's selector; a 32-bit register receives it zero-extended.
    public mutating func str<R: WideRegister>(_ dst: R) { emit([0x0F, 0x00], size: R.size, reg: 1, rm: RM(dst)) }
    /// `str [mem]`: stores the task register's selector (16 bits).
    public mutating func str(_ dst: Mem) { emit([0x0F, 0x00], size: nil, reg: 1, rm: RM(dst, size: .word)) }
    /// `verr reg`: ZF = 1 if the segment is readable at the current privilege level.
    public mutating func verr(_ src: Reg16) { emit([0x0F, 0x00], size: nil, reg: 4, rm: RM(src)) }
    /// `verr [mem]`.
    public mutating func verr(_ src: Mem) { emit([0x0F, 0x00], size: nil, reg: 4, rm: RM(src, size: .word)) }
    /// `verw reg`: ZF = 1 if the segment is writable at the current privilege level.
    public mutating func verw(_ src: Reg16) { emit([0x0F, 0x00], size: nil, reg: 5, rm: RM(src)) }
    /// `verw [mem]`.
    public mutating func verw(_ src: Mem) { emit([0x0F, 0x00], size: nil, reg: 5, rm: RM(src, size: .word)) }

    /// `lar reg, reg16`: loads the access rights of the selector's descriptor.
    public mutating func lar<R: WideRegister>(_ dst: R, _ src: Reg16) { emit([0x0F, 0x02], size: R.size, reg: dst, rm: RM(src)) }
    /// `lar reg, [mem]` (a 16-bit selector in memory).
    public mutating func lar<R: WideRegister>(_ dst: R, _ src: Mem) {
        emit([0x0F, 0x02], size: R.size, reg: dst, rm: .memory(src))
    }
    /// `lsl reg, reg16`: loads the byte-granular limit of the selector's segment.
    public mutating func lsl<R: WideRegister>(_ dst: R, _ src: Reg16) { emit([0x0F, 0x03], size: R.size, reg: dst, rm: RM(src)) }
    /// `lsl reg, [mem]`.
    public mutating func lsl<R: WideRegister>(_ dst: R, _ src: Mem) {
        emit([0x0F, 0x03], size: R.size, reg: dst, rm: .memory(src))
    }
    /// `arpl r/m16, reg16`: raises the destination selector's RPL to at least the source's
    /// (not in 64-bit code, where `63` is ``movsxd(_:_:)-(Reg64,Reg32)``).
    public mutating func arpl(_ dst: Reg16, _ src: Reg16) { arpl(RM(dst), src) }
    /// `arpl [mem], reg16`.
    public mutating func arpl(_ dst: Mem, _ src: Reg16) { arpl(RM(dst, size: .word), src) }

    private mutating func arpl(_ dst: RM, _ src: Reg16) {
        if requireLegacyMode("arpl") { emit([0x63], size: nil, reg: src, rm: dst) }
    }

    /// `invlpg [mem]`: drops the TLB entry of the page holding the address.
    public mutating func invlpg(_ address: Mem) { emit([0x0F, 0x01], size: nil, reg: 7, rm: RM(address, size: .byte)) }
    /// `sysenter`.
    public mutating func sysenter() { emit([0x0F, 0x34]) }
    /// `sysexit`.
    public mutating func sysexit() { emit([0x0F, 0x35]) }
    /// `sysexitq` (nasm's `o64 sysexit`): returns from `sysenter` to 64-bit code, `REX.W 0F 35`.
    public mutating func sysexitq() { emit([0x0F, 0x35], size: .qword) }

    /// `mov drN, src` (outside 64-bit code).
    public mutating func mov(_ dst: DebugReg, _ src: Reg32) { moveSystemRegister(0x23, dst.rawValue, src) }
    /// `mov drN, src` (64-bit code).
    public mutating func mov(_ dst: DebugReg, _ src: Reg64) { moveSystemRegister(0x23, dst.rawValue, src) }
    /// `mov dst, drN` (outside 64-bit code).
    public mutating func mov(_ dst: Reg32, _ src: DebugReg) { moveSystemRegister(0x21, src.rawValue, dst) }
    /// `mov dst, drN` (64-bit code).
    public mutating func mov(_ dst: Reg64, _ src: DebugReg) { moveSystemRegister(0x21, src.rawValue, dst) }

    /// `iretw`: 16-bit interrupt return (with an operand-size prefix in 32-bit code).
    public mutating func iretw() { emit([0xCF], size: .word) }
    /// `o16 retf` / `o32 retf` / `retfq` (64-bit code, `REX.W CB`), optionally releasing `n`
    /// bytes: a far return of an explicit size.
    public mutating func retf(size: OperandSize, _ n: UInt16? = nil) {
        emitPrefixes(size: size)
        retf(n)
    }
    /// `pushfw`: pushes FLAGS (16 bits).
    public mutating func pushfw() { emit([0x9C], size: .word) }
    /// `popfw`: pops FLAGS (16 bits).
    public mutating func popfw() { emit([0x9D], size: .word) }
}
