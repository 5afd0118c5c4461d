import Hardware

extension Timeline {
    /// The timeline of a trace: each record is read in order and changes its lane's state or
    /// adds a marker or arrows. Noise is folded: the firmware's milestones and POST codes
    /// become one span per stretch, local APIC timer events one counting span per mode band.
    /// Events this model does not know are kept as generic markers.
    ///
    /// A trace of several machines one after another (`resetvector demo` writes one per
    /// guest, each starting again at time 0) is drawn as one machine after the other: where
    /// time goes back, the records that follow are moved to start where the previous ones
    /// ended, so times count from the first record.
    public init(records: [TraceRecord]) {
        var builder = TimelineBuilder(start: records.first?.time ?? 0)
        var offset: UInt64 = 0
        var previous = records.first?.time ?? 0
        for record in records {
            if record.time < previous { offset = offset &+ previous &- record.time }
            previous = record.time
            builder.add(TraceRecord(time: record.time &+ offset, instructionCount: record.instructionCount, event: record.event))
        }
        self = builder.finish(at: (records.last?.time ?? 0) &+ offset)
    }
}

/// The state of every lane while the records are read.
private struct TimelineBuilder {
    private struct OpenSpan {
        var start: UInt64
        var last: UInt64
        var kind: TimelineSpan.Kind
    }

    private struct LaneState {
        var band: OpenSpan?
        var halt: OpenSpan?
        var firmware: OpenSpan?
        var timer: OpenSpan?
        var started = false
    }

    private var timeline: Timeline
    private var lanes: [TimelineLane: LaneState] = [:]
    /// Reset requests waiting for the board's answer: the requester's lane and time.
    private var pendingRequests: [(lane: TimelineLane, time: UInt64)] = []

    init(start: UInt64) {
        timeline = Timeline(cpuCount: 0, start: start, end: start, spans: [], markers: [], arrows: [])
    }

    mutating func add(_ record: TraceRecord) {
        let event = record.event
        let time = record.time
        let lane = event.cpu.map(TimelineLane.cpu) ?? .board
        if let cpu = event.cpu { timeline.cpuCount = max(timeline.cpuCount, cpu + 1) }
        switch event.name {
        case "post":
            extendFirmware(on: lane, at: time, step: "post " + hex(event["value"]))
            return
        case "firmware":
            extendFirmware(on: lane, at: time, step: text(event["milestone"]))
            return
        case "apic-timer":
            countTimer(on: lane, at: time, fired: event["state"] == "fired")
            return
        case "wake":
            // An interrupt or NMI ended a halt: the halt's span ends here, with no marker.
            closeHalt(on: lane, at: time)
            return
        default:
            break
        }
        // Any other event on a CPU's lane means it is not (or no longer) halted.
        closeHalt(on: lane, at: time)
        switch event.name {
        case "power-on":
            // A new machine: whatever the last one was doing ends here.
            endEveryLane(at: time)
            lanes = [:]
            setBand(.powered, on: .board, at: time)
            mark(.board, .powerOn, "power on" + describe(event, ["label", "board"]), record)
        case "cpu-start":
            let restart = lanes[lane]?.started == true
            setBand(.mode(.real), on: lane, at: time)
            lanes[lane, default: LaneState()].started = true
            mark(lane, .start, "\(restart ? "restart" : "start") at \(address(event))", record)
        case "wait-for-sipi":
            setBand(.waitingForStartup, on: lane, at: time)
            mark(lane, .waitForStartup, "wait for SIPI", record)
        case "init":
            setBand(.waitingForStartup, on: lane, at: time)
            if !acceptArrow(to: lane, at: time, mode: "init") { mark(lane, .interrupt, "INIT", record) }
        case "sipi":
            setBand(.mode(.real), on: lane, at: time)
            if !acceptArrow(to: lane, at: time, mode: "startup") { mark(lane, .interrupt, "SIPI " + hex(event["vector"]), record) }
        case "nmi":
            if !acceptArrow(to: lane, at: time, mode: "nmi") { mark(lane, .interrupt, "NMI (\(text(event["source"])))", record) }
        case "ipi":
            addInterrupts(from: lane, record)
        case "nmi-line":
            addInterrupts(from: .board, record)
        case "mode":
            setBand(.mode(ProcessorMode(pe: event["pe"] == 1, pg: event["pg"] == 1, lma: event["lma"] == 1)), on: lane, at: time)
        case "halt":
            lanes[lane, default: LaneState()].halt = OpenSpan(start: time, last: time, kind: .halted(interruptsEnabled: event["if"] == 1))
        case "task-switch":
            mark(lane, .taskSwitch, "task \(hex(event["from"])) → \(hex(event["to"]))", record)
        case "double-fault":
            mark(lane, .exception, "#DF", record)
        case "shutdown":
            setBand(.shutdown, on: lane, at: time)
            mark(lane, .shutdown, "triple fault: " + exceptionChain(event["vector"]), record)
        case "reset-request":
            var label = "reset request: " + text(event["source"])
            if case .number(let port)? = event["port"], case .number(let value)? = event["value"] {
                label += " (\(hex(.number(port))) ← \(hex(.number(value))))"
            }
            pendingRequests.append((lane, time))
            mark(lane, .resetRequest, label, record)
        case "reset":
            answerRequests(at: time)
            // `board: INIT reset (triple-fault)`, `board: hard reset (cf9)`.
            let kind = event["kind"] == "init" ? "INIT" : text(event["kind"])
            mark(.board, .boardAnswer, "board: \(kind) reset (\(text(event["cause"])))", record)
        case "power-off":
            answerRequests(at: time)
            endEveryLane(at: time)
            mark(.board, .powerOff, "power off" + describe(event, ["cause"]), record)
        default:
            mark(lane, .other, event.name + describe(event, event.fields.map(\.0).prefix(3)), record)
        }
    }

    mutating func finish(at end: UInt64) -> Timeline {
        timeline.end = max(end, timeline.start)
        endEveryLane(at: timeline.end)
        timeline.spans.sort { ($0.start, $0.lane, $0.isBand ? 0 : 1) < ($1.start, $1.lane, $1.isBand ? 0 : 1) }
        return timeline
    }

    // MARK: Lanes

    private mutating func setBand(_ kind: TimelineSpan.Kind, on lane: TimelineLane, at time: UInt64) {
        if lanes[lane]?.band?.kind == kind { return }
        closeBand(on: lane, at: time)
        lanes[lane, default: LaneState()].band = OpenSpan(start: time, last: time, kind: kind)
    }

    /// Ends the lane's band, and the counting spans that belong to it.
    private mutating func closeBand(on lane: TimelineLane, at time: UInt64) {
        if let band = lanes[lane]?.band {
            timeline.spans.append(TimelineSpan(lane: lane, start: band.start, end: time, kind: band.kind))
            lanes[lane]?.band = nil
        }
        for keyPath in [\LaneState.firmware, \LaneState.timer] {
            if let open = lanes[lane]?[keyPath: keyPath] {
                timeline.spans.append(TimelineSpan(lane: lane, start: open.start, end: open.last, kind: open.kind))
                lanes[lane]?[keyPath: keyPath] = nil
            }
        }
    }

    private mutating func endEveryLane(at time: UInt64) {
        for lane in lanes.keys {
            closeHalt(on: lane, at: time)
            closeBand(on: lane, at: time)
        }
        pendingRequests.removeAll()
    }

    private mutating func closeHalt(on lane: TimelineLane, at time: UInt64) {
        guard let halt = lanes[lane]?.halt else { return }
        timeline.spans.append(TimelineSpan(lane: lane, start: halt.start, end: time, kind: halt.kind))
        lanes[lane]?.halt = nil
    }

    private mutating func extendFirmware(on lane: TimelineLane, at time: UInt64, step: String) {
        var open = lanes[lane]?.firmware ?? OpenSpan(start: time, last: time, kind: .firmware(steps: []))
        if case .firmware(let steps) = open.kind { open.kind = .firmware(steps: steps + [step]) }
        open.last = time
        lanes[lane, default: LaneState()].firmware = open
    }

    private mutating func countTimer(on lane: TimelineLane, at time: UInt64, fired: Bool) {
        // A timer interrupt wakes a CPU halted with interrupts enabled.
        if fired, case .halted(interruptsEnabled: true)? = lanes[lane]?.halt?.kind { closeHalt(on: lane, at: time) }
        var open = lanes[lane]?.timer ?? OpenSpan(start: time, last: time, kind: .timer(armed: 0, fired: 0))
        if case .timer(let armed, let firedCount) = open.kind {
            open.kind = fired ? .timer(armed: armed, fired: firedCount + 1) : .timer(armed: armed + 1, fired: firedCount)
        }
        open.last = time
        lanes[lane, default: LaneState()].timer = open
    }

    // MARK: Markers and arrows

    private mutating func mark(_ lane: TimelineLane, _ kind: TimelineMarker.Kind, _ label: String, _ record: TraceRecord) {
        timeline.markers.append(TimelineMarker(lane: lane, time: record.time, kind: kind, label: label,
                                               detail: EventTrace.humanLine(record)))
    }

    /// One arrow per CPU the message addressed (`to`), from the sender's lane.
    private mutating func addInterrupts(from lane: TimelineLane, _ record: TraceRecord) {
        let event = record.event
        let time = record.time
        let mode = event.name == "nmi-line" ? "nmi" : text(event["mode"])
        var label = switch mode {
        case "init": "INIT"
        case "startup": "SIPI " + hex(event["vector"])
        case "nmi": event.name == "nmi-line" ? "NMI line (\(text(event["cause"])))" : "NMI"
        default: "\(mode) \(hex(event["vector"]))"
        }
        if case .text(let shorthand)? = event["shorthand"], shorthand != "none" { label += " (\(shorthand))" }
        guard case .numbers(let targets)? = event["to"] else {
            mark(lane, .other, label, record)
            return
        }
        // INIT, start-up and NMI messages are traced again by the CPU that takes them.
        let confirmed = ["init", "startup", "nmi"].contains(mode)
        for target in targets where target <= UInt64(Int.max) {
            timeline.cpuCount = max(timeline.cpuCount, Int(target) + 1)
            timeline.arrows.append(TimelineArrow(kind: .interrupt(mode: mode), from: lane, to: .cpu(Int(target)),
                                                 time: time, arrival: time, label: label, accepted: !confirmed))
        }
    }

    /// Marks the latest arrow of `mode` sent to `lane` at `time` as taken; false when there is none.
    private mutating func acceptArrow(to lane: TimelineLane, at time: UInt64, mode: String) -> Bool {
        guard let index = timeline.arrows.lastIndex(where: {
            $0.to == lane && $0.time == time && $0.kind == .interrupt(mode: mode) && !$0.accepted
        }) else { return false }
        timeline.arrows[index].accepted = true
        return true
    }

    private mutating func answerRequests(at time: UInt64) {
        for request in pendingRequests {
            timeline.arrows.append(TimelineArrow(kind: .answer, from: request.lane, to: .board,
                                                 time: request.time, arrival: time, label: "", accepted: true))
        }
        pendingRequests.removeAll()
    }

    // MARK: Text

    private func text(_ value: TraceValue?) -> String {
        switch value {
        case .text(let t)?: t
        case .number(let n)?: String(n)
        case .numbers(let ns)?: ns.map(String.init).joined(separator: ",")
        case .null?, nil: "?"
        }
    }

    /// `08h`, `FEh`, `CF9h`: the way the README writes ports, vectors and selectors.
    private func hex(_ value: TraceValue?) -> String {
        guard case .number(let n)? = value else { return text(value) }
        let digits = String(n, radix: 16, uppercase: true)
        return (digits.count % 2 == 1 ? "0" : "") + digits + "h"
    }

    private func address(_ event: TraceEvent) -> String {
        guard case .number(let cs)? = event["cs"], case .number(let ip)? = event["ip"] else { return "?" }
        return String(cs, radix: 16, uppercase: true) + ":" + String(ip, radix: 16, uppercase: true)
    }

    /// ` (board=pc)`: the named fields that are present.
    private func describe(_ event: TraceEvent, _ keys: some Sequence<String>) -> String {
        let parts = keys.compactMap { key in event[key].map { "\(key)=\(text($0))" } }
        return parts.isEmpty ? "" : " (" + parts.joined(separator: ", ") + ")"
    }

    /// `#SS → #DF → #TS`: the vectors a shutdown's delivery tried (SDM Vol. 3A, 6.15).
    private func exceptionChain(_ value: TraceValue?) -> String {
        guard case .numbers(let vectors)? = value else { return text(value) }
        let names: [UInt64: String] = [0: "#DE", 1: "#DB", 2: "NMI", 3: "#BP", 4: "#OF", 5: "#BR", 6: "#UD", 7: "#NM",
                                       8: "#DF", 10: "#TS", 11: "#NP", 12: "#SS", 13: "#GP", 14: "#PF", 16: "#MF",
                                       17: "#AC", 18: "#MC", 19: "#XM", 20: "#VE", 21: "#CP"]
        return vectors.map { names[$0] ?? "vector \($0)" }.joined(separator: " → ")
    }
}
