/// The gdb remote serial protocol's framing (GDB manual, "Overview" of the Remote Protocol):
/// `$data#cc` with a modulo-256 checksum in hex, `+`/`-` acknowledgements, byte 03h for an
/// interrupt, and `}` escaping (the next byte XOR 20h).
struct GDBPacketFramer {
    enum Piece: Equatable, Sendable {
        /// A packet with a good checksum (escapes removed).
        case packet([UInt8])
        /// A packet whose checksum did not match (answered with `-`).
        case corrupt
        /// Ctrl-C: the user wants the machine stopped.
        case interrupt
        /// `-`: the last packet sent should be sent again.
        case retransmit
    }

    /// Largest packet accepted; larger ones are dropped as corrupt (gdb is told 4000h bytes).
    static let maximumPacketSize = 0x4000 * 2 + 64

    private enum State {
        case idle
        case data
        case escape
        case checksum1
        case checksum2(UInt8)
    }

    private var state = State.idle
    private var data: [UInt8] = []
    private var sum: UInt8 = 0
    private var oversize = false

    mutating func feed(_ bytes: some Sequence<UInt8>) -> [Piece] {
        var pieces: [Piece] = []
        for byte in bytes {
            switch state {
            case .idle:
                switch byte {
                case UInt8(ascii: "$"):
                    state = .data
                    data = []
                    sum = 0
                    oversize = false
                case 0x03: pieces.append(.interrupt)
                case UInt8(ascii: "-"): pieces.append(.retransmit)
                default: break                       // `+` and noise between packets
                }
            case .data, .escape:
                if case .data = state, byte == UInt8(ascii: "#") {
                    state = .checksum1
                    continue
                }
                sum &+= byte
                if case .data = state, byte == UInt8(ascii: "}") {
                    state = .escape
                    continue
                }
                let value = { if case .escape = state { return byte ^ 0x20 } else { return byte } }()
                state = .data
                if data.count < Self.maximumPacketSize { data.append(value) } else { oversize = true }
            case .checksum1:
                state = hexValue(byte).map { .checksum2($0) } ?? .idle
                if case .idle = state { pieces.append(.corrupt) }
            case .checksum2(let high):
                state = .idle
                if let low = hexValue(byte), high << 4 | low == sum, !oversize {
                    pieces.append(.packet(data))
                } else {
                    pieces.append(.corrupt)
                }
            }
        }
        return pieces
    }

    private func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// `$data#cc` with `$`, `#`, `}` and `*` escaped.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var body: [UInt8] = []
        for byte in payload {
            if byte == UInt8(ascii: "$") || byte == UInt8(ascii: "#") || byte == UInt8(ascii: "}") || byte == UInt8(ascii: "*") {
                body += [UInt8(ascii: "}"), byte ^ 0x20]
            } else {
                body.append(byte)
            }
        }
        let sum = body.reduce(UInt8(0), &+)
        return [UInt8(ascii: "$")] + body + [UInt8(ascii: "#")] + Array(hex(sum).utf8)
    }
}

/// Two lowercase hex digits per byte, as the protocol writes memory and registers.
func hex(_ bytes: some Sequence<UInt8>) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    for byte in bytes { out += [digits[Int(byte >> 4)], digits[Int(byte & 15)]] }
    return String(decoding: out, as: UTF8.self)
}

func hex(_ byte: UInt8) -> String { hex([byte]) }

/// The bytes of a hex string; nil if it is not an even run of hex digits.
func bytes(fromHex text: Substring) -> [UInt8]? {
    guard text.utf8.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    var iterator = text.utf8.makeIterator()
    while let high = iterator.next(), let low = iterator.next() {
        guard let value = UInt8(String(decoding: [high, low], as: UTF8.self), radix: 16) else { return nil }
        out.append(value)
    }
    return out
}
