import Foundation
import Hardware
import Machine
import X86

/// A gdb remote stub (the GDB manual's "Remote Protocol"): gdb connects with
/// `target remote`, sees one thread per CPU, reads and writes registers and memory (through
/// the CPU's current paging), sets breakpoints and write, read and access watchpoints, steps
/// and continues, and is told why the machine stopped: a breakpoint, a watchpoint (with the
/// address and the CPU that hit it), a step, Ctrl-C, a triple
/// fault about to reach the board (`--gdb-catch shutdown`), or a reset held by
/// `--on-reset pause` — each before any state is lost.
///
/// Packets are handled on the machine's thread between slices. While breakpoints or
/// watchpoints are set, or a step is under way, the machine runs one instruction per slice
/// so each can be checked; otherwise it runs at full speed. Watchpoints are the CPUs' own
/// (``Machine/dataWatchpoints``): every data access to a watched byte is seen, by any CPU,
/// string instructions, stack pushes and page-crossing accesses included, and a write of the
/// value already there is a hit (gdb itself ignores unchanged values for `watch`).
public final class GDBStub: MachineControl, @unchecked Sendable {
    /// Why the machine stops for gdb, as the stop reply's signal says it.
    enum StopSignal: UInt8 {
        case interrupt = 2           // SIGINT: Ctrl-C, QMP stop, --paused
        case trap = 5                // SIGTRAP: breakpoint, watchpoint, step
        case abort = 6               // SIGABRT: a pause policy held a reset
        case segmentationFault = 11  // SIGSEGV: a triple fault caught before the board answers
    }

    public var address: ControlAddress { server.address }
    private let server: SocketServer<GDBPacketFramer.Piece>
    private let catchShutdown: Bool
    /// The description every connection gets; nil: by CPU 0's mode when gdb connects.
    private let fixedArchitecture: GDBArchitecture?
    private weak var machine: Machine?

    private var breakpoints: Set<UInt64> = []
    /// The watchpoints gdb set, in the order it set them; the machine's CPUs watch them.
    private var watchpoints: [DataWatchpoint] = []
    /// At most this many watchpoints, each of 1 to `maximumWatchLength` bytes.
    static let maximumWatchpoints = 16
    static let maximumWatchLength: UInt64 = 4096
    private var noAcknowledgements = false
    private var lastPacket: [UInt8] = []
    /// The CPU `g`, `p`, `m` and steps act on (gdb's thread, 1-based).
    private var selectedCPU = 0
    /// gdb waits for a stop reply (after `c`, `s`, `vCont`).
    private var awaitingStop = false
    /// A single step of this CPU is under way.
    private var steppingCPU: Int?
    /// The architecture told to gdb in the target description.
    private var architecture = GDBArchitecture.i386
    /// The stop reply for `?` and for gdb's next wait: the signal, the CPU and extra fields.
    private var lastStop: (signal: StopSignal, cpu: Int, detail: String) = (.interrupt, 0, "")

    /// Listens for gdb at `address`. `catchShutdown` stops the machine for gdb when a CPU
    /// triple-faults; `architecture` is the target description every connection gets (nil:
    /// x86-64 when CPU 0 is in long mode as gdb connects, i386 otherwise).
    public init(listeningOn address: ControlAddress, catchShutdown: Bool,
                architecture: GDBArchitecture? = nil) throws(ControlSocketError) {
        self.catchShutdown = catchShutdown
        fixedArchitecture = architecture
        server = try SocketServer(listeningOn: address, maximumClients: 1, refusal: GDBPacketFramer.frame(Array("E01".utf8))) {
            var framer = GDBPacketFramer()
            return { framer.feed($0) }
        }
    }

    /// Becomes the machine's control (or one of them, through a ``ControlGroup``) and stops
    /// the machine: gdb finds it halted when it attaches, as with QEMU's `-s -S`.
    public func attach(to machine: Machine) {
        self.machine = machine
        machine.trace.addObserver { [unowned self] record in
            guard record.event.name == "stop", case .text(let cause)? = record.event["cause"] else { return }
            noteStop(cause: cause)
        }
    }

    /// Tells a waiting gdb that the run ended (`W` with the exit status), then closes.
    public func close(after outcome: RunOutcome) {
        if awaitingStop { sendPacket("W" + hex(UInt8(truncatingIfNeeded: outcome.exitStatus))) }
        server.close()
    }

    // MARK: MachineControl

    public func waitForCommands(milliseconds: Int) {
        server.wait(milliseconds: milliseconds)
    }

    public var wantsEveryInstruction: Bool {
        !breakpoints.isEmpty || !watchpoints.isEmpty || steppingCPU != nil
    }

    public var holdsPausedMachine: Bool { !server.clients.isEmpty }

    public func catchesShutdown(of cpu: Int, on machine: Machine) -> Bool {
        guard catchShutdown else { return false }
        lastStop = (.segmentationFault, cpu, "")
        machine.stop(cause: "gdb-catch-shutdown")
        return true
    }

    public func instructionRetired(by cpu: Int, on machine: Machine) {
        let processor = machine.cpus[cpu]
        // A watchpoint hit says so even in a step's stop reply (gdb then shows the watchpoint).
        if let hit = processor.takeDataWatchpointHit() {
            if steppingCPU == cpu { steppingCPU = nil }
            stop(machine, .trap, cpu: cpu, detail: "\(Self.stopField(of: hit.watchpoint.kind)):\(String(hit.address, radix: 16));")
            return
        }
        if steppingCPU == cpu {
            steppingCPU = nil
            stop(machine, .trap, cpu: cpu, detail: "")
            return
        }
        let pc = processor.segment(.cs).base &+ processor.instructionPointer
        if breakpoints.contains(pc) {
            stop(machine, .trap, cpu: cpu, detail: "swbreak:;")
        }
    }

    /// The stop reply's name for a watchpoint of `kind` (the GDB manual, "Stop Reply Packets").
    static func stopField(of kind: DataWatchpoint.Kind) -> String {
        switch kind {
        case .write: "watch"
        case .read: "rwatch"
        case .access: "awatch"
        }
    }

    private func stop(_ machine: Machine, _ signal: StopSignal, cpu: Int, detail: String) {
        lastStop = (signal, cpu, detail)
        machine.stop(cause: "gdb")
    }

    /// The machine stopped (for gdb or for anyone else): tell a waiting gdb.
    private func noteStop(cause: String) {
        switch cause {
        case "gdb", "gdb-catch-shutdown": break
        case "on-reset-pause": lastStop = (.abort, machine?.cpus.indices.first ?? 0, "")
        default: lastStop = (.interrupt, selectedCPU, "")
        }
        selectedCPU = lastStop.cpu
        if awaitingStop {
            awaitingStop = false
            sendPacket(stopReply)
        }
    }

    private var stopReply: String {
        "T" + hex(lastStop.signal.rawValue) + lastStop.detail + "thread:\(String(lastStop.cpu + 1, radix: 16));"
    }

    public func performPendingCommands(on machine: Machine) {
        for (client, arrival) in server.take() {
            switch arrival {
            case .connected:
                noAcknowledgements = false
                architecture = fixedArchitecture ?? GDBArchitecture(of: machine.cpus[0])
                machine.stop(cause: "gdb-attach")
            case .disconnected:
                client.close()
                breakpoints = []
                setWatchpoints([], on: machine)
                steppingCPU = nil
                awaitingStop = false
                machine.resume(cause: "gdb-detach")
            case .piece(.interrupt):
                machine.stop(cause: "gdb-interrupt")
            case .piece(.retransmit):
                client.send(bytes: lastPacket)
            case .piece(.corrupt):
                client.send(bytes: Array("-".utf8))
            case .piece(.packet(let data)):
                if !noAcknowledgements { client.send(bytes: Array("+".utf8)) }
                if let reply = handle(String(decoding: data, as: UTF8.self), on: machine) { sendPacket(reply) }
            }
        }
    }

    private func sendPacket(_ payload: String) {
        lastPacket = GDBPacketFramer.frame(Array(payload.utf8))
        for client in server.clients { client.send(bytes: lastPacket) }
    }

    // MARK: Packets

    /// The reply to one packet, or nil when the reply comes later (a stop reply).
    private func handle(_ packet: String, on machine: Machine) -> String? {
        guard let kind = packet.first else { return "" }
        let body = packet.dropFirst()
        switch kind {
        case "?":
            return stopReply
        case "g":
            let cpu = machine.cpus[selectedCPU], fxsave = cpu.fxsaveImage
            return architecture.registers.map { hex(architecture.value(of: $0.register, cpu: cpu, fxsave: fxsave)) }.joined()
        case "G":
            guard let bytes = bytes(fromHex: body) else { return "E01" }
            var offset = 0
            for (_, register) in architecture.registers {
                let size = architecture.size(of: register)
                guard offset + size <= bytes.count else { break }
                // x87 and SSE registers are read-only here; gdb writes them back unchanged.
                _ = architecture.write(register, Array(bytes[offset..<offset + size]), cpu: machine.cpus[selectedCPU])
                offset += size
            }
            return "OK"
        case "p":
            guard let number = Int(body, radix: 16), architecture.registers.indices.contains(number) else { return "E01" }
            let cpu = machine.cpus[selectedCPU]
            return hex(architecture.value(of: architecture.registers[number].register, cpu: cpu, fxsave: cpu.fxsaveImage))
        case "P":
            let parts = body.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let number = Int(parts[0], radix: 16), architecture.registers.indices.contains(number),
                  let bytes = bytes(fromHex: parts[1]) else { return "E01" }
            let register = architecture.registers[number].register
            guard bytes.count == architecture.size(of: register) else { return "E01" }
            return architecture.write(register, bytes, cpu: machine.cpus[selectedCPU]) ? "OK" : "E01"
        case "m":
            guard let (address, length) = addressAndLength(body), length <= 0x4000 else { return "E01" }
            guard let bytes = machine.debugRead(linear: address, count: length, cpu: selectedCPU) else { return "E14" }
            return hex(bytes)
        case "M":
            let parts = body.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, let (address, length) = addressAndLength(parts[0]), let bytes = bytes(fromHex: parts[1]),
                  bytes.count == length else { return "E01" }
            return machine.debugWrite(bytes, linear: address, cpu: selectedCPU) ? "OK" : "E14"
        case "Z", "z":
            return breakpoint(insert: kind == "Z", body, on: machine)
        case "c":
            return resume(machine, steppingCPU: nil)
        case "s":
            return resume(machine, steppingCPU: selectedCPU)
        case "H":
            // Hg/Hc select the thread; 0 and -1 mean any: the current one.
            if let thread = Int(body.dropFirst(), radix: 16), thread > 0 {
                guard thread <= machine.cpus.count else { return "E01" }
                selectedCPU = thread - 1
            }
            return "OK"
        case "T":
            guard let thread = Int(body, radix: 16), (1...machine.cpus.count).contains(thread) else { return "E01" }
            return "OK"
        case "D":
            breakpoints = []
            setWatchpoints([], on: machine)
            machine.resume(cause: "gdb-detach")
            return "OK"
        case "k":
            machine.quit()
            return nil
        case "q", "Q":
            return query(packet, on: machine)
        case "v":
            return verbose(packet, on: machine)
        default:
            return ""
        }
    }

    private func addressAndLength(_ text: Substring) -> (UInt64, Int)? {
        let parts = text.split(separator: ",")
        guard parts.count == 2, let address = UInt64(parts[0], radix: 16), let length = Int(parts[1], radix: 16), length >= 0 else { return nil }
        return (address, length)
    }

    /// Z0/Z1 (software and hardware breakpoints: both are address checks here) and Z2/Z3/Z4
    /// (write, read and access watchpoints of 1 to 4096 bytes at linear addresses, at most 16);
    /// `E01` for a malformed packet, a bad length, a range wrapping around the address space or
    /// one watchpoint too many; an empty reply (unsupported) for other types.
    private func breakpoint(insert: Bool, _ body: Substring, on machine: Machine) -> String {
        let parts = body.split(separator: ",", omittingEmptySubsequences: false)
        guard parts.count >= 3, let type = Int(parts[0]), let address = UInt64(parts[1], radix: 16),
              let length = UInt64(parts[2].prefix { $0 != ";" }, radix: 16) else { return "E01" }
        let kind: DataWatchpoint.Kind
        switch type {
        case 0, 1:
            if insert { breakpoints.insert(address) } else { breakpoints.remove(address) }
            return "OK"
        case 2: kind = .write
        case 3: kind = .read
        case 4: kind = .access
        default: return ""
        }
        guard (1...Self.maximumWatchLength).contains(length), address <= UInt64.max - (length - 1) else { return "E01" }
        let watchpoint = DataWatchpoint(kind: kind, address: address, length: length)
        var updated = watchpoints
        if insert {
            guard updated.count < Self.maximumWatchpoints else { return "E01" }
            updated.append(watchpoint)
        } else if let index = updated.firstIndex(of: watchpoint) {
            updated.remove(at: index)
        }
        setWatchpoints(updated, on: machine)
        return "OK"
    }

    /// Sets the watchpoints of every CPU.
    private func setWatchpoints(_ list: [DataWatchpoint], on machine: Machine) {
        guard list != watchpoints else { return }
        watchpoints = list
        machine.dataWatchpoints = list
    }

    private func resume(_ machine: Machine, steppingCPU: Int?) -> String? {
        self.steppingCPU = steppingCPU
        awaitingStop = true
        machine.resume(cause: "gdb")
        return nil
    }

    private func query(_ packet: String, on machine: Machine) -> String {
        if packet.hasPrefix("qSupported") {
            return "PacketSize=4000;qXfer:features:read+;swbreak+;hwbreak+;QStartNoAckMode+;vContSupported+"
        }
        if packet == "QStartNoAckMode" {
            noAcknowledgements = true
            return "OK"
        }
        if packet.hasPrefix("qXfer:features:read:target.xml:") {
            let range = packet.dropFirst("qXfer:features:read:target.xml:".count)
            guard let (offset, length) = addressAndLength(range) else { return "E01" }
            let document = Array(architecture.targetDescription.utf8)
            guard offset < document.count else { return "l" }
            let end = min(document.count, Int(offset) + length)
            return (end == document.count ? "l" : "m") + String(decoding: document[Int(offset)..<end], as: UTF8.self)
        }
        switch packet {
        case "qAttached": return "1"
        case "qC": return "QC" + String(selectedCPU + 1, radix: 16)
        case "qfThreadInfo": return "m" + machine.cpus.indices.map { String($0 + 1, radix: 16) }.joined(separator: ",")
        case "qsThreadInfo": return "l"
        default: break
        }
        if packet.hasPrefix("qThreadExtraInfo,"), let thread = Int(packet.dropFirst("qThreadExtraInfo,".count), radix: 16),
           (1...machine.cpus.count).contains(thread) {
            let cpu = machine.cpus[thread - 1]
            return hex(Array("CPU \(thread - 1) \(cpu.activity)".utf8))
        }
        return ""
    }

    /// `vCont?` and `vCont;ACTION[:THREAD]...`: a step action steps its thread (the
    /// others stand still), otherwise every CPU continues.
    private func verbose(_ packet: String, on machine: Machine) -> String? {
        if packet == "vCont?" { return "vCont;c;C;s;S" }
        if packet == "vMustReplyEmpty" { return "" }
        guard packet.hasPrefix("vCont;") else { return "" }
        for action in packet.dropFirst("vCont;".count).split(separator: ";") {
            let parts = action.split(separator: ":")
            guard let verb = parts.first?.first, verb == "s" || verb == "S" else { continue }
            if parts.count == 2, let thread = Int(parts[1], radix: 16), (1...machine.cpus.count).contains(thread) {
                selectedCPU = thread - 1
            }
            return resume(machine, steppingCPU: selectedCPU)
        }
        return resume(machine, steppingCPU: nil)
    }
}
