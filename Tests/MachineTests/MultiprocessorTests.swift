import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// Several processors (`--smp N`): one bootstrap processor, application processors that wait
/// for a start-up IPI at no cost, round-robin slices on one shared clock, and the local APICs'
/// INIT and start-up IPIs between them.
@Suite struct MultiprocessorTests {
    /// A reset story with four processors reads as with one for the BSP, and every AP is
    /// parked waiting for a start-up IPI at power-on and again after the board's INIT; the
    /// firmware's count is all they run (a check-in of 11 instructions per boot).
    @Test func applicationProcessorsWaitForStartupAcrossResets() throws {
        let guest = ResetGuest.tripleFault
        let single = try TestBoard.run(guest)
        let run = try TestBoard.run(guest) { $0.processorCount = 4 }
        #expect(run.outcome == single.outcome && run.serialText == single.serialText)
        #expect(run.machine.cpus.count == 4 && run.machine.boots == 2)
        let waits = run.records.named("wait-for-sipi").map(\.event.cpu)
        #expect(waits == [1, 2, 3, 1, 2, 3], "at power-on and after the INIT")
        for ap in run.machine.cpus.dropFirst() {
            #expect(ap.activity == .waitingForStartup && ap.instructionsRetired == 2 * 11)
        }
    }

    /// CPU 0 is the bootstrap processor (IA32_APIC_BASE.BSP, which the CPU tests check), the
    /// others application processors; 1 to 64 processors.
    @Test func onlyTheFirstProcessorIsTheBootstrapProcessor() throws {
        let machine = try Machine(TestBoard.configuration(payload: [0xF4]).with { $0.processorCount = 3 })
        #expect(machine.cpus.map(\.isBootstrapProcessor) == [true, false, false])
        #expect(throws: MachineError.processorCountOutOfRange(65)) {
            try Machine(TestBoard.configuration(payload: [0xF4]).with { $0.processorCount = 65 })
        }
    }

    /// Two processors run in turn on shared memory: an AP started at 9000:0000 counts in a
    /// word the BSP's payload waits on, then the BSP reports through the exit port. The same
    /// run twice gives the same trace and instruction counts.
    @Test func processorsTakeTurnsOnSharedMemoryDeterministically() throws {
        func once() throws -> GuestRun {
            let payload = try SmallGuest.assemble { a in
                let wait = a.newLabel()
                a.emitUnrealMode([.fs])                   // the firmware parked the AP: start it
                a.mov(Mem(disp: 0xFEE0_0300, size: .dword, segment: .fs), 0x000C_4690)
                a.mov(.ax, 0x8000)
                a.mov(.ds, .ax)
                a.bind(wait)
                a.cmp(Mem(disp: 0, size: .word), 50_000)
                a.jcc(.b, wait)
                a.mov(.al, 0x05)
                a.out(0xF4, .al)
            }
            var counter = Assembler(bits: .b16, origin: 0)
            let loop = counter.newLabel()
            counter.mov(.ax, 0x8000)
            counter.mov(.ds, .ax)
            counter.bind(loop)
            counter.inc(Mem(disp: 0, size: .word))
            counter.jmp(loop)
            let apCode = try counter.finish()
            return try TestBoard.run(payload: payload, configure: {
                $0.processorCount = 2
                $0.exitPort = 0xF4
            }, prepare: { machine in
                machine.writeMemory(apCode, at: 0x9_0000)
            })
        }
        let first = try once(), second = try once()
        #expect(first.outcome == .exitRequested(status: 11))
        #expect(first.machine.cpus[1].instructionsRetired > 100_000, "the AP ran its loop")
        #expect(first.machine.cpus[0].instructionsRetired > 50_000, "the BSP ran its firmware and its wait")
        #expect(first.machine.cpus.map(\.instructionsRetired) == second.machine.cpus.map(\.instructionsRetired))
        #expect(first.records.map { EventTrace.humanLine($0) } == second.records.map { EventTrace.humanLine($0) })
    }

    /// The MP specification's start-up from the bootstrap processor, through its local APIC's
    /// ICR at FEE00300h in flat protected mode: INIT, SIPI, SIPI to all excluding self. Each
    /// AP starts in real mode at 9000:0000, counts itself in with LOCK INC and halts; the BSP
    /// waits for the count and reports it through the exit port. The second SIPI finds the
    /// APs running (the BSP waits in between, as the specification says) and is ignored.
    @Test func startupIPIsWakeEveryApplicationProcessor() throws {
        let payload = try SmallGuest.assemble { a in
            let gdt = a.newLabel("gdt"), gdtr = a.newLabel("gdtr"), wait = a.newLabel("wait")
            a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: 0x08, dataSelector: 0x10)
            a.mov(Mem(disp: 0xFEE0_0310, size: .dword), 0)
            for command in [0x000C_4500, 0x000C_4690, 0x000C_4690] {    // INIT, SIPI 90h, SIPI 90h
                a.mov(Mem(disp: 0xFEE0_0300, size: .dword), command)
                // The specification's delays (10 ms, 200 µs) as a busy loop longer than a quantum.
                let delay = a.newLabel()
                a.mov(.ecx, 30_000)
                a.bind(delay)
                a.loop(delay)
            }
            a.bind(wait)
            a.cmp(Mem(disp: 0x8_0000, size: .word), 3)
            a.jcc(.b, wait)
            a.mov(.al, Mem(disp: 0x8_0000, size: .byte))
            a.out(0xF4, .al)
            a.emitFlatGDT(gdt: gdt, gdtr: gdtr)
        }
        var ap = Assembler(bits: .b16, origin: 0)
        let park = ap.newLabel()
        ap.mov(.ax, 0x8000)
        ap.mov(.ds, .ax)
        ap.lock()
        ap.inc(Mem(disp: 0, size: .word))
        ap.bind(park)
        ap.cli()
        ap.hlt()
        ap.jmpShort(park)
        let apCode = try ap.finish()
        let run = try TestBoard.run(payload: payload, configure: {
            $0.processorCount = 4
            $0.exitPort = 0xF4
        }, prepare: { $0.writeMemory(apCode, at: 0x9_0000) })
        #expect(run.outcome == .exitRequested(status: 7), "three APs counted in")
        let guestRecords = run.records.firstGuestRecords
        let ipis = guestRecords.filter { $0.event.name == "ipi" }
        #expect(ipis.count == 3 && ipis.allSatisfy { $0.event.cpu == 0 && $0.event["to"] == .numbers([1, 2, 3]) })
        #expect(guestRecords.filter { $0.event.name == "init" }.map(\.event.cpu) == [1, 2, 3])
        #expect(guestRecords.filter { $0.event.name == "sipi" }.map(\.event.cpu) == [1, 2, 3], "the second SIPI is ignored")
        for ap in run.machine.cpus.dropFirst() { #expect(ap.activity == .halted) }
    }

    /// The `mp-startup` guest of `demo --smp 4`: INIT, SIPI, SIPI; each AP reports under a
    /// lock and halts; the BSP counts them and resets through 0xCF9; after the reset every AP
    /// waits for a start-up IPI again and the guest is back.
    @Test func multiprocessorStartupGuestResetsEveryProcessor() throws {
        let guest = ResetGuest.multiprocessorStartup
        let run = try TestBoard.run(guest) { $0.processorCount = 4 }
        #expect(run.outcome == .allHalted)
        for n in 1...3 { #expect(run.serialText.contains("guest mp-startup: application processor \(n) up")) }
        #expect(run.serialText.contains("guest mp-startup: 3 application processors started"))
        #expect(run.serialText.contains(guest.backLine))
        let records = run.records
        let guestRecords = records.firstGuestRecords
        #expect(guestRecords.filter { $0.event.name == "ipi" }.map { $0.event["mode"] } == ["init", "startup", "startup"])
        #expect(guestRecords.filter { $0.event.name == "sipi" }.map(\.event.cpu) == [1, 2, 3],
                "the second SIPI finds them running")
        let resetIndex = try #require(records.firstIndex(of: "reset"))
        #expect(records[resetIndex].event["kind"] == .text(ResetKind.hard.rawValue))
        #expect(records[resetIndex...].filter { $0.event.name == "wait-for-sipi" }.map(\.event.cpu) == [1, 2, 3])
        for ap in run.machine.cpus.dropFirst() { #expect(ap.activity == .waitingForStartup) }
    }

    /// `mp-ap-reset`: an application processor resets the machine through 0xCF9 while the BSP
    /// waits; the reset request names that CPU, and the board's hard reset brings every CPU back.
    @Test func anApplicationProcessorResetsTheMachine() throws {
        let guest = ResetGuest.multiprocessorAPReset
        let run = try TestBoard.run(guest) { $0.processorCount = 3 }
        #expect(run.outcome == .allHalted)
        let request = try #require(run.records.named("reset-request").first)
        #expect(request.event.cpu == 1 && request.event["source"] == .text(ResetSource.cf9.rawValue))
        #expect(run.serialText.contains("guest mp-ap-reset: application processor 1 up"))
        #expect(!run.serialText.contains("none reset the machine"))
        #expect(run.serialText.contains(guest.backLine))
        #expect(run.machine.cpus.dropFirst().allSatisfy { $0.activity == .waitingForStartup })
    }

    /// An NMI sent to application processors that wait for a start-up IPI cannot be taken
    /// there (a waiting processor takes only INIT and SIPI), so it gives them nothing to do:
    /// when the BSP then triple-faults on a board that ignores shutdown, every CPU waits and
    /// the run ends at once, rather than spinning forever on processors that cannot run.
    @Test func nmiToWaitingProcessorsLeavesThemIdle() throws {
        let payload = try SmallGuest.assemble { a in
            let gdt = a.newLabel("gdt"), gdtr = a.newLabel("gdtr"), emptyIDTR = a.newLabel("emptyIDTR")
            a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: 0x08, dataSelector: 0x10)
            a.mov(Mem(disp: 0xFEE0_0310, size: .dword), 0)
            a.mov(Mem(disp: 0xFEE0_0300, size: .dword), 0x000C_4400)    // NMI to all excluding self
            a.lidt(Mem(label: emptyIDTR))
            a.int3()                                                      // #GP, #GP, #DF, #GP: shutdown
            a.emitFlatGDT(gdt: gdt, gdtr: gdtr)
            a.bind(emptyIDTR)
            a.dw(0)
            a.dd(0)
        }
        let run = try TestBoard.run(payload: payload, configure: {
            $0.processorCount = 3
            $0.quirks = [.shutdownIgnored]
        })
        #expect(run.outcome == .allHalted, "\(run.outcome)")
        #expect(run.records.firstGuestRecords.first { $0.event.name == "ipi" }?.event["mode"] == "nmi")
        #expect(run.records.firstGuestRecords.filter { $0.event.name == "nmi" }.map(\.event.cpu) == [1, 2])
        #expect(run.records.named("shutdown").map(\.event.cpu) == [0])
        for ap in run.machine.cpus.dropFirst() {
            // The firmware's count is all they ran (a check-in of 11 instructions).
            #expect(ap.activity == .waitingForStartup && !ap.canMakeProgress && ap.instructionsRetired == 11)
        }
    }

    /// An IPI storm: every CPU writes pseudo-random destinations and commands to its ICR as
    /// fast as it can — fixed, lowest-priority, NMI, INIT and start-up IPIs to random targets and
    /// shorthands, legal vectors or not — so processors are INITed, restarted on random pages
    /// and interrupted without end. The process survives and `--max-instructions` ends the run.
    @Test func anIPIStormEndsAtTheInstructionLimit() throws {
        let stormBase: UInt64 = 0x9_0000, gdtBase: UInt64 = 0x8F00
        var storm = Assembler(bits: .b16, origin: 0)
        let loop = storm.newLabel()
        storm.cli()
        storm.xor(.ax, .ax)
        storm.mov(.ds, .ax)
        storm.lgdt(Mem(disp: Int(gdtBase) + 0x18))
        storm.mov(.eax, .cr0)
        storm.or(.al, 1)
        storm.mov(.cr0, .eax)                             // unreal mode: DS reaches FEE00000h
        storm.mov(.bx, 0x10)
        storm.mov(.ds, .bx)
        storm.and(.al, 0xFE)
        storm.mov(.cr0, .eax)
        storm.rdtsc()
        storm.mov(.esi, .eax)
        storm.or(.esi, 1)
        storm.bind(loop)
        for shift in [13, -17, 5] {                       // xorshift32
            storm.mov(.eax, .esi)
            if shift > 0 { storm.shl(.eax, .immediate(UInt8(shift))) } else { storm.shr(.eax, .immediate(UInt8(-shift))) }
            storm.xor(.esi, .eax)
        }
        storm.mov(.eax, .esi)
        storm.mov(Mem(disp: 0xFEE0_0310, size: .dword), .eax)
        storm.and(.eax, 0x000C_CFFF)                      // shorthand, level, trigger, mode, vector
        storm.mov(Mem(disp: 0xFEE0_0300, size: .dword), .eax)
        storm.jmp(loop)
        let stormCode = try storm.finish()
        var gdt = [UInt8](repeating: 0, count: 8)
        gdt += [0xFF, 0xFF, 0, 0, 0, 0x9A, 0xCF, 0]      // 08h: flat code
        gdt += [0xFF, 0xFF, 0, 0, 0, 0x92, 0xCF, 0]      // 10h: flat data
        gdt += [0x17, 0, UInt8(gdtBase & 0xFF), UInt8(gdtBase >> 8), 0, 0]   // the GDTR image at +18h
        let payload = try SmallGuest.assemble { a in a.jmpFar(segment: UInt16(stormBase >> 4), offset: 0) }
        let run = try TestBoard.run(payload: payload, configure: {
            $0.processorCount = 4
            $0.maxInstructions = 3_000_000
        }, prepare: { machine in
            machine.writeMemory(stormCode, at: stormBase)
            machine.writeMemory(gdt, at: gdtBase)
            for ap in machine.cpus.dropFirst() { ap.signalStartup(vector: UInt8(stormBase >> 12)) }
        })
        #expect(run.outcome == .instructionLimit)
        #expect(run.records.named("ipi").count > 1_000, "\(run.records.named("ipi").count) IPIs")
        #expect(run.records.named("init").count > 10 && run.records.named("sipi").count > 10)
    }
}

extension MachineConfiguration {
    /// This configuration changed by `change`.
    func with(_ change: (inout MachineConfiguration) -> Void) -> MachineConfiguration {
        var copy = self
        change(&copy)
        return copy
    }
}
