#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Machine

/// The process's exit statuses besides those of a run's outcome (`RunOutcome.exitStatus`:
/// 0, 2, 4, 6, 8, 10, 12, 74, and the exit port's odd values).
///
/// Bad input splits in two: a command line that is itself wrong is a usage error (64), and a
/// well-formed one naming something that cannot be used is refused with 1. Both come as one
/// line on standard error, before the machine starts.
enum ExitStatus {
    /// Something the command line names cannot be used (`UserError`): a file that is missing,
    /// unreadable, truncated, corrupt, too large or does not fit in guest RAM, an output that
    /// cannot be created, a socket address that cannot be bound, a program that is not there.
    /// (A guest that writes 0 to the exit port ends with 1 too, after its run's report line.)
    static let unusableInput: Int32 = 1
    /// A usage error: an unknown option, an invalid value, options that conflict (sysexits'
    /// EX_USAGE, which ArgumentParser uses for its own).
    static let usage: Int32 = 64
    /// An output could not be written: a full disk, a closed pipe or descriptor.
    static let outputFailed: Int32 = RunOutcome.outputFailed(reason: "").exitStatus
}

/// A one-line error for the user about something the command line names that cannot be used
/// (a usage error is ArgumentParser's `ValidationError`); the process exits with
/// `ExitStatus.unusableInput`.
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
