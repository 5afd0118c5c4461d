/// One entry of the machine's event trace, as a device or the machine reports it.
/// The machine stamps virtual time, the instruction count and (if none) the CPU.
public struct TraceEvent: Sendable, Equatable {
    /// The event name (`reset-request`, `post`, ...).
    public var name: String
    /// The CPU concerned, or `nil` for a platform event.
    public var cpu: Int?
    /// Further fields in order.
    public var fields: [(String, TraceValue)]

    public init(_ name: String, cpu: Int? = nil, _ fields: [(String, TraceValue)] = []) {
        self.name = name
        self.cpu = cpu
        self.fields = fields
    }

    public static func == (a: TraceEvent, b: TraceEvent) -> Bool {
        a.name == b.name && a.cpu == b.cpu && a.fields.elementsEqual(b.fields) { $0.0 == $1.0 && $0.1 == $1.1 }
    }

    /// The value of a field, if present.
    public subscript(_ key: String) -> TraceValue? {
        fields.first { $0.0 == key }?.1
    }
}

/// A field value in a trace event.
public enum TraceValue: Sendable, Equatable, ExpressibleByIntegerLiteral, ExpressibleByStringLiteral {
    case number(UInt64)
    case text(String)
    case numbers([UInt64])
    case null

    public init(integerLiteral value: UInt64) { self = .number(value) }
    public init(stringLiteral value: String) { self = .text(value) }
}
