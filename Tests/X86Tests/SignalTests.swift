import Testing
import X86
import X86Asm

/// NMI, INIT and start-up IPIs (SDM Vol. 3A, 6.7.1; 10.1; 10.4.4).
@Suite struct SignalTests {
    // MARK: NMI

    @Test func nmiIsDeliveredThroughVector2EvenWithIFClear() throws {
        let m = TestMachine()
        try m.run { a in
            a.cli()
            a.nop()
            a.hlt()
        }
        m.cpu.signalNMI()
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.vector) == [2])
        #expect(m.events.deliveries.first?.source == .external)
        #expect(m.handledVectors == [2])
    }

    /// A second NMI while the handler runs is held until the handler's IRET (SDM Vol. 3A, 6.7.1).
    @Test func nmiIsBlockedUntilIret() throws {
        let m = TestMachine()
        let count = TestMachine.data
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let main = a.newLabel(), handler = a.newLabel()
        a.bind(main)
        for _ in 0..<4 { a.nop() }
        a.hlt()
        a.bind(handler)
        a.inc(Mem(disp: count, size: .byte))
        for _ in 0..<4 { a.nop() }
        a.iret()
        try m.load(a)
        m.setVector(2, to: handler, in: a)

        m.cpu.signalNMI()
        #expect(m.run(budget: 2) == .limitReached)        // inside the handler: inc, nop
        m.cpu.signalNMI()
        #expect(m.run(budget: 3) == .limitReached)        // three more NOPs: still blocked
        #expect(m.events.vectors == [2])
        #expect(m.bus.byte(at: count) == 1)

        #expect(m.run() == .halted)
        #expect(m.events.vectors == [2, 2])
        #expect(m.bus.byte(at: count) == 2)
        let mainIP = UInt64(a.address(of: main)!)
        #expect(m.events.deliveries.map(\.ip) == [mainIP, mainIP], "the second NMI came right after IRET")
    }

    @Test func nmiWakesHalt() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        try m.run { a in
            a.cli()
            a.hlt()
            a.mov(Mem(disp: TestMachine.data, size: .byte), 1)
            a.hlt()
        }
        #expect(m.bus.byte(at: TestMachine.data) == 0)
        m.cpu.signalNMI()
        #expect(m.run() == .halted)
        #expect(m.handledVectors == [2])
        #expect(m.bus.byte(at: TestMachine.data) == 1)
    }

    /// NMI takes the processor out of shutdown (SDM Vol. 3A, 6.15, "Interrupt 8").
    @Test func nmiLeavesShutdown() throws {
        let m = TestMachine()
        try Guests.tripleFault(on: m)
        m.cpu.interruptDescriptorTable = DescriptorTableRegister()   // a debugger repairs the IVT
        m.cpu.signalNMI()
        #expect(m.run() == .halted)
        #expect(m.cpu.activity == .halted)
        #expect(m.handledVectors == [2])
    }

    // MARK: INIT

    /// INIT on the bootstrap processor: registers to the INIT state, restart at F000:FFF0,
    /// memory untouched; CR0.CD and CR0.NW keep their values (SDM Vol. 3A, Table 10-1, note 2).
    @Test func initRestartsTheBootstrapProcessorAtTheResetVector() throws {
        let m = TestMachine(rom: try ResetROM.image())
        try m.run { a in
            a.mov(.eax, 0x0000_0010)          // CD = NW = 0
            a.mov(.cr0, .eax)
            a.mov(.eax, 0xDEAD_BEEF)
            a.mov(.esi, 0x1234_5678)
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0x5555_AAAA)
            a.lgdt(Mem(disp: TestMachine.data))
            a.mov(.eax, 1 << 3)               // CR4.DE
            a.mov(.cr4, .eax)
            a.mov(.eax, 0x0000_0003)
            a.mov(.dr7, .eax)
            a.std()
            a.sti()
            a.hlt()
        }
        #expect(m.cpu.activity == .halted)
        m.cpu.signalINIT()
        #expect(m.run(budget: 0) == .limitReached)
        let cpu = m.cpu
        #expect(cpu.activity == .active)
        #expect(cpu.segment(.cs).selector == 0xF000 && cpu.segment(.cs).base == 0xFFFF_0000)
        #expect(cpu.instructionPointer == 0xFFF0)
        #expect(cpu.register(.rax) == 0 && cpu.register(.rsi) == 0 && cpu.register(.rsp) == 0)
        #expect(cpu.register(.rdx) == UInt64(CPUIDIdentity.signature))
        #expect(cpu.eflags == 2)
        #expect(cpu.controlRegister0 == 0x0000_0010, "CD and NW unchanged by INIT")
        #expect(cpu.globalDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
        #expect(cpu.controlRegister4 == 0)
        #expect(cpu.debugRegister(7) == 0x400 && cpu.debugRegister(6) == 0xFFFF_0FF0)
        #expect(cpu.segment(.ss).selector == 0 && cpu.segment(.ds).base == 0)
        #expect(m.bus.dword(at: TestMachine.data) == 0x5555_AAAA, "RAM untouched")

        // …and the firmware runs again from the top.
        #expect(m.run() == .halted)
        #expect(m.bus.writes(to: 0x80) == [0x11, 0x22, 0xF000])
    }

    @Test func initWakesAShutdownProcessor() throws {
        let m = TestMachine()
        try Guests.tripleFault(on: m)
        m.cpu.signalINIT()
        #expect(m.run(budget: 0) == .limitReached)
        #expect(m.cpu.activity == .active)
        #expect(m.cpu.shutdownChain.isEmpty)
        #expect(m.cpu.interruptDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
    }

    // MARK: Application processors and start-up IPIs

    private static let startupVector: UInt8 = 0x9A

    /// An AP whose start-up code at 9A000h reports CS and halts.
    private func applicationProcessor() -> TestMachine {
        let m = TestMachine(index: 1, isBootstrapProcessor: false)
        // mov ax, cs; out 0x80, ax; hlt
        m.bus.load([0x8C, 0xC8, 0xE7, 0x80, 0xF4], at: Int(SignalTests.startupVector) << 12)
        return m
    }

    @Test func applicationProcessorWaitsForStartup() {
        let m = applicationProcessor()
        #expect(m.cpu.activity == .waitingForStartup)
        #expect(m.run() == .waitingForStartup)
        #expect(m.cpu.instructionsRetired == 0)
    }

    @Test func startupIPIStartsAtTheVectorPage() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run(budget: 0) == .limitReached)
        let cs = m.cpu.segment(.cs)
        #expect(cs.selector == 0x9A00)
        #expect(cs.base == 0x9_A000)
        #expect(m.cpu.instructionPointer == 0)
        #expect(m.run() == .halted)
        #expect(m.bus.writes(to: 0x80) == [0x9A00])
    }

    /// INIT drops the processor's decoded code: code another processor wrote over the start-up
    /// page while this one was parked (a new boot's trampoline) runs as it is now, not as it
    /// was decoded in the last boot.
    @Test func initDropsDecodedCodeOfThePreviousBoot() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        // Written behind the CPU's back, as another processor's stores are: mov ax, 1234h; out 80h, ax; hlt
        m.bus.load([0xB8, 0x34, 0x12, 0xE7, 0x80, 0xF4], at: Int(SignalTests.startupVector) << 12)
        m.cpu.signalINIT()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        #expect(m.bus.writes(to: 0x80) == [0x9A00, 0x1234])
    }

    @Test func startupIPIIsIgnoredUnlessWaiting() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalStartup(vector: 0x50)           // a second SIPI: the AP is not waiting
        #expect(m.run() == .halted)
        #expect(m.cpu.segment(.cs).selector == 0x9A00)
        #expect(m.bus.writes(to: 0x80) == [0x9A00])
    }

    @Test func startupIPIIsIgnoredByTheBootstrapProcessor() {
        let m = TestMachine()
        m.cpu.signalStartup(vector: 0x9A)
        #expect(m.run(budget: 0) == .limitReached)
        #expect(m.cpu.segment(.cs).selector == 0xF000)
        #expect(m.cpu.instructionPointer == 0xFFF0)
    }

    /// INIT puts a running AP back into wait-for-SIPI; the next SIPI starts it again.
    @Test func initSendsAnApplicationProcessorBackToWaiting() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalINIT()
        #expect(m.run() == .waitingForStartup)
        #expect(m.cpu.activity == .waitingForStartup)
        #expect(m.cpu.register(.rax) == 0)
        #expect(m.cpu.register(.rdx) == UInt64(CPUIDIdentity.signature))
        m.cpu.signalStartup(vector: 0x9B)
        m.bus.load([0xB0, 0x77, 0xE6, 0x81, 0xF4], at: 0x9_B000)   // mov al, 0x77; out 0x81, al; hlt
        #expect(m.run() == .halted)
        #expect(m.cpu.segment(.cs).base == 0x9_B000)
        #expect(m.bus.writes(to: 0x81) == [0x77])
    }

    /// An AP that INIT reaches inside its NMI handler (as each AP of Windows's multiprocessor
    /// reboot is, in shutdown) takes NMIs again once a SIPI restarts it: INIT ends NMI blocking.
    @Test func initEndsNMIBlocking() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalNMI()
        #expect(m.run() == .halted)                 // the handler's HLT: NMIs blocked, no IRET
        #expect(m.handledVectors == [2])
        m.cpu.signalINIT()
        #expect(m.run() == .waitingForStartup)
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalNMI()
        #expect(m.run() == .halted)
        #expect(m.handledVectors == [2, 2], "the NMI after INIT and SIPI was taken")
        #expect(m.bus.writes(to: 0x80) == [0x9A00, 0x9A00])
    }

    /// An NMI not yet taken when INIT arrives is dropped with the rest of the processor's state:
    /// the restarted AP does not take it at its first instruction.
    @Test func initDropsAPendingNMI() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalNMI()
        m.cpu.signalINIT()
        #expect(m.run() == .waitingForStartup)
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        #expect(m.handledVectors == [])
        #expect(m.bus.writes(to: 0x80) == [0x9A00, 0x9A00])
    }

    /// A processor waiting for a start-up IPI takes only INIT and SIPI: an NMI sent to it gives
    /// it nothing to do (`canMakeProgress` stays false, so an owner gives it no slice) until a
    /// SIPI comes.
    @Test func nmiGivesAWaitingProcessorNothingToDo() {
        let m = applicationProcessor()
        m.cpu.signalNMI()
        #expect(!m.cpu.canMakeProgress)
        #expect(m.run() == .waitingForStartup)
        #expect(m.cpu.instructionsRetired == 0 && m.handledVectors == [])
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.cpu.canMakeProgress)
    }

    /// INIT followed by a SIPI before the AP ran at all (the INIT-SIPI-SIPI sequence).
    @Test func startupIPIRightAfterInitIsAccepted() {
        let m = applicationProcessor()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        m.cpu.signalINIT()
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        m.cpu.signalStartup(vector: SignalTests.startupVector)
        #expect(m.run() == .halted)
        #expect(m.bus.writes(to: 0x80) == [0x9A00, 0x9A00])
    }
}
