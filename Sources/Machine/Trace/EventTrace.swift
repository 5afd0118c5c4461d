import Hardware

/// One recorded trace entry: an event stamped with virtual time and instruction count.
public struct TraceRecord: Sendable, Equatable {
    /// Virtual time in nanoseconds.
    public let time: UInt64
    /// Instructions retired by all CPUs.
    public let instructionCount: UInt64
    public let event: TraceEvent

    public init(time: UInt64, instructionCount: UInt64, event: TraceEvent) {
        self.time = time
        self.instructionCount = instructionCount
        self.event = event
    }
}

/// The machine's event trace: every reset-relevant event, in order, rendered as human
/// lines and/or JSON Lines as they happen. With no renderer attached an event costs an
/// append to a small ring of recent events (kept for `pause`), nothing more.
public final class EventTrace {
    /// Receives each human-readable line (e.g. writes it to stderr).
    public var humanOutput: ((String) -> Void)?
    /// Receives each JSON Lines line (without the newline).
    public var jsonOutput: ((String) -> Void)?
    /// When set, every record is also kept here (the demo and tests read it back), or only
    /// those of the events in `keptEvents`.
    public private(set) var kept: [TraceRecord]?
    private let keptEvents: Set<String>?

    /// Further receivers of every record (the control socket turns some into its events).
    private var observers: [(TraceRecord) -> Void] = []

    private var recentRing: [TraceRecord] = []
    private var recentNext = 0
    static let recentCapacity = 64

    /// A trace that keeps its records in ``kept`` when `keepAll` is set: all of them, or only
    /// those of the events named in `only`.
    public init(keepAll: Bool = false, only keptEvents: Set<String>? = nil) {
        kept = keepAll ? [] : nil
        self.keptEvents = keptEvents
    }

    func record(_ event: TraceEvent, time: UInt64, instructionCount: UInt64) {
        let record = TraceRecord(time: time, instructionCount: instructionCount, event: event)
        if recentRing.count < EventTrace.recentCapacity {
            recentRing.append(record)
        } else {
            recentRing[recentNext] = record
        }
        recentNext = (recentNext + 1) % EventTrace.recentCapacity
        if kept != nil, keptEvents?.contains(event.name) ?? true { kept!.append(record) }
        humanOutput?(EventTrace.humanLine(record))
        jsonOutput?(EventTrace.jsonLine(record))
        for observer in observers { observer(record) }
    }

    /// Calls `observer` with every record from now on, on the machine's thread. Observing does
    /// not make the trace record its frequent events (``isTracing`` is unchanged).
    public func addObserver(_ observer: @escaping (TraceRecord) -> Void) {
        observers.append(observer)
    }

    /// Whether events reach anyone beyond the ring of recent ones: a renderer, or `keepAll`.
    /// Frequent events (the local APIC timer's) are recorded only then.
    public var isTracing: Bool { humanOutput != nil || jsonOutput != nil || kept != nil }

    /// The most recent records, oldest first.
    public var recent: [TraceRecord] {
        recentRing.count < EventTrace.recentCapacity
            ? recentRing
            : Array(recentRing[recentNext...] + recentRing[..<recentNext])
    }

    // MARK: Rendering

    /// Fields shown in hexadecimal in human lines.
    static let hexFields: Set<String> = ["port", "value", "cs", "ip", "vector", "address", "from", "to"]

    /// `[   12.345678 ms] #1234567 cpu0 reset-request source=8042-pulse port=0x64 value=0xfe`
    public static func humanLine(_ r: TraceRecord) -> String {
        let micros = r.time / 1000
        let millis = "\(micros / 1000).\(String(micros % 1000).leftPadded(to: 3, with: "0"))"
        let time = "[\(millis.leftPadded(to: 10)) ms]"
        let cpu = r.event.cpu.map { "cpu\($0)" } ?? "    "
        var line = "\(time) #\(String(r.instructionCount).leftPadded(to: 11)) \(cpu) \(r.event.name)"
        for (key, value) in r.event.fields {
            line += " \(key)=\(humanValue(value, hex: hexFields.contains(key)))"
        }
        return line
    }

    private static func humanValue(_ v: TraceValue, hex: Bool) -> String {
        switch v {
        case .number(let n): hex ? "0x" + String(n, radix: 16) : String(n)
        case .text(let s): s
        case .numbers(let ns): "[" + ns.map { hex ? "0x" + String($0, radix: 16) : String($0) }.joined(separator: ",") + "]"
        case .null: "null"
        }
    }

    /// One JSON object: `t`, `icount`, `cpu`, `event`, then the event's fields; numbers as JSON numbers.
    public static func jsonLine(_ r: TraceRecord) -> String {
        var s = "{\"t\":\(r.time),\"icount\":\(r.instructionCount),\"cpu\":"
        s += r.event.cpu.map(String.init) ?? "null"
        s += ",\"event\":\(jsonString(r.event.name))"
        for (key, value) in r.event.fields {
            s += ",\(jsonString(key)):"
            switch value {
            case .number(let n): s += String(n)
            case .text(let t): s += jsonString(t)
            case .numbers(let ns): s += "[" + ns.map(String.init).joined(separator: ",") + "]"
            case .null: s += "null"
            }
        }
        return s + "}"
    }

    /// `text` as a JSON string literal (RFC 8259 escapes).
    public static func jsonString(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20: out += "\\u" + String(scalar.value, radix: 16).leftPadded(to: 4, with: "0")
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

extension String {
    func leftPadded(to width: Int, with pad: Character = " ") -> String {
        count >= width ? self : String(repeating: pad, count: width - count) + self
    }
}
