import ArgumentParser
import Control
import Firmware
import Foundation
import Hardware
import Machine

struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot a PC with a firmware ROM (the project's own by default) and run it.",
        discussion: """
            Exit status: 0 when every CPU halted (--exit-on-halt) or the machine powered off (ACPI S5), or at a QMP quit; \
            2 when a pause policy stopped it (registers and the last trace events are printed); \
            4 at --max-instructions; 6 when a quirk hung the machine; 8 when --on-reset exit or \
            --on-shutdown exit ended the run; 10 when --on-panic exit ended it at a guest's panic report; 12 when the user ended it (Ctrl-A X on \
            the serial console); 1 when a file or socket the command names cannot be used \
            (missing, truncated, corrupt, too large for guest RAM: one line names it; a refused \
            input starts nothing); 64 for a usage error; 74 when an output could not be written; \
            ((v & 0x7F) << 1) | 1, always odd, when the guest wrote v to --exit-port or an \
            isa-debug-exit device.
            """
    )

    @Option(help: "A raw ROM image of 64, 128, 256 or 512 KiB (default: the built-in reset-vector firmware).")
    var firmware: String?

    @Option(help: "A real-mode program the built-in firmware loads at 0000:7C00 and jumps to.")
    var payload: String?

    @Option(help: "A built-in guest as the payload.")
    var guest: ResetGuest?

    @Option(help: "A Multiboot (version 1) kernel the built-in firmware loads and enters in 32-bit protected mode.")
    var multiboot: String?

    @Option(name: .customLong("module"), help: "FILE[,STRING]: a Multiboot boot module and its string (default: FILE). Repeatable.",
            transform: MultibootModuleOption.init(parsing:))
    var modules: [MultibootModuleOption] = []

    @Option(help: "The Multiboot kernel's command line (default: the kernel's path, as GRUB passes it).")
    var cmdline: String?

    @Option(help: """
        A kernel the built-in firmware boots, as QEMU's -kernel: a Linux bzImage (the boot protocol's "HdrS" \
        signature; entered by the 32-bit boot protocol) or else a Multiboot kernel.
        """)
    var kernel: String?

    @Option(help: "The initrd (initramfs) for a Linux --kernel; with a Multiboot --kernel, a boot module.")
    var initrd: String?

    @Option(help: "The --kernel's command line (a Multiboot kernel's default: the kernel's path).")
    var append: String?

    @Option(parsing: .unconditional, help: "Guest RAM, e.g. 32M or 1G (1 MiB to 3 GiB; default 32M, 256M with a Linux --kernel).",
            transform: MemorySize.init(parsing:))
    var memory: MemorySize?

    @Option(parsing: .unconditional, help: "Processors, 1 to 64: CPU 0 boots, the others wait for a start-up IPI.",
            transform: parseProcessorCount)
    var smp = 1

    @OptionGroup var boardOptions: BoardOptions

    @Option(name: .customLong("quirk"), help: "Break a reset path on purpose (repeatable).")
    var quirks: [Quirk] = []

    @Option(name: .customLong("on-reset"), help: "What a reset does: reboot, exit or pause (stop before it, state intact).")
    var onReset: ResetPolicy = .reboot

    @Option(name: .customLong("on-shutdown"), help: "What a CPU shutdown (triple fault) does: board, pause or exit.")
    var onShutdown: ShutdownPolicy = .board

    @Option(name: .customLong("watchdog-action"),
            help: "What the i6300esb watchdog's expiry does: reset (default), power-off, pause, nmi or none.")
    var watchdogAction: WatchdogAction?

    @Option(name: .customLong("on-panic"),
            help: "What a guest's panic report (pvpanic PANICKED at port 0x505) does: pause (default), exit (status 10), reboot or none.")
    var onPanic: PanicPolicy = .pause

    @Option(name: .customLong("at"),
            help: """
                TIME=ACTION: at virtual TIME (a number with ns, us, ms or s, e.g. 5ms or 1.5s) the user does ACTION: \
                power-button, reset, ctrl-alt-del, nmi or power-off. Repeatable.
                """,
            transform: UserActionOption.parse)
    var userActions: [ScheduledUserAction] = []

    @Option(name: .customLong("power-cycle-memory"), help: "Whether a full reset keeps RAM: clear or keep.")
    var powerCycleMemory: PowerCycleMemory = .clear

    @Option(name: .customLong("acpi-reset"),
            help: """
                The FADT's reset register: io (port 0xCF9 <- 06h), mmio (memory 0xFEDF0000 <- 06h),                 pci (LPC bridge 00:1F.0 offset 50h <- 06h) or none (no RESET_REG_SUP). Default: io, or the space an \
                acpi-reset-* guest is named after.
                """)
    var acpiReset: ACPIResetChoice?

    @Option(name: .customLong("debugcon"), help: "PORT=FILE: bytes the guest writes to PORT go to FILE ('-' for stdout). Repeatable.",
            transform: DebugConsoleOption.init(parsing:))
    var debugConsoles: [DebugConsoleOption] = []

    @Option(name: .customLong("exit-port"), parsing: .unconditional, help: "A guest write of v to PORT ends the run with status ((v & 0x7F) << 1) | 1.",
            transform: parsePort)
    var exitPort: UInt16?

    @Option(name: .customLong("device"),
            help: """
                Add a device, as QEMU's -device names it (repeatable): pc-testdev (QEMU's test device: latch at \
                port 0xE0, interrupt lines at 0x2000+n, I/O memory at 0xFF000000), \
                isa-debug-exit[,iobase=PORT][,iosize=N] (an exit port window, default 0x501 and 2) or \
                i6300esb (the Intel 6300ESB PCI watchdog at 00:05.0; --guest watchdog-bite adds it).
                """,
            transform: DeviceOption.init(parsing:))
    var devices: [DeviceOption] = []

    @Option(help: """
        Where COM1 goes: stdio (a terminal on standard input is put in raw mode, so keys such as ^C reach the \
        guest; Ctrl-A X ends the run, Ctrl-A H lists the escape keys), file:PATH or none.
        """, transform: SerialOption.init(parsing:))
    var serial: SerialOption = .stdio

    @Option(name: .customLong("max-instructions"), parsing: .unconditional,
            help: "Stop a runaway guest after this many instructions, each exception or interrupt delivered counting as one (exit status 4).")
    var maxInstructions: UInt64?

    @Option(help: "virtual (default: deterministic, idle time passes at once) or realtime (virtual time paced to the host's clock, for interactive use).")
    var clock: ClockMode = .virtual

    @Flag(name: .customLong("exit-on-halt"), help: "When every CPU is halted with interrupts disabled, report \"all CPUs halted\" and exit 0.")
    var exitOnHalt = false

    @Option(help: """
                A QMP control socket (QEMU's machine protocol): unix:PATH (created 0600) or tcp:HOST:PORT \
                (port 0 picks one; the address is printed). Scripts send commands and receive events.
                """,
            transform: { text throws(ValidationError) in
                do throws(ControlSocketError) { return try ControlAddress(parsing: text) } catch { throw ValidationError(error.description) }
            })
    var qmp: ControlAddress?

    @Flag(help: "Start with every CPU stopped, until a QMP `cont` or gdb's `continue` (QEMU's -S).")
    var paused = false

    @Option(help: """
                A gdb remote stub: tcp:HOST:PORT (e.g. tcp:127.0.0.1:1234) or unix:PATH. The machine stops \
                when gdb attaches; `target remote` sees one thread per CPU.
                """,
            transform: { text throws(ValidationError) in
                do throws(ControlSocketError) { return try ControlAddress(parsing: text) } catch { throw ValidationError(error.description) }
            })
    var gdb: ControlAddress?

    @Option(name: .customLong("gdb-catch"), help: "shutdown: stop for gdb when a CPU triple-faults, before the board answers.")
    var gdbCatch: GDBCatch?

    @Option(name: .customLong("gdb-arch"), help: """
                The register layout gdb is given, which must match the program gdb debugs: i386 or \
                x86-64 (default: x86-64 for a 64-bit Linux --kernel, otherwise by CPU 0's mode when gdb connects).
                """)
    var gdbArch: GDBArchitecture?

    func validate() throws {
        if payload != nil && guest != nil { throw ValidationError("give --payload or --guest, not both") }
        if kernel != nil {
            if firmware != nil { throw ValidationError("--kernel needs the built-in firmware, not --firmware") }
            if multiboot != nil { throw ValidationError("give --kernel or --multiboot, not both") }
            if payload != nil || guest != nil { throw ValidationError("give --kernel or a payload (--payload, --guest), not both") }
            if !modules.isEmpty || cmdline != nil { throw ValidationError("--module and --cmdline go with --multiboot; use --initrd and --append with --kernel") }
        } else if initrd != nil || append != nil {
            throw ValidationError("--initrd and --append need --kernel")
        }
        if multiboot != nil {
            if firmware != nil { throw ValidationError("--multiboot needs the built-in firmware, not --firmware") }
            if payload != nil || guest != nil { throw ValidationError("give --multiboot or a payload (--payload, --guest), not both") }
        } else if !modules.isEmpty || cmdline != nil {
            throw ValidationError("--module and --cmdline need --multiboot")
        }
        if paused && qmp == nil && gdb == nil { throw ValidationError("--paused needs --qmp or --gdb (their `cont` starts the machine)") }
        if gdbCatch != nil && gdb == nil { throw ValidationError("--gdb-catch needs --gdb") }
        if gdbArch != nil && gdb == nil { throw ValidationError("--gdb-arch needs --gdb") }
        if watchdogAction != nil, !devices.contains(.watchdog), guest?.needsWatchdog != true {
            throw ValidationError("--watchdog-action needs a watchdog: add --device i6300esb")
        }
    }

    func run() throws {
        var configuration = try machineConfiguration()
        // Every input is read and checked before anything starts: a refused one leaves no
        // output file created or truncated, no socket bound and the terminal untouched.
        do { try configuration.validate() } catch { throw userError(error) }
        var outputs: [OutputFile] = []
        switch serial {
        case .stdio:
            let out = StandardStreams.output()
            configuration.serialOutput = { out.write(byte: $0) }
            configuration.serialInput = TerminalInput()
            outputs.append(out)
        case .file(let path):
            let out = try OutputFile.open(path)
            configuration.serialOutput = { out.write(byte: $0) }
            outputs.append(out)
        case .none:
            configuration.serialOutput = nil
        }
        for console in debugConsoles {
            let out = try OutputFile.open(console.path)
            configuration.debugConsoles.append((port: console.port, output: { out.write($0) }))
            outputs.append(out)
        }

        let traceOutputs = try boardOptions.openTraceOutputs()
        let machine: Machine
        do { machine = try Machine(configuration) } catch { throw userError(error) }
        traceOutputs.attach(to: machine.trace)
        machine.stopOnFailure(of: outputs + traceOutputs.all)
        let qmpServer = try qmp.map(startControlSocket)
        // gdb debugging a 64-bit vmlinux needs the x86-64 description from the reset vector on.
        let kernel64 = machine.configuration.linux.map { LinuxKernelImage.isKernel64($0.kernel) } ?? false
        let gdbStub = try gdb.map { address throws(UserError) in
            try startGDBStub(address, architecture: gdbArch ?? (kernel64 ? .x86_64 : nil))
        }
        qmpServer?.attach(to: machine)
        gdbStub?.attach(to: machine)
        let controls: [any MachineControl] = [qmpServer as (any MachineControl)?, gdbStub].compactMap { $0 }
        machine.control = controls.count > 1 ? ControlGroup(controls) : controls.first
        if paused { machine.stop(cause: "--paused") }
        let standardError = StandardStreams.error()
        // The guest's console owns the terminal until the run ends (RawTerminal restores it on
        // every way out); piped input stays untouched.
        if case .stdio = serial, RawTerminal.enter() {
            standardError.writeLine("resetvector: the serial console is on this terminal: Ctrl-A X ends the run, Ctrl-A H lists the keys")
        }
        let outcome = machine.run()
        RawTerminal.restore()
        qmpServer?.close(after: outcome)
        gdbStub?.close(after: outcome)
        standardError.writeLine("resetvector: \(outcome.summary)")
        switch outcome {
        case .paused, .instructionLimit, .hung:
            standardError.writeLine(machine.stateReport())
        default:
            break
        }
        throw ExitCode(outcome.exitStatus)
    }
}

extension RunCommand {
    /// The machine the options describe, every input file read, without its outputs.
    private func machineConfiguration() throws -> MachineConfiguration {
        let rom = try firmware.map {
            try readFile($0, what: "firmware image", maximumSize: MachineConfiguration.romSizes.max()!)
        } ?? ResetVectorROM.image()
        var configuration = MachineConfiguration(firmware: rom)
        // The kernel is read first: a Linux one changes the default RAM size.
        let kernelBytes = try kernel.map { try readFile($0, what: "kernel", maximumSize: self.memory?.bytes ?? MachineConfiguration.memorySizeRange.upperBound) }
        let isLinux = kernelBytes.map(LinuxKernelImage.isBzImage) ?? false
        let memory = self.memory ?? MemorySize(bytes: isLinux ? 256 << 20 : 32 << 20)
        configuration.memorySize = memory.bytes
        configuration.processorCount = smp
        configuration.board = boardOptions.board
        configuration.quirks = Set(quirks)
        configuration.onReset = onReset
        configuration.onShutdown = onShutdown
        configuration.powerCycleMemory = powerCycleMemory
        configuration.exitPort = exitPort
        for device in devices {
            switch device {
            case .pcTestDevice: configuration.pcTestDevice = true
            case .debugExit(let ports): configuration.exitPortRanges.append(ports)
            case .watchdog: configuration.watchdog = true
            }
        }
        configuration.watchdogAction = watchdogAction ?? .reset
        configuration.onPanic = onPanic
        configuration.userActions = userActions
        configuration.maxInstructions = maxInstructions
        configuration.exitOnHalt = exitOnHalt
        configuration.clock = clock
        if let payload {
            configuration.bootPayload = try readFile(payload, what: "payload", maximumSize: MachineConfiguration.maximumPayloadSize)
        }
        if let guest {
            configuration.bootPayload = try guest.program()
            configuration.addDevices(neededBy: guest)
        }
        if let acpiReset { configuration.acpiReset = acpiReset }
        if let multiboot {
            // Nothing larger than guest RAM can be loaded into it.
            configuration.multiboot = MultibootBoot(
                kernel: try readFile(multiboot, what: "Multiboot kernel", maximumSize: memory.bytes),
                modules: try modules.map {
                    MultibootModule(bytes: try readFile($0.path, what: "module", maximumSize: memory.bytes), string: $0.string)
                },
                commandLine: cmdline ?? multiboot)
        }
        if let kernel, let kernelBytes {
            let initrdBytes = try initrd.map { try readFile($0, what: "initrd", maximumSize: memory.bytes) }
            if isLinux {
                configuration.linux = LinuxBoot(kernel: kernelBytes, initrd: initrdBytes, commandLine: append ?? "")
            } else {
                configuration.multiboot = MultibootBoot(
                    kernel: kernelBytes,
                    modules: initrdBytes.map { [MultibootModule(bytes: $0, string: initrd!)] } ?? [],
                    commandLine: append.map { "\(kernel) \($0)" } ?? kernel)
            }
        }
        return configuration
    }

    /// A machine that cannot be built from what the options name, as one line naming the kernel.
    private func userError(_ error: MachineError) -> UserError {
        switch error {
        case .multiboot(let error): UserError("\(multiboot ?? kernel ?? "Multiboot kernel"): \(error)")
        case .linux(let error): UserError("\(kernel ?? "Linux kernel"): \(error)")
        default: UserError(error.description)
        }
    }

    /// Listens on `--qmp`'s address and says where on standard error.
    private func startControlSocket(_ address: ControlAddress) throws(UserError) -> QMPServer {
        do {
            let server = try QMPServer(listeningOn: address)
            StandardStreams.error().writeLine("resetvector: QMP socket at \(server.address)")
            return server
        } catch {
            throw UserError(error.description)
        }
    }
}

extension RunCommand {
    /// What `--gdb-catch` stops for.
    enum GDBCatch: String, ExpressibleByArgument {
        case shutdown
    }

    /// Listens for gdb on `--gdb`'s address and says where on standard error.
    private func startGDBStub(_ address: ControlAddress, architecture: GDBArchitecture?) throws(UserError) -> GDBStub {
        do {
            let stub = try GDBStub(listeningOn: address, catchShutdown: gdbCatch == .shutdown, architecture: architecture)
            StandardStreams.error().writeLine("resetvector: gdb stub at \(stub.address)")
            return stub
        } catch {
            throw UserError(error.description)
        }
    }
}

extension ResetGuest: ExpressibleByArgument {}
extension GDBArchitecture: ExpressibleByArgument {}

/// `FILE[,STRING]` for `--module`: the module's file, then its string (everything after the
/// first comma; the file's path when there is none).
struct MultibootModuleOption {
    let path: String
    let string: String

    init(parsing argument: String) throws(ValidationError) {
        let parts = argument.split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        guard !parts[0].isEmpty else { throw ValidationError("expected FILE[,STRING]") }
        path = parts[0]
        string = parts.count == 2 ? parts[1] : parts[0]
    }
}
