import Testing
import X86
import X86Asm

/// ENTER/LEAVE, PUSHA/POPA and calls (SDM Vol. 2).
@Suite struct StackTests {
    private let log = TestMachine.data

    /// Three nested ENTERs (levels 0, 1, 2) and three LEAVEs, with SP and BP logged after each.
    @Test func enterNestingLevelsAndLeave() throws {
        let m = try runSnippet { a in
            a.mov(.bp, 0x1234)
            a.mov(.di, log)
            func record() {
                a.mov(Mem(.di), .sp)
                a.mov(Mem(.di, disp: 2), .bp)
                a.add(.di, 4)
            }
            a.enter(4, 0); record()
            a.enter(6, 1); record()
            a.enter(2, 2); record()
            a.leave(); record()
            a.leave(); record()
            a.leave(); record()
        }
        let expected: [(sp: UInt16, bp: UInt16)] = [
            (0x6FFA, 0x6FFE), (0x6FF0, 0x6FF8), (0x6FE8, 0x6FEE),
            (0x6FF0, 0x6FF8), (0x6FFA, 0x6FFE), (0x7000, 0x1234),
        ]
        for (i, e) in expected.enumerated() {
            #expect(m.bus.word(at: log + 4 * i) == e.sp, "SP after step \(i)")
            #expect(m.bus.word(at: log + 4 * i + 2) == e.bp, "BP after step \(i)")
        }
        // The display: level 1 copies its own frame pointer, level 2 the caller's and its own.
        #expect(m.bus.word(at: 0x6FF6) == 0x6FF8)
        #expect(m.bus.word(at: 0x6FEC) == 0x6FF8)
        #expect(m.bus.word(at: 0x6FEA) == 0x6FEE)
    }

    @Test func pushaLayoutAndPopaIgnoringTheSavedSP() throws {
        let m = try runSnippet { a in
            for (r, v) in [(Reg16.ax, 1), (.cx, 2), (.dx, 3), (.bx, 4), (.bp, 6), (.si, 7), (.di, 8)] { a.mov(r, v) }
            a.pusha()
            a.mov(Mem(disp: 0x6FF6, size: .word), 0xBEEF)   // the saved SP slot
            for r in [Reg16.ax, .cx, .dx, .bx, .bp, .si, .di] { a.mov(r, 0) }
            a.popa()
        }
        #expect([m.r16(.rax), m.r16(.rcx), m.r16(.rdx), m.r16(.rbx), m.r16(.rbp), m.r16(.rsi), m.r16(.rdi)]
                == [1, 2, 3, 4, 6, 7, 8])
        #expect(m.r16(.rsp) == TestMachine.stackTop)
        let pushed = (0..<8).map { m.bus.word(at: 0x6FF0 + 2 * $0) }
        #expect(pushed == [8, 7, 6, 0xBEEF, 4, 3, 2, 1], "DI lowest … AX highest")
    }

    @Test func pushadSavesTheOriginalESP() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0xAAAA_0001)
            a.mov(.edi, 0xDDDD_0008)
            a.pushad()
        }
        #expect(m.r16(.rsp) == TestMachine.stackTop - 32)
        #expect(m.bus.dword(at: 0x7000 - 4) == 0xAAAA_0001)
        #expect(m.bus.dword(at: 0x7000 - 20) == 0x7000, "ESP as it was before PUSHAD")
        #expect(m.bus.dword(at: 0x7000 - 32) == 0xDDDD_0008)
    }

    @Test func nearAndFarCallsReturn() throws {
        let m = try runSnippet { a in
            let near = a.newLabel(), far = a.newLabel(), start = a.newLabel()
            a.mov(.ax, 0)
            a.jmp(start)
            a.bind(far)                          // entered as 07C0:xxxx
            a.add(.ax, 0x10)
            a.mov(.bx, .cs)
            a.retf(4)                            // also releases the two argument words
            a.bind(near)
            a.add(.ax, 1)
            a.ret()
            a.bind(start)
            a.call(near)
            a.push(.ax)
            a.push(.ax)
            a.callFar(segment: 0x07C0, offset: a.address(of: far)! - TestMachine.codeOrigin)
        }
        #expect(m.r16(.rax) == 0x11)
        #expect(m.r16(.rbx) == 0x07C0)
        #expect(m.cpu.segment(.cs).selector == 0)
        #expect(m.r16(.rsp) == TestMachine.stackTop)
    }
}
