import Foundation

/// A listening socket whose clients are read on threads of their own and whose input is
/// handed, cut into pieces by a protocol's framer, to the machine's thread in arrival order
/// (``take()``). The control socket and the gdb stub are built on it.
final class SocketServer<Piece: Sendable>: @unchecked Sendable {
    /// What a client's reader hands to the machine's thread.
    enum Arrival {
        case connected
        case piece(Piece)
        case disconnected
    }

    private let listener: SocketListener
    private let maximumClients: Int
    private let refusal: [UInt8]
    private let framer: @Sendable () -> ([UInt8]) -> [Piece]
    private let mailbox = NSCondition()
    private var arrivals: [(ClientConnection, Arrival)] = []
    private var open: [ClientConnection] = []
    private var nextClientID = 0
    /// Readers wait while this many arrivals are queued (a flooding client slows to the
    /// machine's pace instead of growing the queue).
    static var maximumQueued: Int { 256 }

    var address: ControlAddress { listener.address }

    /// Listens on `address`; clients beyond `maximumClients` get `refusal` and are closed.
    /// `framer` makes each client's stateful cutter of bytes into pieces.
    init(listeningOn address: ControlAddress, maximumClients: Int, refusal: [UInt8],
         framer: @escaping @Sendable () -> ([UInt8]) -> [Piece]) throws(ControlSocketError) {
        listener = try SocketListener(address)
        self.maximumClients = maximumClients
        self.refusal = refusal
        self.framer = framer
        let thread = Thread { [self] in acceptClients() }
        thread.name = "control-accept"
        thread.start()
    }

    /// The connected clients.
    var clients: [ClientConnection] {
        mailbox.lock()
        defer { mailbox.unlock() }
        return open
    }

    private func acceptClients() {
        while let descriptor = listener.accept() {
            mailbox.lock()
            let client = ClientConnection(id: nextClientID, descriptor: descriptor)
            nextClientID += 1
            let full = open.count >= maximumClients
            if !full { open.append(client) }
            mailbox.unlock()
            guard !full else {
                client.send(bytes: refusal)
                client.close()
                continue
            }
            enqueue(client, .connected)
            let reader = Thread { [self] in read(from: client) }
            reader.name = "control-client-\(client.id)"
            reader.start()
        }
    }

    private func read(from client: ClientConnection) {
        let cut = framer()
        while let bytes = client.read() {
            for piece in cut(bytes) { enqueue(client, .piece(piece)) }
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

    /// What arrived since the last call, in order. A disconnected client is already removed
    /// from ``clients``; its descriptor is released after this batch is handled.
    func take() -> [(ClientConnection, Arrival)] {
        mailbox.lock()
        let batch = arrivals
        arrivals = []
        mailbox.broadcast()
        for case (let client, .disconnected) in batch { open.removeAll { $0 === client } }
        mailbox.unlock()
        return batch
    }

    /// Whether anything waits to be taken.
    var hasArrivals: Bool {
        mailbox.lock()
        defer { mailbox.unlock() }
        return !arrivals.isEmpty
    }

    /// Blocks until something arrives or `milliseconds` pass.
    func wait(milliseconds: Int) {
        mailbox.lock()
        if arrivals.isEmpty { _ = mailbox.wait(until: Date(timeIntervalSinceNow: Double(milliseconds) / 1000)) }
        mailbox.unlock()
    }

    /// Stops listening (a Unix socket's file is removed) and hangs up on every client.
    func close() {
        listener.close()
        for client in clients { client.hangUp() }
    }
}
