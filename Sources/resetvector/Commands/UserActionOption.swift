import ArgumentParser
import Machine

extension WatchdogAction: ExpressibleByArgument {}
extension PanicPolicy: ExpressibleByArgument {}

/// `TIME=ACTION` for `--at`: a virtual time since power-on and what the user does then.
enum UserActionOption {
    /// Nanoseconds per unit a TIME may carry.
    static let units: [(suffix: String, nanoseconds: UInt64)] = [("ns", 1), ("us", 1_000), ("ms", 1_000_000), ("s", 1_000_000_000)]

    static func parse(_ argument: String) throws(ValidationError) -> ScheduledUserAction {
        let parts = argument.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
            throw ValidationError("expected TIME=ACTION, e.g. 5ms=reset")
        }
        guard let action = UserAction(rawValue: parts[1]) else {
            throw ValidationError("unknown action '\(parts[1])' (known: \(UserAction.allCases.map(\.rawValue).joined(separator: ", ")))")
        }
        return ScheduledUserAction(time: try parseTime(parts[0]), action: action)
    }

    /// A virtual time: a decimal number with a unit, `ns`, `us`, `ms` or `s` (`250us`, `5ms`,
    /// `1.5s`), that comes to a whole number of nanoseconds below 2^64.
    static func parseTime(_ text: String) throws(ValidationError) -> UInt64 {
        // Two-letter units first: "5ms" ends with "s" too.
        guard let unit = units.sorted(by: { $0.suffix.count > $1.suffix.count }).first(where: { text.hasSuffix($0.suffix) }) else {
            throw ValidationError("time '\(text)' needs a unit: ns, us, ms or s (e.g. 5ms)")
        }
        let number = text.dropLast(unit.suffix.count)
        let pieces = number.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = pieces[0], fraction = pieces.count == 2 ? pieces[1] : ""
        guard !whole.isEmpty || !fraction.isEmpty, (whole + fraction).allSatisfy({ $0.isASCII && $0.isNumber }),
              pieces.count == 1 || !fraction.isEmpty else {
            throw ValidationError("time '\(text)' is not a number with a unit (e.g. 5ms, 1.5s, 250us)")
        }
        // value = (whole.fraction) × unit, exactly, in nanoseconds.
        var scale = unit.nanoseconds
        var fractionValue: UInt64 = 0
        for digit in fraction {
            guard scale % 10 == 0 else { throw ValidationError("time '\(text)' is finer than a nanosecond") }
            scale /= 10
            fractionValue += UInt64(digit.wholeNumberValue!) * scale
        }
        let wholeValue = whole.isEmpty ? 0 : UInt64(whole)
        guard let wholeValue else { throw ValidationError("time '\(text)' is too large") }
        let (product, overflow) = wholeValue.multipliedReportingOverflow(by: unit.nanoseconds)
        let (sum, overflow2) = product.addingReportingOverflow(fractionValue)
        guard !overflow, !overflow2 else { throw ValidationError("time '\(text)' is too large") }
        return sum
    }
}
