import Testing
import X86
import X86Asm

/// Single-stepping with EFLAGS.TF (SDM Vol. 3A, 17.3.1.4): a #DB trap after every instruction
/// that began with TF = 1, delivered with the next instruction's address and DR6.BS set.
@Suite struct SingleStepTests {
    /// POPF sets TF, three instructions run, POPF clears TF; the #DB handler records each return IP.
    private func steppedGuest() throws -> (TestMachine, [UInt16]) {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        var boundaries: [Label] = []
        func boundary() { let l = a.newLabel(); a.bind(l); boundaries.append(l) }
        a.mov(.di, TestMachine.data)
        TestMachine.emitTrapFlagOn(&a)
        a.mov(.ax, 1); boundary()
        a.mov(.bx, 2); boundary()
        a.add(.ax, .bx); boundary()
        a.pushf(); boundary()
        a.pop(.cx); boundary()
        a.and(.cx, ~Int(EFlags.trap) & 0xFFFF); boundary()
        a.push(.cx); boundary()
        a.popf(); boundary()                 // began with TF = 1: still traps
        a.nop()
        a.hlt()
        let handler = TestMachine.emitTrapLogger(&a)
        try m.load(a)
        m.setVector(1, to: handler, in: a)
        return (m, boundaries.map { UInt16(a.address(of: $0)!) })
    }

    @Test func trapsAfterEachInstructionWhileTFIsSet() throws {
        let (m, boundaries) = try steppedGuest()
        #expect(m.run() == .halted)
        #expect(m.loggedTrapAddresses == boundaries)
        #expect(m.events.vectors == Array(repeating: 1, count: boundaries.count))
        #expect(m.r16(.rax) == 3, "the stepped code computed normally")
        #expect(m.cpu.debugRegister(6) & (1 << 14) != 0, "DR6.BS")
        #expect(!m.flag(EFlags.trap))
    }

    /// The handler runs with TF = 0 (delivery clears it), so it is not itself stepped.
    @Test func handlerIsNotStepped() throws {
        let (m, boundaries) = try steppedGuest()
        _ = m.run()
        #expect(m.events.deliveries.allSatisfy { $0.cs == 0 && boundaries.contains(UInt16($0.ip)) })
    }

    /// The single-step trap is a debug exception raised by the processor, not INT n.
    @Test func singleStepTrapIsReportedAsAnException() throws {
        let (m, _) = try steppedGuest()
        _ = m.run()
        #expect(m.events.deliveries.first?.source == .exception)
    }

    /// MOV SS inhibits debug traps until after the next instruction (SDM Vol. 3A, 6.8.3), so
    /// `mov ss, ax; mov sp, …` is stepped as one: no #DB between the two.
    @Test func movSSDefersTheTrapPastTheNextInstruction() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let afterMovSS = a.newLabel(), afterMovSP = a.newLabel()
        a.xor(.ax, .ax)
        a.pushf()
        a.pop(.bx)
        a.or(.bx, Int(EFlags.trap))
        a.push(.bx)
        a.popf()
        a.mov(.ss, .ax)
        a.bind(afterMovSS)
        a.mov(.sp, 0x6800)
        a.bind(afterMovSP)
        a.hlt()
        try m.load(a)
        _ = m.run()
        let trapIPs = m.events.deliveries.filter { $0.vector == 1 }.map(\.ip)
        #expect(!trapIPs.contains(UInt64(a.address(of: afterMovSS)!)), "no trap inside the MOV SS window")
        #expect(trapIPs.contains(UInt64(a.address(of: afterMovSP)!)))
    }
}
