import Testing
import X86
import X86Asm

/// Real-mode INT n / IRET through the interrupt vector table at IDTR.base (SDM Vol. 3A, 20.1.4),
/// and what happens when a vector lies beyond IDTR.limit.
@Suite struct InterruptDeliveryTests {
    @Test func intCallsTheHandlerAndIretReturns() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let handler = a.newLabel()
        a.mov(.ax, 0x1234)
        a.int(0x40)
        a.mov(.bx, .ax)
        a.mov(.cx, .sp)
        a.hlt()
        a.bind(handler)
        a.mov(.dx, .sp)
        a.mov(.ax, 0x5678)
        a.iret()
        try m.load(a)
        m.setVector(0x40, to: handler, in: a)
        #expect(m.run() == .halted)
        #expect(m.events.vectors == [0x40])
        #expect(m.r16(.rbx) == 0x5678)
        #expect(m.r16(.rdx) == TestMachine.stackTop - 6, "FLAGS, CS and IP pushed")
        #expect(m.r16(.rcx) == TestMachine.stackTop, "IRET popped all three")
    }

    @Test func softwareInterruptIsReportedWithItsReturnAddress() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let after = a.newLabel()
        a.int(0x21)
        a.bind(after)
        a.hlt()
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries == [EventRecorder.Delivery(vector: 0x21, source: .software, errorCode: nil,
                                                                cs: 0, ip: UInt64(a.address(of: after)!))])
        #expect(m.handledVectors == [0x21])
    }

    /// Delivery clears IF and TF; IRET restores the FLAGS image that was pushed.
    @Test func deliveryClearsIFAndIretRestoresIt() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let handler = a.newLabel()
        a.sti()
        a.int(0x41)
        a.pushf()
        a.pop(.bx)
        a.hlt()
        a.bind(handler)
        a.pushf()
        a.pop(.ax)
        a.iret()
        try m.load(a)
        m.setVector(0x41, to: handler, in: a)
        #expect(m.run() == .halted)
        #expect(m.r16(.rax) & UInt16(EFlags.interrupt) == 0, "IF clear in the handler")
        #expect(m.r16(.rbx) & UInt16(EFlags.interrupt) != 0, "IF set again after IRET")
    }

    /// The IVT moves with IDTR.base: after LIDT the old table is not consulted.
    @Test func lidtRelocatesTheVectorTable() throws {
        let m = TestMachine()
        let table = 0x8000
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let oldHandler = a.newLabel(), newHandler = a.newLabel(), descriptor = a.newLabel()
        a.lidt(Mem(label: descriptor))
        a.int(0x40)
        a.hlt()
        a.bind(oldHandler)
        a.mov(.ax, 0xA)
        a.iret()
        a.bind(newHandler)
        a.mov(.ax, 0xB)
        a.iret()
        a.bind(descriptor)
        a.dw(0x03FF)
        a.dd(UInt32(table))
        try m.load(a)
        m.setVector(0x40, to: oldHandler, in: a)
        m.bus.setWord(UInt16(a.address(of: newHandler)!), at: table + 0x40 * 4)
        m.bus.setWord(0, at: table + 0x40 * 4 + 2)
        #expect(m.run() == .halted)
        #expect(m.cpu.interruptDescriptorTable == DescriptorTableRegister(base: UInt64(table), limit: 0x3FF))
        #expect(m.r16(.rax) == 0xB)
    }

    /// A vector whose 4-byte entry is not entirely within IDTR.limit raises #GP
    /// (SDM Vol. 3A, 20.1.4); the fault points at the INT instruction and pushes no error code.
    @Test func vectorBeyondTheLimitRaisesGeneralProtection() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let descriptor = a.newLabel(), int50 = a.newLabel()
        a.lidt(Mem(label: descriptor))
        a.bind(int50)
        a.int(0x50)                         // entry 140h–143h, beyond the limit
        a.hlt()
        a.bind(descriptor)
        a.dw(0x00FF)                        // vectors 0–3Fh
        a.dd(0)
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.events.vectors == [0x50, 13])
        #expect(m.events.deliveries.last?.source == .exception)
        #expect(m.handledVectors == [13])
        #expect(m.frame.ip == UInt16(a.address(of: int50)!))
        #expect(m.r16(.rsp) == TestMachine.stackTop - 6, "real-mode frames hold no error code")
    }

    /// With IDTR.limit 0 nothing can be delivered: INT3 → #GP → #DF → shutdown (a triple fault).
    @Test func emptyVectorTableEscalatesToShutdown() throws {
        let m = TestMachine()
        try Guests.tripleFault(on: m)
        #expect(m.cpu.activity == .shutdown)
        #expect(m.events.vectors == [3, 13, 8], "delivery attempts: INT3, its #GP, then #DF")
        #expect(m.events.deliveries.map(\.source) == [.software, .exception, .exception])
        #expect(m.events.shutdownChains == [m.cpu.shutdownChain])
        let chain = m.cpu.shutdownChain
        #expect(chain.first == 3, "the chain starts with the original event")
        #expect(chain.contains(8), "the chain shows the double fault: \(chain)")

        // Shutdown is sticky: nothing runs until NMI, INIT or RESET.
        let retired = m.cpu.instructionsRetired
        #expect(m.run() == .shutdown)
        #expect(m.cpu.instructionsRetired == retired)
    }

    /// A #GP while delivering a #GP makes a double fault, which real mode delivers through
    /// vector 8 like any other (SDM Vol. 3A, 6.15, Table 6-5).
    @Test func faultWhileDeliveringAFaultBecomesDoubleFault() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let descriptor = a.newLabel(), intInstruction = a.newLabel()
        a.lidt(Mem(label: descriptor))
        a.bind(intInstruction)
        a.int(0x20)
        a.hlt()
        a.bind(descriptor)
        a.dw(0x0023)                        // vectors 0–8 only
        a.dd(0)
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.events.vectors == [0x20, 13, 8])
        #expect(m.handledVectors == [8])
        #expect(m.frame.ip == UInt16(a.address(of: intInstruction)!))
        #expect(m.r16(.rsp) == TestMachine.stackTop - 6)
        #expect(m.cpu.activity == .halted)
    }
}
