import Foundation
import Machine

/// Standard input as COM1's receiver: a thread reads it and queues bytes for the machine.
/// A read that fails (a closed descriptor) ends the input as end-of-file does.
///
/// On a terminal the escape keys (`TerminalEscape`) are decoded: their commands are queued
/// for the machine and their help goes to standard error. Input from a pipe or a file passes
/// through byte for byte.
final class TerminalInput: SerialInputSource, @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var commands: [SerialInputCommand] = []
    private var open = true
    private let isTerminal = isatty(STDIN_FILENO) != 0

    init() {
        let thread = Thread { [self] in
            var escape = isTerminal ? TerminalEscape() : nil
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let got = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                guard got > 0 else {
                    lock.withLock { open = false }
                    return
                }
                var bytes: [UInt8] = [], typedCommands: [SerialInputCommand] = []
                for byte in chunk[..<got] {
                    switch escape?.decode(byte) ?? .byte(byte) {
                    case .byte(let byte): bytes.append(byte)
                    case .command(let command): typedCommands.append(command)
                    case .help: StandardStreams.error().write(TerminalEscape.help)
                    case .none: break
                    }
                }
                lock.withLock {
                    pending += bytes
                    commands += typedCommands
                }
            }
        }
        thread.start()
    }

    func take(limit: Int) -> [UInt8] {
        lock.withLock {
            let count = min(limit, pending.count)
            let bytes = Array(pending.prefix(count))
            pending.removeFirst(count)
            return bytes
        }
    }

    func takeCommands() -> [SerialInputCommand] {
        lock.withLock {
            defer { commands.removeAll() }
            return commands
        }
    }

    var mayProduceMore: Bool {
        lock.withLock { open && isTerminal }
    }
}
