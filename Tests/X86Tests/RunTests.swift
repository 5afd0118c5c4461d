import Testing
import X86
import X86Asm

/// `CPU.run(limit:)`: the instruction budget, retired-instruction counting and `requestStop()`.
@Suite struct RunTests {
    @Test func retiredInstructionsAreCounted() throws {
        let m = TestMachine()
        let reason = try m.run { a in
            for _ in 0..<7 { a.nop() }
            a.hlt()
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.instructionsRetired == 8)
    }

    /// The budget is exact for ordinary instructions, even inside one decoded block.
    @Test func budgetStopsAfterExactlyThatManyInstructions() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        for _ in 0..<50 { a.inc(.ax) }
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 10) == .limitReached)
        #expect(m.cpu.instructionsRetired == 10)
        #expect(m.r16(.rax) == 10)
        #expect(m.cpu.instructionPointer == UInt64(TestMachine.codeOrigin) + 10)
        #expect(m.run(budget: 15) == .limitReached)
        #expect(m.r16(.rax) == 25)
        #expect(m.run() == .halted)
        #expect(m.r16(.rax) == 50)
        #expect(m.cpu.instructionsRetired == 51)
    }

    @Test func zeroBudgetRunsNothing() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        a.inc(.ax)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 0) == .limitReached)
        #expect(m.cpu.instructionsRetired == 0)
        #expect(m.r16(.rax) == 0)
    }

    /// A device callback asks the CPU to stop: the run ends at the next instruction boundary
    /// and a later run continues where it stopped.
    @Test func requestStopFromADeviceEndsTheRunAtTheNextBoundary() throws {
        let m = TestMachine()
        let cpu = m.cpu
        m.bus.onPortWrite = { access in if access.port == 0x99 { cpu.requestStop() } }
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let afterOut = a.newLabel()
        a.out(0x99, .al)
        a.bind(afterOut)
        a.mov(.bx, 1)
        a.hlt()
        try m.load(a)
        #expect(m.run() == .stopRequested)
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: afterOut)!))
        #expect(m.r16(.rbx) == 0)
        #expect(m.run() == .halted)
        #expect(m.r16(.rbx) == 1)
    }
}
