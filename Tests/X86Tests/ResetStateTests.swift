import Testing
import X86
import X86Asm

/// The power-on state (SDM Vol. 3A, 10.1.1, Table 10-1) and the first instruction fetch.
@Suite struct ResetStateTests {
    @Test func generalRegistersAndInstructionPointer() {
        let cpu = TestMachine().cpu
        #expect(cpu.instructionPointer == 0xFFF0)
        #expect(cpu.register(.rdx) == UInt64(CPUIDIdentity.signature))
        for r in X86.GeneralRegister.allCases where r != .rdx {
            #expect(cpu.register(r) == 0, "\(r)")
        }
        #expect(cpu.eflags == 0x0000_0002)
        #expect(cpu.activity == .active)
        #expect(cpu.instructionsRetired == 0)
    }

    @Test func segmentCaches() {
        let cpu = TestMachine().cpu
        let cs = cpu.segment(.cs)
        #expect(cs.selector == 0xF000)
        #expect(cs.base == 0xFFFF_0000)
        #expect(cs.limit == 0xFFFF)
        #expect(cs.attributes & 0x9F == 0x9B, "present, accessed, readable code")
        for s in [SegmentRegister.ds, .es, .ss, .fs, .gs] {
            let cache = cpu.segment(s)
            #expect(cache.selector == 0 && cache.base == 0 && cache.limit == 0xFFFF, "\(s)")
            #expect(cache.attributes & 0x9F == 0x93, "\(s): present, accessed, read/write data")
        }
    }

    @Test func systemRegisters() {
        let cpu = TestMachine().cpu
        #expect(cpu.controlRegister0 == 0x6000_0010)
        #expect(cpu.controlRegister2 == 0)
        #expect(cpu.controlRegister3 == 0)
        #expect(cpu.controlRegister4 == 0)
        #expect(!cpu.isProtectedMode)
        #expect(cpu.globalDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
        #expect(cpu.interruptDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
        for n in 0..<4 { #expect(cpu.debugRegister(n) == 0, "DR\(n)") }
        #expect(cpu.debugRegister(6) == 0xFFFF_0FF0)
        #expect(cpu.debugRegister(7) == 0x0000_0400)
    }

    /// The first fetch is at CS.base + EIP = FFFFFFF0h, the top of the 4 GiB space.
    @Test func firstInstructionComesFromTheTopOfTheAddressSpace() throws {
        let m = TestMachine(rom: try ResetROM.image())
        m.bus.recordsPageRequests = true
        #expect(m.run(budget: 1) == .limitReached)
        #expect(m.bus.pageRequests.first == 0xF_FFFF)
        #expect(m.r16(.rax) & 0xFF == 0x11, "mov al, 0x11 at FFFFFFF0h ran")
        #expect(m.cpu.segment(.cs).base == 0xFFFF_0000, "no far transfer yet")
        #expect(m.cpu.instructionPointer == 0xFFF2)
    }

    /// The far jump at the reset vector reloads CS the real-mode way (base F0000h), and the
    /// firmware continues in the ROM's alias below 1 MiB.
    @Test func farJumpContinuesInTheLowROMAlias() throws {
        let m = TestMachine(rom: try ResetROM.image())
        m.bus.recordsPageRequests = true
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.isEmpty)
        #expect(m.cpu.segment(.cs).selector == 0xF000)
        #expect(m.cpu.segment(.cs).base == 0xF_0000)
        #expect(m.bus.writes(to: 0x80) == [0x11, 0x22, 0xF000])
        #expect(m.bus.pageRequests.contains(0xF0 + UInt64(ResetROM.entry >> 12)), "fetched through the F0000h alias")
        #expect(m.cpu.instructionPointer == UInt64(ResetROM.entry) + ResetROM.bytesAfterEntry)
    }

    @Test func powerOnResetRestoresEverythingAfterAGuestRan() throws {
        let m = TestMachine()
        try m.run { a in
            a.mov(.eax, 0x1234_5678)
            a.mov(.esp, 0x6000)
            a.mov(.eax, 0x0000_0010)          // CR0 with CD and NW clear
            a.mov(.cr0, .eax)
            a.lidt(Mem(disp: TestMachine.data, size: .word))
            a.std()
            a.hlt()
        }
        m.cpu.powerOnReset()
        #expect(m.cpu.activity == .active)
        #expect(m.cpu.instructionPointer == 0xFFF0)
        #expect(m.cpu.segment(.cs).base == 0xFFFF_0000)
        #expect(m.cpu.register(.rax) == 0 && m.cpu.register(.rsp) == 0)
        #expect(m.cpu.eflags == 2)
        #expect(m.cpu.controlRegister0 == 0x6000_0010, "RESET sets CD and NW again (unlike INIT)")
        #expect(m.cpu.interruptDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
    }

    @Test func powerOnResetLeavesShutdown() throws {
        let m = TestMachine()
        try Guests.tripleFault(on: m)
        m.cpu.powerOnReset()
        #expect(m.cpu.activity == .active)
        #expect(m.cpu.shutdownChain.isEmpty)
        #expect(m.cpu.interruptDescriptorTable == DescriptorTableRegister(base: 0, limit: 0xFFFF))
    }
}
