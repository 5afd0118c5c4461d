import Foundation
import Hardware
import Machine
import X86

/// The QMP control socket (QEMU's QEMU Machine Protocol, docs/interop/qmp-spec): a greeting
/// on connect, `qmp_capabilities`, then commands and asynchronous events, one JSON object per
/// line. Connections are read on threads of their own; the commands run on the machine's
/// thread between slices (``MachineControl``), in the order they arrived, so a reply always
/// describes the machine at an instruction boundary.
public final class QMPServer: MachineControl, @unchecked Sendable {
    /// The address bound (with the port the kernel chose for `tcp:...:0`).
    public var address: ControlAddress { server.address }

    private let server: SocketServer<JSONStreamSplitter.Piece>
    private var mapper = QMPEventMapper()
    /// Clients served at once; more are refused.
    static let maximumClients = 16

    /// Listens on `address` and starts accepting clients.
    public init(listeningOn address: ControlAddress) throws(ControlSocketError) {
        let refusal = Self.line(Self.greeting) + Self.line(.object([("error", QMPError("too many QMP clients (at most \(Self.maximumClients))").json)]))
        server = try SocketServer(listeningOn: address, maximumClients: Self.maximumClients, refusal: refusal) {
            var splitter = JSONStreamSplitter()
            return { splitter.feed($0) }
        }
    }

    /// Makes the machine's trace the source of events (the machine's control is set by the
    /// caller: this server, or a ``ControlGroup`` with it).
    public func attach(to machine: Machine) {
        machine.trace.addObserver { [unowned self] record in
            for event in mapper.events(for: record) { broadcast(event) }
        }
    }

    /// Sends the events that say how the run ended, then closes every connection and the
    /// socket (a Unix socket's file is removed).
    public func close(after outcome: RunOutcome) {
        for event in QMPEventMapper.finalEvents(for: outcome) { broadcast(event) }
        server.close()
    }

    /// QEMU's greeting; this server offers no capabilities (no out-of-band execution).
    static let greeting: JSONValue = .object([("QMP", .object([
        ("version", .object([("qemu", .object([("micro", .integer(0)), ("minor", .integer(2)), ("major", .integer(8))])),
                             ("package", .string("ResetVector"))])),
        ("capabilities", .array([])),
    ]))])

    /// A message as QEMU writes it: compact JSON and a line end.
    static func line(_ message: JSONValue) -> [UInt8] { Array((message.text + "\r\n").utf8) }

    // MARK: MachineControl

    public func waitForCommands(milliseconds: Int) {
        server.wait(milliseconds: milliseconds)
    }

    public func performPendingCommands(on machine: Machine) {
        for (client, arrival) in server.take() {
            switch arrival {
            case .connected:
                client.send(bytes: Self.line(Self.greeting))
            case .disconnected:
                client.close()
            case .piece(.message(let bytes)):
                let reply: JSONValue
                do {
                    reply = handle(QMPRequest(try JSONParser.parse(bytes)), from: client, on: machine)
                } catch {
                    reply = .object([("error", QMPError("JSON parse error, \(error.description)").json)])
                }
                client.send(bytes: Self.line(reply))
            case .piece(.garbage):
                client.send(bytes: Self.line(.object([("error", QMPError("JSON parse error, invalid text outside a JSON object").json)])))
            case .piece(.tooLarge):
                client.send(bytes: Self.line(.object([("error", QMPError("JSON parse error, message larger than 1 MiB").json)])))
            }
        }
    }

    private func broadcast(_ event: QMPEventMapper.Event) {
        var now = timeval()
        gettimeofday(&now, nil)
        var members: [(String, JSONValue)] = [("event", .string(event.name))]
        if let data = event.data { members.append(("data", data)) }
        members.append(("timestamp", .object([("seconds", .integer(now.tv_sec)), ("microseconds", .integer(now.tv_usec))])))
        for client in server.clients where client.negotiated { client.send(bytes: Self.line(.object(members))) }
    }

    // MARK: Commands

    private func handle(_ request: QMPRequest, from client: ClientConnection, on machine: Machine) -> JSONValue {
        let result: Result<JSONValue, QMPError>
        do {
            let (name, arguments) = try request.body.get()
            let command = try QMPCommand(name: name, arguments: arguments)
            result = .success(try execute(command, from: client, on: machine))
        } catch {
            result = .failure(error)
        }
        return request.reply(result)
    }

    private func execute(_ command: QMPCommand, from client: ClientConnection, on machine: Machine) throws(QMPError) -> JSONValue {
        if command == .capabilities {
            guard !client.negotiated else {
                throw QMPError(.commandNotFound, "Capabilities negotiation is already complete, command ignored")
            }
            client.negotiated = true
            return .object([])
        }
        guard client.negotiated else {
            throw QMPError(.commandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'")
        }
        switch command {
        case .capabilities:
            return .object([])
        case .queryStatus:
            let status = machine.isStopped ? "paused" : machine.isAsleep ? "suspended" : "running"
            return .object([("status", .string(status)), ("singlestep", .bool(false)), ("running", .bool(status == "running"))])
        case .stop:
            machine.stop(cause: "qmp")
        case .cont:
            machine.resume(cause: "qmp")
        case .systemReset:
            mapper.pendingSystemResets += 1
            machine.perform(.reset, from: "qmp")
        case .systemPowerdown:
            machine.perform(.powerButton, from: "qmp")
        case .systemWakeup:
            guard machine.wakeFromSleep() else { throw QMPError("Unable to wake up: guest is not in suspended state") }
        case .sendKey(let makeCodes):
            let presses = makeCodes.flatMap { QEMUKeyCodes.bytes(of: $0, released: false) }
            let releases = makeCodes.reversed().flatMap { QEMUKeyCodes.bytes(of: $0, released: true) }
            machine.typeScancodes(presses + releases)
        case .injectNMI:
            machine.perform(.nmi, from: "qmp")
        case .queryCPUsFast:
            return .array(machine.cpus.map { cpu in
                .object([("cpu-index", .integer(cpu.index)),
                         ("qom-path", .string("/machine/unattached/device[\(cpu.index)]")),
                         ("thread-id", .integer(getpid())),
                         ("props", .object([("core-id", .integer(0)), ("thread-id", .integer(0)), ("socket-id", .integer(cpu.index))])),
                         ("target", .string("x86_64")),
                         ("x-rv-state", .string(Self.stateName(cpu.activity))),
                         ("x-rv-instructions", .integer(cpu.instructionsRetired))])
            })
        case .quit:
            machine.quit()
        case .queryVersion:
            return .object([("qemu", .object([("micro", .integer(0)), ("minor", .integer(2)), ("major", .integer(8))])),
                            ("package", .string("ResetVector"))])
        case .queryCommands:
            return .array(QMPCommand.names.map { .object([("name", .string($0))]) })
        case .queryTrace(let count):
            return .array(machine.trace.recent.suffix(count).compactMap { try? JSONParser.parse(Array(EventTrace.jsonLine($0).utf8)) })
        }
        return .object([])
    }

    private static func stateName(_ activity: ActivityState) -> String {
        switch activity {
        case .halted: "halted"
        case .waitingForStartup: "waiting-for-sipi"
        case .shutdown: "shutdown"
        default: "running"
        }
    }
}
