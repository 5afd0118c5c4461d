import Foundation
import Machine

/// Standard input as COM1's receiver: a thread reads it and queues bytes for the machine.
final class TerminalInput: SerialInputSource, @unchecked Sendable {
    private let lock = NSLock()
    private var pending: [UInt8] = []
    private var open = true

    init() {
        let thread = Thread { [self] in
            let handle = FileHandle.standardInput
            while true {
                let data = handle.availableData
                lock.lock()
                if data.isEmpty { open = false } else { pending.append(contentsOf: data) }
                lock.unlock()
                if data.isEmpty { return }
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
