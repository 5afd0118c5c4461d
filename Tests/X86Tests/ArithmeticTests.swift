import Testing
import X86
import X86Asm

/// Integer arithmetic with known results (SDM Vol. 2: ADD…CMP, MUL, IMUL, DIV, IDIV,
/// XADD, CMPXCHG, CMPXCHG8B).
@Suite struct ArithmeticTests {
    private let cf = EFlags.carry, of = EFlags.overflow, zf = EFlags.zero

    // MARK: Flags of the basic ALU

    @Test func addSetsCarryZeroAndAuxiliary() throws {
        let m = try runSnippet { a in
            a.mov(.al, 1)
            a.add(.al, 0xFF)
        }
        #expect(m.r16(.rax) & 0xFF == 0)
        #expect(m.cpu.eflags & EFlags.arithmetic == EFlags.carry | EFlags.zero | EFlags.auxiliary | EFlags.parity)
    }

    @Test func subSignedOverflow() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x8000)
            a.sub(.ax, 1)
        }
        #expect(m.r16(.rax) == 0x7FFF)
        #expect(m.flag(of) && !m.flag(cf) && !m.flag(EFlags.sign))
    }

    @Test func adcAndSbbChainThroughCarry() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0xFFFF)                 // 0001FFFF + 00000001 in 16-bit halves
            a.mov(.dx, 0x0001)
            a.add(.ax, 1)
            a.adc(.dx, 0)
            a.mov(.cx, 0x0000)                 // 00010000 - 00000001
            a.mov(.bx, 0x0001)
            a.sub(.cx, 1)
            a.sbb(.bx, 0)
        }
        #expect(m.r16(.rax) == 0 && m.r16(.rdx) == 2)
        #expect(m.r16(.rcx) == 0xFFFF && m.r16(.rbx) == 0)
    }

    @Test func incAndDecLeaveCarryAlone() throws {
        let m = try runSnippet { a in
            a.stc()
            a.mov(.al, 0xFF)
            a.inc(.al)                         // ZF = 1, CF stays 1
            a.mov(.bl, 0x80)
            a.dec(.bl)                         // 7Fh: OF = 1
        }
        #expect(m.r16(.rax) & 0xFF == 0 && m.r16(.rbx) & 0xFF == 0x7F)
        #expect(m.flag(cf) && m.flag(of) && !m.flag(zf))
    }

    @Test func negOfZeroClearsCarry() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 5)
            a.neg(.ax)
            a.mov(.bx, 0)
            a.neg(.bx)
        }
        #expect(m.r16(.rax) == 0xFFFB)
        #expect(!m.flag(cf) && m.flag(zf))
    }

    // MARK: MUL and IMUL: CF = OF = "the upper half is significant"

    @Test func mul8() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0xFF80)                 // AH is overwritten
            a.mov(.bl, 2)
            a.mul(.bl)
        }
        #expect(m.r16(.rax) == 0x0100)
        #expect(m.flag(cf) && m.flag(of))
    }

    @Test func mul8FitsInAL() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0xFF10)
            a.mov(.bl, 2)
            a.mul(.bl)
        }
        #expect(m.r16(.rax) == 0x0020)
        #expect(!m.flag(cf) && !m.flag(of))
    }

    @Test func mul16() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x1234)
            a.mov(Mem(disp: TestMachine.data, size: .word), 0x0100)
            a.mul(Mem(disp: TestMachine.data, size: .word))
        }
        #expect(m.r16(.rdx) == 0x0012 && m.r16(.rax) == 0x3400)
        #expect(m.flag(cf) && m.flag(of))
    }

    @Test func mul32() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0xFFFF_FFFF)
            a.mov(.ebx, 2)
            a.mul(.ebx)
        }
        #expect(m.r32(.rdx) == 1 && m.r32(.rax) == 0xFFFF_FFFE)
        #expect(m.flag(cf) && m.flag(of))
    }

    @Test func imul8SignExtendedResultFits() throws {
        let m = try runSnippet { a in
            a.mov(.al, -2)
            a.mov(.bl, 3)
            a.imul(.bl)
        }
        #expect(m.r16(.rax) == 0xFFFA)
        #expect(!m.flag(cf) && !m.flag(of))
    }

    @Test func imul8Overflows() throws {
        let m = try runSnippet { a in
            a.mov(.al, 0x40)
            a.mov(.bl, 2)
            a.imul(.bl)
        }
        #expect(m.r16(.rax) == 0x0080)
        #expect(m.flag(cf) && m.flag(of))
    }

    @Test func imul16() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x8000)                 // -32768 × -1 = 32768
            a.mov(.bx, 0xFFFF)
            a.imul(.bx)
        }
        #expect(m.r16(.rdx) == 0 && m.r16(.rax) == 0x8000)
        #expect(m.flag(cf) && m.flag(of))
    }

    @Test func imul32() throws {
        let m = try runSnippet { a in
            a.mov(.eax, -1)
            a.mov(.ebx, -1)
            a.imul(.ebx)
        }
        #expect(m.r32(.rdx) == 0 && m.r32(.rax) == 1)
        #expect(!m.flag(cf) && !m.flag(of))
    }

    @Test func imulTwoAndThreeOperandForms() throws {
        let m = try runSnippet { a in
            a.mov(.bx, 1000)
            a.imul(.ax, .bx, -3)               // -3000 fits
            a.pushf()
            a.pop(.si)
            a.mov(.cx, 300)
            a.mov(.dx, 300)
            a.imul(.cx, .dx)                   // 90000 truncated to 5F90h
            a.pushf()
            a.pop(.di)
            a.mov(.ebp, 0x1_0000)
            a.imul(.ebp, .ebp, 0x1_0000)       // 2^32 truncated to 0
        }
        #expect(m.r16(.rax) == 0xF448)
        #expect(UInt32(m.r16(.rsi)) & (cf | of) == 0)
        #expect(m.r16(.rcx) == 0x5F90)
        #expect(UInt32(m.r16(.rdi)) & (cf | of) == cf | of)
        #expect(m.r32(.rbp) == 0)
        #expect(m.flag(cf) && m.flag(of))
    }

    // MARK: DIV and IDIV

    @Test func div8() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 1000)
            a.mov(.bl, 7)
            a.div(.bl)
        }
        #expect(m.r16(.rax) == 0x068E, "AL = 142, AH = 6")
    }

    @Test func div16() throws {
        let m = try runSnippet { a in
            a.mov(.dx, 1)
            a.mov(.ax, 0)
            a.mov(.bx, 3)
            a.div(.bx)
        }
        #expect(m.r16(.rax) == 0x5555 && m.r16(.rdx) == 1)
    }

    @Test func div32() throws {
        let m = try runSnippet { a in
            a.mov(.edx, 1)
            a.mov(.eax, 0)
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0x10)
            a.div(Mem(disp: TestMachine.data, size: .dword))
        }
        #expect(m.r32(.rax) == 0x1000_0000 && m.r32(.rdx) == 0)
    }

    @Test func idiv8TruncatesTowardZero() throws {
        let m = try runSnippet { a in
            a.mov(.ax, -100)
            a.mov(.bl, 7)
            a.idiv(.bl)
        }
        #expect(m.r16(.rax) == 0xFEF2, "AL = -14, AH = -2")
    }

    @Test func idiv8MostNegativeQuotientFits() throws {
        let m = try runSnippet { a in
            a.mov(.ax, -256)
            a.mov(.bl, 2)
            a.idiv(.bl)
        }
        #expect(m.r16(.rax) == 0x0080, "AL = -128, AH = 0")
    }

    @Test func idiv16() throws {
        let m = try runSnippet { a in
            a.mov(.dx, 0xFFFE)                 // DX:AX = -70000
            a.mov(.ax, 0xEE90)
            a.mov(.bx, 1000)
            a.idiv(.bx)
        }
        #expect(m.r16(.rax) == 0xFFBA && m.r16(.rdx) == 0)
    }

    @Test func idiv32() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 7)
            a.cdq()
            a.mov(.ebx, -2)
            a.idiv(.ebx)
        }
        #expect(m.r32(.rax) == 0xFFFF_FFFD && m.r32(.rdx) == 1)
    }

    @Test func idivQuotientOutOfRangeIsDivideError() throws {
        try runExpectingException(.divideError) { a, mark in
            a.mov(.dx, 0xFFFF)                 // DX:AX = -32768; / -1 = 32768
            a.mov(.ax, 0x8000)
            a.mov(.bx, -1)
            a.bind(mark)
            a.idiv(.bx)
        }
    }

    // MARK: XADD, CMPXCHG, CMPXCHG8B

    @Test func xaddMemory() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .word), 5)
            a.mov(.ax, 3)
            a.lock()
            a.xadd(Mem(disp: TestMachine.data), .ax)
        }
        #expect(m.bus.word(at: TestMachine.data) == 8)
        #expect(m.r16(.rax) == 5)
    }

    @Test func xaddRegisterSetsAddFlags() throws {
        let m = try runSnippet { a in
            a.mov(.bl, 0xFF)
            a.mov(.cl, 1)
            a.xadd(.bl, .cl)
        }
        #expect(m.r16(.rbx) & 0xFF == 0 && m.r16(.rcx) & 0xFF == 0xFF)
        #expect(m.flag(cf) && m.flag(zf))
    }

    @Test func cmpxchgEqualStoresTheSource() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .byte), 5)
            a.mov(.al, 5)
            a.mov(.bl, 9)
            a.cmpxchg(Mem(disp: TestMachine.data), .bl)
        }
        #expect(m.bus.byte(at: TestMachine.data) == 9)
        #expect(m.r16(.rax) & 0xFF == 5)
        #expect(m.flag(zf))
    }

    @Test func cmpxchgUnequalLoadsTheAccumulator() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .byte), 5)
            a.mov(.al, 4)
            a.mov(.bl, 9)
            a.cmpxchg(Mem(disp: TestMachine.data), .bl)
        }
        #expect(m.bus.byte(at: TestMachine.data) == 5)
        #expect(m.r16(.rax) & 0xFF == 5)
        #expect(!m.flag(zf) && m.flag(cf), "flags of CMP AL, dest: 4 - 5 borrows")
    }

    @Test func cmpxchgRegister16() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x1234)
            a.mov(.cx, 0x1234)
            a.mov(.dx, 0xBEEF)
            a.cmpxchg(.cx, .dx)
        }
        #expect(m.r16(.rcx) == 0xBEEF && m.flag(zf))
    }

    /// `cmpxchg8b [data]`: 0F C7 /1 with a disp16 operand.
    private static let cmpxchg8bData: [UInt8] = [0x0F, 0xC7, 0x0E,
                                                 UInt8(TestMachine.data & 0xFF), UInt8(TestMachine.data >> 8)]

    @Test func cmpxchg8bEqual() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0x5566_7788)
            a.mov(Mem(disp: TestMachine.data + 4, size: .dword), 0x1122_3344)
            a.mov(.edx, 0x1122_3344)
            a.mov(.eax, 0x5566_7788)
            a.mov(.ecx, 0xAAAA_AAAA)
            a.mov(.ebx, 0xBBBB_BBBB)
            a.emit(ArithmeticTests.cmpxchg8bData)
        }
        #expect(m.bus.dword(at: TestMachine.data) == 0xBBBB_BBBB)
        #expect(m.bus.dword(at: TestMachine.data + 4) == 0xAAAA_AAAA)
        #expect(m.flag(zf))
    }

    @Test func cmpxchg8bUnequal() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0x5566_7788)
            a.mov(Mem(disp: TestMachine.data + 4, size: .dword), 0x1122_3344)
            a.xor(.edx, .edx)
            a.xor(.eax, .eax)
            a.mov(.ecx, 0xAAAA_AAAA)
            a.mov(.ebx, 0xBBBB_BBBB)
            a.emit(ArithmeticTests.cmpxchg8bData)
        }
        #expect(m.r32(.rdx) == 0x1122_3344 && m.r32(.rax) == 0x5566_7788)
        #expect(m.bus.dword(at: TestMachine.data) == 0x5566_7788)
        #expect(!m.flag(zf))
    }

    @Test func cmpxchg8bWithARegisterOperandIsInvalid() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.emit([0x0F, 0xC7, 0xC8])
        }
    }
}
