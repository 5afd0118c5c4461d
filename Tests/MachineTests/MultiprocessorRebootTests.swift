import Firmware
import Hardware
import Machine
import Testing

/// The `mp-windows-reboot` guest: Windows 7's multiprocessor reboot as a hypervisor author
/// traced it (design seed 000) — "Task Switch, Triple Fault (for n-1 CPUs) and halt (for the
/// n-th CPU). After this there should be an init on each one and then everything is reset."
@Suite struct MultiprocessorRebootTests {
    static let guest = ResetGuest.multiprocessorWindowsReboot

    /// The task switch into the NMI task: from the running task's TSS (18h) to the NMI task's
    /// (20h), through the IDT's task gate for vector 2.
    static func isNMITaskSwitch(_ record: TraceRecord) -> Bool {
        record.event.name == "task-switch" && record.event["from"] == 0x18 && record.event["to"] == 0x20
            && record.event["reason"] == "interrupt" && record.event["vector"] == 2
    }

    /// Per CPU, from the BSP's NMI IPI to the board's answer: each AP switches to its NMI task,
    /// its handler's stack overflow becomes #DF, #DF's task gate names a TSS too short to use
    /// (#TS) and the AP shuts down — #SS, #DF, #TS — and asks for the board's answer; the BSP
    /// only halts with interrupts off. Then one INIT reaches every CPU: the BSP restarts at
    /// F000:FFF0 and runs the firmware again, every AP waits for a start-up IPI, and the guest
    /// reports that it is back.
    @Test(arguments: [2, 4])
    func everyApplicationProcessorTripleFaultsThenTheBoardINITsEveryProcessor(processors: Int) throws {
        let run = try TestBoard.run(Self.guest) { $0.processorCount = processors }
        #expect(run.outcome == .allHalted)
        let records = run.records
        let aps = Array(1..<processors)

        let nmiIndex = try #require(records.firstIndex { $0.event.name == "ipi" && $0.event["mode"] == "nmi" })
        let nmi = records[nmiIndex].event
        #expect(nmi.cpu == 0 && nmi["destination"] == "all-but-self" && nmi["to"] == .numbers(aps.map(UInt64.init)))
        #expect(nmi["shorthand"] == "all-but-self" && nmi["vector"] == 0)
        let resets = records.named("reset")
        try #require(resets.count == 1, "resets: \(resets.map(\.line))")
        let resetIndex = try #require(records.firstIndex(of: "reset", from: nmiIndex))
        let story = Array(records[nmiIndex..<resetIndex])

        // The BSP: nothing but its halt with interrupts off.
        let bsp = story.filter { $0.event.cpu == 0 }
        #expect(bsp.map(\.event.name) == ["ipi", "halt"], "\(bsp.map(\.line))")
        #expect(bsp.last?.event["if"] == 0)

        // Each AP: the NMI from the BSP, the task switch, the double fault, the shutdown and
        // its shutdown cycle, in round-robin order, each AP's story complete before the next
        // one's begins.
        var previous = nmiIndex
        for ap in aps {
            var own = story.filter { $0.event.cpu == ap }
            #expect(own.map(\.event.name) == ["nmi", "task-switch", "double-fault", "shutdown", "reset-request"],
                    "CPU \(ap): \(own.map(\.line))")
            guard own.count == 5 else { continue }
            #expect(own[0].event["source"] == "ipi" && own[0].event["from"] == 0)
            own.removeFirst()
            #expect(Self.isNMITaskSwitch(own[0]), "\(own[0].line)")
            #expect(own[1].event["vector"] == 8)
            #expect(own[2].event["vector"] == .numbers([12, 8, 10]), "#SS, #DF, #TS: \(own[2].line)")
            #expect(own[3].event["source"] == .text(ResetSource.tripleFault.rawValue))
            let first = try #require(records.firstIndex { $0.event.cpu == ap && Self.isNMITaskSwitch($0) })
            #expect(first > previous)
            previous = first
        }
        #expect(records.filter(Self.isNMITaskSwitch).map(\.event.cpu) == aps, "only the APs take the NMI")

        // The board's answer, once, to the first shutdown cycle: INIT on every CPU.
        let reset = records[resetIndex].event
        #expect(reset["kind"] == .text(ResetKind.initSignal.rawValue))
        #expect(reset["cause"] == .text(ResetSource.tripleFault.rawValue))
        #expect(reset.cpu == 1)
        let after = records[(resetIndex + 1)...].prefix(processors)
        #expect(after.map(\.event.name) == ["cpu-start"] + aps.map { _ in "wait-for-sipi" })
        #expect(after.map(\.event.cpu) == Array(0..<processors).map { $0 })
        #expect(after.first?.event["cs"] == 0xF000 && after.first?.event["ip"] == 0xFFF0)

        // The firmware runs again from its reset vector; the guest sees its second boot and stops.
        let entries = records.firmwareEntries
        #expect(entries.count == 2 && entries.last! > resetIndex)
        #expect(run.machine.boots == 2)
        #expect(run.machine.cpus.dropFirst().allSatisfy { $0.activity == .waitingForStartup })
        #expect(run.machine.cpus[0].activity == .halted)
        // RAM kept across the INIT: the guest's counters of APs set up and of NMI handlers entered.
        #expect(run.machine.readMemory(UInt64(ResetGuest.readyCounter), count: 2) == [UInt8(aps.count), 0])
        #expect(run.machine.readMemory(UInt64(ResetGuest.nmiCounter), count: 2) == [UInt8(aps.count), 0])
        for ap in aps {
            #expect(run.serialText.contains("guest mp-windows-reboot: CPU \(ap) in protected mode"))
            #expect(run.serialText.contains("guest mp-windows-reboot: CPU \(ap) took the NMI in its NMI task"))
        }
        #expect(run.serialText.contains("application processors ready: \(aps.count); NMI to all excluding self"))
        #expect(run.serialText.contains(Self.guest.backLine))
        #expect(!run.serialText.contains(Self.guest.nothingLine))
    }

    /// With one processor there is no AP: the BSP sends the NMI to itself (APIC ID 0) and takes
    /// the same path, NMI task, #SS, #DF, #TS, shutdown, and the board's INIT.
    @Test func aLoneBootstrapProcessorTakesThePathItself() throws {
        let run = try TestBoard.run(Self.guest)
        #expect(run.outcome == .allHalted)
        let records = run.records
        let nmi = try #require(records.named("ipi").first { $0.event["mode"] == "nmi" })
        #expect(nmi.event["destination"] == "physical 0" && nmi.event["to"] == .numbers([0]))
        #expect(records.filter(Self.isNMITaskSwitch).map(\.event.cpu) == [0])
        #expect(records.named("shutdown").map { $0.event["vector"] } == [.numbers([12, 8, 10])])
        #expect(records.named("reset").map { $0.event["kind"] } == [.text(ResetKind.initSignal.rawValue)])
        #expect(run.serialText.contains("application processors ready: 0; NMI to itself"))
        #expect(run.serialText.contains(Self.guest.backLine))
    }

    /// On the `qemu` board every shutdown is answered with a platform reset; the story before
    /// it is the same, and every CPU comes back as after INIT.
    @Test func theQEMUBoardAnswersWithAPlatformReset() throws {
        let run = try TestBoard.run(Self.guest, board: .qemu) { $0.processorCount = 4 }
        #expect(run.outcome == .allHalted)
        let records = run.records
        #expect(records.named("shutdown").map(\.event.cpu) == [1, 2, 3])
        let resets = records.named("reset")
        #expect(resets.map { $0.event["kind"] } == [.text(ResetKind.hard.rawValue)])
        let resetIndex = try #require(records.firstIndex(of: "reset"))
        #expect(records[resetIndex...].filter { $0.event.name == "wait-for-sipi" }.map(\.event.cpu) == [1, 2, 3])
        #expect(records.lastIndex { $0.event.name == "shutdown" }! < resetIndex)
        #expect(run.serialText.contains(Self.guest.backLine))
    }

    /// The same run twice gives byte-identical traces, each CPU's instruction count included.
    @Test func theRebootIsDeterministic() throws {
        let first = try TestBoard.run(Self.guest) { $0.processorCount = 4 }
        let second = try TestBoard.run(Self.guest) { $0.processorCount = 4 }
        #expect(first.records.map(\.line) == second.records.map(\.line))
        #expect(first.machine.cpus.map(\.instructionsRetired) == second.machine.cpus.map(\.instructionsRetired))
        #expect(first.serialText == second.serialText)
    }
}
