/// One hardware-captured single-instruction test (the SingleStepTests format).
struct VectorTest: Decodable, Sendable {
    struct State: Decodable, Sendable {
        var regs: [String: UInt32]
        var ram: [[UInt32]]
    }
    struct ExceptionInfo: Decodable, Sendable {
        var number: UInt8
        var flagAddress: UInt32

        enum CodingKeys: String, CodingKey {
            case number
            case flagAddress = "flag_address"
        }
    }

    var name: String
    var bytes: [UInt8]
    var initial: State
    var final: State
    var exception: ExceptionInfo?
    var hash: String
}

/// Errors reading vector files.
public enum VectorError: Error, CustomStringConvertible {
    case unreadable(String)
    case malformed(file: String, line: Int, reason: String)
    case noVectorFiles(String)
    /// The file's compressed data is damaged or cut short.
    case corrupt(String, reason: String)
    /// The file holds no tests.
    case empty(String)

    public var description: String {
        switch self {
        case .unreadable(let path): "cannot read \(path)"
        case .malformed(let file, let line, let reason): "\(file):\(line): malformed test: \(reason)"
        case .noVectorFiles(let dir): "no *.jsonl.gz vector files in \(dir)"
        case .corrupt(let path, let reason): "\(path): corrupt gzip data (\(reason))"
        case .empty(let path): "\(path): no tests in the file"
        }
    }
}
