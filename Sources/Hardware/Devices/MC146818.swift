/// The Motorola MC146818A real-time clock with its battery-backed CMOS RAM, as on the
/// PC/AT: port 0x70 selects one of 128 bytes (bit 7 of the written value is the board's
/// NMI mask, not part of the index), port 0x71 reads or writes it.
///
/// | index | contents |
/// | --- | --- |
/// | 0x00–0x09 | seconds, alarm seconds, minutes, alarm minutes, hours, alarm hours, weekday (1 = Sunday), day, month, year |
/// | 0x0A | register A: UIP (bit 7, read-only), divider DV2–0, rate select RS3–0 |
/// | 0x0B | register B: SET, PIE, AIE, UIE, SQWE, DM (1 = binary), 24/12, DSE |
/// | 0x0C | register C (read-only, cleared by reading): IRQF, PF, AF, UF |
/// | 0x0D | register D (read-only): VRT, always 1 (the battery is good) |
/// | 0x0E–0x7F | RAM; the PC keeps the century at 0x32, and the clock counts it |
///
/// Time comes from the machine's virtual clock: the time and date registers read
/// `baseTime` plus the virtual time since construction, so runs are deterministic. The
/// divider chain is modelled in whole cycles of the 32.768 kHz time base with integer
/// arithmetic; the once-per-second update falls on whole seconds after power-on, UIP is
/// set for the 8 cycles (244 µs) before it, and the update itself is instantaneous.
///
/// The RAM, clock and registers A and D are battery-backed: no reset kind changes them.
/// Only the constructor fills the RAM (with zeros).
///
/// Not modelled: daylight-saving adjustment (DSE is stored but the PC firmware leaves it
/// clear), the square-wave pin (SQWE is stored), and the other crystals that DV2–0 can
/// select (every code except the divider reset 11x runs the 32.768 kHz time base). Time
/// and date registers hold what software writes while the clock is stopped; when it
/// restarts, out-of-range values are carried arithmetically (day 32 of January is
/// February 1), months outside 1–12 are clamped.
public final class MC146818: TimedDevice {
    public let name = "rtc"
    public var portRanges: [ClosedRange<UInt16>] { [Self.indexPort...Self.dataPort] }

    /// Called when the alarm interrupt rises (AF with AIE: the clock drives IRQ 8 for its
    /// alarm). The ICH sets RTC_STS then, a wake event from S3 with RTC_EN (ICH9 datasheet,
    /// PM1_STS bit 10: "set when the RTC generates an alarm").
    public var onAlarm: (() -> Void)?

    /// Port 0x70 bit 7 as last written: set means the board blocks NMI. A platform reset
    /// clears it.
    public private(set) var nmiMasked = false

    /// The index register (write-only); bit 7 masks NMI.
    public static let indexPort: UInt16 = 0x70
    /// The data port for the selected byte.
    public static let dataPort: UInt16 = 0x71
    /// The ISA interrupt request line of the clock.
    public static let irq = 8
    /// Bytes of clock registers and RAM.
    public static let size = 128
    /// The bytes the PC/AT checksum covers (0x10–0x2D), stored big-endian at 0x2E–0x2F.
    public static let checksummedRange = 0x10...0x2D

    /// Register indices.
    private enum Index {
        static let seconds = 0x00
        static let minutes = 0x02
        static let hours = 0x04
        static let weekday = 0x06
        static let day = 0x07
        static let month = 0x08
        static let year = 0x09
        static let registerA = 0x0A
        static let registerB = 0x0B
        static let registerC = 0x0C
        static let registerD = 0x0D
        static let century = 0x32
        static let alarmSeconds = 0x01
        static let alarmMinutes = 0x03
        static let alarmHours = 0x05
        static let checksumHigh = 0x2E
        static let checksumLow = 0x2F
        /// The registers the update cycle counts.
        static let clock: Set<Int> = [seconds, minutes, hours, weekday, day, month, year, century]
    }

    // Register A.
    private static let updateInProgress: UInt8 = 0x80
    private static let dividerResetMask: UInt8 = 0x60  // DV2–DV1 = 11: divider chain held in reset
    private static let rateBits: UInt8 = 0x0F
    // Register B.
    private static let setInhibitsUpdates: UInt8 = 0x80  // SET
    private static let periodicInterruptEnable: UInt8 = 0x40
    private static let alarmInterruptEnable: UInt8 = 0x20
    private static let updateEndedInterruptEnable: UInt8 = 0x10
    private static let squareWaveEnable: UInt8 = 0x08
    private static let binaryMode: UInt8 = 0x04
    private static let twentyFourHour: UInt8 = 0x02
    // Register C; each flag sits at the same bit as its enable in register B.
    private static let interruptRequest: UInt8 = 0x80
    private static let interruptFlags: UInt8 = 0x70  // PF, AF, UF
    private static let updateEndedFlag: UInt8 = 0x10
    private static let periodicFlag: UInt8 = 0x40
    private static let alarmFlag: UInt8 = 0x20
    // Register D.
    private static let validRAMAndTime: UInt8 = 0x80

    /// An alarm byte with its two high bits set matches every value.
    private static let alarmDontCare: UInt8 = 0xC0
    private static let cyclesPerSecond: UInt64 = 32_768
    /// UIP rises this many time-base cycles (244 µs) before each update.
    private static let updateInProgressLeadCycles: UInt64 = 8
    private static let secondsPerDay = 86_400

    private unowned let platform: any Platform

    /// The 128 bytes; the clock registers hold the time here only while the clock is stopped.
    private var ram = [UInt8](repeating: 0, count: MC146818.size)
    private var index = 0
    /// 32.768 kHz time base, divider running, 1024 Hz periodic rate: what a PC BIOS sets.
    private var registerA: UInt8 = 0x26
    /// 24-hour BCD, interrupts off.
    private var registerB: UInt8 = MC146818.twentyFourHour
    /// Register C's PF, AF and UF.
    private var flags: UInt8 = 0
    private var interruptLineHigh = false
    /// AF·AIE as last seen (`onAlarm` is called when it rises).
    private var alarmInterruptAsserted = false

    /// The divider chain had counted `chainEpochCycles` time-base cycles at virtual time
    /// `chainEpochTime`. Each stage with a period of P cycles has its edge at P/2 + kP, so
    /// the 1 Hz update comes half a second after the chain leaves reset (datasheet).
    private var chainEpochTime: UInt64
    private var chainEpochCycles: UInt64
    /// The chain position up to which register C's flags have been brought up to date.
    private var syncedCycles: UInt64
    /// While counting, the clock read `anchorSeconds` at chain position `anchorCycles`.
    private var anchorSeconds: Int
    private var anchorCycles: UInt64
    /// The weekday register counts on its own; this is its offset from the calendar's weekday.
    private var weekdayOffset = 0

    /// Creates the clock with fresh battery-backed state: `baseTime` at the current virtual
    /// time, RAM zero, register A 0x26 (running, 1024 Hz) and register B 0x02 (24-hour BCD).
    /// The platform owns the device.
    public init(platform: any Platform, baseTime: RTCTime = RTCTime()) {
        self.platform = platform
        chainEpochTime = platform.now
        // Half a second into the chain, so that updates fall on whole seconds from now.
        chainEpochCycles = Self.cyclesPerSecond / 2
        syncedCycles = chainEpochCycles
        anchorSeconds = Self.seconds(of: baseTime)
        anchorCycles = chainEpochCycles
    }

    // MARK: Machine interface

    /// The byte at `index` (0–127) as the guest would read it, without a guest read's side
    /// effects (reading register C this way does not clear it).
    public func cmosByte(_ index: Int) -> UInt8 {
        precondition((0..<Self.size).contains(index), "CMOS index out of range")
        let now = platform.now
        sync(to: now)
        updateInterruptLine()
        return value(at: index, now: now)
    }

    /// Stores `value` at `index` (0–127) as a guest write would (the board's firmware
    /// setup, e.g. memory sizes at 0x15–0x18, 0x30–0x31 and 0x34–0x35).
    public func setCMOSByte(_ index: Int, _ value: UInt8) {
        precondition((0..<Self.size).contains(index), "CMOS index out of range")
        write(value, at: index)
    }

    /// Stores the PC/AT checksum, the 16-bit sum of bytes 0x10–0x2D, at 0x2E (high byte)
    /// and 0x2F (low byte).
    public func updateChecksum() {
        let sum = Self.checksummedRange.reduce(UInt16(0)) { $0 &+ UInt16(ram[$1]) }
        ram[Index.checksumHigh] = UInt8(sum >> 8)
        ram[Index.checksumLow] = UInt8(truncatingIfNeeded: sum)
    }

    // MARK: Device

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        // The index register is write-only on the AT: reading port 0x70 floats.
        guard port == Self.dataPort else { return 0xFF }
        let now = platform.now
        sync(to: now)
        let result = value(at: index, now: now)
        if index == Index.registerC {
            flags = 0
        }
        updateInterruptLine()
        return UInt32(result)
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        if port == Self.indexPort {
            index = Int(byte & 0x7F)
            nmiMasked = byte & 0x80 != 0
        } else {
            write(byte, at: index)
        }
    }

    /// The next periodic edge while PIE is set, and the next update while AIE or UIE is set
    /// and the clock counts; none while IRQ 8 is already high, since nothing the clock does
    /// lowers it before software reads register C (and reads bring the flags up to date).
    public func nextDeadline() -> UInt64? {
        guard !interruptLineHigh else { return nil }
        var deadline: UInt64?
        if registerB & Self.periodicInterruptEnable != 0, let period = periodCycles {
            deadline = time(ofCycle: Self.nextEdge(period: period, after: syncedCycles))
        }
        if registerB & (Self.alarmInterruptEnable | Self.updateEndedInterruptEnable) != 0, isCounting {
            let update = time(ofCycle: Self.nextEdge(period: Self.cyclesPerSecond, after: syncedCycles))
            deadline = min(deadline ?? update, update)
        }
        return deadline
    }

    public func advance(to now: UInt64) {
        sync(to: now)
        updateInterruptLine()
    }

    public var interruptLine: Int? { Self.irq }

    /// The virtual time of the next update cycle whose new time matches the alarm (registers
    /// 1, 3 and 5, a byte of C0h–FFh matching every value), while AIE is set, the clock
    /// counts and the alarm interrupt is not already asserted (it stays asserted until
    /// software reads register C, so no later alarm can raise it again); `nil` otherwise.
    /// A sleeping board's clock jumps straight there (`nextDeadline()` gives every update).
    public func nextAlarmTime() -> UInt64? {
        sync(to: platform.now)
        updateInterruptLine()
        guard registerB & Self.alarmInterruptEnable != 0, isCounting, !alarmInterruptAsserted else { return nil }
        let firstUpdate = Self.nextEdge(period: Self.cyclesPerSecond, after: syncedCycles)
        let seconds = clockSeconds(atCycle: syncedCycles)
        let alarm = alarmBytes, format = format
        // Any alarm that can match does so within a day.
        for update in 0..<Self.secondsPerDay where Self.matches(alarm, seconds + update + 1, format: format) {
            return time(ofCycle: firstUpdate + UInt64(update) * Self.cyclesPerSecond)
        }
        return nil
    }

    /// A platform reset or power cycle drives the chip's RESET pin, which clears PIE, AIE,
    /// UIE and SQWE and register C's flags, lowering IRQ 8; the datasheet leaves the time,
    /// calendar, RAM and registers A and D alone. INIT does not reach the clock, and in
    /// the off state and in S3 (`.sleep`) it runs on its battery with its RESET pin
    /// untouched, so an armed alarm stays armed to wake the board.
    public func reset(_ kind: ResetKind) {
        guard kind == .hard || kind == .full else { return }
        sync(to: platform.now)
        registerB &= ~(Self.periodicInterruptEnable | Self.alarmInterruptEnable
            | Self.updateEndedInterruptEnable | Self.squareWaveEnable)
        flags = 0
        nmiMasked = false
        updateInterruptLine()
    }

    // MARK: Registers

    private var dividerInReset: Bool { registerA & Self.dividerResetMask == Self.dividerResetMask }
    /// The clock counts unless SET inhibits updates or the divider chain is held in reset.
    private var isCounting: Bool { registerB & Self.setInhibitsUpdates == 0 && !dividerInReset }
    private var format: TimeFormat { TimeFormat(registerB: registerB) }

    /// A register's value at `now`, flags already brought up to date.
    private func value(at index: Int, now: UInt64) -> UInt8 {
        switch index {
        case Index.registerA:
            return registerA | (updateInProgress(at: now) ? Self.updateInProgress : 0)
        case Index.registerB:
            return registerB
        case Index.registerC:
            return flags | (interruptRequested ? Self.interruptRequest : 0)
        case Index.registerD:
            return Self.validRAMAndTime
        case _ where isCounting && Index.clock.contains(index):
            return clockRegister(index, seconds: clockSeconds(atCycle: chainCycles(at: now)), format: format)
        default:
            return ram[index]
        }
    }

    private func write(_ value: UInt8, at index: Int) {
        let now = platform.now
        sync(to: now)
        switch index {
        case Index.registerA:
            reconfigure(at: now) {
                let wasInReset = dividerInReset
                registerA = value & ~Self.updateInProgress
                if wasInReset || dividerInReset { restartChain(at: now) }
            }
        case Index.registerB:
            reconfigure(at: now) {
                // Setting SET also clears UIE (datasheet, register B); like MAME, only on
                // SET's rising edge, so software may enable UIE together with SET after.
                let settingSet = value & ~registerB & Self.setInhibitsUpdates != 0
                registerB = settingSet ? value & ~Self.updateEndedInterruptEnable : value
            }
        case Index.registerC, Index.registerD:
            break  // read-only
        case _ where isCounting && Index.clock.contains(index):
            // A write to a counting clock register: the registers take the current time,
            // the byte changes, and counting resumes from there in the same second phase.
            storeClock(clockSeconds(atCycle: chainCycles(at: now)), format: format)
            ram[index] = value
            resumeClock(at: now)
        default:
            ram[index] = value
        }
        updateInterruptLine()
    }

    /// Applies a change to register A or B, moving the time between the counter and the
    /// clock registers when counting stops or starts. Stopping stores the time in the
    /// format in force before the change; starting reads it in the format after.
    private func reconfigure(at now: UInt64, _ change: () -> Void) {
        let secondsBefore = isCounting ? clockSeconds(atCycle: chainCycles(at: now)) : nil
        let formatBefore = format
        change()
        switch (secondsBefore, isCounting) {
        case (let seconds?, true):
            anchorSeconds = seconds
            anchorCycles = chainCycles(at: now)
        case (let seconds?, false):
            storeClock(seconds, format: formatBefore)
        case (nil, true):
            resumeClock(at: now)
        case (nil, false):
            break
        }
    }

    // MARK: Divider chain

    /// Divider reset (DV2–1 = 11) holds the chain at 0; leaving it starts the chain from 0.
    private func restartChain(at now: UInt64) {
        chainEpochTime = now
        chainEpochCycles = 0
        syncedCycles = 0
    }

    private func chainCycles(at now: UInt64) -> UInt64 {
        guard !dividerInReset, now > chainEpochTime else { return chainEpochCycles }
        return chainEpochCycles + Self.cycles(in: now - chainEpochTime)
    }

    /// The virtual time at which the chain reaches `cycle` (not before the chain epoch).
    private func time(ofCycle cycle: UInt64) -> UInt64 {
        chainEpochTime + Self.nanoseconds(for: cycle > chainEpochCycles ? cycle - chainEpochCycles : 0)
    }

    /// The periodic interrupt's period in time-base cycles, or `nil` when RS3–0 is 0 or
    /// the chain is in reset. With a 32.768 kHz time base, rates 1 and 2 repeat rates 8
    /// and 9 (256 and 128 Hz); rate n ≥ 3 is 65536 >> n Hz.
    private var periodCycles: UInt64? {
        let rate = registerA & Self.rateBits
        guard rate != 0, !dividerInReset else { return nil }
        return rate <= 2 ? 1 << (rate + 6) : 1 << (rate - 1)
    }

    /// UIP: set from 244 µs before each update until it (the update itself takes no time).
    /// Writing SET clears it, as SET inhibits the update.
    private func updateInProgress(at now: UInt64) -> Bool {
        guard isCounting else { return false }
        let cycle = chainCycles(at: now)
        return Self.nextEdge(period: Self.cyclesPerSecond, after: cycle) - cycle <= Self.updateInProgressLeadCycles
    }

    /// Whole time-base cycles in `nanoseconds`: 32768 / 10⁹ = 64 / 1953125.
    private static func cycles(in nanoseconds: UInt64) -> UInt64 {
        nanoseconds / 1_000_000_000 * cyclesPerSecond + nanoseconds % 1_000_000_000 * 64 / 1_953_125
    }

    /// The nanoseconds it takes to count `cycles` time-base cycles, rounded up.
    private static func nanoseconds(for cycles: UInt64) -> UInt64 {
        cycles / cyclesPerSecond * 1_000_000_000 + (cycles % cyclesPerSecond * 1_953_125 + 63) / 64
    }

    /// How many edges of a stage with period `period` the chain has passed at position `cycle`.
    private static func edges(period: UInt64, through cycle: UInt64) -> UInt64 {
        cycle >= period / 2 ? (cycle - period / 2) / period + 1 : 0
    }

    /// The first edge of a stage with period `period` after chain position `cycle`.
    private static func nextEdge(period: UInt64, after cycle: UInt64) -> UInt64 {
        period / 2 + edges(period: period, through: cycle) * period
    }

    // MARK: Interrupts

    /// IRQF = PF·PIE + AF·AIE + UF·UIE.
    private var interruptRequested: Bool { flags & registerB & Self.interruptFlags != 0 }

    /// Sets the flags for the edges the chain passed since the last sync: PF for a periodic
    /// edge, UF for an update, AF for an update whose new time matches the alarm. The flags
    /// are set whether or not their interrupts are enabled.
    private func sync(to now: UInt64) {
        let cycle = chainCycles(at: now)
        guard cycle > syncedCycles else { return }
        if let period = periodCycles,
           Self.edges(period: period, through: cycle) > Self.edges(period: period, through: syncedCycles) {
            flags |= Self.periodicFlag
        }
        if isCounting {
            let updates = Self.edges(period: Self.cyclesPerSecond, through: cycle)
                - Self.edges(period: Self.cyclesPerSecond, through: syncedCycles)
            if updates > 0 {
                flags |= Self.updateEndedFlag
                if alarmMatched(inLast: updates, endingAt: clockSeconds(atCycle: cycle)) {
                    flags |= Self.alarmFlag
                }
            }
        }
        syncedCycles = cycle
    }

    /// Whether any of the last `updates` update cycles, the latest giving `seconds`, left a
    /// time matching the alarm. Any alarm that can match does so within a day.
    private func alarmMatched(inLast updates: UInt64, endingAt seconds: Int) -> Bool {
        let alarm = alarmBytes, format = format
        return (0..<Int(min(updates, UInt64(Self.secondsPerDay)))).contains { Self.matches(alarm, seconds - $0, format: format) }
    }

    /// The alarm seconds, minutes and hours bytes.
    private var alarmBytes: [UInt8] { [Index.alarmSeconds, Index.alarmMinutes, Index.alarmHours].map { ram[$0] } }

    /// Whether the clock reading `seconds` matches `alarm`. The chip compares the register
    /// bytes, so the alarm is in the clock's current format; a byte with both high bits set
    /// matches every value.
    private static func matches(_ alarm: [UInt8], _ seconds: Int, format: TimeFormat) -> Bool {
        let secondOfDay = (seconds % secondsPerDay + secondsPerDay) % secondsPerDay
        let current = [format.encode(secondOfDay % 60), format.encode(secondOfDay / 60 % 60),
                       format.encodeHour(secondOfDay / 3600)]
        return zip(alarm, current).allSatisfy { $0 & alarmDontCare == alarmDontCare || $0 == $1 }
    }

    private func updateInterruptLine() {
        let alarm = flags & registerB & Self.alarmFlag != 0
        if alarm != alarmInterruptAsserted {
            alarmInterruptAsserted = alarm
            if alarm { onAlarm?() }
        }
        let high = interruptRequested
        guard high != interruptLineHigh else { return }
        interruptLineHigh = high
        platform.setInterruptLine(Self.irq, high: high)
    }

    // MARK: Clock

    /// The counting clock's time at chain position `cycle`, in seconds since the calendar origin.
    private func clockSeconds(atCycle cycle: UInt64) -> Int {
        let updates = Self.edges(period: Self.cyclesPerSecond, through: cycle)
            - Self.edges(period: Self.cyclesPerSecond, through: anchorCycles)
        return anchorSeconds + Int(updates)
    }

    /// Writes the time `seconds` into the clock registers, as they hold it when counting stops.
    private func storeClock(_ seconds: Int, format: TimeFormat) {
        for index in Index.clock {
            ram[index] = clockRegister(index, seconds: seconds, format: format)
        }
    }

    /// Starts counting from the time in the clock registers, at the current second phase.
    private func resumeClock(at now: UInt64) {
        let format = format
        let year = format.decode(ram[Index.century]) * 100 + format.decode(ram[Index.year])
        let month = min(max(format.decode(ram[Index.month]), 1), 12)
        let day = Self.dayNumber(year: year, month: month, day: format.decode(ram[Index.day]))
        anchorSeconds = day * Self.secondsPerDay + format.decodeHour(ram[Index.hours]) * 3600
            + format.decode(ram[Index.minutes]) * 60 + format.decode(ram[Index.seconds])
        anchorCycles = chainCycles(at: now)
        let written = format.decode(ram[Index.weekday]) - 1
        weekdayOffset = ((written - Self.calendarWeekday(ofDay: day)) % 7 + 7) % 7
    }

    /// One clock register's byte for the time `seconds`.
    private func clockRegister(_ index: Int, seconds: Int, format: TimeFormat) -> UInt8 {
        let day = seconds / Self.secondsPerDay
        let secondOfDay = seconds % Self.secondsPerDay
        switch index {
        case Index.seconds:
            return format.encode(secondOfDay % 60)
        case Index.minutes:
            return format.encode(secondOfDay / 60 % 60)
        case Index.hours:
            return format.encodeHour(secondOfDay / 3600)
        case Index.weekday:
            return format.encode((Self.calendarWeekday(ofDay: day) + weekdayOffset) % 7 + 1)
        default:
            let date = Self.date(ofDay: day)
            switch index {
            case Index.day: return format.encode(date.day)
            case Index.month: return format.encode(date.month)
            case Index.year: return format.encode(date.year % 100)
            default: return format.encode(date.year / 100)
            }
        }
    }

    // MARK: Calendar

    private static func seconds(of time: RTCTime) -> Int {
        dayNumber(year: time.year, month: min(max(time.month, 1), 12), day: time.day) * secondsPerDay
            + time.hour * 3600 + time.minute * 60 + time.second
    }

    /// Days since an origin 400 years before 0000-03-01, for month 1–12 and any day
    /// (days past the month's end carry into the following months). Counting years from
    /// March puts the leap day last; shifting by one 400-year Gregorian cycle keeps every
    /// year the clock can hold (0–25599) non-negative.
    private static func dayNumber(year: Int, month: Int, day: Int) -> Int {
        let marchYear = year + 400 - (month <= 2 ? 1 : 0)
        let cycle = marchYear / 400
        let yearOfCycle = marchYear % 400
        let monthFromMarch = (month + 9) % 12
        let dayOfYear = (153 * monthFromMarch + 2) / 5 + day - 1
        let dayOfCycle = yearOfCycle * 365 + yearOfCycle / 4 - yearOfCycle / 100 + dayOfYear
        return cycle * 146_097 + dayOfCycle
    }

    /// The inverse of `dayNumber` for days of non-negative years.
    private static func date(ofDay dayNumber: Int) -> (year: Int, month: Int, day: Int) {
        let cycle = dayNumber / 146_097
        let dayOfCycle = dayNumber % 146_097
        let yearOfCycle = (dayOfCycle - dayOfCycle / 1460 + dayOfCycle / 36524 - dayOfCycle / 146_096) / 365
        let dayOfYear = dayOfCycle - (365 * yearOfCycle + yearOfCycle / 4 - yearOfCycle / 100)
        let monthFromMarch = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthFromMarch + 2) / 5 + 1
        let month = monthFromMarch < 10 ? monthFromMarch + 3 : monthFromMarch - 9
        return (cycle * 400 + yearOfCycle + (month <= 2 ? 1 : 0) - 400, month, day)
    }

    /// 0 = Sunday … 6 = Saturday. 2000-01-01 was a Saturday.
    private static func calendarWeekday(ofDay dayNumber: Int) -> Int {
        ((dayNumber - saturdayFirstOf2000) % 7 + 7 + 6) % 7
    }

    private static let saturdayFirstOf2000 = dayNumber(year: 2000, month: 1, day: 1)

    /// How the time registers encode values: binary or BCD (DM), 24- or 12-hour with bit 7
    /// meaning PM.
    private struct TimeFormat {
        let binary: Bool
        let twentyFourHour: Bool

        init(registerB: UInt8) {
            binary = registerB & MC146818.binaryMode != 0
            twentyFourHour = registerB & MC146818.twentyFourHour != 0
        }

        func encode(_ value: Int) -> UInt8 {
            binary ? UInt8(truncatingIfNeeded: value) : UInt8(truncatingIfNeeded: (value / 10 % 10) << 4 | value % 10)
        }

        /// Guest-written bytes need not be valid BCD; each nibble counts as a digit.
        func decode(_ byte: UInt8) -> Int {
            binary ? Int(byte) : Int(byte >> 4) * 10 + Int(byte & 0x0F)
        }

        /// In 12-hour mode hours run 12, 1, …, 11, with bit 7 set from noon to midnight.
        func encodeHour(_ hour: Int) -> UInt8 {
            guard !twentyFourHour else { return encode(hour) }
            let hourOfHalfDay = hour % 12 == 0 ? 12 : hour % 12
            return encode(hourOfHalfDay) | (hour >= 12 ? 0x80 : 0)
        }

        func decodeHour(_ byte: UInt8) -> Int {
            guard !twentyFourHour else { return decode(byte) }
            return decode(byte & 0x7F) % 12 + (byte & 0x80 != 0 ? 12 : 0)
        }
    }
}
