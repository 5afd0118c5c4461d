import Testing
import X86
import X86Asm

/// The A20 gate (A20M#): while it is off, physical address bit 20 is forced to 0, so
/// FFFF:0010 (linear 100000h) reaches address 0 as on an 8086.
@Suite struct A20GateTests {
    private let marker = 0x0_5000

    private func storeThroughFFFF(a20: Bool) throws -> TestMachine {
        let m = TestMachine()
        m.cpu.setA20(enabled: a20)
        _ = try m.run { a in
            a.mov(.ax, 0xFFFF)
            a.mov(.es, .ax)
            a.mov(Mem(disp: marker + 0x10, size: .word, segment: .es), 0xA20A)   // linear 105000h
            a.mov(.bx, Mem(disp: marker + 0x10, segment: .es))
            a.hlt()
        }
        #expect(m.events.deliveries.isEmpty)
        #expect(m.r16(.rbx) == 0xA20A)
        return m
    }

    @Test func gateOffWrapsToLowMemory() throws {
        let m = try storeThroughFFFF(a20: false)
        #expect(m.bus.word(at: marker) == 0xA20A)
        #expect(m.bus.word(at: 0x10_0000 + marker) == 0)
    }

    @Test func gateOnReachesTheHighMemoryArea() throws {
        let m = try storeThroughFFFF(a20: true)
        #expect(m.bus.word(at: 0x10_0000 + marker) == 0xA20A)
        #expect(m.bus.word(at: marker) == 0)
    }

    /// Code at linear 105000h: the same bytes decode from a different physical page when the
    /// gate moves, so decoded code must follow the physical address.
    @Test func codeFetchFollowsTheGate() throws {
        let m = TestMachine()
        m.bus.load([0xB0, 0xAA, 0xEB, 0xFE], at: 0x10_5000)     // mov al, 0xAA; jmp $
        m.bus.load([0xB0, 0xBB, 0xEB, 0xFE], at: 0x00_5000)     // mov al, 0xBB; jmp $
        func runAt(a20: Bool) -> UInt16 {
            m.cpu.setA20(enabled: a20)
            m.cpu.loadRealModeSegment(.cs, selector: 0xFFFF)
            m.cpu.instructionPointer = 0x5010
            m.cpu.setRegister(.rax, 0)
            #expect(m.run(budget: 5) == .limitReached)
            return m.r16(.rax) & 0xFF
        }
        #expect(runAt(a20: true) == 0xAA)
        #expect(runAt(a20: false) == 0xBB)
        #expect(runAt(a20: true) == 0xAA)
    }

    @Test func powerOnResetEnablesTheGate() {
        let m = TestMachine()
        m.cpu.setA20(enabled: false)
        m.cpu.powerOnReset()
        #expect(m.cpu.a20Mask == ~0)
    }
}
