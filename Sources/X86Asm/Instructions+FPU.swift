/// x87 memory-operand instructions by operand type (nasm's `fld dword [x]` and so on).
public enum X87MemoryInstruction: Sendable {
    case fld32, fld64, fld80, fild16, fild32, fild64, fbld
    case fst32, fst64, fstp32, fstp64, fstp80
    case fist16, fist32, fistp16, fistp32, fistp64, fbstp
    case fadd32, fmul32, fcom32, fcomp32, fsub32, fsubr32, fdiv32, fdivr32
    case fadd64, fmul64, fcom64, fcomp64, fsub64, fsubr64, fdiv64, fdivr64
    case fiadd16, fimul16, ficom16, ficomp16, fisub16, fisubr16, fidiv16, fidivr16
    case fiadd32, fimul32, ficom32, ficomp32, fisub32, fisubr32, fidiv32, fidivr32
    case fldenv, fldcw, fnstenv, fnstcw, frstor, fnsave, fnstsw

    /// The escape byte and the ModR/M reg digit.
    var encoding: (opcode: UInt8, digit: UInt8) {
        switch self {
        case .fld32: (0xD9, 0)
        case .fst32: (0xD9, 2)
        case .fstp32: (0xD9, 3)
        case .fldenv: (0xD9, 4)
        case .fldcw: (0xD9, 5)
        case .fnstenv: (0xD9, 6)
        case .fnstcw: (0xD9, 7)
        case .fild32: (0xDB, 0)
        case .fist32: (0xDB, 2)
        case .fistp32: (0xDB, 3)
        case .fld80: (0xDB, 5)
        case .fstp80: (0xDB, 7)
        case .fld64: (0xDD, 0)
        case .fst64: (0xDD, 2)
        case .fstp64: (0xDD, 3)
        case .frstor: (0xDD, 4)
        case .fnsave: (0xDD, 6)
        case .fnstsw: (0xDD, 7)
        case .fild16: (0xDF, 0)
        case .fist16: (0xDF, 2)
        case .fistp16: (0xDF, 3)
        case .fbld: (0xDF, 4)
        case .fild64: (0xDF, 5)
        case .fbstp: (0xDF, 6)
        case .fistp64: (0xDF, 7)
        case .fadd32: (0xD8, 0)
        case .fmul32: (0xD8, 1)
        case .fcom32: (0xD8, 2)
        case .fcomp32: (0xD8, 3)
        case .fsub32: (0xD8, 4)
        case .fsubr32: (0xD8, 5)
        case .fdiv32: (0xD8, 6)
        case .fdivr32: (0xD8, 7)
        case .fadd64: (0xDC, 0)
        case .fmul64: (0xDC, 1)
        case .fcom64: (0xDC, 2)
        case .fcomp64: (0xDC, 3)
        case .fsub64: (0xDC, 4)
        case .fsubr64: (0xDC, 5)
        case .fdiv64: (0xDC, 6)
        case .fdivr64: (0xDC, 7)
        case .fiadd16: (0xDE, 0)
        case .fimul16: (0xDE, 1)
        case .ficom16: (0xDE, 2)
        case .ficomp16: (0xDE, 3)
        case .fisub16: (0xDE, 4)
        case .fisubr16: (0xDE, 5)
        case .fidiv16: (0xDE, 6)
        case .fidivr16: (0xDE, 7)
        case .fiadd32: (0xDA, 0)
        case .fimul32: (0xDA, 1)
        case .ficom32: (0xDA, 2)
        case .ficomp32: (0xDA, 3)
        case .fisub32: (0xDA, 4)
        case .fisubr32: (0xDA, 5)
        case .fidiv32: (0xDA, 6)
        case .fidivr32: (0xDA, 7)
        }
    }
}

extension Assembler {
    /// An x87 instruction with a memory operand. `size` is the operand size of the
    /// environment instructions (FLDENV, FNSTENV, FRSTOR, FNSAVE), which selects their
    /// 14/94-byte or 28/108-byte image; `nil` keeps the code's default.
    public mutating func x87(_ instruction: X87MemoryInstruction, _ operand: Mem, size: OperandSize? = nil) {
        let (opcode, digit) = instruction.encoding
        emit([opcode], size: size, reg: digit, rm: .memory(operand.unsized))
    }

    /// An x87 register form given as its two opcode bytes, e.g. `x87(0xD8, 0xC1)` for
    /// `fadd st0, st1`.
    public mutating func x87(_ escape: UInt8, _ modrm: UInt8) {
        emit([escape, modrm])
    }

    /// WAIT/FWAIT.
    public mutating func fwait() { emit([0x9B]) }
    /// FNINIT.
    public mutating func fninit() { emit([0xDB, 0xE3]) }
    /// FNCLEX.
    public mutating func fnclex() { emit([0xDB, 0xE2]) }
    /// FNSTSW AX.
    public mutating func fnstswAX() { emit([0xDF, 0xE0]) }

    /// FXSAVE (`restore` false) or FXRSTOR with a 512-byte memory operand.
    public mutating func fxsave(_ operand: Mem, restore: Bool = false) {
        emit([0x0F, 0xAE], size: nil, reg: restore ? 1 : 0, rm: .memory(operand.unsized))
    }

    /// An MMX instruction 0F `opcode` /r with MMX registers `mm` (reg) and `rm`.
    public mutating func mmx(_ opcode: UInt8, mm: UInt8, rm: UInt8) {
        emit([0x0F, opcode, 0xC0 | mm << 3 | rm])
    }

    /// An MMX instruction 0F `opcode` /r with a memory operand.
    public mutating func mmx(_ opcode: UInt8, mm: UInt8, _ operand: Mem) {
        emit([0x0F, opcode], size: nil, reg: mm, rm: .memory(operand.unsized))
    }
}
