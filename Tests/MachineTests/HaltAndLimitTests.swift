import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// How a run ends without a reset: every CPU halted (`--exit-on-halt`), the idle limit,
/// `--max-instructions`, the exit port; and the debug console's bytes.
@Suite struct HaltAndLimitTests {
    /// `cli; hlt`: nothing can wake the CPU. With `--exit-on-halt` that is a quiet end
    /// (status 0); without it the machine pauses for inspection (status 2).
    @Test(arguments: [true, false])
    func haltWithInterruptsDisabled(exitOnHalt: Bool) throws {
        let run = try TestBoard.run(payload: SmallGuest.haltForever(interruptsEnabled: false)) {
            $0.exitOnHalt = exitOnHalt
        }
        if exitOnHalt {
            #expect(run.outcome == .allHalted)
            #expect(run.outcome.exitStatus == 0)
        } else {
            #expect(run.outcome.pauseReason != nil, "expected a pause, got \(run.outcome)")
            #expect(run.outcome.exitStatus == 2)
        }
        let halts = run.records.named("halt")
        #expect(halts.count == 1)
        #expect(halts.last?.event["if"] == 0)
        #expect(run.machine.cpus[0].activity == .halted)
    }

    /// `cli; hlt` with the timer unmasked: IRQ 0 keeps INTR asserted, but with IF clear the
    /// CPU cannot take it, so the run must still end rather than spin on the pending request.
    @Test func haltWithInterruptsDisabledAndARequestPending() throws {
        let payload = try SmallGuest.assemble { a in
            a.outByte(0x21, 0xFA)             // unmask IRQ 0 (and the cascade)
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload)
        #expect(run.outcome == .allHalted)
        #expect(run.machine.cpus[0].interruptRequested, "the timer's request is still pending")
        #expect(run.records.named("halt").last?.event["if"] == 0)
    }

    /// `sti; hlt` with every IRQ masked: the timer keeps making deadlines but nothing reaches
    /// the CPU. Virtual time jumps over them to the idle limit (600 s of virtual time with no
    /// instruction), then the run ends instead of spinning forever.
    @Test(arguments: [true, false])
    func haltWithInterruptsEnabledButMaskedEndsAtTheIdleLimit(exitOnHalt: Bool) throws {
        let payload = try SmallGuest.assemble { a in
            a.outByte(0x21, 0xFF)
            a.outByte(0xA1, 0xFF)
            a.haltLoop(interruptsEnabled: true)
        }
        let run = try TestBoard.run(payload: payload) { $0.exitOnHalt = exitOnHalt }
        #expect(run.outcome == .allHalted)
        let halt = try #require(run.records.named("halt").last)
        #expect(halt.event["if"] == 1)
        // The clock stopped within one PIT period (54.9 ms) of the limit (IdleSkipTests checks
        // that it lands on it exactly).
        let idle = run.machine.now - halt.time
        let idleLimit: UInt64 = 600_000_000_000, pitPeriod: UInt64 = 54_925_401
        #expect(idle <= idleLimit)
        #expect(idle > idleLimit - pitPeriod)
        #expect(run.machine.instructionCount == halt.instructionCount)
    }

    /// `jmp $` stops at exactly `--max-instructions` (status 4). The first limit falls inside the
    /// machine's first time slice, which also holds the firmware's `rep insb` that copies the
    /// payload; the second needs a later slice.
    @Test(arguments: [UInt64(300_000), 1_234_567])
    func instructionLimitStopsASpinningGuest(limit: UInt64) throws {
        let payload = try SmallGuest.spin()
        let run = try TestBoard.run(payload: payload) { $0.maxInstructions = limit }
        #expect(run.outcome == .instructionLimit)
        #expect(run.outcome.exitStatus == 4)
        #expect(run.machine.instructionCount == limit)
        let cpu = run.machine.cpus[0]
        #expect(cpu.segment(.cs).selector == 0)
        #expect(cpu.instructionPointer >= UInt64(SmallGuest.origin))
        #expect(cpu.instructionPointer < UInt64(SmallGuest.origin) + UInt64(payload.count))
    }

    /// Each iteration of a REP string instruction is a retired instruction (and a nanosecond
    /// of virtual time); the limit must stop the run within one REP chunk of it, not after
    /// hundreds of times as many instructions.
    @Test func instructionLimitCountsEveryRepetition() throws {
        let limit: UInt64 = 100_000
        let run = try TestBoard.run(payload: SmallGuest.repeatedStoresForever()) { $0.maxInstructions = limit }
        #expect(run.outcome == .instructionLimit)
        #expect(run.machine.instructionCount >= limit)
        #expect(run.machine.instructionCount < limit + 4096, "stopped after \(run.machine.instructionCount) instructions")
    }

    /// The exit device (QEMU's isa-debug-exit): writing v ends the run with status (v << 1) | 1,
    /// for byte, word and dword writes.
    @Test(arguments: [(OperandSize.byte, UInt32(0x10), Int32(0x21)), (.word, 0x1234, 0x2469), (.dword, 0x0001_0000, 0x0002_0001)])
    func exitPortEndsTheRunWithTheGuestsStatus(size: OperandSize, value: UInt32, status: Int32) throws {
        let payload = try SmallGuest.assemble { a in
            a.mov(.eax, Int(value))
            switch size {
            case .byte: a.out(0xF4, .al)
            case .word: a.out(0xF4, .ax)
            default: a.out(0xF4, .eax)
            }
            a.outByte(0xF4, 0x7F)            // never reached: the first write wins
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload) { $0.exitPort = 0xF4 }
        #expect(run.outcome == .exitRequested(status: status))
        #expect(run.outcome.exitStatus == status & 0xFF, "a process status keeps 8 bits")
        #expect(run.records.named("halt").isEmpty)
    }

    /// Without an exit device the port is nothing: the same guest halts.
    @Test func exitPortIsAbsentUnlessConfigured() throws {
        let payload = try SmallGuest.assemble { a in
            a.outByte(0xF4, 0x10)
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload)
        #expect(run.outcome == .allHalted)
    }

    /// Debug consoles: each byte written reaches the console configured for that port, a read
    /// answers 0xE9, and a port with no console hears nothing.
    @Test func debugConsoleBytesReachTheirOutput() throws {
        let message = Array("hello, debugcon\n".utf8)
        let payload = try SmallGuest.assemble { a in
            let text = a.newLabel(), next = a.newLabel(), done = a.newLabel()
            a.mov(.si, text)
            a.mov(.dx, Int(SmallGuest.debugPort))
            a.bind(next)
            a.lodsb()
            a.test(.al, .al)
            a.jccShort(.z, done)
            a.out(.dx, .al)
            a.jmpShort(next)
            a.bind(done)
            a.in(.al, .dx)                       // the read-back value, to the second console
            a.mov(.dx, 0xEA)
            a.out(.dx, .al)
            a.outByte(0xEB, 0x55)                // no console here
            a.haltLoop(interruptsEnabled: false)
            a.bind(text)
            a.db(message + [0])
        }
        let first = ByteCapture(), second = ByteCapture()
        let run = try TestBoard.run(payload: payload) { configuration in
            configuration.attachDebugConsole(first)
            configuration.attachDebugConsole(second, port: 0xEA)
        }
        #expect(run.outcome == .allHalted)
        #expect(first.bytes == message)
        #expect(second.bytes == [0xE9])
    }
}
