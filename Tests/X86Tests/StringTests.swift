import Testing
import X86
import X86Asm

/// String instructions with REP/REPE/REPNE, DF, overrides and address sizes (SDM Vol. 2, REP prefix).
@Suite struct StringTests {
    private let source = TestMachine.data
    private let destination = TestMachine.data + 0x100

    private func machine(with text: String, at address: Int) -> TestMachine {
        let m = TestMachine()
        m.bus.load(Array(text.utf8), at: address)
        return m
    }

    @Test func repMovsbForward() throws {
        let m = machine(with: "HELLO, WORLD", at: source)
        m.expectCleanHalt(try m.run { a in
            a.mov(.si, source)
            a.mov(.di, destination)
            a.mov(.cx, 12)
            a.cld()
            a.movsb(.rep)
            a.hlt()
        })
        #expect((0..<12).map { m.bus.byte(at: destination + $0) } == Array("HELLO, WORLD".utf8))
        #expect(m.r16(.rcx) == 0)
        #expect(m.r16(.rsi) == UInt16(source + 12) && m.r16(.rdi) == UInt16(destination + 12))
    }

    /// A forward byte copy onto an overlapping destination replicates, element by element.
    @Test func overlappingForwardCopyReplicates() throws {
        let m = machine(with: "AB", at: source)
        m.expectCleanHalt(try m.run { a in
            a.mov(.si, source)
            a.mov(.di, source + 1)
            a.mov(.cx, 6)
            a.movsb(.rep)
            a.hlt()
        })
        #expect(String(decoding: (0..<7).map { m.bus.byte(at: source + $0) }, as: UTF8.self) == "AAAAAAA")
    }

    /// With DF = 1 the copy runs from the end: an overlapping move up is then a correct memmove.
    @Test func repMovswBackwardWithDirectionFlag() throws {
        let m = TestMachine()
        for (i, w) in [1, 2, 3, 4].enumerated() { m.bus.setWord(UInt16(w), at: source + 2 * i) }
        m.expectCleanHalt(try m.run { a in
            a.mov(.si, source + 6)
            a.mov(.di, source + 8)
            a.mov(.cx, 4)
            a.std()
            a.movsw(.rep)
            a.hlt()
        })
        #expect((0..<5).map { m.bus.word(at: source + 2 * $0) } == [1, 1, 2, 3, 4])
        #expect(m.r16(.rsi) == UInt16(source - 2) && m.r16(.rdi) == UInt16(source))
    }

    @Test func repeCmpsbStopsAtTheFirstDifference() throws {
        let m = machine(with: "HELLO", at: source)
        m.bus.load(Array("HELPO".utf8), at: destination)
        m.expectCleanHalt(try m.run { a in
            a.mov(.si, source)
            a.mov(.di, destination)
            a.mov(.cx, 5)
            a.cmpsb(.repe)
            a.hlt()
        })
        #expect(m.r16(.rcx) == 1)
        #expect(m.r16(.rsi) == UInt16(source + 4) && m.r16(.rdi) == UInt16(destination + 4))
        #expect(!m.flag(EFlags.zero) && m.flag(EFlags.carry), "'L' - 'P' borrows")
    }

    @Test func repneScasbFindsAByte() throws {
        let m = machine(with: "HELLO", at: source)
        m.expectCleanHalt(try m.run { a in
            a.mov(.di, source)
            a.mov(.cx, 5)
            a.mov(.al, Int(UInt8(ascii: "L")))
            a.scasb(.repne)
            a.hlt()
        })
        #expect(m.r16(.rcx) == 2 && m.r16(.rdi) == UInt16(source + 3))
        #expect(m.flag(EFlags.zero))
    }

    @Test func repneScasbRunsOutWhenAbsent() throws {
        let m = machine(with: "HELLO", at: source)
        m.expectCleanHalt(try m.run { a in
            a.mov(.di, source)
            a.mov(.cx, 5)
            a.mov(.al, Int(UInt8(ascii: "Z")))
            a.scasb(.repne)
            a.hlt()
        })
        #expect(m.r16(.rcx) == 0 && m.r16(.rdi) == UInt16(source + 5))
        #expect(!m.flag(EFlags.zero))
    }

    @Test func repWithZeroCountDoesNothing() throws {
        let m = try runSnippet { a in
            a.mov(.di, TestMachine.data)
            a.xor(.cx, .cx)
            a.mov(.ax, 0xFFFF)
            a.stosw(.rep)
        }
        #expect(m.r16(.rdi) == UInt16(TestMachine.data))
        #expect(m.bus.word(at: TestMachine.data) == 0)
    }

    @Test func lodsbWithDirectionFlagDecrements() throws {
        let m = machine(with: "XY", at: source)
        m.expectCleanHalt(try m.run { a in
            a.std()
            a.mov(.si, source + 1)
            a.lodsb()
            a.mov(.bl, .al)
            a.lodsb()
            a.hlt()
        })
        #expect(m.r16(.rbx) & 0xFF == UInt16(UInt8(ascii: "Y")) && m.r16(.rax) & 0xFF == UInt16(UInt8(ascii: "X")))
        #expect(m.r16(.rsi) == UInt16(source - 1))
    }

    /// A segment override changes the source segment; the destination is always ES.
    @Test func segmentOverrideOnTheSource() throws {
        let m = machine(with: "FS!", at: 0x2_0000)
        m.expectCleanHalt(try m.run { a in
            a.mov(.ax, 0x2000)
            a.mov(.fs, .ax)
            a.xor(.si, .si)
            a.mov(.di, destination)
            a.mov(.cx, 3)
            a.emit([0x64]); a.movsb(.rep)        // rep movsb fs:[si] → es:[di]
            a.hlt()
        })
        #expect((0..<3).map { m.bus.byte(at: destination + $0) } == Array("FS!".utf8))
    }

    /// The address size picks the counter: CX for 16-bit addressing, ECX with 67h.
    @Test func addressSizeSelectsTheCounter() throws {
        let m = machine(with: "abcdef", at: source)
        m.expectCleanHalt(try m.run { a in
            a.mov(.esi, source)
            a.mov(.edi, destination)
            a.mov(.ecx, 0x1_0002)                // CX = 2
            a.movsb(.rep)
            a.mov(.ebx, .ecx)
            a.mov(.ecx, 3)
            a.emit([0x67]); a.movsb(.rep)        // ESI, EDI, ECX
            a.hlt()
        })
        #expect(m.r32(.rbx) == 0x1_0000)
        #expect(m.r32(.rcx) == 0)
        #expect(m.r32(.rsi) == UInt32(source + 5) && m.r32(.rdi) == UInt32(destination + 5))
        #expect((0..<5).map { m.bus.byte(at: destination + $0) } == Array("abcde".utf8))
    }

    @Test func repOutsbAndInsbUseDX() throws {
        let m = machine(with: "out", at: source)
        m.bus.portInput[0x60] = [0x11, 0x22, 0x33]
        m.expectCleanHalt(try m.run { a in
            a.mov(.dx, 0xE9)
            a.mov(.si, source)
            a.mov(.cx, 3)
            a.outsb(.rep)
            a.mov(.dx, 0x60)
            a.mov(.di, destination)
            a.mov(.cx, 3)
            a.insb(.rep)
            a.hlt()
        })
        #expect(m.bus.writes(to: 0xE9) == Array("out".utf8).map(UInt32.init))
        #expect((0..<3).map { m.bus.byte(at: destination + $0) } == [0x11, 0x22, 0x33])
    }

    /// With 16-bit addressing DI wraps from FFFFh to 0000h inside the segment.
    @Test func stosbWrapsDIWithinTheSegment() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x1000)
            a.mov(.es, .ax)
            a.mov(.di, 0xFFFF)
            a.mov(.cx, 2)
            a.mov(.al, 0xAB)
            a.stosb(.rep)
        }
        #expect(m.bus.byte(at: 0x1_FFFF) == 0xAB && m.bus.byte(at: 0x1_0000) == 0xAB)
        #expect(m.bus.byte(at: 0x2_0000) == 0)
        #expect(m.r16(.rdi) == 1)
    }

    /// Even in a 4 GiB ("unreal") ES, a 16-bit DI wraps at 64 KiB: the stores after the wrap
    /// land at ES:0000, not at ES:10000h.
    @Test func stosbWrapsDIInAFlatSegmentToo() throws {
        let m = TestMachine()
        let es: UInt16 = 0x1008                 // base 10080h: the wrap is not at a page boundary
        let base = Int(es) << 4
        m.cpu.setSegment(.es, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0x93))
        m.expectCleanHalt(try m.run { a in
            a.mov(.ax, Int(es))
            a.mov(.es, .ax)
            a.mov(.di, 0xFFFE)
            a.mov(.cx, 4)
            a.mov(.al, 0xAB)
            a.stosb(.rep)
            a.hlt()
        })
        #expect(m.cpu.segment(.es).limit == 0xFFFF_FFFF, "real-mode loads keep the cached limit")
        #expect([0xFFFE, 0xFFFF, 0, 1].map { m.bus.byte(at: base + $0) } == [0xAB, 0xAB, 0xAB, 0xAB])
        #expect(m.bus.byte(at: base + 0x1_0000) == 0 && m.bus.byte(at: base + 0x1_0001) == 0)
        #expect(m.r16(.rdi) == 2)
    }

    /// A long REP STOSB is interruptible: the interrupt is taken between iterations with the
    /// REP instruction as the return address, and the instruction then resumes to completion.
    @Test func longRepIsInterruptibleAndResumes() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let rep = a.newLabel()
        a.mov(.ax, 0x1000)
        a.mov(.es, .ax)
        a.xor(.di, .di)
        a.mov(.cx, 40_000)
        a.mov(.al, 0x5A)
        a.sti()
        a.bind(rep)
        a.stosb(.rep)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 7) == .limitReached)
        let remaining = m.r16(.rcx)
        #expect(remaining > 0 && remaining < 40_000, "stopped inside the REP")
        m.interrupts.raise(0x30)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: rep)!)])
        #expect(m.r16(.rcx) == 0 && m.r16(.rdi) == 40_000)
        #expect((0..<40_000).allSatisfy { m.bus.byte(at: 0x1_0000 + $0) == 0x5A })
        #expect(m.bus.byte(at: 0x1_0000 + 40_000) == 0)
    }

    /// A fault in the middle of a REP leaves the registers at the faulting iteration and
    /// points at the REP instruction, so it resumes after the handler (SDM Vol. 2, REP).
    @Test func faultMidwayThroughARepKeepsTheProgress() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.esi, 0xFFFE)
            a.mov(.edi, destination)
            a.mov(.ecx, 4)
            a.bind(mark)
            a.emit([0x67]); a.movsb(.rep)        // ESI reaches 10000h, beyond DS's limit
        }
        #expect(m.r32(.rcx) == 2)
        #expect(m.r32(.rsi) == 0x1_0000 && m.r32(.rdi) == UInt32(destination + 2))
    }
}
