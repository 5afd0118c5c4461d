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

    /// ENTER faults when a write at the final stack pointer would: here the page of the
    /// final stack pointer is read-only with CR0.WP set, so ENTER raises #PF(P|W) at itself.
    @Test func enterPageFaultsOnTheFinalStackPointer() throws {
        let m = TestMachine()
        var directory = [UInt8](repeating: 0, count: 4096)
        var table = [UInt8](repeating: 0, count: 4096)
        func put(_ bytes: inout [UInt8], _ index: Int, _ value: UInt32) {
            for i in 0..<4 { bytes[index * 4 + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
        }
        put(&directory, 0, 0x1_1000 | 7)
        for page in 0..<1024 { put(&table, page, UInt32(page << 12) | (page == 0x21 ? 5 : 7)) }
        m.bus.load(directory, at: 0x1_0000)
        m.bus.load(table, at: 0x1_1000)
        let reason = try m.runProtected { a in
            a.mov(.eax, 0x1_0000)
            a.mov(.cr3, .eax)
            a.mov(.eax, .cr0)
            a.or(.eax, Int(bitPattern: 0x8001_0000))                  // PG | WP
            a.mov(.cr0, .eax)
            a.mov(.esp, 0x2_2F00)
            a.mov(.ebp, 0x1234)
            a.enter(0x1000, 0)                                       // final ESP 21EFCh: read-only page
        }
        #expect(reason == .halted)
        #expect(m.handledVectors == [14])
        #expect(m.reportedErrorCodes == [3])
        #expect(m.cpu.cr2 == 0x2_1EFC)
        #expect(m.r32(.rbp) == 0x1234)
    }
}
