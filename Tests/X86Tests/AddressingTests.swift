import Testing
import X86
import X86Asm

/// Effective addresses in real mode: 16-bit forms, 32-bit forms with SIB through the 67h
/// prefix, 66h operand size, segment overrides, and large cached limits ("unreal mode",
/// SDM Vol. 3A, 20.1.1: real-mode segment loads change only selector and base).
@Suite struct AddressingTests {
    private let data = TestMachine.data

    @Test func sixteenBitBaseIndexDisplacement() throws {
        let m = TestMachine()
        m.bus.setWord(0xBEEF, at: data + 0x10 + 3 - 2)
        m.expectCleanHalt(try m.run { a in
            a.mov(.bx, data + 0x10)
            a.mov(.si, 3)
            a.mov(.ax, Mem(.bx, .si, disp: -2))
            a.hlt()
        })
        #expect(m.r16(.rax) == 0xBEEF)
    }

    /// 16-bit effective addresses wrap at 64 KiB: [bx+si] with BX = FFFFh, SI = 2 is offset 1.
    @Test func sixteenBitOffsetWraps() throws {
        let m = TestMachine()
        m.bus.load([0x77], at: 0x0001)
        m.expectCleanHalt(try m.run { a in
            a.mov(.bx, 0xFFFF)
            a.mov(.si, 2)
            a.mov(.al, Mem(.bx, .si))
            a.hlt()
        })
        #expect(m.r16(.rax) & 0xFF == 0x77)
    }

    /// [bp+…] defaults to SS.
    @Test func bpBasedAddressesUseTheStackSegment() throws {
        let m = TestMachine()
        m.bus.setWord(0x5555, at: 0x2_0000 + 0x10)
        m.expectCleanHalt(try m.run { a in
            a.mov(.ax, 0x2000)
            a.mov(.ss, .ax)
            a.mov(.bp, 0x12)
            a.mov(.cx, Mem(.bp, disp: -2))
            a.xor(.ax, .ax)
            a.mov(.ss, .ax)
            a.hlt()
        })
        #expect(m.r16(.rcx) == 0x5555)
    }

    @Test func thirtyTwoBitAddressWithSIB() throws {
        let m = TestMachine()
        m.bus.setWord(0x1357, at: 0x2000 + 3 * 4 + 0x10)
        m.expectCleanHalt(try m.run { a in
            a.mov(.ebx, 0x2000)
            a.mov(.esi, 3)
            a.mov(.ax, Mem(.ebx, index: .esi, scale: 4, disp: 0x10))   // 67h prefix
            a.lea(.edx, Mem(.ebx, index: .esi, scale: 8, disp: -1))
            a.hlt()
        })
        #expect(m.r16(.rax) == 0x1357)
        #expect(m.r32(.rdx) == 0x2000 + 24 - 1)
    }

    @Test func operandSizePrefixGivesThirtyTwoBitOperands() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0x1234_5678)                 // 66 B8 id
            a.mov(Mem(disp: data), .eax)
            a.add(Mem(disp: data, size: .dword), 0x1111_1111)
            a.mov(.ecx, Mem(disp: data))
        }
        #expect(m.r32(.rax) == 0x1234_5678)
        #expect(m.r32(.rcx) == 0x2345_6789)
    }

    @Test func segmentOverridePrefix() throws {
        let m = TestMachine()
        m.bus.setWord(0xA5A5, at: 0x3_0000 + 0x40)
        m.expectCleanHalt(try m.run { a in
            a.mov(.ax, 0x3000)
            a.mov(.gs, .ax)
            a.mov(.bx, Mem(disp: 0x40, segment: .gs))
            a.hlt()
        })
        #expect(m.r16(.rbx) == 0xA5A5)
    }

    /// A data segment whose cached limit was set to 4 GiB (as a protected-mode load would)
    /// keeps it across real-mode loads, so 32-bit offsets above 64 KiB work.
    @Test func largeCachedLimitReachesAboveOneMegabyte() throws {
        let m = TestMachine()
        m.cpu.setSegment(.ds, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0x93))
        m.bus.setDword(0xFEED_FACE, at: 0x18_0000)
        m.expectCleanHalt(try m.run { a in
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)                          // a real-mode load keeps the cached limit
            a.mov(.esi, 0x18_0000)
            a.mov(.eax, Mem(.esi))
            a.mov(Mem(.esi, disp: 4), .eax)
            a.hlt()
        })
        #expect(m.r32(.rax) == 0xFEED_FACE)
        #expect(m.bus.dword(at: 0x18_0004) == 0xFEED_FACE)
        #expect(m.cpu.segment(.ds).limit == 0xFFFF_FFFF)
    }

    @Test func normalLimitStillAppliesToOtherSegments() throws {
        let m = TestMachine()
        m.cpu.setSegment(.ds, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0x93))
        try runExpectingException(.generalProtection, on: m) { a, mark in
            a.mov(.esi, 0x18_0000)
            a.bind(mark)
            a.mov(.eax, Mem(.esi, segment: .es))
        }
    }
}
