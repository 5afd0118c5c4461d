import Testing
@testable import X86
import X86Asm

/// Breakpoints armed through DR0–DR7 (SDM Vol. 3A, 17.2–17.3), in real mode.
@Suite struct DebugRegisterTests {
    /// `mov eax, value` then `mov drN, eax`.
    static func moveToDebugRegister(_ a: inout Assembler, _ n: UInt8, _ value: UInt32) {
        a.mov(.eax, Int(value))
        a.mov(DebugReg(rawValue: n)!, .eax)
    }

    /// DR7 enables: L bit of breakpoint n, its R/W and LEN fields.
    static func control(_ n: Int, readWrite: UInt32, length: UInt32) -> UInt32 {
        1 << (2 * UInt32(n)) | readWrite << (16 + 4 * UInt32(n)) | length << (18 + 4 * UInt32(n))
    }

    @Test func instructionBreakpointFaultsBeforeTheInstruction() throws {
        let m = try runExpectingException(.debug) { a, mark in
            let target = a.newLabel()
            a.mov(.eax, target)
            a.mov(.dr0, .eax)
            Self.moveToDebugRegister(&a, 7, Self.control(0, readWrite: 0, length: 0))
            a.nop()
            a.bind(mark)
            a.bind(target)
            a.inc(.bx)
        }
        #expect(m.r16(.rbx) == 0, "the instruction did not run")
        #expect(m.cpu.debugRegister(6) & 0xF == 0b0001)
    }

    @Test func dataWriteBreakpointTrapsAfterTheWrite() throws {
        let m = try runExpectingException(.debug) { a, mark in
            Self.moveToDebugRegister(&a, 1, UInt32(TestMachine.data))
            Self.moveToDebugRegister(&a, 7, Self.control(1, readWrite: 1, length: 3))
            a.mov(.al, Mem(disp: TestMachine.data + 2, size: .byte))   // a read: no trap for a write breakpoint
            a.mov(Mem(disp: TestMachine.data + 3, size: .byte), 0x5A)
            a.bind(mark)
            a.nop()
        }
        #expect(m.bus.byte(at: TestMachine.data + 3) == 0x5A, "the write happened before the trap")
        #expect(m.cpu.debugRegister(6) & 0xF == 0b0010)
    }

    @Test func dataReadWriteBreakpointTrapsOnARead() throws {
        let m = try runExpectingException(.debug) { a, mark in
            Self.moveToDebugRegister(&a, 3, UInt32(TestMachine.data + 8))
            Self.moveToDebugRegister(&a, 7, Self.control(3, readWrite: 3, length: 1))
            a.mov(.ax, Mem(disp: TestMachine.data + 4, size: .word))   // outside the 2 watched bytes
            a.mov(.ax, Mem(disp: TestMachine.data + 9, size: .word))
            a.bind(mark)
            a.nop()
        }
        #expect(m.cpu.debugRegister(6) & 0xF == 0b1000)
    }

    @Test func ioBreakpointNeedsDebuggingExtensions() throws {
        let m = try runExpectingException(.debug) { a, mark in
            Self.moveToDebugRegister(&a, 2, 0x80)
            Self.moveToDebugRegister(&a, 7, Self.control(2, readWrite: 2, length: 0))
            a.out(0x80, .al)                         // CR4.DE clear: the encoding does nothing
            a.mov(.eax, .cr4)
            a.or(.eax, 1 << 3)
            a.mov(.cr4, .eax)
            a.out(0x80, .al)
            a.bind(mark)
            a.nop()
        }
        #expect(m.cpu.debugRegister(6) & 0xF == 0b0100)
    }

    @Test func generalDetectFaultsOnTheNextDebugRegisterAccess() throws {
        let m = try runExpectingException(.debug) { a, mark in
            Self.moveToDebugRegister(&a, 7, 1 << 13)
            a.bind(mark)
            a.mov(.eax, .dr0)
        }
        #expect(m.cpu.debugRegister(6) & (1 << 13) != 0, "DR6.BD")
        #expect(m.cpu.debugRegister(7) & (1 << 13) == 0, "GD cleared for the handler")
    }

    @Test func disabledBreakpointsDoNothing() throws {
        let m = try runSnippet { a in
            Self.moveToDebugRegister(&a, 0, UInt32(TestMachine.data))
            Self.moveToDebugRegister(&a, 7, Self.control(0, readWrite: 1, length: 3) & ~3)   // R/W set, not enabled
            a.mov(Mem(disp: TestMachine.data, size: .word), 0x1234)
        }
        #expect(m.cpu.debugRegister(6) & 0xF == 0)
    }
}
