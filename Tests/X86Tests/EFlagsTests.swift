import Testing
import X86
import X86Asm

/// Which EFLAGS bits real-mode software can change (SDM Vol. 1, 3.4.3), as the classic
/// processor-detection sequences probe them.
@Suite struct EFlagsTests {
    /// POPF of all ones (but TF): bit 15 stays 0, bits 3 and 5 stay 0, bit 1 stays 1;
    /// IOPL and NT are writable in real mode.
    @Test func popfWritesOnlyTheDefinedFlags() throws {
        let m = try runSnippet { a in
            a.push(0xFEFF, size: .word)
            a.popf()
            a.pushf()
            a.pop(.ax)
        }
        #expect(m.r16(.rax) == 0x7ED7)
    }

    /// A 16-bit POPF leaves the upper half of EFLAGS alone.
    @Test func sixteenBitPopfKeepsTheUpperHalf() throws {
        let m = try runSnippet { a in
            a.push(Int(EFlags.alignmentCheck), size: .dword)
            a.popfd()
            a.push(0x0002, size: .word)
            a.popf()
        }
        #expect(m.flag(EFlags.alignmentCheck))
    }

    /// EFLAGS.ID can be toggled: software's test for CPUID.
    @Test func identificationFlagToggles() throws {
        let m = try runSnippet { a in
            a.pushfd()
            a.pop(.eax)
            a.mov(.ecx, .eax)
            a.xor(.eax, Int(EFlags.identification | EFlags.alignmentCheck))
            a.push(.eax)
            a.popfd()
            a.pushfd()
            a.pop(.eax)
            a.xor(.eax, .ecx)
        }
        #expect(m.r32(.rax) == EFlags.identification | EFlags.alignmentCheck, "ID and AC both flipped")
    }

    @Test func carryAndDirectionInstructions() throws {
        let m = try runSnippet { a in
            a.stc()
            a.cmc()                              // CF = 0
            a.setcc(.c, .bl)
            a.cmc()                              // CF = 1
            a.setcc(.c, .bh)
            a.std()
            a.pushf()
            a.cld()
            a.pop(.cx)
        }
        #expect(m.r16(.rbx) == 0x0100)
        #expect(UInt32(m.r16(.rcx)) & EFlags.direction != 0)
        #expect(!m.flag(EFlags.direction))
    }
}
