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
    public var address: ControlAddress { listener.address }

    /// What a connection's reader hands to the machine's thread.
    private enum Arrival {
        case piece(JSONStreamSplitter.Piece)
        case disconnected
    }

    private let listener: SocketListener
    private let mailbox = NSCondition()
    private var arrivals: [(ClientConnection, Arrival)] = []
    /// Connections that completed the greeting and may receive events (mailbox lock).
    private var clients: [ClientConnection] = []
    private var nextClientID = 0
    private var mapper = QMPEventMapper()
    /// Readers wait while this many arrivals are queued (a flooding client slows to the
    /// machine's pace instead of growing the queue).
    static let maximumQueued = 256
    /// Clients served at once; more are refused.
    static let maximumClients = 16

    /// Listens on `address` and starts accepting clients.
    public init(listeningOn address: ControlAddress) throws(ControlSocketError) {
        listener = try SocketListener(address)
        let thread = Thread { [self] in acceptClients() }
        thread.name = "qmp-accept"
        thread.start()
    }

    /// Makes this server the machine's control and its trace the source of events.
    public func attach(to machine: Machine) {
        machine.control = self
        machine.trace.addObserver { [unowned self] record in
            for event in mapper.events(for: record) { broadcast(event) }
        }
    }

    /// Sends the events that say how the run ended, then closes every connection and the
    /// socket (a Unix socket's file is removed).
    public func close(after outcome: RunOutcome) {
        for event in QMPEventMapper.finalEvents(for: outcome) { broadcast(event) }
        listener.close()
        mailbox.lock()
        let open = clients
        clients = []
        mailbox.unlock()
        for client in open { client.hangUp() }
    }

    // MARK: Connections

    private func acceptClients() {
        while let descriptor = listener.accept() {
            mailbox.lock()
            let full = clients.count >= Self.maximumClients
            let client = ClientConnection(id: nextClientID, descriptor: descriptor)
            nextClientID += 1
            if !full { clients.append(client) }
            mailbox.unlock()
            client.send(Self.greeting)
            guard !full else {
                client.send(.object([("error", QMPError("too many QMP clients (at most \(Self.maximumClients))").json)]))
                client.close()
                continue
            }
            let reader = Thread { [self] in read(from: client) }
            reader.name = "qmp-client-\(client.id)"
            reader.start()
        }
    }

    /// QEMU's greeting; this server offers no capabilities (no out-of-band execution).
    static let greeting: JSONValue = .object([("QMP", .object([
        ("version", .object([("qemu", .object([("micro", .integer(0)), ("minor", .integer(2)), ("major", .integer(8))])),
                             ("package", .string("ResetVector"))])),
        ("capabilities", .array([])),
    ]))])

    private func read(from client: ClientConnection) {
        var splitter = JSONStreamSplitter()
        while let bytes = client.read() {
            for piece in splitter.feed(bytes) { enqueue(client, .piece(piece)) }
        }
        enqueue(client, .disconnected)
    }

    private func enqueue(_ client: ClientConnection, _ arrival: Arrival) {
        mailbox.lock()
        while arrivals.count >= Self.maximumQueued, case .piece = arrival { mailbox.wait() }
        arrivals.append((client, arrival))
        mailbox.broadcast()
        mailbox.unlock()
    }

    // MARK: MachineControl

    public func waitForCommands(milliseconds: Int) {
        mailbox.lock()
        if arrivals.isEmpty { _ = mailbox.wait(until: Date(timeIntervalSinceNow: Double(milliseconds) / 1000)) }
        mailbox.unlock()
    }

    public func performPendingCommands(on machine: Machine) {
        mailbox.lock()
        guard !arrivals.isEmpty else {
            mailbox.unlock()
            return
        }
        let batch = arrivals
        arrivals = []
        mailbox.broadcast()
        mailbox.unlock()
        for (client, arrival) in batch {
            switch arrival {
            case .disconnected:
                mailbox.lock()
                clients.removeAll { $0 === client }
                mailbox.unlock()
                client.close()
            case .piece(.message(let bytes)):
                let reply: JSONValue
                do {
                    reply = handle(QMPRequest(try JSONParser.parse(bytes)), from: client, on: machine)
                } catch {
                    reply = .object([("error", QMPError("JSON parse error, \(error.description)").json)])
                }
                client.send(reply)
            case .piece(.garbage):
                client.send(.object([("error", QMPError("JSON parse error, invalid text outside a JSON object").json)]))
            case .piece(.tooLarge):
                client.send(.object([("error", QMPError("JSON parse error, message larger than 1 MiB").json)]))
            }
        }
    }

    private func broadcast(_ event: QMPEventMapper.Event) {
        var now = timeval()
        gettimeofday(&now, nil)
        var members: [(String, JSONValue)] = [("event", .string(event.name))]
        if let data = event.data { members.append(("data", data)) }
        members.append(("timestamp", .object([("seconds", .integer(now.tv_sec)), ("microseconds", .integer(now.tv_usec))])))
        mailbox.lock()
        let negotiated = clients.filter(\.negotiated)
        mailbox.unlock()
        for client in negotiated { client.send(.object(members)) }
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
            mailbox.lock()
            client.negotiated = true
            mailbox.unlock()
            return .object([])
        }
        guard client.negotiated else {
            throw QMPError(.commandNotFound, "Expecting capabilities negotiation with 'qmp_capabilities'")
        }
        switch command {
        case .capabilities:
            return .object([])
        case .queryStatus:
            return .object([("status", .string(machine.isStopped ? "paused" : "running")),
                            ("singlestep", .bool(false)), ("running", .bool(!machine.isStopped))])
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
            throw QMPError("Unable to wake up: guest is not in suspended state")
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
