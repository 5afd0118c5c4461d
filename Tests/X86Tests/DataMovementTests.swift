import Testing
import X86
import X86Asm

/// MOVZX, MOVSX, SETcc, CMOVcc and friends (SDM Vol. 2).
@Suite struct DataMovementTests {
    @Test func movzxAndMovsxFromRegisters() throws {
        let m = try runSnippet { a in
            a.mov(.bl, 0x80)
            a.movzx(.eax, .bl)
            a.movsx(.ecx, .bl)
            a.mov(.si, 0x8001)
            a.movsx(.edx, .si)
            a.movzx(.di, .bl)
        }
        #expect(m.r32(.rax) == 0x80)
        #expect(m.r32(.rcx) == 0xFFFF_FF80)
        #expect(m.r32(.rdx) == 0xFFFF_8001)
        #expect(m.r16(.rdi) == 0x0080)
    }

    /// MOV from a segment register: a 32-bit register gets the selector zero-extended (P6 and
    /// later, SDM Vol. 2, MOV), a 16-bit one keeps its upper half, memory takes a word.
    @Test func movFromASegmentRegister() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x1234)
            a.mov(.es, .ax)
            a.mov(.ecx, -1)
            a.mov(.edx, -1)
            a.mov(Mem(disp: TestMachine.data, size: .dword), -1)
            a.mov(.ecx, .es)
            a.mov(.dx, .es)
            a.mov(Mem(disp: TestMachine.data), .es)
        }
        #expect(m.r32(.rcx) == 0x1234)
        #expect(m.r32(.rdx) == 0xFFFF_1234)
        #expect(m.bus.dword(at: Int(TestMachine.data)) == 0xFFFF_1234)
    }

    @Test func movzxAndMovsxFromMemory() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .word), 0x8001)
            a.movsx(.ax, Mem(disp: TestMachine.data + 1, size: .byte))
            a.movzx(.ecx, Mem(disp: TestMachine.data, size: .word))
            a.movsx(.edx, Mem(disp: TestMachine.data, size: .word))
        }
        #expect(m.r16(.rax) == 0xFF80)
        #expect(m.r32(.rcx) == 0x8001)
        #expect(m.r32(.rdx) == 0xFFFF_8001)
    }

    /// SETcc for all sixteen conditions after `cmp a, b`, stored in condition-code order.
    private func conditions(after lhs: Int, _ rhs: Int) throws -> [UInt8] {
        let table = TestMachine.data
        let m = try runSnippet { a in
            a.mov(.ax, lhs)
            a.cmp(.ax, rhs)
            for c in Condition.allCases {
                a.setcc(c, Mem(disp: table + Int(c.rawValue)))
            }
        }
        return (0..<16).map { m.bus.byte(at: table + $0) }
    }

    @Test func setccAfterComparingOneWithTwo() throws {
        // o no b ae e ne be a s ns p np l ge le g; 1 - 2 = FFFFh: CF, SF, PF set.
        #expect(try conditions(after: 1, 2) == [0, 1, 1, 0, 0, 1, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0])
    }

    @Test func setccAfterASignedOverflow() throws {
        // 8000h - 1 = 7FFFh: OF and PF set; -32768 < 1 signed, 8000h > 1 unsigned.
        #expect(try conditions(after: 0x8000, 1) == [1, 0, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 1, 0, 1, 0])
    }

    @Test func setccAfterEqual() throws {
        // 5 - 5 = 0: ZF and PF set.
        #expect(try conditions(after: 5, 5) == [0, 1, 0, 1, 1, 0, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0])
    }

    @Test func cmovMovesOnlyWhenTheConditionHolds() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 1)
            a.mov(.bx, 0x1111)
            a.mov(.cx, 0x2222)
            a.mov(.dx, 0x3333)
            a.cmp(.ax, 2)
            a.cmovcc(.l, .bx, .cx)           // taken
            a.cmovcc(.g, .dx, .cx)           // not taken
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0xCAFE_F00D)
            a.mov(.esi, 0)
            a.cmovcc(.b, .esi, Mem(disp: TestMachine.data))
        }
        #expect(m.r16(.rbx) == 0x2222)
        #expect(m.r16(.rdx) == 0x3333)
        #expect(m.r32(.rsi) == 0xCAFE_F00D)
    }

    /// CMOVcc reads its memory source even when the condition is false, so a bad address faults.
    @Test func cmovWithFalseConditionStillChecksTheSource() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.xor(.ax, .ax)                  // ZF = 1: cmovne is false
            a.bind(mark)
            a.cmovcc(.ne, .bx, Mem(disp: 0xFFFF))
        }
    }

    @Test func xchgAndXlat() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x1234)
            a.mov(.bx, 0x5678)
            a.xchg(.ax, .bx)
            a.mov(Mem(disp: TestMachine.data + 7, size: .byte), 0x99)
            a.mov(.bx, TestMachine.data)
            a.mov(.al, 7)
            a.xlat()
        }
        #expect(m.r16(.rax) == 0x5699)
    }

    @Test func lahfAndSahf() throws {
        let m = try runSnippet { a in
            a.mov(.ah, 0xD5)                 // SF ZF AF PF CF
            a.sahf()
            a.setcc(.s, .bl)
            a.setcc(.z, .bh)
            a.setcc(.c, .cl)
            a.setcc(.p, .ch)
            a.mov(.ah, 0)                    // MOV leaves the flags alone
            a.lahf()
        }
        #expect(m.r16(.rbx) == 0x0101 && m.r16(.rcx) == 0x0101)
        #expect(m.r16(.rax) >> 8 == 0xD7, "bit 1 always reads 1")
    }

    @Test func lesAndLdsLoadAFarPointer() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .word), 0x1234)
            a.mov(Mem(disp: TestMachine.data + 2, size: .word), 0x5000)
            a.emit([0xC4, 0x1E, 0x00, 0x30])     // les bx, [3000h]
            a.mov(Mem(.bx, size: .word, segment: .es), 0xABCD)
        }
        #expect(m.r16(.rbx) == 0x1234)
        #expect(m.cpu.segment(.es).selector == 0x5000 && m.cpu.segment(.es).base == 0x5_0000)
        #expect(m.bus.word(at: 0x5_1234) == 0xABCD)
    }
}
