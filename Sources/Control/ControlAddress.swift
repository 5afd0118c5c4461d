#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Where a control socket listens: `unix:PATH` (created with mode 0600) or
/// `tcp:HOST:PORT` (HOST an IPv4 address or `localhost`; port 0 picks a free one).
public enum ControlAddress: Equatable, Sendable, CustomStringConvertible {
    case unix(path: String)
    case tcp(host: String, port: UInt16)

    /// Parses `--qmp`'s value; the error says what is wrong with it.
    public init(parsing text: String) throws(ControlSocketError) {
        if text.hasPrefix("unix:") {
            let path = String(text.dropFirst(5))
            guard !path.isEmpty else { throw .badAddress(text, "unix: needs a path") }
            self = .unix(path: path)
        } else if text.hasPrefix("tcp:") {
            let rest = text.dropFirst(4)
            guard let colon = rest.lastIndex(of: ":"), let port = UInt16(rest[rest.index(after: colon)...]) else {
                throw .badAddress(text, "expected tcp:HOST:PORT")
            }
            let host = rest[..<colon] == "localhost" ? "127.0.0.1" : String(rest[..<colon])
            guard IPv4Address(host) != nil else { throw .badAddress(text, "HOST must be an IPv4 address or localhost") }
            self = .tcp(host: host, port: port)
        } else {
            throw .badAddress(text, "expected unix:PATH or tcp:HOST:PORT")
        }
    }

    public var description: String {
        switch self {
        case .unix(let path): "unix:\(path)"
        case .tcp(let host, let port): "tcp:\(host):\(port)"
        }
    }
}

/// An IPv4 address in dotted-quad form.
struct IPv4Address {
    let octets: [UInt8]

    init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [UInt8] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.allSatisfy(\.isASCII), let octet = UInt8(part) else { return nil }
            octets.append(octet)
        }
        self.octets = octets
    }
}

/// Why a control socket could not be set up.
public enum ControlSocketError: Error, Equatable, CustomStringConvertible {
    case badAddress(String, String)
    case pathTooLong(String)
    case pathNotSocket(String)
    case system(String, call: String, errno: Int32)

    public var description: String {
        switch self {
        case .badAddress(let text, let why): "invalid socket address '\(text)': \(why)"
        case .pathTooLong(let path): "socket path too long (at most 107 bytes): \(path)"
        case .pathNotSocket(let path): "\(path) exists and is not a socket; not replacing it"
        case .system(let what, let call, let code): "\(what): \(call) failed: \(String(cString: strerror(code)))"
        }
    }
}
