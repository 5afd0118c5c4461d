@testable import X86
import Testing
import X86Asm

/// Device-not-available rules (SDM Vol. 3A, 2.5 and Table 2-2), #MF in native mode and the
/// PC-style FERR#/IGNNE# path with CR0.NE = 0 (SDM Vol. 1, 8.7 and Appendix D).
@Suite struct X87ExceptionReportingTests {
    typealias G = X87Guest

    // MARK: #NM

    @Test func emulationMakesX87DeviceNotAvailableButFxsaveInvalid() throws {
        try runExpectingException(.deviceNotAvailable) { a, mark in
            G.setCR0(&a, ControlRegister0.emulation)
            a.bind(mark)
            a.x87(0xD9, 0xE8)
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            G.setCR0(&a, ControlRegister0.emulation)
            a.bind(mark)
            a.fxsave(G.at(0x100))
        }
        // An undefined escape encoding is #NM too when EM is set.
        try runExpectingException(.deviceNotAvailable) { a, mark in
            G.setCR0(&a, ControlRegister0.emulation)
            a.bind(mark)
            a.x87(0xD9, 0xD1)
        }
    }

    @Test func taskSwitchedMakesX87AndFxsaveDeviceNotAvailable() throws {
        try runExpectingException(.deviceNotAvailable) { a, mark in
            G.setCR0(&a, ControlRegister0.taskSwitched)
            a.bind(mark)
            a.fninit()
        }
        try runExpectingException(.deviceNotAvailable) { a, mark in
            G.setCR0(&a, ControlRegister0.taskSwitched)
            a.bind(mark)
            a.fxsave(G.at(0x100), restore: true)
        }
    }

    /// WAIT faults only when MP and TS are both set; EM does not matter.
    @Test func waitIsDeviceNotAvailableOnlyWithMonitorAndTaskSwitched() throws {
        _ = try G.run { a in
            G.setCR0(&a, ControlRegister0.taskSwitched | ControlRegister0.emulation)
            a.fwait()
        }
        try runExpectingException(.deviceNotAvailable) { a, mark in
            G.setCR0(&a, ControlRegister0.taskSwitched | ControlRegister0.monitorCoprocessor)
            a.bind(mark)
            a.fwait()
        }
    }

    // MARK: #MF (CR0.NE = 1)

    /// An unmasked divide-by-zero leaves the operands and stack alone and sets ES and B;
    /// no-wait instructions run; the next waiting one takes #MF at its own address.
    @Test func unmaskedExceptionIsReportedAtTheNextWaitingInstruction() throws {
        var divideOffset: UInt32 = 0
        let m = try runExpectingException(.x87FloatingPoint) { a, mark in
            G.setCR0(&a, ControlRegister0.numericError)
            a.fninit()
            G.loadControlWord(&a, 0x037B)                   // ZM clear
            a.x87(0xD9, 0xE8)                               // fld1
            a.x87(0xD9, 0xEE)                               // fldz
            divideOffset = a.position
            a.x87(0xDE, 0xF9)                               // fdivp st1, st0: 1 / 0
            a.fnstswAX()                                    // no-wait: runs
            a.x87(.fnstcw, G.at(0))                         // no-wait: runs
            a.bind(mark)
            a.x87(0xD9, 0xE8)                               // fld1: #MF here
        }
        #expect(m.r16(.rax) == 0x8000 | 0x3000 | 0x0080 | FPUException.zeroDivide, "B, TOP 6, ES, ZE")
        #expect(m.fpu.st(0) == .positiveZero && m.fpu.st(1) == .one, "operands kept, no pop")
        #expect(m.fpu.lastInstructionOffset == divideOffset)
        #expect(m.fpu.lastOpcode == 0x06F9)
    }

    @Test func fwaitReportsAndFnclexClears() throws {
        try runExpectingException(.x87FloatingPoint) { a, mark in
            G.setCR0(&a, ControlRegister0.numericError)
            a.fninit()
            G.loadControlWord(&a, 0x037E)                   // IM clear
            a.x87(0xD9, 0xE1)                               // fabs on an empty stack: IE
            a.bind(mark)
            a.fwait()
        }
        _ = try G.run { a in
            G.setCR0(&a, ControlRegister0.numericError)
            G.loadControlWord(&a, 0x037E)
            a.x87(0xD9, 0xE1)
            a.fnclex()
            a.fwait()
        }
    }

    /// FLDCW unmasking an already flagged exception makes it pending (ES is derived).
    @Test func unmaskingAFlaggedExceptionMakesItPending() throws {
        try runExpectingException(.x87FloatingPoint) { a, mark in
            G.setCR0(&a, ControlRegister0.numericError)
            a.fninit()
            a.x87(0xD9, 0xE1)                               // masked IE
            G.loadControlWord(&a, 0x037E)
            a.bind(mark)
            a.fwait()
        }
    }

    // MARK: FERR# and IGNNE# (CR0.NE = 0)

    /// Builds the MS-DOS-style guest: IRQ 13's handler (vector 0x75) clears the exception
    /// and returns; the main line raises an unmasked divide-by-zero, then FWAITs at `mark`.
    private func dosStyleGuest(_ a: inout Assembler, mark: Label, handler: Label) {
        a.sti()
        a.fninit()
        G.loadControlWord(&a, 0x037B)
        a.x87(0xD9, 0xE8)
        a.x87(0xD9, 0xEE)
        a.x87(0xDE, 0xF9)                                   // 1 / 0: ZE unmasked, FERR# asserted
        a.bind(mark)
        a.fwait()
        a.mov(.bx, 0x1234)
        a.hlt()
        a.bind(handler)
        a.fnclex()
        a.iret()
    }

    @Test func ferrAssertsAndTheNextWaitingInstructionFreezesUntilAnInterrupt() throws {
        let m = TestMachine()
        let recorder = m.events
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let mark = a.newLabel()
        let handler = a.newLabel()
        dosStyleGuest(&a, mark: mark, handler: handler)
        try m.load(a)
        m.setVector(0x75, to: handler, in: a)

        #expect(m.run() == .halted)
        #expect(recorder.floatingPointErrors == [true], "FERR# asserted when the division completed")
        #expect(m.cpu.floatingPointErrorOutput)
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: mark)!), "frozen before FWAIT")
        #expect(m.cpu.activity == .halted)
        #expect(recorder.vectors.isEmpty)
        #expect(m.run() == .halted, "still frozen without an interrupt")

        // The board turns FERR# into IRQ 13; the handler clears the error and returns to FWAIT.
        m.interrupts.raise(0x75)
        #expect(m.run() == .halted)
        #expect(recorder.vectors == [0x75])
        #expect(recorder.floatingPointErrors == [true, false], "FNCLEX deasserted FERR#")
        #expect(!m.cpu.floatingPointErrorOutput)
        #expect(m.r16(.rbx) == 0x1234, "FWAIT ran after the handler")
    }

    @Test func ignneLetsTheWaitingInstructionRunDespiteTheError() throws {
        let m = TestMachine()
        let recorder = m.events
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let mark = a.newLabel()
        let handler = a.newLabel()
        dosStyleGuest(&a, mark: mark, handler: handler)
        try m.load(a)
        m.cpu.ignoreNumericErrorInput = true
        #expect(m.run() == .halted)
        #expect(m.r16(.rbx) == 0x1234)
        #expect(recorder.floatingPointErrors == [true], "the error stays flagged, FERR# asserted")
        #expect(recorder.vectors.isEmpty)
    }
}
