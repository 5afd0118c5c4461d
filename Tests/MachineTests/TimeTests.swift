import Firmware
import Hardware
import Machine
import Testing
import X86Asm

/// Virtual time through the whole machine: the PIT's IRQ 0 at 18.2 Hz reaching a guest's
/// INT 08h handler, the clock jumping while the CPU is halted, and the RTC counting it.
@Suite struct TimeTests {
    /// 65536 PIT clocks at 1.193182 MHz, in nanoseconds.
    static let pitPeriod = 65536.0 / 1_193_182.0 * 1e9
    static let tickPort: UInt16 = SmallGuest.debugPort
    static let clockPort: UInt16 = 0xEA

    /// Bytes from a debug console, each with the virtual time it was written at.
    final class StampedCapture {
        let handle = MachineHandle()
        private(set) var stamps: [(byte: UInt8, time: UInt64)] = []

        func output(_ bytes: [UInt8]) {
            let now = handle.machine?.now ?? .max
            for byte in bytes { stamps.append((byte, now)) }
        }
    }

    /// Installs an INT 08h handler that counts ticks and writes the count's low byte to
    /// `tickPort`, unmasks IRQ 0, reports the RTC's seconds and minutes (BCD) on `clockPort`,
    /// waits for `ticks` ticks — halted (`sti; hlt`) or busy with `rep stosb` — reports the RTC
    /// again and halts.
    static func tickingGuest(ticks: Int, busy: Bool = false) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let handler = a.newLabel("tick"), count = a.newLabel("count"), wait = a.newLabel("wait")
            installTickHandler(&a, handler)
            reportClock(&a)
            if busy { a.pointExtraSegmentAtScratch() }
            a.bind(wait)
            a.sti()
            if busy { a.repeatedStoreRound() } else { a.hlt() }
            a.cmp(Mem(label: count, size: .word), ticks)
            a.jcc(.b, wait)
            a.cli()
            reportClock(&a)
            a.haltLoop(interruptsEnabled: false)

            a.bind(handler)
            a.push(.ax)
            a.inc(Mem(label: count, size: .word))
            a.mov(.al, Mem(label: count))
            a.out(.immediate(UInt8(tickPort)), .al)
            a.outByte(0x20, 0x20)               // EOI
            a.pop(.ax)
            a.iret()
            a.bind(count)
            a.dw(0)
        }
    }

    /// Points INT 08h at `handler` and unmasks IRQ 0 at the master 8259.
    static func installTickHandler(_ a: inout Assembler, _ handler: Label) {
        a.mov(.ax, handler)
        a.mov(Mem(disp: 0x08 * 4), .ax)
        a.mov(Mem(disp: 0x08 * 4 + 2, size: .word), 0)
        a.in(.al, 0x21)
        a.and(.al, 0xFE)                    // unmask IRQ 0
        a.out(0x21, .al)
    }

    static func reportClock(_ a: inout Assembler) {
        a.readCMOS(0x00)
        a.out(.immediate(UInt8(clockPort)), .al)
        a.readCMOS(0x02)
        a.out(.immediate(UInt8(clockPort)), .al)
    }

    struct Result {
        let run: GuestRun
        let ticks: StampedCapture
        let clock: StampedCapture
    }

    static func runTicking(_ ticks: Int, busy: Bool = false) throws -> Result {
        let tickCapture = StampedCapture(), clockCapture = StampedCapture()
        let run = try TestBoard.run(payload: tickingGuest(ticks: ticks, busy: busy)) { configuration in
            configuration.debugConsoles = [(port: tickPort, output: tickCapture.output),
                                           (port: clockPort, output: clockCapture.output)]
            // Busy, each tick costs 54.9 million instructions (and a slice that overruns its
            // deadline many more: let the late tick arrive rather than the cap end the run).
            if busy { configuration.maxInstructions = 2_000_000_000 }
        } prepare: { machine in
            tickCapture.handle.machine = machine
            clockCapture.handle.machine = machine
        }
        return Result(run: run, ticks: tickCapture, clock: clockCapture)
    }

    /// The TSC counts virtual time, so it keeps counting while the CPU sleeps: across three
    /// PIT ticks spent halted (the first arrives at once, latched before the guest unmasked
    /// IRQ 0) it advances by about two tick periods (54.9 ms each at one count per nanosecond),
    /// though the guest retires only a few hundred instructions meanwhile.
    @Test func timeStampCounterCountsIdleTime() throws {
        let payload = try SmallGuest.assemble { a in
            let handler = a.newLabel("tick"), count = a.newLabel("count"), wait = a.newLabel("wait")
            Self.installTickHandler(&a, handler)
            a.rdtsc()
            a.mov(Mem(disp: 0x600, size: .dword), .eax)
            a.mov(Mem(disp: 0x604, size: .dword), .edx)
            a.bind(wait)
            a.sti()
            a.hlt()
            a.cmp(Mem(label: count, size: .word), 3)
            a.jcc(.b, wait)
            a.rdtsc()
            a.mov(Mem(disp: 0x608, size: .dword), .eax)
            a.mov(Mem(disp: 0x60C, size: .dword), .edx)
            a.haltLoop(interruptsEnabled: false)
            a.bind(handler)
            a.inc(Mem(label: count, size: .word))
            a.outByte(0x20, 0x20)
            a.iret()
            a.bind(count)
            a.dw(0)
        }
        let run = try TestBoard.run(payload: payload)
        #expect(run.outcome == .allHalted)
        func qword(_ address: UInt64) -> UInt64 {
            run.machine.readMemory(address, count: 8).reversed().reduce(0) { $0 << 8 | UInt64($1) }
        }
        let elapsed = qword(0x608) &- qword(0x600)
        #expect(elapsed >= UInt64(1.99 * Self.pitPeriod), "TSC advanced \(elapsed) over three ticks")
        #expect(run.machine.instructionCount < 1_000_000, "the CPU slept through them")
    }

    /// The firmware programmed the PIT with IRQ 0 masked; its first rising edge is latched in
    /// the 8259 and delivered as soon as the guest unmasks IRQ 0. From then on a tick every
    /// 65536 PIT clocks (54.9254 ms), while the CPU sleeps in HLT between them.
    @Test func timerTicksArriveAt18Hz() throws {
        let n = 12
        let result = try Self.runTicking(n)
        #expect(result.run.outcome == .allHalted)
        let stamps = result.ticks.stamps
        try #require(stamps.count == n)
        #expect(stamps.map(\.byte) == (1...n).map { UInt8($0) })
        #expect(stamps[0].time < 1_000_000, "the latched first edge arrives at once")
        let periodic = stamps.dropFirst()
        for (earlier, later) in zip(periodic, periodic.dropFirst()) {
            let interval = Double(later.time - earlier.time)
            #expect(abs(interval - Self.pitPeriod) < 100, "tick interval \(interval) ns")
        }
        let span = Double(stamps.last!.time - stamps[1].time)
        #expect(abs(span - Double(n - 2) * Self.pitPeriod) < 100)
        // N ticks take N × 54.9 ms of virtual time but only a few hundred instructions: the
        // clock jumped while the CPU was halted.
        #expect(result.run.machine.now > UInt64(Double(n - 1) * Self.pitPeriod))
        #expect(result.run.machine.instructionCount < 20_000)
    }

    /// A busy guest sees the same timer: virtual time is one nanosecond per retired
    /// instruction, each iteration of `rep stosb` included, and the machine ends its time slice
    /// at the PIT's deadline, so the first periodic tick comes one PIT period after the
    /// firmware programmed the PIT, give or take one REP chunk (4096 iterations, about 4 µs).
    @Test func timerTickArrivesOnTimeUnderRepeatedStringInstructions() throws {
        let result = try Self.runTicking(2, busy: true)
        let stamps = result.ticks.stamps
        try #require(stamps.count == 2, "ticks: \(stamps), \(result.run.outcome)")
        let programmed = try #require(result.run.records.first { $0.event["milestone"] == "pit" })
        let expected = Double(programmed.time) + Self.pitPeriod
        #expect(abs(Double(stamps[1].time) - expected) < 10_000,
                "tick at \(stamps[1].time) ns, expected \(Int(expected)) ns")
    }

    /// The trace records every HLT entry with its IF (design: "HLT entry/exit with IF") and
    /// `onHalt` is "called when a CPU enters HLT" — also when the CPU halts again after an
    /// interrupt woke it within one time slice, and for the final `cli; hlt`.
    @Test func everyHaltEntryIsReported() throws {
        let n = 6
        var onHaltCalls = 0
        let run = try TestBoard.run(payload: Self.tickingGuest(ticks: n)) { _ in } prepare: { machine in
            machine.onHalt = { _, _ in onHaltCalls += 1 }
        }
        #expect(run.outcome == .allHalted)
        let halts = run.records.named("halt")
        #expect(halts.count >= n + 1, "halt events: \(halts.map(\.line))")
        #expect(halts.last?.event["if"] == 0, "the final cli; hlt")
        #expect(onHaltCalls >= n + 1)
    }

    /// The RTC counts virtual time from power-on (2000-01-01 00:00:00): its seconds and minutes
    /// registers (BCD) match the virtual time at which the guest read them.
    @Test(arguments: [40, 1100])
    func rtcAdvancesWithVirtualTime(ticks: Int) throws {
        let result = try Self.runTicking(ticks)
        let stamps = result.clock.stamps
        try #require(stamps.count == 4)
        #expect(stamps[0].byte == 0x00 && stamps[1].byte == 0x00, "RTC at boot: \(stamps)")
        let seconds = Int(stamps[2].time / 1_000_000_000)
        #expect(seconds >= Int(Double(ticks) * Self.pitPeriod / 1e9))
        func bcd(_ v: Int) -> UInt8 { UInt8((v / 10) << 4 | (v % 10)) }
        #expect(stamps[2].byte == bcd(seconds % 60), "seconds after \(ticks) ticks at \(stamps[2].time) ns")
        #expect(stamps[3].byte == bcd(seconds / 60), "minutes after \(ticks) ticks at \(stamps[3].time) ns")
    }
}
