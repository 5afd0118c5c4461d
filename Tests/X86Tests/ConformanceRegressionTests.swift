import Testing
@testable import X86
import X86Asm

/// Regression tests for CPU bugs found by running a public CPU conformance ROM; each test
/// is our own guest asserting the architectural result (SDM references in the CPU code).
@Suite struct ConformanceRegressionTests {
    typealias Selector = ProtectedModeGuest.Selector

    /// POP SS from a 16-bit stack into a 32-bit stack segment: SP wraps within 16 bits,
    /// as the stack size before the load dictates, and ESP's upper half is kept.
    @Test func popSSIncrementsSPWithTheOldStackSize() throws {
        let m = TestMachine()
        let reason = try m.runProtected { a in
            a.mov(.ax, Int(Selector.data16))
            a.mov(.ss, .ax)
            a.mov(.esp, 0x2_FFFC)                                     // SP = FFFC in a 16-bit stack
            a.mov(Mem(disp: 0xFFFC, size: .dword), Int(Selector.data32))
            a.pop(.ss)                                                // 32-bit POP SS
            a.mov(.ebx, .esp)
            a.mov(.ax, Int(Selector.data16))
            a.mov(.ss, .ax)
            a.mov(.esp, 0x2_FFFE)
            a.mov(Mem(disp: 0xFFFE, size: .word), Int(Selector.data32))
            a.emit([0x66, 0x17])                                      // 16-bit POP SS
            a.mov(.ecx, .esp)
        }
        m.expectCleanHalt(reason)
        #expect(m.r32(.rbx) == 0x2_0000)
        #expect(m.r32(.rcx) == 0x2_0000)
        #expect(m.cpu.segment(.ss).selector == Selector.data32)
    }

    /// A 32-bit ENTER on a 16-bit stack: FrameTemp (pushed for the nesting level and loaded
    /// into EBP) is the whole ESP, upper half included; only SP moves.
    @Test func enter32OnA16BitStackKeepsESPsUpperHalfInFrameTemp() throws {
        let m = TestMachine()
        let reason = try m.runProtected { a in
            a.mov(.ax, Int(Selector.data16))
            a.mov(.ss, .ax)
            a.mov(.esp, 0x1_0000)                                     // SP = 0
            a.mov(.ebp, 0x2000)
            a.enter(8, 1)
            a.mov(.ebx, .esp)
            a.mov(.ecx, .ebp)
            a.mov(.edx, Mem(disp: 0xFFF8, size: .dword))               // the pushed FrameTemp
        }
        m.expectCleanHalt(reason)
        #expect(m.r32(.rbx) == 0x1_FFF0)
        #expect(m.r32(.rcx) == 0x1_FFFC)
        #expect(m.r32(.rdx) == 0x1_FFFC)
    }
}
