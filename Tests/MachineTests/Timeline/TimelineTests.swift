import Firmware
import Hardware
import Machine
import Testing

/// The timeline of `mp-windows-reboot` on four processors: the BSP starts the APs (INIT, SIPI),
/// sends them an NMI and halts; each AP's NMI task overflows its stack, #DF's task gate fails
/// (#TS) and the AP shuts down and asks for a reset; the board answers with INIT once, the BSP
/// restarts at F000:FFF0 and the APs wait for a start-up IPI again.
@Suite struct TimelineTests {
    /// One run of the guest, shared by the timeline, SVG and Chrome tests.
    static let records: [TraceRecord] = {
        do {
            return try TestBoard.run(.multiprocessorWindowsReboot) { $0.processorCount = 4 }.records
        } catch {
            Issue.record("mp-windows-reboot did not run: \(error)")
            return []
        }
    }()

    static var timeline: Timeline { Timeline(records: records) }

    /// The virtual time of the board's answer, read from the records themselves.
    static var resetTime: UInt64? { records.first { $0.event.name == "reset" }?.time }

    @Test func oneLanePerProcessorAndOneForTheBoard() {
        let timeline = Self.timeline
        #expect(timeline.cpuCount == 4)
        #expect(timeline.lanes == [.board, .cpu(0), .cpu(1), .cpu(2), .cpu(3)])
        #expect(timeline.start == 0 && timeline.end == Self.records.last?.time)
    }

    @Test func theBSPsMessagesAreArrowsToEachApplicationProcessor() throws {
        let arrows = Self.timeline.arrows
        for mode in ["init", "startup", "nmi"] {
            for ap in 1...3 {
                #expect(arrows.contains { $0.kind == .interrupt(mode: mode) && $0.from == .cpu(0) && $0.to == .cpu(ap) && $0.accepted },
                        "no taken \(mode) arrow from CPU 0 to CPU \(ap)")
            }
        }
        let nmi = try #require(arrows.first { $0.kind == .interrupt(mode: "nmi") })
        #expect(nmi.label == "NMI (all-but-self)")
        #expect(arrows.contains { $0.label == "SIPI 08h (all-but-self)" })
        // The guest's second start-up IPI reaches APs that already run: no CPU takes it.
        #expect(arrows.contains { $0.kind == .interrupt(mode: "startup") && !$0.accepted })
    }

    @Test func eachApplicationProcessorsShutdownChainAndRequestAreMarked() throws {
        let timeline = Self.timeline
        for ap in 1...3 {
            let own = timeline.markers.filter { $0.lane == .cpu(ap) }
            let kinds = own.map(\.kind)
            let taskSwitch = try #require(kinds.firstIndex(of: .taskSwitch), "CPU \(ap)")
            #expect(Array(kinds[taskSwitch...].prefix(4)) == [.taskSwitch, .exception, .shutdown, .resetRequest], "CPU \(ap): \(kinds)")
            #expect(own[taskSwitch].label == "task 18h → 20h")
            #expect(own.contains { $0.kind == .shutdown && $0.label == "triple fault: #SS → #DF → #TS" })
            #expect(own.contains { $0.kind == .resetRequest && $0.label == "reset request: triple-fault" })
            // Shutdown lasts until the board answers.
            let shutdown = try #require(timeline.spans.first { $0.lane == .cpu(ap) && $0.kind == .shutdown })
            #expect(shutdown.end == Self.resetTime)
        }
        let bspHalt = try #require(timeline.spans.first { $0.lane == .cpu(0) && $0.kind == .halted(interruptsEnabled: false) && $0.end == Self.resetTime })
        #expect(bspHalt.start < bspHalt.end)
    }

    @Test func theBoardAnswersOnceAndEveryProcessorRestarts() throws {
        let timeline = Self.timeline
        let resetTime = try #require(Self.resetTime)
        let answers = timeline.markers.filter { $0.kind == .boardAnswer }
        #expect(answers.map(\.label) == ["board: INIT reset (triple-fault)"])
        #expect(answers.first?.lane == .board && answers.first?.time == resetTime)
        let requests = timeline.arrows.filter { $0.kind == .answer }
        #expect(requests.map(\.from) == [.cpu(1), .cpu(2), .cpu(3)] && requests.allSatisfy { $0.to == .board && $0.arrival == resetTime })
        let restarts = timeline.markers.filter { $0.time == resetTime && ($0.kind == .start || $0.kind == .waitForStartup) }
        #expect(restarts.map(\.lane) == [.cpu(0), .cpu(1), .cpu(2), .cpu(3)])
        #expect(restarts.first?.label == "restart at F000:FFF0")
        #expect(timeline.spans.contains { $0.lane == .cpu(0) && $0.start == resetTime && $0.kind == .mode(.real) })
        for ap in 1...3 {
            #expect(timeline.spans.contains { $0.lane == .cpu(ap) && $0.start == resetTime && $0.kind == .waitingForStartup })
        }
    }

    @Test func onQEMUsBoardTheAnswerIsAHardReset() throws {
        let run = try TestBoard.run(.multiprocessorWindowsReboot, board: .qemu) { $0.processorCount = 2 }
        let timeline = Timeline(records: run.records)
        #expect(timeline.markers.filter { $0.kind == .boardAnswer }.map(\.label) == ["board: hard reset (triple-fault)"])
        #expect(timeline.arrows.filter { $0.kind == .answer }.map(\.from) == [.cpu(1)])
    }

    @Test func modeBandsFollowTheControlRegisters() throws {
        let spans = Self.timeline.spans.filter { $0.isBand && $0.lane == .cpu(1) }
        // Each AP: waiting, then real mode after its SIPI, protected mode after MOV CR0.
        let kinds = spans.map(\.kind)
        let protected = try #require(kinds.firstIndex(of: .mode(.protected)))
        #expect(protected > 0 && kinds[protected - 1] == .mode(.real) && kinds[protected + 1] == .shutdown, "\(kinds)")
        // Bands follow one another without gaps or overlaps.
        for (earlier, later) in zip(spans, spans.dropFirst()) { #expect(earlier.end == later.start) }
    }

    @Test func noiseIsFolded() {
        let timeline = Self.timeline
        let firmware = timeline.spans.filter { if case .firmware = $0.kind { true } else { false } }
        #expect(!firmware.isEmpty)
        let steps = firmware.flatMap { span -> [String] in if case .firmware(let steps) = span.kind { steps } else { [] } }
        let folded = Self.records.filter { $0.event.name == "firmware" || $0.event.name == "post" }.count
        #expect(steps.count == folded)
        #expect(!timeline.markers.contains { $0.detail.contains(" post ") || $0.detail.contains(" firmware ") })
    }

    @Test func aTraceReadBackFromJSONLinesGivesTheSameTimeline() throws {
        let text = Self.records.map(EventTrace.jsonLine).joined(separator: "\n") + "\n"
        let parsed = try TraceFile.records(parsing: Array(text.utf8))
        #expect(parsed == Self.records)
        #expect(Timeline(records: parsed) == Self.timeline)
    }

    @Test func unknownEventsAreGenericMarkers() throws {
        let text = """
            {"t":0,"icount":0,"cpu":0,"event":"cpu-start","cs":61440,"ip":65520}
            {"t":5,"icount":5,"cpu":0,"event":"frobnicate","level":3,"why":"test"}
            {"t":9,"icount":9,"cpu":null,"event":"lightning"}
            """
        let timeline = Timeline(records: try TraceFile.records(parsing: Array(text.utf8)))
        let others = timeline.markers.filter { $0.kind == .other }
        #expect(others.map(\.label) == ["frobnicate (level=3, why=test)", "lightning"])
        #expect(others.map(\.lane) == [.cpu(0), .board])
    }

    @Test func aTimerFiringWakesACPUHaltedWithInterruptsEnabled() throws {
        let text = """
            {"t":0,"icount":0,"cpu":0,"event":"cpu-start","cs":61440,"ip":65520}
            {"t":10,"icount":10,"cpu":0,"event":"apic-timer","state":"armed","mode":"periodic","deadline":1000}
            {"t":11,"icount":11,"cpu":0,"event":"halt","if":1}
            {"t":1000,"icount":11,"cpu":0,"event":"apic-timer","state":"fired","vector":64}
            {"t":1005,"icount":16,"cpu":0,"event":"halt","if":0}
            {"t":2000,"icount":16,"cpu":0,"event":"apic-timer","state":"fired","vector":64}
            """
        let spans = Timeline(records: try TraceFile.records(parsing: Array(text.utf8))).spans
        #expect(spans.contains { $0.kind == .halted(interruptsEnabled: true) && $0.start == 11 && $0.end == 1000 })
        // With interrupts off, only the end of the trace ends the halt.
        #expect(spans.contains { $0.kind == .halted(interruptsEnabled: false) && $0.start == 1005 && $0.end == 2000 })
        #expect(spans.contains { $0.kind == .timer(armed: 1, fired: 2) && $0.start == 10 && $0.end == 2000 })
    }
}

/// A file with several machines, as `resetvector demo --trace-json` writes (one per guest,
/// each from time 0): drawn one after another.
@Suite struct SeveralMachinesTimelineTests {
    @Test func eachMachineFollowsTheLastOne() throws {
        var records: [TraceRecord] = []
        for guest in [ResetGuest.port92, .multiprocessorStartup] {
            let run = try TestBoard.run(guest) {
                $0.processorCount = 2
                $0.label = guest.rawValue
            }
            records += run.records
        }
        let firstEnd = try #require(records.firstIndex { $0.event.name == "power-on" && $0.time == 0 && $0.event["label"] == "mp-startup" })
        let timeline = Timeline(records: records)
        let powerOns = timeline.markers.filter { $0.kind == .powerOn }
        #expect(powerOns.map(\.label) == ["power on (label=port92, board=pc)", "power on (label=mp-startup, board=pc)"])
        #expect(powerOns.last?.time == records[firstEnd - 1].time, "the second machine starts where the first one ended")
        #expect(timeline.end == records[firstEnd - 1].time + records.last!.time)
        for span in timeline.spans { #expect(span.start <= span.end, "\(span)") }
        // The first machine's lanes end at the second one's power-on; its CPUs start afresh.
        let secondStart = try #require(powerOns.last?.time)
        #expect(timeline.spans.filter { $0.lane == .cpu(1) && $0.isBand && $0.start < secondStart }.allSatisfy { $0.end <= secondStart })
        #expect(timeline.markers.filter { $0.kind == .start && $0.time == secondStart }.map(\.label) == ["start at F000:FFF0"])
        // Both writers take it.
        #expect(!TimelineSVG(timeline).render().isEmpty && !ChromeTrace(timeline).render().isEmpty)
    }
}
