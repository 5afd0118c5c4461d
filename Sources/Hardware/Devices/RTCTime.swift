/// A calendar date and time of day (proleptic Gregorian calendar, no time zone), as the
/// real-time clock counts it.
public struct RTCTime: Sendable, Equatable {
    /// The full year, e.g. 2000.
    public var year: Int
    /// 1–12.
    public var month: Int
    /// 1–31.
    public var day: Int
    /// 0–23.
    public var hour: Int
    /// 0–59.
    public var minute: Int
    /// 0–59.
    public var second: Int

    public init(year: Int = 2000, month: Int = 1, day: Int = 1, hour: Int = 0, minute: Int = 0, second: Int = 0) {
        self.year = year
        self.month = month
        self.day = day
        self.hour = hour
        self.minute = minute
        self.second = second
    }
}
