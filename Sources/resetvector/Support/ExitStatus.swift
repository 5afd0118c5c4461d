#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

/// The process's exit statuses besides those of a run's outcome (`RunOutcome.exitStatus`:
/// 0, 2, 4, 6, 8, 10, 12, 74, and the exit port's odd values). Each is even, so none can be taken for
/// a status a guest chose through the exit port.
enum ExitStatus {
    /// Bad input: a usage error, or a file that is missing, unreadable, too large or malformed
    /// (sysexits' EX_USAGE, which ArgumentParser also uses).
    static let badInput: Int32 = 64
    /// An output could not be written: a full disk, a closed pipe or descriptor.
    static let outputFailed: Int32 = RunOutcome.outputFailed(reason: "").exitStatus
}

/// A one-line error for the user; the process exits with `ExitStatus.badInput`.
struct UserError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension UserError {
    init(_ error: Error) { self.init("\(error)") }
}

/// Ends the process with `status` (a plain function: inside a command type, `exit` names
/// ArgumentParser's `exit(withError:)`).
func endProcess(_ status: Int32) -> Never {
    exit(status)
}
