import Machine

/// A machine's trace as JSON Lines, held in an unnamed temporary file until its turn to be
/// written out: `demo --linux` runs rows at once but writes their traces row after row, and
/// a row's trace (millions of events for a 32-bit kernel's POST codes) stays out of memory.
///
/// Used by one thread at a time: the row's while it runs, then the printing thread's.
final class TraceSpool: @unchecked Sendable {
    private let file: OutputFile
    private var buffer: [UInt8] = []
    /// Lines are written to the file in chunks of about this many bytes.
    static let chunkSize = 1 << 16

    init() throws(UserError) {
        file = try OutputFile.temporary()
    }

    /// Attaches the spool to `trace`: every record from now on, as a JSON line.
    func attach(to trace: EventTrace) {
        trace.jsonOutput = { [unowned self] line in
            buffer += line.utf8
            buffer.append(0x0A)
            if buffer.count >= TraceSpool.chunkSize { flush() }
        }
    }

    /// Copies every line spooled so far to `output`.
    func copy(to output: OutputFile) throws(OutputFailure) {
        flush()
        try file.copyContents(to: output)
    }

    private func flush() {
        file.write(buffer)
        buffer.removeAll(keepingCapacity: true)
    }
}
