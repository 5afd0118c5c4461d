#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// A listening stream socket (POSIX): a Unix-domain socket made with mode 0600, or TCP.
final class SocketListener {
    let descriptor: Int32
    /// The address actually bound (a TCP port 0 replaced by the port the kernel chose).
    let address: ControlAddress

    init(_ requested: ControlAddress) throws(ControlSocketError) {
        switch requested {
        case .unix(let path):
            let (descriptor, address) = try Self.listenUnix(path: path)
            self.descriptor = descriptor
            self.address = address
        case .tcp(let host, let port):
            let (descriptor, address) = try Self.listenTCP(host: host, port: port)
            self.descriptor = descriptor
            self.address = address
        }
    }

    /// Accepts one connection; nil once the listener is closed.
    func accept() -> Int32? {
        while true {
            let client = Glibc.accept(descriptor, nil, nil)
            if client >= 0 { return client }
            if errno == EINTR || errno == ECONNABORTED { continue }
            return nil
        }
    }

    /// Stops accepting (an `accept` blocked in another thread returns) and removes a Unix
    /// socket's file.
    func close() {
        shutdown(descriptor, Int32(SHUT_RDWR))
        _ = Glibc.close(descriptor)
        if case .unix(let path) = address { unlink(path) }
    }

    private static func fail(_ what: String, _ call: String, closing descriptor: Int32) -> ControlSocketError {
        let code = errno
        _ = Glibc.close(descriptor)
        return .system(what, call: call, errno: code)
    }

    private static func listenUnix(path: String) throws(ControlSocketError) -> (Int32, ControlAddress) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        let bytes = Array(path.utf8)
        guard bytes.count < capacity else { throw .pathTooLong(path) }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        // A stale socket from an earlier run is replaced, as QEMU does; anything else is kept.
        var status = stat()
        if lstat(path, &status) == 0 {
            guard status.st_mode & S_IFMT == S_IFSOCK else { throw .pathNotSocket(path) }
            unlink(path)
        }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .system(path, call: "socket", errno: errno) }
        // Created 0600: the socket can reset and stop the machine, so it is the user's alone.
        let oldMask = umask(0o177)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        umask(oldMask)
        guard bound == 0 else { throw fail(path, "bind", closing: descriptor) }
        guard listen(descriptor, 8) == 0 else { throw fail(path, "listen", closing: descriptor) }
        return (descriptor, .unix(path: path))
    }

    private static func listenTCP(host: String, port: UInt16) throws(ControlSocketError) -> (Int32, ControlAddress) {
        let what = "tcp:\(host):\(port)"
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard descriptor >= 0 else { throw .system(what, call: "socket", errno: errno) }
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        let octets = IPv4Address(host)!.octets
        address.sin_addr.s_addr = (UInt32(octets[0]) | UInt32(octets[1]) << 8 | UInt32(octets[2]) << 16 | UInt32(octets[3]) << 24)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw fail(what, "bind", closing: descriptor) }
        guard listen(descriptor, 8) == 0 else { throw fail(what, "listen", closing: descriptor) }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        return (descriptor, .tcp(host: host, port: UInt16(bigEndian: address.sin_port)))
    }
}

/// One client's connection: bytes in on the reader's thread, whole messages out from the
/// machine's thread. A client that stops reading is dropped after a second's blocked write.
final class ClientConnection: @unchecked Sendable {
    let id: Int
    private let descriptor: Int32
    private let writeLock = NSLock()
    private var closed = false
    /// Whether a QMP client has completed capabilities negotiation (machine thread only).
    var negotiated = false

    init(id: Int, descriptor: Int32) {
        self.id = id
        self.descriptor = descriptor
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    /// Reads what has arrived; nil at end of stream or on an error.
    func read() -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let got = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if got > 0 { return Array(chunk[..<got]) }
            if got < 0 && errno == EINTR { continue }
            return nil
        }
    }

    /// Sends bytes; a failed or timed-out send ends the connection.
    func send(bytes: [UInt8]) {
        writeLock.withLock {
            guard !closed else { return }
            var offset = 0
            while offset < bytes.count {
                let sent = bytes[offset...].withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                if sent < 0 && errno == EINTR { continue }
                guard sent > 0 else {
                    shutdown(descriptor, Int32(SHUT_RDWR))
                    return
                }
                offset += sent
            }
        }
    }

    /// Ends the connection: the reader sees end of stream.
    func hangUp() {
        shutdown(descriptor, Int32(SHUT_RDWR))
    }

    /// Releases the descriptor, once the reader is done with it.
    func close() {
        writeLock.withLock {
            guard !closed else { return }
            closed = true
            _ = Glibc.close(descriptor)
        }
    }
}
