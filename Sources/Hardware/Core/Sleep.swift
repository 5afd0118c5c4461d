/// A request to enter an ACPI sleep state (ACPI 6.5 §7.4.2, §16.1): what PM1_CNT's SLP_EN
/// asks for with the SLP_TYP the DSDT's `\_Sx` package maps to that state. Like a reset, it
/// goes to the power & reset controller, which decides what the machine does.
public struct SleepRequest: Sendable, Equatable {
    /// The sleep states this board's DSDT offers besides S0.
    public enum State: String, Sendable, CaseIterable {
        /// Suspend to RAM: CPUs stop, RAM is kept, a wake event resumes through the firmware.
        case s3 = "S3"
        /// Soft off: the machine powers off.
        case s5 = "S5"
    }

    public var state: State
    /// The SLP_TYP value written.
    public var sleepType: UInt8
    /// The PM1 control port and the value written to it.
    public var port: UInt16
    public var value: UInt32
    /// The CPU whose write asked for it, if known.
    public var cpu: Int?

    public init(state: State, sleepType: UInt8, port: UInt16, value: UInt32, cpu: Int? = nil) {
        self.state = state
        self.sleepType = sleepType
        self.port = port
        self.value = value
        self.cpu = cpu
    }
}

/// What woke the board from S3 (the `wake` trace event's `source`; ACPI 6.5 §4.8.2.1, ICH9
/// datasheet "Wake Events").
public enum WakeSource: String, Sendable, CaseIterable {
    /// The power button: a wake event whatever PWRBTN_EN says, as on the ICH.
    case powerButton = "power-button"
    /// The RTC alarm (the clock's alarm interrupt), with RTC_EN set in PM1_EN.
    case rtcAlarm = "rtc-alarm"
    /// The user's wake request with no status bit of its own (QMP `system_wakeup`, QEMU's
    /// "other" wake reason): only WAK_STS is set.
    case user
}
