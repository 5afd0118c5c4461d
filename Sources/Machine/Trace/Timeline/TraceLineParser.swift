import Hardware

/// Why a line of a JSON Lines trace could not be read back.
public enum TraceLineError: Error, Equatable, CustomStringConvertible {
    /// The text is not the JSON this trace format uses; `reason` says what was wrong, `column`
    /// (1-based, in UTF-8 bytes) where.
    case malformed(reason: String, column: Int)
    /// A key every record has (`t`, `icount`, `cpu`, `event`) is missing or of the wrong type.
    case badKey(String, expected: String)

    public var description: String {
        switch self {
        case .malformed(let reason, let column): "\(reason) at column \(column)"
        case .badKey(let key, let expected): "\"\(key)\" must be \(expected)"
        }
    }
}

extension TraceRecord {
    /// Reads back one line that `EventTrace.jsonLine` wrote: a flat JSON object whose values
    /// are non-negative integers, strings, arrays of non-negative integers or null. The
    /// fields keep their order; `t`, `icount`, `cpu` and `event` become the record's own.
    public init(jsonLine line: String) throws(TraceLineError) {
        var parser = TraceLineParser(Array(line.utf8))
        let members = try parser.object()
        var time: UInt64?
        var instructionCount: UInt64?
        var cpu: Int??
        var name: String?
        var fields: [(String, TraceValue)] = []
        for (key, value) in members {
            switch (key, value) {
            case ("t", .number(let n)): time = n
            case ("icount", .number(let n)): instructionCount = n
            case ("cpu", .number(let n)) where n <= UInt64(Int.max): cpu = .some(Int(n))
            case ("cpu", .null): cpu = .some(nil)
            case ("event", .text(let text)): name = text
            case ("t", _), ("icount", _): throw .badKey(key, expected: "a non-negative integer")
            case ("cpu", _): throw .badKey(key, expected: "a CPU number or null")
            case ("event", _): throw .badKey(key, expected: "a string")
            default: fields.append((key, value))
            }
        }
        guard let time else { throw .badKey("t", expected: "a non-negative integer") }
        guard let instructionCount else { throw .badKey("icount", expected: "a non-negative integer") }
        guard let cpu else { throw .badKey("cpu", expected: "a CPU number or null") }
        guard let name else { throw .badKey("event", expected: "a string") }
        self.init(time: time, instructionCount: instructionCount, event: TraceEvent(name, cpu: cpu, fields))
    }
}

/// A strict reader of the JSON subset trace lines use (RFC 8259 syntax; numbers limited to
/// non-negative integers that fit 64 bits, as `EventTrace.jsonLine` writes them).
private struct TraceLineParser {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func object() throws(TraceLineError) -> [(String, TraceValue)] {
        try expect(UInt8(ascii: "{"), "expected '{'")
        var members: [(String, TraceValue)] = []
        skipSpace()
        if peek() == UInt8(ascii: "}") {
            index += 1
        } else {
            while true {
                skipSpace()
                let key = try string()
                if members.contains(where: { $0.0 == key }) { throw fail("duplicate key \"\(key)\"") }
                try expect(UInt8(ascii: ":"), "expected ':'")
                members.append((key, try value()))
                skipSpace()
                if peek() == UInt8(ascii: ",") { index += 1; continue }
                try expect(UInt8(ascii: "}"), "expected ',' or '}'")
                break
            }
        }
        skipSpace()
        if index < bytes.count { throw fail("unexpected text after the object") }
        return members
    }

    private mutating func value() throws(TraceLineError) -> TraceValue {
        skipSpace()
        switch peek() {
        case UInt8(ascii: "\""): return .text(try string())
        case UInt8(ascii: "["): return .numbers(try numberArray())
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case let byte? where byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"): return .number(try number())
        case nil: throw fail("unexpected end of line")
        default: throw fail("expected a non-negative integer, a string, an array of integers or null")
        }
    }

    private mutating func numberArray() throws(TraceLineError) -> [UInt64] {
        index += 1
        var numbers: [UInt64] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { index += 1; return numbers }
        while true {
            skipSpace()
            numbers.append(try number())
            skipSpace()
            if peek() == UInt8(ascii: ",") { index += 1; continue }
            try expect(UInt8(ascii: "]"), "expected ',' or ']'")
            return numbers
        }
    }

    private mutating func number() throws(TraceLineError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if overflow1 || overflow2 { index = start; throw fail("integer larger than 64 bits") }
            value = sum
            index += 1
        }
        if index == start { throw fail("expected a non-negative integer") }
        if index - start > 1 && bytes[start] == UInt8(ascii: "0") { index = start; throw fail("leading zero in a number") }
        if let byte = peek(), [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(byte) {
            throw fail("expected an integer, not a fraction or exponent")
        }
        return value
    }

    private mutating func string() throws(TraceLineError) -> String {
        try expect(UInt8(ascii: "\""), "expected a string")
        var scalars = String.UnicodeScalarView()
        var run: [UInt8] = []
        func flush() -> Bool {
            guard let text = String(validating: run, as: UTF8.self) else { return false }
            scalars.append(contentsOf: text.unicodeScalars)
            run.removeAll(keepingCapacity: true)
            return true
        }
        while true {
            guard let byte = peek() else { throw fail("unterminated string") }
            index += 1
            switch byte {
            case UInt8(ascii: "\""):
                guard flush() else { throw fail("invalid UTF-8 in a string") }
                return String(scalars)
            case UInt8(ascii: "\\"):
                guard flush() else { throw fail("invalid UTF-8 in a string") }
                scalars.append(try escape())
            case 0..<0x20:
                index -= 1
                throw fail("control character in a string")
            default:
                run.append(byte)
            }
        }
    }

    private mutating func escape() throws(TraceLineError) -> Unicode.Scalar {
        guard let byte = peek() else { throw fail("unterminated string") }
        index += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{8}"
        case UInt8(ascii: "f"): return "\u{C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try hex4()
            if (0xD800..<0xDC00).contains(unit) {
                // A surrogate pair: \uD83D\uDE00.
                guard peek() == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
                    throw fail("unpaired surrogate in a string")
                }
                index += 2
                let low = try hex4()
                guard (0xDC00..<0xE000).contains(low) else { throw fail("unpaired surrogate in a string") }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            }
            guard let scalar = Unicode.Scalar(unit) else { throw fail("unpaired surrogate in a string") }
            return scalar
        default:
            index -= 1
            throw fail("invalid escape in a string")
        }
    }

    private mutating func hex4() throws(TraceLineError) -> UInt32 {
        guard index + 4 <= bytes.count,
              let value = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16),
              bytes[index..<index + 4].allSatisfy({ $0 != UInt8(ascii: "+") && $0 != UInt8(ascii: "-") }) else {
            throw fail("expected four hexadecimal digits after \\u")
        }
        index += 4
        return value
    }

    private mutating func literal(_ word: String) throws(TraceLineError) {
        let expected = Array(word.utf8)
        guard bytes[index...].starts(with: expected) else { throw fail("expected \(word)") }
        index += expected.count
    }

    private mutating func expect(_ byte: UInt8, _ message: String) throws(TraceLineError) {
        skipSpace()
        guard peek() == byte else { throw fail(peek() == nil ? "unexpected end of line" : message) }
        index += 1
    }

    private mutating func skipSpace() {
        while let byte = peek(), byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D { index += 1 }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private func fail(_ reason: String) -> TraceLineError { .malformed(reason: reason, column: index + 1) }
}
