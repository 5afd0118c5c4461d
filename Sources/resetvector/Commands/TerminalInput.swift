import Foundation
import Machine

/// Standard input as COM1's receiver: a thread reads it and queues bytes for the machine.
/// A read that fails (a closed descriptor) ends the input as end-of-file does.
final class TerminalInput: SerialInputSource, @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var open = true

    init() {
        let thread = Thread { [self] in
            var chunk = [UInt8](repeating: 0, count: 4096)
            while true {
                let got = chunk.withUnsafeMutableBytes { read(STDIN_FILENO, $0.baseAddress, $0.count) }
                if got < 0 && errno == EINTR { continue }
                lock.lock()
                if got > 0 { pending.append(contentsOf: chunk[..<got]) } else { open = false }
                lock.unlock()
                if got <= 0 { return }
            }
        }
        thread.start()
    }

    func take(limit: Int) -> [UInt8] {
        lock.lock()
        defer { lock.unlock() }
        let count = min(limit, pending.count)
        let bytes = Array(pending.prefix(count))
        pending.removeFirst(count)
        return bytes
    }

    var mayProduceMore: Bool {
        lock.lock()
        defer { lock.unlock() }
        return open && isatty(STDIN_FILENO) != 0
    }
}
