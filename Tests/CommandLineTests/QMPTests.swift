import Foundation
import Glibc
import Testing

/// The QMP control socket end to end: the emulator in the background, a client on its socket.
@Suite(.serialized) struct QMPTests {
    /// The guest that waits in HLT for Ctrl-Alt-Del (and warm-boots on it), so the machine
    /// idles until the client acts.
    static let idleGuest = ["--guest", "ctrl-alt-del"]

    @Test func negotiationStatusStopAndCont() throws {
        let session = try QMPSession(Self.idleGuest + ["--paused"])
        let client = try session.connect()
        let greeting = try #require(client.receive())
        let qmp = try #require(greeting["QMP"] as? [String: Any])
        #expect((qmp["capabilities"] as? [Any])?.isEmpty == true)
        #expect(((qmp["version"] as? [String: Any])?["qemu"] as? [String: Any])?["major"] != nil)

        let early = try client.execute(#"{"execute": "query-status"}"#)
        #expect(early.errorClass == "CommandNotFound")
        #expect(early.errorText == "Expecting capabilities negotiation with 'qmp_capabilities'")
        #expect(try client.execute(#"{"execute": "qmp_capabilities"}"#)["return"] != nil)
        #expect(try client.execute(#"{"execute": "qmp_capabilities"}"#).errorClass == "CommandNotFound")

        let paused = try client.execute(#"{"execute": "query-status", "id": "first"}"#)
        #expect(paused["id"] as? String == "first")
        #expect((paused["return"] as? [String: Any])?["status"] as? String == "paused")
        #expect((paused["return"] as? [String: Any])?["running"] as? Bool == false)

        #expect(try client.execute(#"{"execute": "cont"}"#)["return"] != nil)
        _ = try client.waitForEvent("RESUME")
        let running = try client.execute(#"{"execute": "query-status"}"#)
        #expect((running["return"] as? [String: Any])?["status"] as? String == "running")
        #expect(try client.execute(#"{"execute": "stop"}"#)["return"] != nil)
        _ = try client.waitForEvent("STOP")

        #expect(try client.execute(#"{"execute": "quit", "id": 9}"#)["id"] as? Int == 9)
        let shutdown = try client.waitForEvent("SHUTDOWN")
        #expect(shutdown.data["guest"] as? Bool == false)
        #expect(shutdown.data["reason"] as? String == "host-qmp-quit")
        #expect(try session.exitStatus() == 0)
        #expect(!FileManager.default.fileExists(atPath: session.socketPath), "the socket file is removed at exit")
    }

    @Test func theSocketIsTheUsersAlone() throws {
        let session = try QMPSession(Self.idleGuest)
        let client = try session.connect()
        var status = stat()
        #expect(lstat(session.socketPath, &status) == 0)
        #expect(status.st_mode & 0o777 == 0o600)
        try client.negotiate()
        _ = try client.execute(#"{"execute": "quit"}"#)
        #expect(try session.exitStatus() == 0)
    }

    @Test func resetPowerButtonNMIAndKeys() throws {
        let session = try QMPSession(Self.idleGuest + ["--smp", "2"])
        let client = try session.connect()
        try client.negotiate()

        // The guest's INT 9 handler sees Ctrl-Alt-Del and warm-boots through FFFF:0000 (then
        // it says it is back and halts with interrupts off).
        let keys = #"[{"type": "qcode", "data": "ctrl"}, {"type": "qcode", "data": "alt"}, {"type": "qcode", "data": "delete"}]"#
        var names: [String] = []
        for _ in 0..<200 {
            #expect(try client.execute(#"{"execute": "send-key", "arguments": {"keys": \#(keys)}}"#)["return"] != nil)
            usleep(20_000)
            let trace = try client.execute(#"{"execute": "x-rv-query-trace"}"#)
            let records = trace["return"] as? [[String: Any]] ?? []
            names = records.map { "\($0["event"] ?? "")" + ($0["milestone"].map { ":\($0)" } ?? "") }
            if names.contains("firmware:warm-start") { break }
        }
        #expect(names.contains("key"))
        #expect(names.contains("firmware:warm-start"), "\(names)")

        #expect(try client.execute(#"{"execute": "inject-nmi"}"#)["return"] != nil)
        #expect(try client.execute(#"{"execute": "system_powerdown"}"#)["return"] != nil)
        _ = try client.waitForEvent("POWERDOWN")
        let nmi = try client.execute(#"{"execute": "x-rv-query-trace", "arguments": {"count": 8}}"#)
        #expect((nmi["return"] as? [[String: Any]])?.contains { $0["event"] as? String == "nmi-line" } == true)

        #expect(try client.execute(#"{"execute": "system_reset"}"#)["return"] != nil)
        let request = try client.waitForEvent("X_RV_RESET_REQUEST")
        #expect(request.data["source"] as? String == "user")
        #expect(request.data["answer"] as? String == "hard")
        let reset = try client.waitForEvent("RESET")
        #expect(reset.data["guest"] as? Bool == false)
        #expect(reset.data["reason"] as? String == "host-qmp-system-reset")

        let cpus = try #require(try client.execute(#"{"execute": "query-cpus-fast"}"#)["return"] as? [[String: Any]])
        #expect(cpus.map { $0["cpu-index"] as? Int } == [0, 1])
        #expect(cpus.allSatisfy { $0["target"] as? String == "x86_64" })

        _ = try client.execute(#"{"execute": "quit"}"#)
        #expect(try session.exitStatus() == 0)
    }

    @Test func errorsAsQEMUGivesThem() throws {
        let session = try QMPSession(Self.idleGuest)
        let client = try session.connect()
        try client.negotiate()
        let cases: [(String, String, String)] = [
            (#"{"execute": "no-such-command"}"#, "CommandNotFound", "The command no-such-command has not been found"),
            (#"{"execute": "send-key"}"#, "GenericError", "Parameter 'keys' is missing"),
            (#"{"execute": "send-key", "arguments": {"keys": 3}}"#, "GenericError", "Invalid parameter type for 'keys', expected: array"),
            (#"{"execute": "send-key", "arguments": {"keys": [{"type": "qcode", "data": "nokey"}]}}"#, "GenericError", "Parameter 'data' does not accept value 'nokey'"),
            (#"{"execute": "stop", "arguments": {"now": true}}"#, "GenericError", "Parameter 'now' is unexpected"),
            (#"{"execute": "stop", "arguments": []}"#, "GenericError", "QMP input member 'arguments' must be an object"),
            (#"{"execute": 5}"#, "GenericError", "QMP input member 'execute' must be a string"),
            (#"{"exec": "stop"}"#, "GenericError", "QMP input member 'exec' is unexpected"),
            (#"{"id": 1}"#, "GenericError", "QMP input lacks member 'execute'"),
            (#"[1, 2]"#, "GenericError", "QMP input must be a JSON object"),
            (#"{"execute": "system_wakeup"}"#, "GenericError", "Unable to wake up: guest is not in suspended state"),
        ]
        for (request, errorClass, text) in cases {
            let reply = try client.execute(request)
            #expect(reply.errorClass == errorClass, "\(request)")
            #expect(reply.errorText == text, "\(request)")
        }
        let malformed = try client.execute(#"{"execute": }"#)
        #expect(malformed.errorClass == "GenericError")
        #expect(malformed.errorText?.hasPrefix("JSON parse error") == true)
        // The connection still works after every error.
        #expect(try client.execute(#"{"execute": "query-status"}"#)["return"] != nil)
        _ = try client.execute(#"{"execute": "quit"}"#)
        #expect(try session.exitStatus() == 0)
    }

    @Test func suspendAndSystemWakeup() throws {
        let directory = try TemporaryDirectory()
        let payload = try directory.file("s3.bin", try TestGuest.suspendToRAM())
        let session = try QMPSession(["--payload", payload, "--paused"])
        let client = try session.connect()
        try client.negotiate()
        _ = try client.execute(#"{"execute": "cont"}"#)
        _ = try client.waitForEvent("SUSPEND")
        let status = try client.execute(#"{"execute": "query-status"}"#)
        #expect((status["return"] as? [String: Any])?["status"] as? String == "suspended")
        #expect(try client.execute(#"{"execute": "system_wakeup"}"#)["return"] != nil)
        _ = try client.waitForEvent("WAKEUP")
        // Woken with no waking vector, the firmware boots the payload, which suspends again.
        _ = try client.waitForEvent("SUSPEND")
        _ = try client.execute(#"{"execute": "quit"}"#)
        #expect(try session.exitStatus() == 0)
    }

    @Test func watchdogAndPanicEvents() throws {
        let watchdog = try QMPSession(["--guest", "watchdog-bite", "--paused"])
        let client = try watchdog.connect()
        try client.negotiate()
        _ = try client.execute(#"{"execute": "cont"}"#)
        #expect(try client.waitForEvent("WATCHDOG").data["action"] as? String == "reset")
        let reset = try client.waitForEvent("RESET")
        #expect(reset.data["guest"] as? Bool == true)
        #expect(reset.data["reason"] as? String == "guest-reset")
        _ = try client.execute(#"{"execute": "quit"}"#)
        #expect(try watchdog.exitStatus() == 0)

        let panic = try QMPSession(["--guest", "panic", "--paused"])
        let panicClient = try panic.connect()
        try panicClient.negotiate()
        _ = try panicClient.execute(#"{"execute": "cont"}"#)
        #expect(try panicClient.waitForEvent("GUEST_PANICKED").data["action"] as? String == "pause")
        _ = try panicClient.waitForEvent("STOP")
        #expect(try panic.exitStatus() == 2)
    }

    /// Garbage, half messages, oversize messages and more clients than it serves: the
    /// emulator answers each with an error or a refusal, and a new client still works.
    @Test func garbageNeverKillsTheSocket() throws {
        let session = try QMPSession(Self.idleGuest)
        var generator = FuzzBytes(seed: 0x5EED)
        // Random bytes, then hang up.
        do {
            let client = try session.connect()
            client.send(bytes: (0..<65_536).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
        }
        // Half a message, then hang up.
        do {
            let client = try session.connect()
            try client.negotiate()
            client.send(#"{"execute": "system_res"#)
        }
        // An oversize message is refused; the stream goes on after it.
        do {
            let client = try session.connect()
            try client.negotiate()
            client.send(#"{"execute": "stop", "id": ""# + String(repeating: "x", count: 2 << 20) + #""}"#)
            #expect(try client.reply().errorText?.contains("larger than") == true)
            #expect(try client.execute(#"{"execute": "query-status"}"#)["return"] != nil)
        }
        // Mutated valid messages for a bounded time, each on a connection of its own (a
        // mutation may leave a string open, which swallows the rest of its stream), while a
        // long-lived client checks after each that the machine still answers.
        do {
            let probe = try session.connect()
            try probe.negotiate()
            let valid = Array(#"{"execute": "query-status", "arguments": {}, "id": [1, {"a": "b"}]}"#.utf8)
            let deadline = Date(timeIntervalSinceNow: 2)
            while Date() < deadline {
                var message = valid
                for _ in 0..<3 { message[Int(generator.next() % UInt64(message.count))] = UInt8(truncatingIfNeeded: generator.next()) }
                let client = try session.connect()
                client.send(#"{"execute": "qmp_capabilities"}"#)
                client.send(bytes: message)
                #expect(try probe.execute(#"{"execute": "query-status"}"#)["return"] != nil)
            }
        }
        // More clients than the server takes: the extra ones are told so and closed.
        do {
            let crowd = try (0..<20).map { _ in try session.connect() }
            let answers = try crowd.map { client in
                _ = client.receive()
                return try client.execute(#"{"execute": "qmp_capabilities"}"#)
            }
            #expect(answers.filter { $0["return"] != nil }.count <= 16)
            #expect(answers.contains { $0.errorText?.contains("too many QMP clients") == true })
        }
        // Once the crowd has gone, a new client is served.
        var served: QMPTestClient?
        for _ in 0..<200 {
            let client = try session.connect()
            if (try? client.negotiate()) != nil {
                served = client
                break
            }
            usleep(20_000)
        }
        let fresh = try #require(served)
        #expect(try fresh.execute(#"{"execute": "query-status"}"#)["return"] != nil)
        _ = try fresh.execute(#"{"execute": "quit"}"#)
        #expect(try session.exitStatus() == 0)
    }

    /// QEMU's own Python client (PyPI `qemu.qmp`, which `.ci/run` installs) drives it unchanged.
    @Test func qemuPythonClientDrivesIt() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import qemu.qmp"]
        probe.standardError = FileHandle.nullDevice
        try? probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else {
            print("QMPTests: skipped the qemu.qmp session: python3 cannot import qemu.qmp (pip install qemu.qmp)")
            return
        }
        let session = try QMPSession(Self.idleGuest + ["--paused"])
        let script = """
            import asyncio, sys
            from qemu.qmp import QMPClient
            async def main():
                qmp = QMPClient('resetvector-test')
                for _ in range(400):
                    try:
                        await qmp.connect(sys.argv[1]); break
                    except Exception:
                        await asyncio.sleep(0.01)
                print('status', (await qmp.execute('query-status'))['status'])
                await qmp.execute('cont')
                await qmp.execute('system_reset')
                async for event in qmp.events:
                    if event['event'] == 'RESET':
                        print('RESET', event['data']['reason'])
                        break
                await qmp.execute('quit')
                try:
                    await qmp.disconnect()
                except EOFError:
                    pass
            asyncio.run(main())
            """
        let python = Process()
        python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        python.arguments = ["python3", "-c", script, session.socketPath]
        let output = Pipe()
        python.standardOutput = output
        try python.run()
        try Invocation.wait(for: python, timeout: 60)
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text == "status paused\nRESET host-qmp-system-reset\n", "\(text)")
        #expect(try session.exitStatus() == 0)
    }
}

/// The fuzzing inputs' deterministic generator (Marsaglia's xorshift64).
struct FuzzBytes {
    var state: UInt64
    init(seed: UInt64) { state = seed | 1 }
    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}
