@testable import Control
import Hardware
import Machine
import Testing

@Suite struct QMPCommandTests {
    @Test func sendKeyTakesQcodesAndNumbers() throws {
        let keys: JSONValue = .array([
            .object([("type", .string("qcode")), ("data", .string("ctrl"))]),
            .object([("type", .string("qcode")), ("data", .string("delete"))]),
            .object([("type", .string("number")), ("data", .integer(0x9D))]),
        ])
        let command = try QMPCommand(name: "send-key", arguments: [("keys", keys), ("hold-time", .integer(50))])
        #expect(command == .sendKey(makeCodes: [0x1D, 0xE053, 0xE01D]))
        #expect(QEMUKeyCodes.bytes(of: 0xE053, released: true) == [0xE0, 0xD3])
        #expect(QEMUKeyCodes.bytes(of: 0x1D, released: false) == [0x1D])
        #expect(QEMUKeyCodes.makeCodes["a"] == 0x1E && QEMUKeyCodes.makeCodes["f10"] == 0x44 && QEMUKeyCodes.makeCodes["0"] == 0x0B)
    }

    @Test func argumentsAreCheckedAsQEMUChecksThem() {
        #expect(throws: QMPError("Parameter 'keys' is missing")) { try QMPCommand(name: "send-key", arguments: []) }
        #expect(throws: QMPError("Parameter 'force' is unexpected")) { try QMPCommand(name: "quit", arguments: [("force", .bool(true))]) }
        #expect(throws: QMPError("Invalid parameter type for 'count', expected: integer")) {
            try QMPCommand(name: "x-rv-query-trace", arguments: [("count", .string("3"))])
        }
        #expect(throws: QMPError(.commandNotFound, "The command migrate has not been found")) { try QMPCommand(name: "migrate", arguments: []) }
        #expect(throws: QMPError("Capability 'oob' not available")) {
            try QMPCommand(name: "qmp_capabilities", arguments: [("enable", .array([.string("oob")]))])
        }
        #expect((try? QMPCommand(name: "x-rv-query-trace", arguments: [("count", .integer(5))])) == .queryTrace(count: 5))
    }

    @Test func requestEnvelope() {
        let request = QMPRequest(.object([("execute", .string("stop")), ("id", .array([.integer(1)]))]))
        #expect(request.reply(.success(.object([]))) == .object([("return", .object([])), ("id", .array([.integer(1)]))]))
        #expect(QMPRequest(.string("stop")).reply(.success(.null))["return"] == .null)
        if case .failure(let error) = QMPRequest(.string("stop")).body {
            #expect(error.description == "QMP input must be a JSON object")
        } else {
            Issue.record("a string is not a request")
        }
    }

    @Test func addresses() throws {
        #expect(try ControlAddress(parsing: "unix:/tmp/q") == .unix(path: "/tmp/q"))
        #expect(try ControlAddress(parsing: "tcp:localhost:4444") == .tcp(host: "127.0.0.1", port: 4444))
        for bad in ["unix:", "tcp:127.0.0.1", "tcp:example.com:1", "tcp:1.2.3.256:1", "tcp:127.0.0.1:70000", "/tmp/q"] {
            #expect(throws: ControlSocketError.self, "\(bad)") { try ControlAddress(parsing: bad) }
        }
    }
}

@Suite struct QMPEventMapperTests {
    func record(_ name: String, cpu: Int? = nil, _ fields: [(String, TraceValue)]) -> TraceRecord {
        TraceRecord(time: 1_000, instructionCount: 900, event: TraceEvent(name, cpu: cpu, fields))
    }

    @Test func resetsSayWhoAskedAndWhy() {
        var mapper = QMPEventMapper()
        let guestReset = mapper.events(for: record("reset", [("kind", "init"), ("cause", "8042-pulse")]))
        #expect(guestReset == [.init(name: "RESET", data: .object([("guest", .bool(true)), ("reason", .string("guest-reset"))]))])
        mapper.pendingSystemResets = 1
        let hostReset = mapper.events(for: record("reset", [("kind", "hard"), ("cause", "user")]))
        #expect(hostReset.first?.data?["reason"] == .string("host-qmp-system-reset"))
        let scheduled = mapper.events(for: record("reset", [("kind", "hard"), ("cause", "user")]))
        #expect(scheduled.first?.data?["reason"] == .string("host-ui"))
        let off = mapper.events(for: record("power-off", [("cause", "acpi-sleep")]))
        #expect(off == [.init(name: "SHUTDOWN", data: .object([("guest", .bool(true)), ("reason", .string("guest-shutdown"))]))])
    }

    @Test func resetRequestsCarryTheBoardsAnswer() {
        var mapper = QMPEventMapper()
        let request = mapper.events(for: record("reset-request", cpu: 1, [("source", "cf9"), ("requested", "full"),
                                                                          ("port", 0xCF9), ("value", 0x0E), ("answer", "full")]))
        #expect(request.first?.name == "X_RV_RESET_REQUEST")
        #expect(request.first?.data?["cpu"] == .integer(1))
        #expect(request.first?.data?["port"] == .integer(0xCF9))
        #expect(request.first?.data?["answer"] == .string("full"))
        let blocked = mapper.events(for: record("quirk", [("quirk", "no-8042-reset"), ("source", "8042-pulse"), ("port", 0x64)]))
        #expect(blocked.first?.data?["answer"] == .string("ignored"))
        #expect(blocked.first?.data?["quirk"] == .string("no-8042-reset"))
        #expect(mapper.events(for: record("quirk", [("quirk", "shutdown-ignored"), ("effect", "shutdown not answered")])).isEmpty)
    }

    @Test func watchdogPanicAndPowerEventsUseQEMUsNames() {
        var mapper = QMPEventMapper()
        #expect(mapper.events(for: record("watchdog", [("stage", 2), ("action", "power-off")])).first?.data?["action"] == .string("poweroff"))
        #expect(mapper.events(for: record("watchdog", [("stage", 1), ("action", "irq")])).isEmpty)
        #expect(mapper.events(for: record("panic", [("events", 1), ("names", "panicked"), ("action", "reboot")])).first?.data?["action"] == .string("run"))
        #expect(mapper.events(for: record("panic", [("events", 2), ("names", "crash-loaded"), ("action", "none")])).isEmpty)
        #expect(mapper.events(for: record("power-button", [])).map(\.name) == ["POWERDOWN"])
        #expect(mapper.events(for: record("post", [("value", 1)])).isEmpty)
        #expect(QMPEventMapper.finalEvents(for: .quit).first?.data?["reason"] == .string("host-qmp-quit"))
        #expect(QMPEventMapper.finalEvents(for: .paused(reason: "x")).map(\.name) == ["STOP"])
    }
}
