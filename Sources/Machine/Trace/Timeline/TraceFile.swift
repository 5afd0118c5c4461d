/// Why a JSON Lines trace file could not be read back.
public enum TraceFileError: Error, Equatable, CustomStringConvertible {
    /// Line `line` (1-based) is not a trace record.
    case badLine(line: Int, TraceLineError)
    /// Line `line` is not UTF-8 text.
    case notText(line: Int)
    /// The file holds no records at all.
    case empty

    public var description: String {
        switch self {
        case .badLine(let line, let error): "line \(line): \(error)"
        case .notText(let line): "line \(line): not UTF-8 text"
        case .empty: "no trace events in it"
        }
    }
}

/// A trace written by `--trace-json` (`EventTrace.jsonLine`, one record a line), read back.
public enum TraceFile {
    /// The records of a JSON Lines trace, in order. Blank lines are skipped (a final newline,
    /// or none, is fine); the first line that is not a record ends the reading with its number.
    public static func records(parsing bytes: some Collection<UInt8>) throws(TraceFileError) -> [TraceRecord] {
        var records: [TraceRecord] = []
        var lineNumber = 0
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            guard let text = String(validating: line, as: UTF8.self) else { throw .notText(line: lineNumber) }
            if text.allSatisfy(\.isWhitespace) { continue }
            do {
                records.append(try TraceRecord(jsonLine: text))
            } catch {
                throw .badLine(line: lineNumber, error)
            }
        }
        if records.isEmpty { throw .empty }
        return records
    }
}
