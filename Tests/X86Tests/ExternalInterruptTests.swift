import Testing
import X86
import X86Asm

/// HLT, the INTR pin and the one-instruction interrupt shadows of STI and MOV SS
/// (SDM Vol. 2, HLT and STI; Vol. 3A, 6.8.3).
@Suite struct ExternalInterruptTests {
    @Test func hltStopsTheRun() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let after = a.newLabel()
        a.hlt()
        a.bind(after)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.cpu.activity == .halted)
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: after)!), "IP is past the HLT")
        // Still halted: another run retires nothing.
        let retired = m.cpu.instructionsRetired
        #expect(m.run() == .halted)
        #expect(m.cpu.instructionsRetired == retired)
    }

    @Test func interruptWithIFSetWakesHalt() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let wake = a.newLabel()
        a.sti()
        a.nop()
        a.hlt()
        a.bind(wake)
        a.mov(Mem(disp: TestMachine.data, size: .byte), 1)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.bus.byte(at: TestMachine.data) == 0)

        m.interrupts.raise(0x30)
        #expect(m.run() == .halted)
        #expect(m.interrupts.acknowledgements == 1)
        #expect(!m.cpu.interruptRequested)
        #expect(m.events.deliveries == [EventRecorder.Delivery(vector: 0x30, source: .external, errorCode: nil,
                                                                cs: 0, ip: UInt64(a.address(of: wake)!))])
        #expect(m.handledVectors == [0x30])
        #expect(m.bus.byte(at: TestMachine.data) == 1, "IRET returned past the HLT")
    }

    @Test func interruptWithIFClearLeavesHaltAlone() throws {
        let m = TestMachine()
        try m.run { a in
            a.cli()
            a.hlt()
            a.mov(Mem(disp: TestMachine.data, size: .byte), 1)
            a.hlt()
        }
        m.interrupts.raise(0x30)
        #expect(m.run() == .halted)
        #expect(m.interrupts.acknowledgements == 0, "no acknowledge cycle while IF = 0")
        #expect(m.events.deliveries.isEmpty)
        #expect(m.bus.byte(at: TestMachine.data) == 0)
        #expect(m.cpu.interruptRequested, "the request stays pending")
    }

    /// An acknowledge cycle that returns no vector (the request went away) is ignored.
    @Test func spuriousRequestIsIgnored() throws {
        let m = TestMachine()
        try m.run { a in
            a.sti()
            a.nop()
            a.hlt()
        }
        m.cpu.interruptRequested = true          // raised with nothing queued
        #expect(m.run() == .halted)
        #expect(m.interrupts.acknowledgements >= 1)
        #expect(m.events.deliveries.isEmpty)
    }

    /// `sti; hlt`: the interrupt pending at STI is taken only after HLT, so it wakes the HLT
    /// and returns past it, the idiom that waits for an interrupt without a race.
    @Test func stiShadowLetsHltExecuteFirst() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let afterHlt = a.newLabel()
        a.sti()
        a.hlt()
        a.bind(afterHlt)
        a.mov(Mem(disp: TestMachine.data, size: .byte), 1)
        a.hlt()
        try m.load(a)
        m.interrupts.raise(0x30)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: afterHlt)!)])
        #expect(m.bus.byte(at: TestMachine.data) == 1)
    }

    /// `sti; mov [x], 1`: the store retires before the handler runs.
    @Test func stiShadowCompletesTheNextInstruction() throws {
        let m = TestMachine()
        let seen = try loadStiThenStoreGuest(into: m)
        m.interrupts.raise(0x30)
        _ = m.run()
        #expect(m.events.vectors == [0x30])
        #expect(m.bus.byte(at: seen) == 1, "the handler saw the store done")
    }

    /// STI when IF is already 1 opens no new shadow window: nothing is deferred.
    @Test func stiWithIFAlreadySetHasNoShadow() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let secondSti = a.newLabel()
        a.sti()
        a.nop()
        a.bind(secondSti)
        a.sti()
        a.nop()
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 2) == .limitReached)
        m.interrupts.raise(0x30)
        _ = m.run()
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: secondSti)!)])
    }

    /// MOV SS inhibits interrupts until after the next instruction, so `mov ss; mov sp` is atomic.
    @Test func movSSShadowCoversTheFollowingInstruction() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let setSP = a.newLabel(), afterSP = a.newLabel()
        a.sti()
        a.xor(.ax, .ax)
        a.mov(.ss, .ax)
        a.bind(setSP)
        a.mov(.sp, 0x6800)
        a.bind(afterSP)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 3) == .limitReached)     // up to and including MOV SS
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: setSP)!))
        m.interrupts.raise(0x30)
        _ = m.run()
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: afterSP)!)])
        #expect(m.r16(.rsp) == 0x6800)
        #expect(m.bus.word(at: 0x6800 - 6) == UInt16(a.address(of: afterSP)!), "frame pushed on the new stack")
    }

    @Test func popSSAlsoOpensAShadow() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let afterSP = a.newLabel()
        a.sti()
        a.push(.ss)
        a.pop(.ss)
        a.mov(.sp, 0x6800)
        a.bind(afterSP)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 3) == .limitReached)
        m.interrupts.raise(0x30)
        _ = m.run()
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: afterSP)!)])
    }

    /// Between instructions an interrupt is taken at the next boundary; the frame holds that boundary.
    @Test func interruptIsTakenAtTheNextInstructionBoundary() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let third = a.newLabel()
        a.sti()
        a.mov(.ax, 1)
        a.bind(third)
        a.mov(.bx, 2)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 2) == .limitReached)
        m.interrupts.raise(0x31)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: third)!)])
        #expect(m.r16(.rbx) == 2)
    }

    /// POPF that sets IF opens no shadow: a pending interrupt is taken right after it.
    @Test func popfEnablingInterruptsHasNoShadow() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let afterPopf = a.newLabel()
        a.pushf()
        a.pop(.ax)
        a.or(.ax, Int(EFlags.interrupt))
        a.push(.ax)
        a.popf()
        a.bind(afterPopf)
        a.mov(.bx, 1)
        a.hlt()
        try m.load(a)
        m.interrupts.raise(0x30)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.ip) == [UInt64(a.address(of: afterPopf)!)])
    }

    /// `sti; cli` lets no interrupt in: the shadow covers the CLI.
    @Test func stiImmediatelyFollowedByCliTakesNoInterrupt() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        m.interrupts.raise(0x30)
        let reason = try m.run { a in
            a.sti()
            a.cli()
            a.hlt()
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.interruptRequested, "the request stays pending")
    }

    /// The shadow survives the end of a run: a run that stops right after STI still lets
    /// exactly one more instruction retire before the interrupt.
    @Test func stiShadowSurvivesARunBoundary() throws {
        let m = TestMachine()
        let seen = try loadStiThenStoreGuest(into: m)
        #expect(m.run(budget: 1) == .limitReached)
        m.interrupts.raise(0x30)
        _ = m.run()
        #expect(m.events.vectors == [0x30])
        #expect(m.bus.byte(at: seen) == 1)
    }

    /// `sti; mov byte [data], 1; hlt`, with an INT 30h handler that copies the byte it finds
    /// at `data` to `data + 1`; returns where the handler's copy lands.
    private func loadStiThenStoreGuest(into m: TestMachine) throws -> Int {
        let x = TestMachine.data, seen = TestMachine.data + 1
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let handler = a.newLabel()
        a.sti()
        a.mov(Mem(disp: x, size: .byte), 1)
        a.hlt()
        a.bind(handler)
        a.mov(.al, Mem(disp: x))
        a.mov(Mem(disp: seen), .al)
        a.iret()
        try m.load(a)
        m.setVector(0x30, to: handler, in: a)
        return seen
    }
}
