/// A trace as a picture's model: one lane per CPU and one for the board, over virtual time,
/// holding spans (what a lane was doing from one time to another), point markers and arrows
/// between lanes. Built from records alone (`Timeline(records:)`), so a trace read back from
/// a file and one kept by a running machine give the same timeline.
public struct Timeline: Sendable, Equatable {
    /// CPU lanes: one more than the highest CPU number in the trace.
    public var cpuCount: Int
    /// Virtual time (ns) of the first and the last record.
    public var start: UInt64
    public var end: UInt64
    public var spans: [TimelineSpan]
    public var markers: [TimelineMarker]
    public var arrows: [TimelineArrow]

    /// Every lane, the board's first.
    public var lanes: [TimelineLane] { [.board] + (0..<cpuCount).map(TimelineLane.cpu) }

    /// Every time something in the timeline begins, ends or happens, sorted, without repeats.
    public var times: [UInt64] {
        var all = Set([start, end])
        for span in spans { all.insert(span.start); all.insert(span.end) }
        for marker in markers { all.insert(marker.time) }
        for arrow in arrows { all.insert(arrow.time); all.insert(arrow.arrival) }
        return all.sorted()
    }
}

/// A lane of the timeline.
public enum TimelineLane: Hashable, Sendable, Comparable, CustomStringConvertible {
    /// Platform events: power, the board's answer to reset requests, the NMI line.
    case board
    case cpu(Int)

    /// `board`, `cpu0`, `cpu1`, ... (the SVG's `data-lane`, the Chrome trace's thread names).
    public var description: String {
        switch self {
        case .board: "board"
        case .cpu(let n): "cpu\(n)"
        }
    }
}

/// The operating mode a CPU lane shows as its colour: CR0.PE, CR0.PG and EFER.LMA.
public enum ProcessorMode: String, Sendable, Equatable {
    case real, protected, paged, long

    init(pe: Bool, pg: Bool, lma: Bool) {
        self = lma ? .long : pg && pe ? .paged : pe ? .protected : .real
    }
}

/// What a lane was doing over a span of virtual time.
public struct TimelineSpan: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// Running in a mode (a CPU lane's background band).
        case mode(ProcessorMode)
        /// An application processor waiting for a start-up IPI (after power-on, a reset, INIT).
        case waitingForStartup
        /// In shutdown after a triple fault, until the board answers.
        case shutdown
        /// The board lane between power-on and power-off (or the end of the trace).
        case powered
        /// After HLT, until the CPU's next traced event (the trace records HLT entry, not exit).
        case halted(interruptsEnabled: Bool)
        /// The firmware's milestones and POST codes, drawn as one span.
        case firmware(steps: [String])
        /// Local APIC timer events, counted rather than drawn one by one.
        case timer(armed: Int, fired: Int)
    }

    public var lane: TimelineLane
    public var start: UInt64
    public var end: UInt64
    public var kind: Kind

    /// A lane's background (mode, waiting, shutdown, powered), as opposed to what is drawn over it.
    public var isBand: Bool {
        switch kind {
        case .mode, .waitingForStartup, .shutdown, .powered: true
        case .halted, .firmware, .timer: false
        }
    }

    /// Short text for the picture.
    public var label: String {
        switch kind {
        case .mode(let mode): mode == .paged ? "paged" : mode.rawValue
        case .waitingForStartup: "wait for SIPI"
        case .shutdown: "shutdown"
        case .powered: "powered"
        case .halted(let interruptsEnabled): "HLT IF=\(interruptsEnabled ? 1 : 0)"
        case .firmware(let steps): Self.firmwareLabel(steps.filter { !$0.hasPrefix("post ") })
        case .timer(let armed, let fired): "APIC timer: \(fired) fired, \(armed) armed"
        }
    }

    /// `firmware: reset-vector … boot`: the first and last milestone.
    private static func firmwareLabel(_ milestones: [String]) -> String {
        switch milestones.count {
        case 0: "firmware"
        case 1, 2: "firmware: " + milestones.joined(separator: ", ")
        default: "firmware: \(milestones[0]) … \(milestones.last!)"
        }
    }

    /// Everything the span stands for (a tooltip).
    public var detail: String {
        switch kind {
        case .mode(let mode): mode == .real ? "real mode" : mode == .paged ? "protected mode with paging" : mode == .long ? "long mode (IA-32e)" : "protected mode"
        case .waitingForStartup: "waiting for a start-up IPI"
        case .shutdown: "shutdown (after a triple fault), until the board answers"
        case .powered: "powered on"
        case .halted(let interruptsEnabled): "halted (HLT) with interrupts \(interruptsEnabled ? "enabled" : "disabled"), until an interrupt or NMI woke it (a `wake` event; in older traces, the CPU's next event)"
        case .firmware(let steps): "firmware: " + steps.joined(separator: ", ")
        case .timer: label
        }
    }
}

/// Something that happened at one time on one lane.
public struct TimelineMarker: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable {
        case powerOn = "power-on"
        /// The bootstrap processor starts at the reset vector (power-on, a reset, INIT).
        case start
        /// An application processor goes back to waiting for a start-up IPI.
        case waitForStartup = "wait-for-sipi"
        case taskSwitch = "task-switch"
        /// An exception that escalated (#DF).
        case exception
        /// The CPU gave up delivering an exception chain: a triple fault.
        case shutdown
        case resetRequest = "reset-request"
        /// The board's answer: the reset the controller performed.
        case boardAnswer = "board-answer"
        case powerOff = "power-off"
        /// An interrupt message that no arrow shows (an NMI from a pin, an unmatched INIT or SIPI).
        case interrupt
        /// Any other event, known or not, drawn as a generic marker.
        case other
    }

    public var lane: TimelineLane
    public var time: UInt64
    public var kind: Kind
    /// Short text for the picture.
    public var label: String
    /// The whole event (a tooltip).
    public var detail: String
}

/// An arrow between lanes: an interrupt message (INIT, SIPI, NMI, fixed, ...) from its sender
/// to a target, or a reset request to the board's answer.
public struct TimelineArrow: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// An IPI or the board's NMI line; `mode` as the trace names it (`init`, `startup`,
        /// `nmi`, `fixed`, ...).
        case interrupt(mode: String)
        /// From a reset request to the reset that answered it.
        case answer
    }

    public var kind: Kind
    public var from: TimelineLane
    public var to: TimelineLane
    /// When it was sent (the requester's time for an answer).
    public var time: UInt64
    /// When it arrived (the reset's time for an answer; the send time for an interrupt).
    public var arrival: UInt64
    /// `INIT`, `SIPI 08h`, `NMI`, `fixed 41h`, with the shorthand (`all-but-self`) when one was used.
    public var label: String
    /// False when the trace shows that the target did not take an INIT, start-up or NMI
    /// message (a start-up IPI to a CPU that is not waiting for one); true otherwise.
    public var accepted: Bool
}
