import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// Guests that never retire another instruction, and guests that faults keep resetting: every
/// run ends within its budget, and every shutdown is answered.
@Suite(.timeLimit(.minutes(1))) struct RunawayGuestTests {
    static let limit: UInt64 = 100_000
    /// Deliveries a run may overshoot its budget by: one event taken before the budget is
    /// looked at again, and one fault delivered after the block that used up the last tick.
    static let deliveryOvershoot: UInt64 = 2

    /// Real mode: IVT entry 6 points at a UD2, so the #UD handler raises #UD on its first
    /// instruction, forever. Nothing retires; each delivery is a tick of the budget. (The
    /// stack wraps around its own 64 KiB at 10000h, away from the code and the IVT.)
    @Test func realModeInvalidOpcodeStormEndsAtTheLimit() throws {
        let payload = try SmallGuest.assemble { a in
            let handler = a.newLabel()
            a.mov(.ax, handler)
            a.mov(Mem(disp: 6 * 4), .ax)
            a.mov(Mem(disp: 6 * 4 + 2, size: .word), 0)
            a.mov(.ax, 0x1000)
            a.mov(.ss, .ax)
            a.bind(handler)
            a.ud2()
        }
        try expectStormEndsAtTheLimit(payload: payload)
    }

    /// Protected mode: the #GP gate leads to a WRMSR of a reserved MSR (ECX = FFFFFFFFh), which
    /// raises #GP(0) again before retiring.
    @Test func protectedModeGeneralProtectionStormEndsAtTheLimit() throws {
        let payload = try SmallGuest.assemble { a in
            let gdtr = a.newLabel(), idtr = a.newLabel(), gdt = a.newLabel(), idt = a.newLabel()
            // The handler at linear 0 (gate offset 0, flat code): WRMSR.
            a.mov(Mem(disp: 0, size: .word), 0x300F)
            a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: 0x08, dataSelector: 0x10)
            a.mov(.esp, 0x7000)
            a.lidt(Mem(label: idtr))
            a.mov(.ecx, -1)
            a.wrmsr()
            a.align(8)
            a.bind(gdt)
            a.segmentDescriptor(base: 0, limit: 0, access: 0, flags: 0)
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)
            a.bind(idt)
            for vector in 0..<32 { a.gateDescriptor(selector: 0x08, type: 0xE, present: vector == 13) }
            a.bind(gdtr)
            a.dw(3 * 8 - 1)
            a.dd(gdt)
            a.bind(idtr)
            a.dw(32 * 8 - 1)
            a.dd(idt)
        }
        try expectStormEndsAtTheLimit(payload: payload)
    }

    private func expectStormEndsAtTheLimit(payload: [UInt8]) throws {
        let run = try TestBoard.run(payload: payload) { $0.maxInstructions = Self.limit }
        #expect(run.outcome == .instructionLimit)
        let cpu = run.machine.cpus[0]
        #expect(run.machine.tickCount >= Self.limit)
        #expect(run.machine.tickCount <= Self.limit + Self.deliveryOvershoot)
        #expect(cpu.eventsDelivered > Self.limit / 2, "the storm delivered \(cpu.eventsDelivered) events")
        #expect(run.machine.now >= Self.limit, "deliveries take virtual time")
    }

    /// A guest that triple-faults on every boot: each shutdown is answered with a reset, even
    /// the ones that come a few thousand instructions after the last reset.
    @Test func everyTripleFaultIsAnsweredHoweverSoonAfterTheLastReset() throws {
        let payload = try SmallGuest.assemble { a in
            let emptyIDTR = a.newLabel()
            a.lidt(Mem(label: emptyIDTR))
            a.int3()
            a.bind(emptyIDTR)
            a.dw(0)
            a.dd(0)
        }
        let run = try TestBoard.run(payload: payload) { $0.maxInstructions = Self.limit }
        #expect(run.outcome == .instructionLimit)
        let shutdowns = run.records.named("shutdown")
        let resets = run.records.named("reset")
        #expect(shutdowns.count >= 5, "only \(shutdowns.count) shutdowns in \(Self.limit) instructions")
        // Every shutdown but possibly the last (cut off by the limit) has its reset.
        #expect(resets.count >= shutdowns.count - 1)
        #expect(resets.allSatisfy { $0.event["kind"] == "init" && $0.event["cause"] == "triple-fault" })
        let gaps = zip(resets, shutdowns.dropFirst()).map { $1.instructionCount - $0.instructionCount }
        // A boot of the firmware is about 10,000 instructions; the guest faults right after it.
        #expect(gaps.allSatisfy { $0 < 20_000 }, "shutdowns came \(gaps) instructions after the resets")
    }
}

/// While every CPU sleeps, virtual time jumps straight to the next event that can wake one:
/// timer events that the interrupt controller would not pass on are not visited one by one.
@Suite(.timeLimit(.minutes(1))) struct IdleSkipTests {
    static let idleLimit: UInt64 = 600_000_000_000

    /// PIT counter 0 in mode 2 with a count of 2 (a deadline every 1.7 µs) and IRQ 0 masked,
    /// then `sti; hlt`: the idle limit's 600 s pass at once.
    @Test func aMaskedFastTimerDoesNotKeepTheMachineBusy() throws {
        let payload = try SmallGuest.assemble { a in
            a.programFastTimer()
            a.outByte(0x21, 0xFF)
            a.haltLoop(interruptsEnabled: true)
        }
        let run = try TestBoard.run(payload: payload) { $0.maxInstructions = 100_000 }
        try expectIdleLimitReached(run)
    }

    /// IRQ 0 unmasked, but its handler never sends EOI and halts with interrupts on: the
    /// level in service blocks every later tick, so one interrupt is all the guest gets.
    @Test func aTimerBlockedByItsOwnLevelInServiceDoesNotKeepTheMachineBusy() throws {
        let payload = try SmallGuest.assemble { a in
            a.installInterruptHandler(vector: 0x08) { a in
                a.outByte(SmallGuest.debugPort, 0x08)
                a.haltLoop(interruptsEnabled: true)
            }
            a.programFastTimer()
            a.outByte(0x21, 0xFE)
            a.haltLoop(interruptsEnabled: true)
        }
        let ticks = ByteCapture()
        let run = try TestBoard.run(payload: payload) { $0.attachDebugConsole(ticks) }
        try expectIdleLimitReached(run)
        #expect(ticks.bytes == [0x08])
    }

    /// The RTC's periodic interrupt at 8192 Hz, acknowledged at both PICs but never at the RTC
    /// (register C unread): IRQ 8 stays high, no new edge comes, and the machine goes idle.
    @Test func anUnacknowledgedClockInterruptDoesNotKeepTheMachineBusy() throws {
        let payload = try SmallGuest.assemble { a in
            a.installInterruptHandler(vector: 0x70) { a in
                a.outByte(SmallGuest.debugPort, 0x70)
                a.outByte(0xA0, 0x20)
                a.outByte(0x20, 0x20)
                a.iret()
            }
            a.outByte(0x70, 0x0A)
            a.outByte(0x71, 0x23)                 // divider on, rate 3: 8192 Hz
            a.outByte(0x70, 0x0B)
            a.outByte(0x71, 0x42)                 // PIE, 24-hour
            a.outByte(0xA1, 0xFE)                 // IRQ 8
            a.outByte(0x21, 0xFB)                 // the cascade
            a.haltLoop(interruptsEnabled: true)
        }
        let interrupts = ByteCapture()
        let run = try TestBoard.run(payload: payload) { $0.attachDebugConsole(interrupts) }
        try expectIdleLimitReached(run)
        #expect(interrupts.bytes == [0x70])
    }

    private func expectIdleLimitReached(_ run: GuestRun) throws {
        #expect(run.outcome == .allHalted)
        let halt = try #require(run.records.named("halt").last)
        #expect(halt.event["if"] == 1)
        #expect(run.machine.now - halt.time == Self.idleLimit)
    }
}

extension Assembler {
    /// PIT counter 0: mode 2 (rate generator), count 2.
    mutating func programFastTimer() {
        outByte(0x43, 0x34)
        outByte(0x40, 2)
        outByte(0x40, 0)
    }

    /// Points real-mode vector `vector` at `body`, assembled out of line.
    mutating func installInterruptHandler(vector: UInt8, _ body: (inout Assembler) -> Void) {
        let handler = newLabel(), after = newLabel()
        mov(.ax, handler)
        mov(Mem(disp: Int(vector) * 4), .ax)
        mov(Mem(disp: Int(vector) * 4 + 2, size: .word), 0)
        jmp(after)
        bind(handler)
        body(&self)
        bind(after)
    }
}
