import Testing
import X86
import X86Asm

/// BT, BTS, BTR, BTC, BSF, BSR (SDM Vol. 2). With a register bit offset and a memory operand,
/// the offset is signed and addresses a bit string around the operand, beyond the word itself.
@Suite struct BitOperationTests {
    private static let base = TestMachine.data + 0x100

    @Test func btRegisterOffsetModuloOperandSize() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x0008)
            a.mov(.bx, 19)                   // 19 mod 16 = 3
            a.bt(.ax, .bx)
        }
        #expect(m.flag(EFlags.carry))
    }

    @Test func btsPositiveOffsetBeyondTheWord() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 35)                   // word at +4, bit 3
            a.bts(Mem(disp: BitOperationTests.base), .ax)
        }
        #expect(m.bus.word(at: BitOperationTests.base + 4) == 0x0008)
        #expect(m.bus.word(at: BitOperationTests.base) == 0)
        #expect(!m.flag(EFlags.carry))
    }

    @Test func btsNegativeOffsetBeforeTheWord() throws {
        let m = try runSnippet { a in
            a.mov(.ax, -1)                   // word at -2, bit 15
            a.bts(Mem(disp: BitOperationTests.base), .ax)
        }
        #expect(m.bus.word(at: BitOperationTests.base - 2) == 0x8000)
        #expect(m.bus.word(at: BitOperationTests.base) == 0)
    }

    @Test func btrDoublewordOffsetBeyondTheOperand() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: BitOperationTests.base + 12, size: .dword), 0xFFFF_FFFF)
            a.mov(.eax, 100)                 // dword at +12, bit 4
            a.btr(Mem(disp: BitOperationTests.base), .eax)
        }
        #expect(m.bus.dword(at: BitOperationTests.base + 12) == 0xFFFF_FFEF)
        #expect(m.flag(EFlags.carry))
    }

    @Test func btcNegativeDoublewordOffset() throws {
        let m = try runSnippet { a in
            a.mov(.eax, -33)                 // dword at -8, bit 31
            a.btc(Mem(disp: BitOperationTests.base), .eax)
            a.setcc(.c, .bl)
            a.btc(Mem(disp: BitOperationTests.base), .eax)
            a.setcc(.c, .bh)
            a.btc(Mem(disp: BitOperationTests.base), .eax)
        }
        #expect(m.bus.dword(at: BitOperationTests.base - 8) == 0x8000_0000)
        #expect(m.r16(.rbx) == 0x0100, "CF was 0, then 1")
    }

    /// An immediate bit offset is taken modulo the operand size: it never leaves the operand.
    @Test func immediateOffsetStaysInsideTheOperand() throws {
        let m = try runSnippet { a in
            a.bts(Mem(disp: BitOperationTests.base, size: .word), 19)
        }
        #expect(m.bus.word(at: BitOperationTests.base) == 0x0008)
        #expect(m.bus.word(at: BitOperationTests.base + 2) == 0)
    }

    @Test func bsfAndBsr() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0x0100_0100)
            a.bsf(.ecx, .eax)
            a.bsr(.edx, .eax)
            a.mov(.si, 0x8000)
            a.bsr(.di, .si)
        }
        #expect(m.r32(.rcx) == 8 && m.r32(.rdx) == 24 && m.r16(.rdi) == 15)
        #expect(!m.flag(EFlags.zero))
    }

    /// A zero source sets ZF; the destination is left as it was (as Intel hardware does,
    /// and AMD documents; the SDM calls it undefined).
    @Test func bitScanOfZeroSetsZF() throws {
        let m = try runSnippet { a in
            a.mov(.ecx, 0x1234_5678)
            a.xor(.eax, .eax)
            a.bsf(.ecx, .eax)
            a.setcc(.z, .bl)
            a.mov(.edx, 0x9ABC_DEF0)
            a.bsr(.edx, Mem(disp: BitOperationTests.base))
        }
        #expect(m.flag(EFlags.zero))
        #expect(m.r16(.rbx) & 0xFF == 1)
        #expect(m.r32(.rcx) == 0x1234_5678 && m.r32(.rdx) == 0x9ABC_DEF0)
    }

    @Test func bswap() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0x1122_3344)
            a.bswap(.eax)
        }
        #expect(m.r32(.rax) == 0x4433_2211)
    }
}
