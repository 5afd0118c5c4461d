/// A QMP error reply: `{"error": {"class": ..., "desc": ...}}` (QEMU's qapi/error.json).
public struct QMPError: Error, Equatable {
    /// QEMU's error classes this server uses.
    public enum Class: String, Sendable {
        case genericError = "GenericError"
        case commandNotFound = "CommandNotFound"
    }

    public let errorClass: Class
    public let description: String

    public init(_ errorClass: Class, _ description: String) {
        self.errorClass = errorClass
        self.description = description
    }

    /// A `GenericError`, QEMU's class for most failures.
    public init(_ description: String) {
        self.init(.genericError, description)
    }

    var json: JSONValue {
        .object([("class", .string(errorClass.rawValue)), ("desc", .string(description))])
    }
}
