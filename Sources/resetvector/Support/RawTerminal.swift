#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard input's terminal in raw mode while a guest's serial console owns it, and its
/// settings put back on every way out of the process: `restore()` after a run, an `atexit`
/// handler for `exit` (errors, every outcome's status), and handlers for SIGINT, SIGTERM,
/// SIGHUP and SIGQUIT that restore the settings and re-raise the signal, so the process still
/// ends by it.
///
/// Raw as QEMU's stdio character device makes it: no echo, no canonical (line) mode, no
/// signals from ^C, ^\ or ^Z (they reach the guest), no CR-to-NL or flow control on input,
/// 8-bit characters; output post-processing stays on, so the emulator's own lines (the run's
/// report, the escape help) still start at the left margin.
enum RawTerminal {
    /// The settings found by `enter()`, and whether they still have to be put back. Written
    /// before any handler is installed; the handlers only read them (one `tcsetattr`, which is
    /// async-signal-safe).
    nonisolated(unsafe) private static var saved = termios()
    nonisolated(unsafe) private static var active = false
    nonisolated(unsafe) private static var handlersInstalled = false

    /// The signals whose default action ends the process and that a terminal or a supervisor
    /// sends to an interactive program.
    static let restoringSignals = [SIGINT, SIGTERM, SIGHUP, SIGQUIT]

    /// Puts standard input's terminal in raw mode; returns false (and changes nothing) when
    /// standard input is not a terminal.
    @discardableResult
    static func enter() -> Bool {
        guard isatty(STDIN_FILENO) != 0, !active, tcgetattr(STDIN_FILENO, &saved) == 0 else { return false }
        installHandlers()
        var raw = saved
        raw.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON)
        raw.c_oflag |= tcflag_t(OPOST)
        raw.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | ISIG | IEXTEN)
        raw.c_cflag &= ~tcflag_t(CSIZE | PARENB)
        raw.c_cflag |= tcflag_t(CS8)
        withUnsafeMutableBytes(of: &raw.c_cc) { controlCharacters in
            controlCharacters[Int(VMIN)] = 1
            controlCharacters[Int(VTIME)] = 0
        }
        active = true
        guard tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0 else {
            active = false
            return false
        }
        return true
    }

    /// Puts back the settings `enter()` found, once; does nothing when they are in place.
    static func restore() {
        guard active else { return }
        active = false
        _ = tcsetattr(STDIN_FILENO, TCSANOW, &saved)
    }

    private static func installHandlers() {
        guard !handlersInstalled else { return }
        handlersInstalled = true
        atexit { RawTerminal.restore() }
        for signal in restoringSignals {
            // A signal the parent had ignored (a background job's SIGINT) stays ignored.
            var current = sigaction()
            guard sigaction(signal, nil, &current) == 0, !isIgnored(current) else { continue }
            var action = sigaction()
            #if canImport(Glibc)
            action.__sigaction_handler.sa_handler = RawTerminal.restoreAndReraise
            #else
            action.__sigaction_u.__sa_handler = RawTerminal.restoreAndReraise
            #endif
            // The default action comes back on entry: the re-raised signal, delivered when the
            // handler returns, ends the process as it would have without the handler.
            action.sa_flags = Int32(truncatingIfNeeded: SA_RESETHAND)
            sigemptyset(&action.sa_mask)
            _ = sigaction(signal, &action, nil)
        }
    }

    private static func isIgnored(_ action: sigaction) -> Bool {
        #if canImport(Glibc)
        let handler = action.__sigaction_handler.sa_handler
        #else
        let handler = action.__sigaction_u.__sa_handler
        #endif
        return unsafeBitCast(handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
    }

    private static let restoreAndReraise: @convention(c) (Int32) -> Void = { signal in
        RawTerminal.restore()
        _ = raise(signal)
    }
}
