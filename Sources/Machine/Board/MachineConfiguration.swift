import Firmware
import Hardware

/// Everything that describes a machine before it is built.
public struct MachineConfiguration {
    /// Guest RAM in bytes (1 MiB to 3 GiB, a multiple of 4 KiB).
    public var memorySize: Int = 32 << 20
    /// Processors (1 to 64): CPU 0 is the bootstrap processor, the others application
    /// processors that wait for a start-up IPI.
    public var processorCount = 1
    public var board: BoardProfile = .pc
    public var quirks: Set<Quirk> = []
    public var onReset: ResetPolicy = .reboot
    public var onShutdown: ShutdownPolicy = .board
    public var powerCycleMemory: PowerCycleMemory = .clear
    /// The register the FADT names as RESET_REG.
    public var acpiReset: ACPIResetChoice = .io
    /// The firmware ROM image (64, 128, 256 or 512 KiB).
    public var firmware: [UInt8]
    /// What the firmware boots (read through the firmware configuration interface).
    public var bootPayload: [UInt8] = []
    /// A Multiboot kernel the firmware boots instead of a payload (the built-in ROM does).
    public var multiboot: MultibootBoot?
    /// A Linux bzImage the firmware boots instead of a payload (the built-in ROM does).
    public var linux: LinuxBoot?
    /// Receives bytes the guest transmits on COM1; `nil` drops them.
    public var serialOutput: ((UInt8) -> Void)?
    /// Bytes for COM1's receiver (the terminal), if any.
    public var serialInput: (any SerialInputSource)?
    /// Debug console ports and where their bytes go.
    public var debugConsoles: [(port: UInt16, output: ([UInt8]) -> Void)] = []
    /// The QEMU-style exit port, if any.
    public var exitPort: UInt16?
    /// More exit windows, as QEMU's `-device isa-debug-exit,iobase=B,iosize=N` gives them
    /// (B...B+N-1): a write to any of their ports ends the run as a write to `exitPort` does.
    public var exitPortRanges: [ClosedRange<UInt16>] = []
    /// QEMU's `pc-testdev` (`PCTestDevice`): the echo latch at port 0xE0, the interrupt lines
    /// at 0x2000 + n and 64 KiB of I/O memory at FF000000h, which kvm-unit-tests use.
    public var pcTestDevice = false
    /// An Intel 6300ESB watchdog (``I6300ESB``) at PCI 00:05.0, as QEMU's `-device i6300esb`
    /// adds one; its BAR is left for the operating system to assign.
    public var watchdog = false
    /// What the watchdog's expiry does.
    public var watchdogAction: WatchdogAction = .reset
    /// The pvpanic device (``PVPanic``) at port 505h, which the DSDT lists as `QEMU0001`.
    public var panicDevice = true
    /// What a guest's panic report does.
    public var onPanic: PanicPolicy = .pause
    /// The user's actions at virtual times (`--at`), performed in time order (actions at the
    /// same time in the order given).
    public var userActions: [ScheduledUserAction] = []
    /// Stop after this many instructions (all CPUs).
    public var maxInstructions: UInt64?
    /// When every CPU is halted with interrupts disabled: end quietly (`true`) or pause (`false`).
    public var exitOnHalt = false
    /// Whether virtual time runs freely (deterministic, the default) or is paced to the host's clock.
    public var clock: ClockMode = .virtual
    /// Keep every trace record in `Machine.trace.kept` (the demo and tests read them back).
    public var keepTrace = false
    /// With `keepTrace`, keep only the records of these events (`nil`: all of them), so a long
    /// run's frequent events do not pile up in memory. Every event is still recorded.
    public var keptTraceEvents: Set<String>?
    /// A name for this run, recorded in the `power-on` event.
    public var label: String?

    public static let memorySizeRange = (1 << 20)...(3 << 30)
    public static let processorCountRange = 1...64
    public static let romSizes: Set<Int> = [64 << 10, 128 << 10, 256 << 10, 512 << 10]
    /// The largest boot payload: 0000:7C00 up to the EBDA's neighbourhood below 640 KiB.
    public static let maximumPayloadSize = 0x70000

    public init(firmware: [UInt8]) {
        self.firmware = firmware
    }

    /// Checks the values a user can get wrong, including whether a Multiboot kernel can be
    /// laid out in this machine's memory; returns that layout (`nil` without a kernel).
    @discardableResult
    public func validate() throws(MachineError) -> MultibootLoad? {
        if !MachineConfiguration.memorySizeRange.contains(memorySize) || memorySize % 4096 != 0 {
            throw .memorySizeOutOfRange(memorySize)
        }
        if !MachineConfiguration.processorCountRange.contains(processorCount) {
            throw .processorCountOutOfRange(processorCount)
        }
        if !MachineConfiguration.romSizes.contains(firmware.count) {
            throw .unsupportedROMSize(firmware.count)
        }
        if bootPayload.count > MachineConfiguration.maximumPayloadSize {
            throw .payloadTooLarge(bootPayload.count)
        }
        if multiboot != nil && !bootPayload.isEmpty {
            throw .payloadAndMultibootKernel
        }
        if linux != nil && (multiboot != nil || !bootPayload.isEmpty) {
            throw .linuxAndOtherBoot
        }
        _ = try linuxLoad()
        return try multibootLoad()
    }

    /// The Multiboot boot laid out in this machine's memory map, or `nil` without a kernel.
    private func multibootLoad() throws(MachineError) -> MultibootLoad? {
        guard let multiboot else { return nil }
        do {
            return try MultibootLoad(kernel: MultibootImage(multiboot.kernel), modules: multiboot.modules,
                                     commandLine: multiboot.commandLine,
                                     memoryMap: .pc(ramSize: memorySize, romSize: firmware.count))
        } catch {
            throw .multiboot(error)
        }
    }
}

extension MachineConfiguration {
    /// The Linux boot laid out in this machine's memory map, or `nil` without a kernel.
    public func linuxLoad() throws(MachineError) -> LinuxLoad? {
        guard let linux else { return nil }
        do {
            return try LinuxLoad(kernel: LinuxKernelImage(linux.kernel), initrd: linux.initrd,
                                 commandLine: linux.commandLine,
                                 memoryMap: .pc(ramSize: memorySize, romSize: firmware.count))
        } catch {
            throw .linux(error)
        }
    }
}

/// A Linux kernel (a bzImage) to boot by the 32-bit boot protocol, with its initrd and command line.
public struct LinuxBoot: Sendable {
    public var kernel: [UInt8]
    public var initrd: [UInt8]?
    public var commandLine: String

    public init(kernel: [UInt8], initrd: [UInt8]? = nil, commandLine: String = "") {
        self.kernel = kernel
        self.initrd = initrd
        self.commandLine = commandLine
    }
}

/// A Multiboot (version 1) kernel to boot, with its modules and command line.
public struct MultibootBoot: Sendable {
    /// The kernel image: an ELF32 executable, or any image whose Multiboot header has address fields.
    public var kernel: [UInt8]
    public var modules: [MultibootModule]
    public var commandLine: String

    public init(kernel: [UInt8], modules: [MultibootModule] = [], commandLine: String = "") {
        self.kernel = kernel
        self.modules = modules
        self.commandLine = commandLine
    }
}

/// Where COM1's input comes from (a terminal, a pipe).
public protocol SerialInputSource: AnyObject {
    /// Takes up to `limit` bytes that have arrived, without waiting.
    func take(limit: Int) -> [UInt8]
    /// Whether more input may still come (a terminal that is open): an idle machine then
    /// waits for it in real time instead of ending the run.
    var mayProduceMore: Bool { get }
    /// Takes the commands that have arrived beside the bytes (a terminal's escape keys),
    /// without waiting; the machine performs them at its next look at the input.
    func takeCommands() -> [SerialInputCommand]
}

/// What a serial input source asks of the machine beside bytes for the guest.
public enum SerialInputCommand: Equatable, Sendable {
    /// End the run now as ``RunOutcome/stopped(reason:)``.
    case stop(reason: String)
    /// Perform a user action now (the reset button, the power button).
    case perform(UserAction)
}

/// A machine that cannot be built as configured.
public enum MachineError: Error, CustomStringConvertible, Equatable {
    case memorySizeOutOfRange(Int)
    case processorCountOutOfRange(Int)
    case unsupportedROMSize(Int)
    case payloadTooLarge(Int)
    case payloadAndMultibootKernel
    case multiboot(MultibootError)
    case linuxAndOtherBoot
    case linux(LinuxBootError)
    /// The host could not provide the guest's RAM.
    case memoryUnavailable(Int)

    public var description: String {
        switch self {
        case .memorySizeOutOfRange(let size):
            "memory size \(size) bytes is out of range (1 MiB to 3 GiB, a multiple of 4 KiB)"
        case .processorCountOutOfRange(let count):
            "\(count) processors is out of range (1 to 64)"
        case .unsupportedROMSize(let size):
            "firmware image is \(size) bytes; a ROM must be 64, 128, 256 or 512 KiB"
        case .payloadTooLarge(let size):
            "boot payload is \(size) bytes; at most 448 KiB fits below the ROM"
        case .payloadAndMultibootKernel:
            "both a boot payload and a Multiboot kernel were given; the firmware boots one"
        case .multiboot(let error):
            error.description
        case .linuxAndOtherBoot:
            "a Linux kernel and a boot payload or Multiboot kernel were given; the firmware boots one"
        case .linux(let error):
            error.description
        case .memoryUnavailable(let size):
            "the host cannot provide \(size) bytes of guest RAM"
        }
    }
}

/// How a run ended.
public enum RunOutcome: Equatable, Sendable {
    /// The guest wrote to the exit port: the process status it asked for.
    case exitRequested(status: Int32)
    /// Every CPU is halted and nothing can wake it.
    case allHalted
    /// ACPI soft-off or a power-off reset.
    case poweredOff
    /// `--max-instructions` reached.
    case instructionLimit
    /// A pause policy stopped the machine with state intact.
    case paused(reason: String)
    /// `--on-reset exit`: the run ended at a reset.
    case endedAtReset(kind: ResetKind, source: ResetSource)
    /// `--on-shutdown exit`: the run ended at a CPU shutdown.
    case endedAtShutdown(cpu: Int)
    /// A quirk locked the machine up.
    case hung(reason: String)
    /// `--on-panic exit`: the guest reported a panic (pvpanic event bits).
    case guestPanicked(events: UInt8)
    /// An output the run writes to (a file, a pipe, the terminal) could not be written.
    case outputFailed(reason: String)
    /// The user quit through the control socket (QMP `quit`).
    case quit
    /// The machine's owner ended the run: the user's quit key, a benchmark at its marker.
    case stopped(reason: String)

    /// The process exit status for this outcome (documented in the README). A status holds
    /// 8 bits, so the exit port's (v << 1) | 1 keeps v's low 7 bits and is always odd; every
    /// other outcome's status is even.
    public var exitStatus: Int32 {
        switch self {
        case .exitRequested(let status): status & 0xFF
        case .allHalted, .poweredOff, .quit: 0
        case .paused: 2
        case .instructionLimit: 4
        case .hung: 6
        case .endedAtReset, .endedAtShutdown: 8
        case .guestPanicked: 10
        case .outputFailed: 74
        case .stopped: 12
        }
    }

    /// One line for the user.
    public var summary: String {
        switch self {
        case .exitRequested: "guest requested exit with status \(exitStatus)"
        case .allHalted: "all CPUs halted"
        case .poweredOff: "powered off"
        case .instructionLimit: "instruction limit reached"
        case .paused(let reason): "paused: \(reason)"
        case .endedAtReset(let kind, let source): "stopped at a \(kind.rawValue) reset requested by \(source.rawValue)"
        case .endedAtShutdown(let cpu): "stopped at CPU \(cpu) shutdown (triple fault)"
        case .hung(let reason): "machine hung: \(reason)"
        case .guestPanicked(let events):
            "the guest panicked (pvpanic events 0x\(String(events, radix: 16)): \(PVPanic.eventNames(events).joined(separator: ", ")))"
        case .outputFailed(let reason): "stopped: \(reason)"
        case .quit: "quit (control socket)"
        case .stopped(let reason): "stopped by \(reason)"
        }
    }
}
