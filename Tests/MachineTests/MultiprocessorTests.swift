import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// Several processors (`--smp N`): one bootstrap processor, application processors that wait
/// for a start-up IPI at no cost, round-robin slices on one shared clock. (The local APIC,
/// which will send the IPIs, is not wired yet; tests start an AP through the CPU's own input.)
@Suite struct MultiprocessorTests {
    /// A reset story with four processors reads as with one for the BSP, and every AP is
    /// parked waiting for a start-up IPI at power-on and again after the board's INIT.
    @Test func applicationProcessorsWaitForStartupAcrossResets() throws {
        let guest = ResetGuest.tripleFault
        let single = try TestBoard.run(guest)
        let run = try TestBoard.run(guest) { $0.processorCount = 4 }
        #expect(run.outcome == single.outcome && run.serialText == single.serialText)
        #expect(run.machine.cpus.count == 4 && run.machine.boots == 2)
        let waits = run.records.named("wait-for-sipi").map(\.event.cpu)
        #expect(waits == [1, 2, 3, 1, 2, 3], "at power-on and after the INIT")
        for ap in run.machine.cpus.dropFirst() {
            #expect(ap.activity == .waitingForStartup && ap.instructionsRetired == 0)
        }
        #expect(run.machine.instructionCount == single.machine.instructionCount, "parked processors cost nothing")
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
                machine.cpus[1].signalStartup(vector: 0x90)
            })
        }
        let first = try once(), second = try once()
        #expect(first.outcome == .exitRequested(status: 11))
        #expect(first.machine.cpus[1].instructionsRetired > 100_000, "the AP ran its loop")
        #expect(first.machine.cpus[0].instructionsRetired > 50_000, "the BSP ran its firmware and its wait")
        #expect(first.machine.cpus.map(\.instructionsRetired) == second.machine.cpus.map(\.instructionsRetired))
        #expect(first.records.map { EventTrace.humanLine($0) } == second.records.map { EventTrace.humanLine($0) })
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
