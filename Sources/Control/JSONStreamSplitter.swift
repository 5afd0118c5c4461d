/// Cuts a byte stream into JSON texts the way QEMU's JSON streamer does: by bracket depth,
/// outside strings, so a message needs no newline after it and may arrive in pieces.
/// Text outside any object that is not whitespace is reported as garbage (one report per
/// run of it); a message larger than the limit is dropped and reported.
public struct JSONStreamSplitter {
    /// What the stream yielded.
    public enum Piece: Equatable, Sendable {
        /// The bytes of one complete top-level object or array.
        case message([UInt8])
        /// Bytes that cannot start a message (reported once per run).
        case garbage
        /// A message longer than ``maximumMessageSize``, dropped.
        case tooLarge
    }

    /// Largest message accepted, in bytes.
    public let maximumMessageSize: Int

    private var buffer: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var inGarbage = false
    /// After an oversize message: skip bytes until its brackets close.
    private var discarding = false

    public init(maximumMessageSize: Int = 1 << 20) {
        self.maximumMessageSize = maximumMessageSize
    }

    /// Feeds received bytes; returns what they completed, in order.
    public mutating func feed(_ bytes: some Sequence<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for byte in bytes {
            if depth == 0 {
                switch byte {
                case UInt8(ascii: "{"), UInt8(ascii: "["):
                    inGarbage = false
                case 0x20, 0x09, 0x0A, 0x0D:
                    inGarbage = false
                    continue
                default:
                    if !inGarbage { pieces.append(.garbage) }
                    inGarbage = true
                    continue
                }
            }
            if !discarding { buffer.append(byte) }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
            } else {
                switch byte {
                case UInt8(ascii: "\""): inString = true
                case UInt8(ascii: "{"), UInt8(ascii: "["): depth += 1
                case UInt8(ascii: "}"), UInt8(ascii: "]"): depth -= 1
                default: break
                }
            }
            if depth == 0 {
                if discarding { discarding = false } else { pieces.append(.message(buffer)) }
                buffer.removeAll(keepingCapacity: true)
            } else if !discarding && buffer.count > maximumMessageSize {
                pieces.append(.tooLarge)
                buffer = []
                discarding = true
            }
        }
        return pieces
    }
}
