import Foundation
import Testing

/// `--serial stdio` on a real (pseudo-)terminal: raw mode while the guest runs, the escape
/// keys, and the terminal's settings put back however the process ends.
@Suite struct SerialConsoleTests {
    static let prompt = "echo>"

    static func echoGuest(in directory: TemporaryDirectory) throws -> String {
        try directory.file("echo.bin", TestGuest.serialEcho(prompt: prompt))
    }

    /// Asserts that the terminal is in raw mode: no echo, no line editing, no signals from keys.
    static func expectRaw(_ session: TerminalSession) {
        let flags = session.settings.c_lflag
        #expect(flags & tcflag_t(ECHO | ICANON | ISIG) == 0, "c_lflag 0x\(String(flags, radix: 16))")
        #expect(session.settings.c_oflag & tcflag_t(OPOST) != 0)
    }

    @Test func typedKeysReachTheGuestAndCtrlAXEndsTheRun() throws {
        let directory = try TemporaryDirectory()
        let session = try TerminalSession(["run", "--payload", try Self.echoGuest(in: directory)])
        let cooked = session.settings.modes
        #expect(session.read(until: Self.prompt), "\(String(decoding: session.output, as: UTF8.self))")
        Self.expectRaw(session)
        // ^C is a byte for the guest, not SIGINT; Ctrl-A Ctrl-A is one Ctrl-A.
        session.type(Array("typed".utf8) + [0x03, 0x01, 0x01, UInt8(ascii: "!")])
        #expect(session.read(until: "typed\u{03}\u{01}!"), "\(String(decoding: session.output, as: UTF8.self))")
        // Only the guest echoes: the terminal's own echo is off.
        #expect(session.occurrences(of: "typed") == 1)
        session.type([0x01, UInt8(ascii: "h")])
        #expect(session.read(until: "Ctrl-A X  end the run"))
        session.type([0x01, UInt8(ascii: "x")])
        #expect(session.waitForExit() == .exited(status: 12))
        #expect(session.read(until: "resetvector: stopped by the user (Ctrl-A X)", timeout: 0))
        #expect(session.settings.modes == cooked)
    }

    @Test func ctrlARAndCtrlAPPressTheResetAndPowerButtons() throws {
        let directory = try TemporaryDirectory()
        let session = try TerminalSession(["run", "--payload", try Self.echoGuest(in: directory), "--trace"])
        #expect(session.read(until: Self.prompt))
        session.type([0x01, UInt8(ascii: "P")])
        #expect(session.read(until: "user-action action=power-button"), "\(String(decoding: session.output, as: UTF8.self))")
        #expect(session.read(until: "power-button\r\n"))
        session.type([0x01, UInt8(ascii: "r")])
        #expect(session.read(until: "reset-request source=user"), "\(String(decoding: session.output, as: UTF8.self))")
        // The reset boots the guest again: its prompt comes a second time.
        #expect(session.read(until: "boot 2, cold start"))
        #expect(session.read(until: Self.prompt, count: 2))
        session.type([0x01, UInt8(ascii: "x")])
        #expect(session.waitForExit() == .exited(status: 12))
    }

    @Test(arguments: [SIGTERM, SIGINT, SIGHUP])
    func aSignalRestoresTheTerminalAndEndsTheProcess(signal: Int32) throws {
        let directory = try TemporaryDirectory()
        let session = try TerminalSession(["run", "--payload", try Self.echoGuest(in: directory)])
        let cooked = session.settings.modes
        #expect(session.read(until: Self.prompt))
        Self.expectRaw(session)
        kill(session.pid, signal)
        #expect(session.waitForExit() == .signaled(signal))
        #expect(session.settings.modes == cooked)
    }

    @Test func aPausedRunRestoresTheTerminal() throws {
        // The guest halts with interrupts disabled: a pause ends the run (status 2) with the
        // state report printed, after the terminal was put back.
        let directory = try TemporaryDirectory()
        let payload = try directory.file("halt.bin", TestGuest.debugConsoleMessage("bye"))
        let session = try TerminalSession(["run", "--payload", payload])
        let cooked = session.settings.modes
        #expect(session.waitForExit() == .exited(status: 2))
        #expect(session.read(until: "the serial console is on this terminal", timeout: 0))
        #expect(session.read(until: "paused", timeout: 0))
        #expect(session.settings.modes == cooked)
    }

    @Test func pipedInputPassesThroughWithoutEscapes() throws {
        let directory = try TemporaryDirectory()
        let process = Process()
        process.executableURL = Invocation.executable
        process.arguments = ["run", "--payload", try Self.echoGuest(in: directory), "--max-instructions", "3000000"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try input.fileHandleForWriting.write(contentsOf: Data([0x01, UInt8(ascii: "x")] + Array("typed".utf8)))
        try input.fileHandleForWriting.close()
        try process.run()
        let echoed = output.fileHandleForReading.readDataToEndOfFile()
        try Invocation.wait(for: process, timeout: 120)
        // Ctrl-A X from a pipe is two bytes for the guest, not the quit key.
        #expect(process.terminationStatus == 4)
        let text = String(decoding: echoed, as: UTF8.self)
        #expect(text.hasSuffix(Self.prompt + "\u{01}xtyped"), "\(text.debugDescription)")
    }
}
