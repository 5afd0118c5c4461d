#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a whole input file the user named (a ROM, a payload, a kernel, a module), or throws a
/// one-line error naming it. At most `maximumSize` bytes are read: a larger file is refused
/// before more than that is held in memory (a pipe or a device is read the same way).
func readFile(_ path: String, what: String, maximumSize: Int) throws(UserError) -> [UInt8] {
    let descriptor = open(path, O_RDONLY | O_CLOEXEC)
    guard descriptor >= 0 else {
        if errno == ENOENT { throw UserError("\(what) \(path) does not exist") }
        throw UserError("cannot read \(what) \(path): \(systemError())")
    }
    defer { close(descriptor) }
    var status = stat()
    if fstat(descriptor, &status) == 0 {
        if status.st_mode & S_IFMT == S_IFDIR { throw UserError("\(what) \(path) is a directory") }
        if status.st_mode & S_IFMT == S_IFREG && Int(status.st_size) > maximumSize {
            throw UserError("\(what) \(path) is \(status.st_size) bytes; at most \(maximumSize) fit")
        }
    }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let got = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
        if got < 0 {
            if errno == EINTR { continue }
            throw UserError("cannot read \(what) \(path): \(systemError())")
        }
        if got == 0 { return bytes }
        if bytes.count + got > maximumSize {
            throw UserError("\(what) \(path) is larger than \(maximumSize) bytes, the most that fits")
        }
        bytes += chunk[..<got]
    }
}
