import Foundation
import Glibc
import Testing

/// The gdb stub, driven by Debian's gdb in batch mode as a user would drive it.
@Suite(.serialized) struct GDBTests {
    /// Runs the emulator with `arguments` and `--gdb tcp:127.0.0.1:0`, then gdb (debugging
    /// `program`, if given) with `commands` against the port it printed; gdb's output and the
    /// emulator's exit status.
    static func session(_ arguments: [String], _ commands: [String], program: String? = nil) throws -> (gdb: String, status: Int32)? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gdb") else {
            print("GDBTests: skipped: no /usr/bin/gdb (apt-get install gdb)")
            return nil
        }
        let emulator = try BackgroundRun(["run", "--gdb", "tcp:127.0.0.1:0", "--serial", "none"] + arguments)
        var port: String?
        for _ in 0..<500 where port == nil {
            port = emulator.standardError.split(separator: "\n").first { $0.contains("gdb stub at tcp:") }.map { String($0.split(separator: ":").last!) }
            if port == nil { usleep(10_000) }
        }
        let gdbPort = try #require(port, "the emulator did not say where its stub listens")
        let gdb = Process()
        gdb.executableURL = URL(fileURLWithPath: "/usr/bin/gdb")
        gdb.arguments = ["-batch", "-nx"] + (program.map { [$0] } ?? []) + ["-ex", "target remote 127.0.0.1:\(gdbPort)"]
            + commands.flatMap { ["-ex", $0] }
        let output = Pipe()
        gdb.standardOutput = output
        gdb.standardError = output
        gdb.standardInput = FileHandle.nullDevice
        try gdb.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        try Invocation.wait(for: gdb, timeout: 60)
        return (text, try emulator.exitStatus())
    }

    @Test func breakpointStepAndRegistersInRealMode() throws {
        guard let run = try Self.session(["--guest", "cf9-warm", "--paused"], [
            "info registers eip cs", "break *0x7c00", "continue", "info registers eip", "stepi", "info registers eip",
            "info threads", "x/2xb 0x7c00", "kill",
        ]) else { return }
        // Attached at the reset vector, F000:FFF0.
        #expect(run.gdb.contains("eip            0xfff0"), "\(run.gdb)")
        #expect(run.gdb.contains("cs             0xf000"))
        #expect(run.gdb.contains("Breakpoint 1, 0x00007c00"))
        // The step executed one instruction of the payload.
        let eips = run.gdb.split(separator: "\n").filter { $0.hasPrefix("eip") }
        #expect(eips.count == 3)
        #expect(eips.last != eips.dropLast().last)
        #expect(run.gdb.contains("Thread 1 (CPU 0"))
        #expect(run.status == 0, "kill ends the run")
    }

    @Test func aWriteWatchpointStopsAfterTheWrite() throws {
        // The firmware stores the EBDA's segment (9F00h) in the BIOS data area at 40Eh.
        guard let run = try Self.session(["--guest", "8042-pulse", "--paused"], [
            "watch *(short*)0x40e", "continue", "x/hx 0x40e", "kill",
        ]) else { return }
        #expect(run.gdb.contains("Old value = 0\nNew value = -24832"), "\(run.gdb)")
        #expect(run.gdb.contains("0x40e:\t0x9f00"), "\(run.gdb)")
    }

    /// How gdb prints a real-mode stop address (the i386 description's eip).
    static func location(_ address: UInt32) -> String { String(format: "0x%08x", address) }

    @Test func anAccessWatchpointStopsAfterEveryReadAndWrite() throws {
        let directory = try TemporaryDirectory()
        let guest = try TestGuest.watchedWord()
        guard let run = try Self.session(["--payload", try directory.file("watched.bin", guest.code), "--paused"], [
            "break *0x7c00", "continue", "delete", "awatch *(short*)0x500", "continue", "continue", "continue", "kill",
        ]) else { return }
        let hit = "Hardware access (read/write) watchpoint 2: *(short*)0x500\n\n"
        #expect(run.gdb.contains(hit + "Old value = 0\nNew value = 4660\n\(Self.location(guest.afterAccesses[0]))"), "\(run.gdb)")
        // The store of the value already there and the read are hits too.
        #expect(run.gdb.contains(hit + "Value = 4660\n\(Self.location(guest.afterAccesses[1]))"), "\(run.gdb)")
        #expect(run.gdb.contains(hit + "Value = 4660\n\(Self.location(guest.afterAccesses[2]))"), "\(run.gdb)")
    }

    @Test func aReadWatchpointIgnoresWrites() throws {
        let directory = try TemporaryDirectory()
        let guest = try TestGuest.watchedWord()
        guard let run = try Self.session(["--payload", try directory.file("watched.bin", guest.code), "--paused"], [
            "break *0x7c00", "continue", "delete", "rwatch *(short*)0x500", "continue", "info registers eip", "kill",
        ]) else { return }
        #expect(run.gdb.contains("Hardware read watchpoint 2: *(short*)0x500\n\nValue = 4660\n\(Self.location(guest.afterAccesses[2]))"),
                "\(run.gdb)")
    }

    /// Watchpoints are every CPU's: the application processor that takes the first number
    /// from the guest's counter at 600h is the thread gdb is shown.
    @Test func aWatchpointReportsTheCPUThatHitIt() throws {
        guard let run = try Self.session(["--guest", "mp-startup", "--smp", "2", "--paused"], [
            "watch *(short*)0x600", "continue", "info threads", "kill",
        ]) else { return }
        #expect(run.gdb.contains("Thread 2 hit Hardware watchpoint 1: *(short*)0x600\n\nOld value = 0\nNew value = 1"), "\(run.gdb)")
        #expect(run.gdb.contains("* 2    Thread 2 (CPU 1 active)"), "\(run.gdb)")
    }

    /// A write watchpoint stops after a store of the value already there (gdb's `watch` would
    /// then go on silently, so the stub is driven packet by packet).
    @Test func aWriteWatchpointStopsOnAWriteOfTheSameValue() throws {
        let directory = try TemporaryDirectory()
        let guest = try TestGuest.watchedWord()
        let socket = directory.path("gdb.sock")
        let emulator = try BackgroundRun(["run", "--gdb", "unix:\(socket)", "--serial", "none", "--paused",
                                          "--payload", try directory.file("watched.bin", guest.code)])
        let client = try Self.connect(socket)
        #expect(Self.request(client, "Z0,7c00,1") == "OK")
        #expect(Self.request(client, "c") == "T05swbreak:;thread:1;")
        #expect(Self.request(client, "z0,7c00,1") == "OK")
        #expect(Self.request(client, "Z2,500,2") == "OK")
        for after in guest.afterAccesses.prefix(2) {
            #expect(Self.request(client, "c") == "T05watch:500;thread:1;")
            // eip, register 8 of the i386 description, is right after the store.
            #expect(Self.request(client, "p8") == String(format: "%08x", after.byteSwapped))
        }
        #expect(Self.request(client, "m500,2") == "3412")
        // Bad watchpoints: lengths 0 and over a page, a range past the top of the address space.
        for bad in ["Z3,500,0", "Z3,500,1001", "Z4,fffffffffffffffe,4", "Z2,zz,2"] {
            #expect(Self.request(client, bad) == "E01", "\(bad)")
        }
        // Sixteen watchpoints at most (the Z2 above is one); a removed one frees its place.
        for n in 1..<16 { #expect(Self.request(client, "Z3,\(String(0x600 + n, radix: 16)),1") == "OK") }
        #expect(Self.request(client, "Z4,700,1") == "E01")
        #expect(Self.request(client, "z2,500,2") == "OK")
        #expect(Self.request(client, "Z4,700,1") == "OK")
        client.send(Self.packet("k"))
        #expect(try emulator.exitStatus() == 0)
    }

    /// A connection to the stub's unix socket (retried while the emulator starts).
    static func connect(_ socket: String) throws -> QMPTestClient {
        for _ in 0..<400 {
            if let client = QMPTestClient(path: socket) { return client }
            usleep(10_000)
        }
        throw QMPTestFailure("no gdb socket")
    }

    /// `$payload#checksum`.
    static func packet(_ payload: String) -> String {
        "$\(payload)#" + String(format: "%02x", payload.utf8.reduce(UInt8(0)) { $0 &+ $1 })
    }

    /// Sends `text`, then reads for up to 3 s until `done` holds for what arrived; what arrived.
    static func exchange(_ client: QMPTestClient, _ text: String, until done: (String) -> Bool) -> String {
        client.send(text)
        var replies = ""
        for _ in 0..<300 where !done(replies) {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let got = chunk.withUnsafeMutableBytes { recv(client.descriptor, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            if got > 0 { replies += String(decoding: chunk[..<got], as: UTF8.self) } else { usleep(10_000) }
        }
        return replies
    }

    /// Sends one packet and returns the payload of the stub's reply packet.
    static func request(_ client: QMPTestClient, _ payload: String) -> String {
        let replies = exchange(client, packet(payload)) { text in
            guard let start = text.firstIndex(of: "$"), let end = text[start...].firstIndex(of: "#") else { return false }
            return text.distance(from: end, to: text.endIndex) >= 3
        }
        guard let start = replies.firstIndex(of: "$"), let end = replies[start...].firstIndex(of: "#") else { return replies }
        return String(replies[replies.index(after: start)..<end])
    }

    @Test func aTripleFaultIsCaughtBeforeTheBoardAnswers() throws {
        guard let run = try Self.session(["--guest", "pm-triple-fault", "--paused", "--gdb-catch", "shutdown"], [
            "continue", "info registers eip cr0", "info threads", "kill",
        ]) else { return }
        #expect(run.gdb.contains("Program received signal SIGSEGV"), "\(run.gdb)")
        // The state is the faulting one: protected mode, in the guest's code, CPU in shutdown.
        #expect(run.gdb.contains("eip            0x7c"), "\(run.gdb)")
        #expect(run.gdb.contains("CPU 0 shutdown"))
    }

    @Test func aResetHeldByOnResetPauseStopsGdbFirst() throws {
        guard let run = try Self.session(["--guest", "8042-pulse", "--paused", "--on-reset", "pause"], [
            "continue", "info registers eip cs", "x/2xb $eip-2", "kill",
        ]) else { return }
        #expect(run.gdb.contains("Program received signal SIGABRT"), "\(run.gdb)")
        // Stopped right after the guest's OUT 64h, AL (E6 64) that asked for the reset.
        #expect(run.gdb.contains("0xe6\t0x64"), "\(run.gdb)")
    }

    @Test func longModeStateReadsAsX86_64() throws {
        guard let run = try Self.session(["--guest", "lm-triple-fault", "--gdb-catch", "shutdown"], [
            "info registers rip", "show architecture", "kill",
        ]) else { return }
        #expect(run.gdb.contains("rip "), "\(run.gdb)")
        #expect(run.gdb.contains("i386:x86-64"))
    }

    /// gdb debugging a 64-bit program (the emulator's own x86-64 executable stands in for a
    /// vmlinux) rejects the i386 description, so `--gdb-arch x86-64` gives the x86-64 one from
    /// the reset vector on: 16-bit state in 64-bit registers, and the segment bases.
    @Test func theX86_64DescriptionFromTheResetVector() throws {
        guard let run = try Self.session(["--guest", "cf9-warm", "--paused", "--gdb-arch", "x86-64"], [
            "show architecture", "info registers rip cs", "set $gs = 0x1234", "info registers gs_base", "kill",
        ], program: Invocation.executable.path) else { return }
        #expect(run.gdb.contains("(currently \"i386:x86-64\")"), "\(run.gdb)")
        #expect(run.gdb.contains("rip            0xfff0"), "\(run.gdb)")
        #expect(run.gdb.contains("cs             0xf000"), "\(run.gdb)")
        // A real-mode segment load through gdb: the base is 16 × the selector.
        #expect(run.gdb.contains("gs_base        0x12340"), "\(run.gdb)")
    }

    /// A 64-bit Linux kernel (XLF_KERNEL_64) gets the x86-64 description by default, a 32-bit
    /// one the i386 description; both are attached at the reset vector.
    @Test(arguments: [("amd64", "i386:x86-64"), ("i386", "i386")])
    func aLinuxKernelChoosesTheDescription(_ architecture: String, _ expected: String) throws {
        let kernel = "\(LinuxGuests.cache)/debian/\(architecture)/vmlinuz"
        guard FileManager.default.fileExists(atPath: kernel) else {
            print("GDBTests: skipped: no Debian kernel at \(kernel) (run Tools/guests/fetch-debian.sh \(architecture))")
            return
        }
        guard let run = try Self.session(["--kernel", kernel, "--paused"], ["show architecture", "kill"]) else { return }
        #expect(run.gdb.contains("(currently \"\(expected)\")"), "\(run.gdb)")
    }

    /// Garbage on the stub's socket: random bytes, half packets, bad checksums, oversize
    /// packets and a second client never stop it; a client that speaks the protocol is then
    /// answered.
    @Test func garbageNeverKillsTheStub() throws {
        let directory = try TemporaryDirectory()
        let socket = directory.path("gdb.sock")
        let emulator = try BackgroundRun(["run", "--gdb", "unix:\(socket)", "--serial", "none", "--guest", "ctrl-alt-del"])
        func connect() throws -> QMPTestClient { try Self.connect(socket) }
        var generator = FuzzBytes(seed: 0x6DB)
        let deadline = Date(timeIntervalSinceNow: 2)
        while Date() < deadline {
            let client = try connect()
            switch generator.next() % 4 {
            case 0: client.send(bytes: (0..<4096).map { _ in UInt8(truncatingIfNeeded: generator.next()) })
            case 1: client.send("$qSupported:multiprocess+;swbreak+")
            case 2: client.send("$g#00$m0,ffffffff#00$Z0,zz,1#00")
            default: client.send("$" + String(repeating: "M", count: 100_000) + "#00")
            }
        }
        func exchange(_ client: QMPTestClient, _ packet: String) -> String {
            Self.exchange(client, packet) { $0.contains("thread:") || $0.contains("E01") }
        }
        // Once the fuzzing clients have gone, a client is served; a second one at the same
        // time is refused (gdb's protocol has one client).
        var served: QMPTestClient?
        for _ in 0..<100 where served == nil {
            let client = try connect()
            if exchange(client, "$?#3f").hasPrefix("+$T") { served = client } else { usleep(20_000) }
        }
        let first = try #require(served)
        #expect(exchange(try connect(), "$?#3f").contains("$E01#a6"))
        first.send("+$k#6b")
        #expect(try emulator.exitStatus() == 0)
    }
}
