import CZlib

/// Reads the lines of a gzip-compressed text file.
struct GzipLineReader: ~Copyable {
    private let file: gzFile
    private let path: String
    private var buffer = [CChar](repeating: 0, count: 1 << 20)

    init(path: String) throws(VectorError) {
        guard let file = gzopen(path, "rb") else { throw .unreadable(path) }
        self.file = file
        self.path = path
    }

    deinit { gzclose(file) }

    /// The next line without its newline, or `nil` at the end of the file. A file whose
    /// compressed data is corrupt or cut short throws rather than ending early.
    mutating func nextLine() throws(VectorError) -> String? {
        var line = ""
        while true {
            let got = buffer.withUnsafeMutableBufferPointer { gzgets(file, $0.baseAddress, Int32($0.count)) }
            guard got != nil else {
                var status: Int32 = Z_OK
                let message = gzerror(file, &status).map { String(cString: $0) } ?? ""
                if status != Z_OK { throw .corrupt(path, reason: message) }
                return line.isEmpty ? nil : line
            }
            let chunk = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            if chunk.hasSuffix("\n") {
                line += chunk.dropLast()
                return line
            }
            line += chunk
        }
    }
}
