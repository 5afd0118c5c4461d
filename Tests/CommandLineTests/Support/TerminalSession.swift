import Foundation
import Testing

/// The built `resetvector` running on a pseudo-terminal, as from a user's shell: the terminal is
/// its standard input, output and error and its controlling terminal (a new session), so raw
/// mode, signals and the escape keys behave as they do for a user. The test holds the
/// controller side (what the user types and sees) and keeps the terminal side open to read
/// its settings after the process is gone.
final class TerminalSession {
    let controller: Int32
    let terminal: Int32
    let pid: pid_t
    /// Everything the process wrote to the terminal so far.
    private(set) var output: [UInt8] = []
    private var waitStatus: Int32?

    /// Starts `resetvector arguments` on a new pseudo-terminal with the kernel's default
    /// settings (canonical mode, echo, signals).
    init(_ arguments: [String]) throws {
        var controller: Int32 = -1, terminal: Int32 = -1
        guard openpty(&controller, &terminal, nil, nil, nil) == 0 else { throw POSIXError(.init(rawValue: errno) ?? .EIO) }
        self.controller = controller
        self.terminal = terminal
        // Everything the child needs is prepared before fork: it only makes async-signal-safe calls.
        let path = Invocation.executable.path
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        // A crash report on the terminal must not wait for a key.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "interactive=no"
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var unblocked = sigset_t()
        sigemptyset(&unblocked)
        let defaultSignals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]
        let child = fork()
        if child == 0 {
            // A test runner may start its children with signals blocked or ignored.
            sigprocmask(SIG_SETMASK, &unblocked, nil)
            for signal in defaultSignals { Glibc.signal(signal, SIG_DFL) }
            close(controller)
            // A new session whose controlling terminal is the pseudo-terminal, on 0, 1 and 2.
            if login_tty(terminal) == 0 {
                closefrom(3)
                execve(path, argv, envp)
            }
            _exit(127)
        }
        guard child > 0 else { throw POSIXError(.init(rawValue: errno) ?? .EAGAIN) }
        pid = child
    }

    deinit {
        if waitStatus == nil {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(controller)
        close(terminal)
    }

    /// The terminal's current settings.
    var settings: termios {
        var settings = termios()
        tcgetattr(terminal, &settings)
        return settings
    }

    /// Types `bytes` on the terminal.
    func type(_ bytes: [UInt8]) {
        _ = bytes.withUnsafeBytes { write(controller, $0.baseAddress, $0.count) }
    }

    /// Reads what the process writes until `text` has appeared `count` times in all, at most
    /// `timeout` seconds; returns whether it did.
    @discardableResult
    func read(until text: String, count: Int = 1, timeout: Double = 60) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while occurrences(of: text) < count {
            guard Date() < deadline else { return false }
            readAvailable(waitingMilliseconds: 50)
        }
        return true
    }

    /// How the process ended.
    enum Ending: Equatable {
        case exited(status: Int32)
        case signaled(Int32)

        /// Decodes a wait status (POSIX `WIFEXITED`, `WEXITSTATUS`, `WTERMSIG`; the macros
        /// are not imported into Swift).
        init(waitStatus: Int32) {
            self = waitStatus & 0x7F == 0 ? .exited(status: (waitStatus >> 8) & 0xFF) : .signaled(waitStatus & 0x7F)
        }
    }

    /// Waits for the process to end (at most `timeout` seconds, then it is killed and the test
    /// fails) and reads what it wrote last.
    func waitForExit(timeout: Double = 60) -> Ending {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var status: Int32 = 0
        while waitpid(pid, &status, WNOHANG) == 0 {
            if Date() > deadline {
                Issue.record("resetvector did not end within \(timeout) s; it wrote: \(String(decoding: output, as: UTF8.self))")
                kill(pid, SIGKILL)
                waitpid(pid, &status, 0)
                break
            }
            readAvailable(waitingMilliseconds: 10)
        }
        readAvailable(waitingMilliseconds: 0)
        waitStatus = status
        return Ending(waitStatus: status)
    }

    /// How often `text` appears in the output.
    func occurrences(of text: String) -> Int {
        String(decoding: output, as: UTF8.self).components(separatedBy: text).count - 1
    }

    private func readAvailable(waitingMilliseconds: Int32) {
        var descriptor = pollfd(fd: controller, events: Int16(POLLIN), revents: 0)
        var wait = waitingMilliseconds
        var chunk = [UInt8](repeating: 0, count: 4096)
        while poll(&descriptor, 1, wait) > 0 {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(controller, $0.baseAddress, $0.count) }
            if got <= 0 { return }
            output += chunk[..<got]
            wait = 0
        }
    }
}

extension termios {
    /// The modes and control characters, the parts raw mode changes.
    var modes: [UInt64] {
        var characters = c_cc
        let cc = withUnsafeBytes(of: &characters) { $0.map(UInt64.init) }
        return [UInt64(c_iflag), UInt64(c_oflag), UInt64(c_cflag), UInt64(c_lflag)] + cc
    }
}
