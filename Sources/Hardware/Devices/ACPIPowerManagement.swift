/// The ACPI power-management registers of an Intel ICH-class chipset (ICH9 datasheet,
/// "Power Management I/O Registers", at the I/O base the LPC bridge's PMBASE gives; ACPI 6.5
/// §4.8.3 for the fixed-hardware bits), and the APM control port (SMI_CMD) beside them.
///
/// Registers, as offsets from the base (the layout the FADT describes):
/// - 00h PM1_STS (16 bits): TMR_STS (bit 0), PWRBTN_STS (8), RTC_STS (10), WAK_STS (15);
///   the hardware sets them, software clears them by writing 1 (write-1-to-clear).
/// - 02h PM1_EN (16 bits): TMR_EN (0), GBL_EN (5), PWRBTN_EN (8), RTC_EN (10); other bits
///   read 0.
/// - 04h PM1_CNT (16 bits here, as the FADT's PM1_CNT_LEN says; the ICH's register is 32-bit
///   with nothing above bit 13): SCI_EN (0), BM_RLD (1), GBL_RLS (2, write-only: it would
///   raise an SMI, and there is no SMM here), SLP_TYP (12:10), SLP_EN (13, write-only, reads 0).
///   Writing SLP_EN with the SLP_TYP of a sleep state asks the power & reset controller for
///   it (`Platform.requestSleep`); a SLP_TYP with no state (S0's, or one the DSDT has no
///   `\_Sx` package for) does nothing but a `sleep-type-ignored` trace event.
/// - 08h PM1_TMR (32 bits, read-only): the 24-bit ACPI power-management timer, counting at
///   3.579545 MHz from virtual time zero (power-on); bits 31:24 read 0 (the FADT does not set
///   TMR_VAL_EXT). Each change of its bit 23 sets TMR_STS (ACPI 6.5 §4.8.3.3: every 2^23
///   ticks, about 2.34 s). A reset does not restart it (it counts from power-on, as QEMU's does).
/// - 20h GPE0_STS (8 bytes, write-1-to-clear) and 28h GPE0_EN (8 bytes, read/write); no
///   board device signals a general-purpose event yet (`signalGeneralPurposeEvent(_:)`).
/// Other offsets of the 128-byte block read 0 and ignore writes. The block decodes only while
/// the LPC bridge has ACPI_EN set (`setDecode(base:)`); accesses of 1, 2 or 4 bytes at any
/// offset work byte by byte, little-endian, as on the ICH.
///
/// S3: the `.sleep` reset (the board entering S3) keeps the resume-well bits — PWRBTN_STS,
/// RTC_STS and WAK_STS, PWRBTN_EN and RTC_EN, and PM1_CNT's SLP_TYP — and clears the rest as
/// a platform reset does; the block then sleeps (`isSleeping`) until a wake event: the power
/// button (whatever PWRBTN_EN says, as on the ICH) or the RTC alarm with RTC_EN set (ICH9
/// datasheet, "Sleep States" and PM1_STS/PM1_EN; ACPI 6.5 §4.8.2.1 and §16.1.3). The wake
/// sets WAK_STS and calls `onWake`. Firmware tells a resume from a boot by WAK_STS with
/// SLP_TYP still reading the S3 value, as ICH firmware does.
///
/// The SCI: asserted while SCI_EN is set and some status bit is set with its enable bit
/// (PM1: TMR, GBL, PWRBTN, RTC; every GPE0 bit). The LPC bridge routes it (`onSCIChanged`).
/// With SCI_EN clear these events would raise an SMI on real hardware; there is no SMM here,
/// so they only set their status bits.
///
/// APM control, B2h (APM_CNT) and B3h (APM_STS), both read/write: a write of the FADT's
/// ACPI_ENABLE to B2h sets SCI_EN and a write of ACPI_DISABLE clears it — what a real board's
/// SMM handler does for the OS (ACPI 6.5 §4.8.2.5, §16.3.1), done here by the chipset model
/// itself, as QEMU's ICH9 model does; an `acpi-mode` trace event records each switch.
public final class ACPIPowerManagement: TimedDevice {
    public let name = "acpi-pm"

    /// Bytes the ICH decodes at PMBASE.
    public static let blockSize = 0x80
    /// The ACPI PM timer's frequency (ACPI 6.5 §4.8.3.3).
    public static let timerFrequency: UInt64 = 3_579_545
    /// APM_CNT, the SMI command port; APM_STS follows it.
    public static let apmControlPort: UInt16 = 0xB2

    // Register offsets.
    public static let pm1StatusOffset = 0x00, pm1EnableOffset = 0x02, pm1ControlOffset = 0x04
    public static let timerOffset = 0x08, gpe0StatusOffset = 0x20, gpe0EnableOffset = 0x28
    public static let gpe0Length = 8

    /// PM1_STS / PM1_EN bits (ACPI 6.5 Tables 4.16 and 4.17).
    public enum PM1 {
        public static let timer: UInt16 = 1 << 0
        public static let global: UInt16 = 1 << 5
        public static let powerButton: UInt16 = 1 << 8
        public static let rtc: UInt16 = 1 << 10
        public static let wake: UInt16 = 1 << 15
        /// Status bits the hardware can set.
        public static let statusBits: UInt16 = timer | global | powerButton | rtc | wake
        /// Enable bits that exist.
        public static let enableBits: UInt16 = timer | global | powerButton | rtc
    }

    /// PM1_CNT bits (ACPI 6.5 Table 4.18).
    public enum Control {
        public static let sciEnable: UInt16 = 1 << 0
        public static let busMasterReload: UInt16 = 1 << 1
        public static let globalRelease: UInt16 = 1 << 2
        public static let sleepTypeShift: UInt16 = 10
        public static let sleepTypeMask: UInt16 = 7 << 10
        public static let sleepEnable: UInt16 = 1 << 13
        /// Bits that hold what is written (GBL_RLS and SLP_EN are write-only).
        static let stored: UInt16 = sciEnable | busMasterReload | sleepTypeMask
    }

    /// The SLP_TYP values of the sleep states the tables offer.
    public struct SleepTypes: Sendable, Equatable {
        public var s0: UInt8, s3: UInt8, s5: UInt8
        public init(s0: UInt8, s3: UInt8, s5: UInt8) {
            self.s0 = s0
            self.s3 = s3
            self.s5 = s5
        }
        /// The ICH's encoding: S0 000b, S3 101b, S5 111b.
        public static let ich = SleepTypes(s0: 0, s3: 5, s5: 7)
    }

    /// Called when the SCI's level changes (`true`: asserted).
    public var onSCIChanged: ((Bool) -> Void)?
    /// Called when the decoded port ranges change (the board re-attaches the device).
    public var onDecodeChanged: (() -> Void)?
    /// Called when a wake event ends S3 (WAK_STS is already set).
    public var onWake: ((WakeSource) -> Void)?

    private unowned let platform: any Platform
    private let sleepTypes: SleepTypes
    private let acpiEnable: UInt8, acpiDisable: UInt8

    private(set) public var base: UInt16?
    private var pm1Status: UInt16 = 0
    private var pm1Enable: UInt16 = 0
    private var pm1Control: UInt16 = 0
    private var gpe0Status = [UInt8](repeating: 0, count: ACPIPowerManagement.gpe0Length)
    private var gpe0Enable = [UInt8](repeating: 0, count: ACPIPowerManagement.gpe0Length)
    private var apmControl: UInt8 = 0
    private var apmStatus: UInt8 = 0
    /// How many times bit 23 of the timer had changed when TMR_STS was last brought up to date.
    private var timerFlipsSeen: UInt64 = 0
    private(set) public var sciLevel = false
    /// Whether the board is in S3: from the `.sleep` reset to the wake event.
    private(set) public var isSleeping = false

    /// - Parameters:
    ///   - sleepTypes: SLP_TYP of each sleep state (the DSDT's `\_S0`, `\_S3`, `\_S5`).
    ///   - acpiEnable, acpiDisable: The FADT's ACPI_ENABLE and ACPI_DISABLE values for B2h.
    public init(platform: any Platform, sleepTypes: SleepTypes = .ich, acpiEnable: UInt8 = 0x02, acpiDisable: UInt8 = 0x03) {
        self.platform = platform
        self.sleepTypes = sleepTypes
        self.acpiEnable = acpiEnable
        self.acpiDisable = acpiDisable
    }

    public var portRanges: [ClosedRange<UInt16>] {
        var ranges = [Self.apmControlPort...Self.apmControlPort + 1]
        if let base { ranges.append(base...base + UInt16(Self.blockSize - 1)) }
        return ranges
    }

    /// The LPC bridge's PMBASE and ACPI_EN: the block decodes at `base`, or nowhere (`nil`).
    public func setDecode(base newBase: UInt16?) {
        guard newBase != base else { return }
        base = newBase
        onDecodeChanged?()
    }

    // MARK: Events from the board

    /// The power button was pressed: PWRBTN_STS (ACPI 6.5 §4.8.2.2.1.1).
    public func pressPowerButton() { raise(PM1.powerButton) }

    /// The RTC alarm fired: RTC_STS (ACPI 6.5 §4.8.2.4).
    public func signalRTCAlarm() { raise(PM1.rtc) }

    /// A general-purpose event on GPE0 bit `bit` (0–63): its status bit.
    public func signalGeneralPurposeEvent(_ bit: Int) {
        guard (0..<8 * Self.gpe0Length).contains(bit) else { return }
        gpe0Status[bit / 8] |= 1 << UInt8(bit % 8)
        updateSCI()
    }

    /// Wakes the board from S3 without a status bit of its own (QMP `system_wakeup`): only
    /// WAK_STS. Nothing happens unless it sleeps.
    public func wakeByUser() {
        guard isSleeping else { return }
        wake(from: .user)
        updateSCI()
    }

    private func raise(_ bits: UInt16) {
        synchronizeTimer()
        pm1Status |= bits
        if isSleeping, let source = wakeSource(of: bits) { wake(from: source) }
        updateSCI()
    }

    private func wake(from source: WakeSource) {
        isSleeping = false
        pm1Status |= PM1.wake
        onWake?(source)
    }

    /// The wake event that status `bits` make in S3, if any.
    private func wakeSource(of bits: UInt16) -> WakeSource? {
        if bits & PM1.powerButton != 0 { return .powerButton }
        if bits & PM1.rtc != 0, pm1Enable & PM1.rtc != 0 { return .rtcAlarm }
        return nil
    }

    // MARK: The timer

    /// PM1_TMR's 24 bits at `time`.
    public static func timerCount(at time: UInt64) -> UInt32 {
        UInt32(truncatingIfNeeded: ticks(at: time) & 0xFF_FFFF)
    }

    /// Timer ticks from time zero to `time` (ns), rounded down, without overflow.
    static func ticks(at time: UInt64) -> UInt64 {
        let second: UInt64 = 1_000_000_000
        return time / second * timerFrequency + time % second * timerFrequency / second
    }

    /// The first time (ns) at which `ticks(at:)` reaches `count`.
    static func time(ofTick count: UInt64) -> UInt64 {
        let second: UInt64 = 1_000_000_000
        let (whole, part) = count.quotientAndRemainder(dividingBy: timerFrequency)
        return whole &* second &+ (part * second + timerFrequency - 1) / timerFrequency
    }

    private static let msbPeriod: UInt64 = 1 << 23

    /// Sets TMR_STS if bit 23 changed since the last look.
    private func synchronizeTimer() {
        let flips = Self.ticks(at: platform.now) / Self.msbPeriod
        if flips != timerFlipsSeen {
            timerFlipsSeen = flips
            pm1Status |= PM1.timer
        }
    }

    /// When TMR_STS would next interrupt: only while the SCI could carry it and the bit is clear.
    public func nextDeadline() -> UInt64? {
        guard pm1Control & Control.sciEnable != 0, pm1Enable & PM1.timer != 0, pm1Status & PM1.timer == 0 else {
            return nil
        }
        return Self.time(ofTick: (timerFlipsSeen + 1) * Self.msbPeriod)
    }

    public func advance(to now: UInt64) {
        synchronizeTimer()
        updateSCI()
    }

    /// The SCI does more than interrupt on some boards (a wake); its deadlines are never skipped.
    public var interruptLine: Int? { nil }

    // MARK: The SCI

    private var sciRequested: Bool {
        guard pm1Control & Control.sciEnable != 0 else { return false }
        if pm1Status & pm1Enable & PM1.enableBits != 0 { return true }
        return zip(gpe0Status, gpe0Enable).contains { $0 & $1 != 0 }
    }

    private func updateSCI() {
        let level = sciRequested
        guard level != sciLevel else { return }
        sciLevel = level
        onSCIChanged?(level)
    }

    // MARK: Port access

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        var value: UInt32 = 0
        for i in 0..<size {
            value |= UInt32(readByte(port &+ UInt16(i))) << (8 * UInt32(i))
        }
        return value
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        for i in 0..<size {
            writeByte(port &+ UInt16(i), UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))), access: (port, value))
        }
        updateSCI()
    }

    /// The block offset of `port`, if the block decodes it.
    private func offset(of port: UInt16) -> Int? {
        guard let base, port >= base, Int(port - base) < Self.blockSize else { return nil }
        return Int(port - base)
    }

    private func readByte(_ port: UInt16) -> UInt8 {
        switch port {
        case Self.apmControlPort: return apmControl
        case Self.apmControlPort + 1: return apmStatus
        default: break
        }
        guard let offset = offset(of: port) else { return 0xFF }
        switch offset {
        case Self.pm1StatusOffset, Self.pm1StatusOffset + 1:
            synchronizeTimer()
            return byte(pm1Status, offset - Self.pm1StatusOffset)
        case Self.pm1EnableOffset, Self.pm1EnableOffset + 1:
            return byte(pm1Enable, offset - Self.pm1EnableOffset)
        case Self.pm1ControlOffset, Self.pm1ControlOffset + 1:
            return byte(pm1Control, offset - Self.pm1ControlOffset)
        case Self.timerOffset..<Self.timerOffset + 4:
            return UInt8(truncatingIfNeeded: Self.timerCount(at: platform.now) >> (8 * UInt32(offset - Self.timerOffset)))
        case Self.gpe0StatusOffset..<Self.gpe0StatusOffset + Self.gpe0Length:
            return gpe0Status[offset - Self.gpe0StatusOffset]
        case Self.gpe0EnableOffset..<Self.gpe0EnableOffset + Self.gpe0Length:
            return gpe0Enable[offset - Self.gpe0EnableOffset]
        default:
            return 0
        }
    }

    private func byte(_ register: UInt16, _ index: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: register >> (8 * UInt16(index)))
    }

    private func merged(_ register: UInt16, _ index: Int, _ byte: UInt8) -> UInt16 {
        let shift = UInt16(8 * index)
        return register & ~(0xFF << shift) | UInt16(byte) << shift
    }

    private func writeByte(_ port: UInt16, _ byte: UInt8, access: (port: UInt16, value: UInt32)) {
        switch port {
        case Self.apmControlPort:
            writeAPMControl(byte)
            return
        case Self.apmControlPort + 1:
            apmStatus = byte
            return
        default: break
        }
        guard let offset = offset(of: port) else { return }
        switch offset {
        case Self.pm1StatusOffset, Self.pm1StatusOffset + 1:
            synchronizeTimer()
            let shift = UInt16(8 * (offset - Self.pm1StatusOffset))
            pm1Status &= ~(UInt16(byte) << shift & PM1.statusBits)
        case Self.pm1EnableOffset, Self.pm1EnableOffset + 1:
            synchronizeTimer()
            pm1Enable = merged(pm1Enable, offset - Self.pm1EnableOffset, byte) & PM1.enableBits
        case Self.pm1ControlOffset, Self.pm1ControlOffset + 1:
            let written = merged(pm1Control, offset - Self.pm1ControlOffset, byte)
            pm1Control = written & Control.stored
            if offset == Self.pm1ControlOffset + 1, written & Control.sleepEnable != 0 {
                sleep(type: UInt8((written & Control.sleepTypeMask) >> Control.sleepTypeShift), access: access)
            }
        case Self.gpe0StatusOffset..<Self.gpe0StatusOffset + Self.gpe0Length:
            gpe0Status[offset - Self.gpe0StatusOffset] &= ~byte
        case Self.gpe0EnableOffset..<Self.gpe0EnableOffset + Self.gpe0Length:
            gpe0Enable[offset - Self.gpe0EnableOffset] = byte
        default:
            break
        }
    }

    /// SLP_EN: the state the tables map `type` to, if any.
    private func sleep(type: UInt8, access: (port: UInt16, value: UInt32)) {
        let state: SleepRequest.State? = switch type {
        case sleepTypes.s5: .s5
        case sleepTypes.s3: .s3
        default: nil
        }
        guard let state else {
            platform.record(TraceEvent("sleep-type-ignored", [("slp-typ", .number(UInt64(type))),
                                                              ("port", .number(UInt64(access.port))),
                                                              ("value", .number(UInt64(access.value)))]))
            return
        }
        platform.requestSleep(SleepRequest(state: state, sleepType: type, port: access.port, value: access.value))
    }

    private func writeAPMControl(_ byte: UInt8) {
        apmControl = byte
        guard byte == acpiEnable || byte == acpiDisable else { return }
        if byte == acpiEnable { pm1Control |= Control.sciEnable } else { pm1Control &= ~Control.sciEnable }
        platform.record(TraceEvent("acpi-mode", [("sci-en", .number(byte == acpiEnable ? 1 : 0))]))
    }

    // MARK: Reset

    /// A platform reset or power cycle clears the core-well registers: PM1_EN, PM1_CNT
    /// (SCI_EN off: the board starts in legacy mode), TMR_STS, GPE0 and the APM ports. The
    /// resume-well status bits (PWRBTN_STS, RTC_STS, WAK_STS) survive, as on the ICH, so
    /// firmware and OS can see why the machine woke. Entering S3 (`.sleep`) also keeps the
    /// wake enables PWRBTN_EN and RTC_EN and SLP_TYP, and the block sleeps. INIT changes nothing.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        synchronizeTimer()
        let sleeping = kind == .sleep
        pm1Status &= PM1.powerButton | PM1.rtc | PM1.wake
        pm1Enable &= sleeping ? PM1.powerButton | PM1.rtc : 0
        pm1Control &= sleeping ? Control.sleepTypeMask : 0
        gpe0Status = [UInt8](repeating: 0, count: Self.gpe0Length)
        gpe0Enable = [UInt8](repeating: 0, count: Self.gpe0Length)
        apmControl = 0
        apmStatus = 0
        isSleeping = sleeping
        updateSCI()
    }
}
