/// A command a QMP client can execute, its arguments checked as QEMU's generated
/// marshalling checks them (missing, unexpected and mistyped parameters are errors).
enum QMPCommand: Equatable {
    case capabilities
    case queryStatus
    case stop
    case cont
    case systemReset
    case systemPowerdown
    case systemWakeup
    /// The keys' make codes, pressed in order and released in reverse.
    case sendKey(makeCodes: [UInt16])
    case injectNMI
    case queryCPUsFast
    case quit
    case queryVersion
    case queryCommands
    /// The most recent trace events (at most `count`).
    case queryTrace(count: Int)

    /// Every command's name, as `query-commands` lists them.
    static let names = ["qmp_capabilities", "query-status", "stop", "cont", "system_reset", "system_powerdown",
                        "system_wakeup", "send-key", "inject-nmi", "query-cpus-fast", "quit", "query-version",
                        "query-commands", "x-rv-query-trace"]

    /// Parses the command `name` with the members of its `arguments` object (none when absent).
    init(name: String, arguments members: [(String, JSONValue)]) throws(QMPError) {
        var arguments = Arguments(members: members)
        switch name {
        case "qmp_capabilities":
            // QEMU accepts `enable` with the capabilities to turn on; this server offers none.
            if let enable = try arguments.take("enable", "array") {
                guard case .array(let items) = enable, items.isEmpty else {
                    throw QMPError("Capability '\(Self.firstName(in: enable))' not available")
                }
            }
            self = .capabilities
        case "query-status": self = .queryStatus
        case "stop": self = .stop
        case "cont": self = .cont
        case "system_reset": self = .systemReset
        case "system_powerdown": self = .systemPowerdown
        case "system_wakeup": self = .systemWakeup
        case "inject-nmi": self = .injectNMI
        case "query-cpus-fast": self = .queryCPUsFast
        case "quit": self = .quit
        case "query-version": self = .queryVersion
        case "query-commands": self = .queryCommands
        case "x-rv-query-trace":
            let count = try arguments.take("count", "int").map { value throws(QMPError) -> Int in
                guard let count = value.integerValue else { throw QMPError("Invalid parameter type for 'count', expected: integer") }
                guard count >= 0 else { throw QMPError("Parameter 'count' expects a non-negative number") }
                return count
            }
            self = .queryTrace(count: count ?? Int.max)
        case "send-key":
            guard let keys = try arguments.take("keys", "array") else { throw QMPError("Parameter 'keys' is missing") }
            if let hold = try arguments.take("hold-time", "int"), hold.integerValue == nil {
                throw QMPError("Invalid parameter type for 'hold-time', expected: integer")
            }
            self = .sendKey(makeCodes: try Self.makeCodes(keys))
        default:
            throw QMPError(.commandNotFound, "The command \(name) has not been found")
        }
        try arguments.rejectRemaining()
    }

    private static func firstName(in value: JSONValue) -> String {
        if case .array(let items) = value, let first = items.first?.stringValue { return first }
        return "?"
    }

    /// `send-key`'s `keys`: KeyValue objects, `{"type": "qcode", "data": NAME}` or
    /// `{"type": "number", "data": SCANCODE}`.
    private static func makeCodes(_ keys: JSONValue) throws(QMPError) -> [UInt16] {
        guard case .array(let items) = keys else { throw QMPError("Invalid parameter type for 'keys', expected: array") }
        guard !items.isEmpty else { throw QMPError("Parameter 'keys' is empty") }
        guard items.count <= 16 else { throw QMPError("Parameter 'keys' has more than 16 keys") }
        return try items.map { item throws(QMPError) -> UInt16 in
            guard case .object = item else { throw QMPError("Invalid parameter type for 'keys[]', expected: object") }
            switch item["type"]?.stringValue {
            case "qcode":
                guard let name = item["data"]?.stringValue else { throw QMPError("Invalid parameter type for 'data', expected: string") }
                guard let code = QEMUKeyCodes.makeCodes[name] else { throw QMPError("Parameter 'data' does not accept value '\(name)'") }
                return code
            case "number":
                guard let number = item["data"]?.integerValue, let code = QEMUKeyCodes.makeCode(number: number) else {
                    throw QMPError("Parameter 'data' expects a scancode from 1 to 255")
                }
                return code
            case let other:
                throw QMPError("Parameter 'type' does not accept value '\(other ?? "")'")
            }
        }
    }

    /// A command's arguments, taken one by one; what is left over is unexpected.
    private struct Arguments {
        var members: [(String, JSONValue)]

        /// Removes and returns argument `key`; `type` names the expected JSON type for errors.
        mutating func take(_ key: String, _ type: String) throws(QMPError) -> JSONValue? {
            guard let index = members.firstIndex(where: { $0.0 == key }) else { return nil }
            let value = members.remove(at: index).1
            let matches = switch (type, value) {
            case ("array", .array), ("int", .number): true
            default: false
            }
            guard matches else { throw QMPError("Invalid parameter type for '\(key)', expected: \(type == "int" ? "integer" : type)") }
            return value
        }

        func rejectRemaining() throws(QMPError) {
            if let extra = members.first { throw QMPError("Parameter '\(extra.0)' is unexpected") }
        }
    }
}
