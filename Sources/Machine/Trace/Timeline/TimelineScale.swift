import Foundation

/// The picture's time axis: piecewise linear between consecutive times at which something
/// happens, each gap drawn with a width that grows with the logarithm of its length. A 1 ns
/// step and a 1 s wait both stay visible, and every tenfold longer quiet stretch costs the same
/// few more pixels, so a reset 1.5 s into a Linux boot and the nanoseconds between a shutdown
/// and the board's answer share one picture. Positions are exact at the event times; between
/// two of them time runs linearly.
public struct TimelineScale: Sendable, Equatable {
    /// The width of any gap, in pixels, besides its logarithmic part.
    public static let minimumGap = 10.0
    /// Extra pixels for every tenfold longer gap.
    public static let pixelsPerDecade = 22.0
    /// Gaps are measured in units of this many nanoseconds before the logarithm.
    public static let unit = 100.0

    /// The times, sorted without repeats, and their positions from 0.
    public let times: [UInt64]
    public let positions: [Double]

    /// A scale over `times` (sorted, without repeats; at least one), at most `maximumWidth`
    /// pixels wide: a longer picture is squeezed evenly.
    public init(times: [UInt64], maximumWidth: Double) {
        precondition(!times.isEmpty, "a scale needs a time")
        var positions = [0.0]
        for (earlier, later) in zip(times, times.dropFirst()) {
            positions.append(positions.last! + TimelineScale.width(ofGap: later - earlier))
        }
        if let width = positions.last, width > maximumWidth {
            positions = positions.map { $0 * maximumWidth / width }
        }
        self.times = times
        self.positions = positions
    }

    /// The width of a gap of `nanoseconds` between two consecutive times.
    public static func width(ofGap nanoseconds: UInt64) -> Double {
        minimumGap + pixelsPerDecade * log10(1 + Double(nanoseconds) / unit)
    }

    public var width: Double { positions.last! }

    /// The position of `time`: exact at the scale's times, linear between them.
    public func position(of time: UInt64) -> Double {
        let index = firstIndex(notBefore: time)
        if index == times.count { return width }
        if times[index] == time || index == 0 { return positions[index] }
        let (t0, t1) = (times[index - 1], times[index])
        return positions[index - 1] + (positions[index] - positions[index - 1]) * Double(time - t0) / Double(t1 - t0)
    }

    /// The gaps between consecutive times that are at least `nanoseconds` long.
    public func gaps(atLeast nanoseconds: UInt64) -> [(start: UInt64, end: UInt64)] {
        zip(times, times.dropFirst()).filter { $1 - $0 >= nanoseconds }.map { ($0, $1) }
    }

    private func firstIndex(notBefore time: UInt64) -> Int {
        var low = 0
        var high = times.count
        while low < high {
            let middle = (low + high) / 2
            if times[middle] < time { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension TimelineScale {
    /// `836.125 µs`, `1.502 s`, `42 ns`: a virtual time as the picture shows it, in its largest
    /// unit with up to `decimals` digits after the point (trailing zeros dropped; at most the
    /// nanoseconds).
    public static func text(for nanoseconds: UInt64, decimals: Int = 3) -> String {
        let (unit, name): (UInt64, String) = switch nanoseconds {
        case ..<1_000: (1, "ns")
        case ..<1_000_000: (1_000, "µs")
        case ..<1_000_000_000: (1_000_000, "ms")
        default: (1_000_000_000, "s")
        }
        let places = min(decimals, String(unit).count - 1)
        var digits = ""
        if places > 0 {
            var scale: UInt64 = 1
            for _ in 0..<places { scale *= 10 }
            let fraction = String((nanoseconds % unit) / (unit / scale))
            digits = String(repeating: "0", count: places - fraction.count) + fraction
            while digits.hasSuffix("0") { digits.removeLast() }
        }
        return "\(nanoseconds / unit)" + (digits.isEmpty ? "" : "." + digits) + " " + name
    }
}
