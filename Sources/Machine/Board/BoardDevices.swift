import Firmware
import Hardware

/// The devices of a PC board and how they are wired to the machine.
final class BoardDevices {
    private(set) var interruptController: I8259!
    private(set) var timer: I8254!
    private(set) var serialPort: Uart16550!
    private(set) var keyboardController: I8042!
    /// The RTC and CMOS (its alarm wakes the board from S3).
    private(set) var realTimeClock: MC146818!
    private(set) var coprocessorError: CoprocessorErrorPort!
    /// One local APIC per CPU, in CPU order; all sit at the same address, where
    /// `LocalAPICWindow` shows each CPU its own.
    private(set) var localAPICs: [LocalAPIC] = []
    private(set) var ioAPIC: IOAPIC!
    /// The firmware configuration interface, where the board's payloads and tables are files.
    private(set) var firmwareConfig: FirmwareConfig!
    /// The ICH's LPC bridge (00:1F.0) and the ACPI power-management block behind it.
    private(set) var lpcBridge: LPCBridge!
    private(set) var powerManagement: ACPIPowerManagement!
    /// The devices on the buses (the local APICs are reached through `LocalAPICWindow`).
    private(set) var all: [any Device] = []
    /// Every device, for resets: those on the buses and the local APICs.
    var everyDevice: [any Device] { all + localAPICs }
    private(set) var timed: [any TimedDevice] = []
    /// The 6300ESB watchdog, when the board has one (`MachineConfiguration.watchdog`).
    private(set) var watchdog: I6300ESB?
    /// The user's scripted actions (`--at`).
    private(set) var userActions: UserActionSchedule!
    /// Timed sources whose events come whatever the CPUs do (a watchdog expiry, a user action):
    /// an idle machine's clock runs on to them even when no interrupt can wake a CPU.
    var boardEventSources: [any TimedDevice] { [watchdog as (any TimedDevice)?, userActions].compactMap { $0 } }

    /// - Parameter multiboot: A Multiboot boot, handed to the firmware as a configuration file.
    /// - Parameter linux: A Linux boot, likewise.
    func build(for machine: Machine, multiboot: MultibootLoad?, linux: LinuxLoad? = nil) {
        let configuration = machine.configuration
        let quirks = configuration.quirks
        let controller = machine.controller!

        let pic = I8259(platform: machine)
        let pit = I8254(platform: machine)
        let portB = SystemControlPortB(timer: pit, platform: machine)
        let uart = Uart16550(platform: machine)
        uart.output = configuration.serialOutput ?? { _ in }
        let rtc = MC146818(platform: machine)
        let kbc = I8042(platform: machine)
        kbc.resetOutput.isBroken = quirks.contains(.no8042Reset)
        kbc.resetOutput.onBlocked = { controller.blocked($0, by: .no8042Reset) }
        let portA = SystemControlPortA(platform: machine)
        portA.resetOutput.isBroken = quirks.contains(.noPort92Reset)
        portA.resetOutput.onBlocked = { controller.blocked($0, by: .noPort92Reset) }
        let resetControl = ResetControl(platform: machine)
        resetControl.resetOutput.isBroken = quirks.contains(.noCF9)
        resetControl.resetOutput.onBlocked = { controller.blocked($0, by: .noCF9) }
        if configuration.acpiReset == .io && quirks.contains(.noACPIReset) && !quirks.contains(.noCF9) {
            // The FADT's register is 0xCF9 itself: breaking it breaks 0xCF9.
            resetControl.resetOutput.isBroken = true
            resetControl.resetOutput.onBlocked = { controller.blocked($0, by: .noACPIReset) }
        }
        let pciHost = PCIHostBridge()
        let post = PostCodePort(platform: machine)
        let firmwareConfig = FirmwareConfig(platform: machine, ramSize: configuration.memorySize,
                                            processorCount: machine.cpus.count)
        // The ROM finds its payloads by name; a board without one boots without it.
        if !configuration.bootPayload.isEmpty {
            try! firmwareConfig.addFile(name: ResetVectorROM.payloadFileName, bytes: configuration.bootPayload)
        }
        if let multiboot {
            try! firmwareConfig.addFile(name: MultibootEntry.fileName, bytes: multiboot.firmwareConfigurationFile)
        }
        if let acpi = ACPIBoard.installation(configuration) {
            try! firmwareConfig.addFile(name: ACPIInstallation.tablesFileName, bytes: acpi.tablesFile)
            try! firmwareConfig.addFile(name: ACPIInstallation.rsdpFileName, bytes: acpi.rsdpFile)
        }
        if let linux {
            try! firmwareConfig.addFile(name: LinuxEntry.fileName, bytes: linux.firmwareConfigurationFile)
        }
        let firmwareLog = FirmwareLogPort(platform: machine)
        // x87 FERR# → IRQ 13; a write to port F0h asserts IGNNE# (PC-style x87 error reporting).
        let fpuError = CoprocessorErrorPort(platform: machine)
        fpuError.ignoreNumericErrorChanged = { [unowned machine] ignore in
            for cpu in machine.cpus { cpu.ignoreNumericErrorInput = ignore }
        }

        // The APICs: messages travel through the machine (`Machine.sendAPICMessage`).
        let apics = machine.cpus.indices.map { LocalAPIC(platform: machine, id: UInt8($0)) }
        for (index, apic) in apics.enumerated() {
            apic.onSend = { [unowned machine] in machine.sendAPICMessage($0, from: index) }
            apic.onInterruptRequestChanged = { [unowned machine] in machine.updateInterruptRequests() }
            apic.onTimerEvent = { [unowned machine] in machine.traceTimer($0, cpu: index) }
        }
        let ioapic = IOAPIC(onSend: { [unowned machine] in machine.sendAPICMessage($0, from: nil) })
        for apic in apics { apic.onEndOfInterrupt = { ioapic.endOfInterrupt(vector: $0) } }

        // The chipset's power management: the PM block behind the LPC bridge, its SCI (active
        // low) inverted for the 8259 and straight to the I/O APIC pin; an SCI that stops
        // driving a line leaves it low, as an undriven ISA line.
        let pm = ACPIPowerManagement(platform: machine)
        pm.onWake = { controller.wake(from: $0) }
        rtc.onAlarm = { [unowned pm] in pm.signalRTCAlarm() }
        pm.onDecodeChanged = { [unowned machine, unowned pm] in machine.bus.reattachPorts(of: pm) }
        let lpc = LPCBridge(platform: machine, powerManagement: pm,
                            resetRegisterOffset: configuration.acpiReset == .pci ? ACPIBoard.pciResetOffset : nil,
                            resetValue: ACPIBoard.resetValue)
        lpc.driveSCI = { [unowned pic, unowned ioapic] line, asserted in
            if line < 16 { pic.setInterruptLine(line, high: asserted == true) }
            ioapic.setPin(line, asserted: asserted == false)
        }
        lpc.resetOutput.isBroken = quirks.contains(.noACPIReset)
        lpc.resetOutput.onBlocked = { controller.blocked($0, by: .noACPIReset) }
        pciHost.registerFunction(bus: 0, device: LPCBridge.device, function: LPCBridge.function,
                                 space: lpc.configurationSpace)
        var acpiDevices: [any Device] = [pm, lpc]
        if configuration.acpiReset == .mmio {
            let register = MemoryResetRegister(platform: machine, address: ACPIBoard.memoryResetAddress,
                                               resetValue: ACPIBoard.resetValue)
            register.resetOutput.isBroken = quirks.contains(.noACPIReset)
            register.resetOutput.onBlocked = { controller.blocked($0, by: .noACPIReset) }
            acpiDevices.append(register)
        }
        lpcBridge = lpc
        powerManagement = pm

        interruptController = pic
        localAPICs = apics
        ioAPIC = ioapic
        self.firmwareConfig = firmwareConfig
        timer = pit
        serialPort = uart
        keyboardController = kbc
        realTimeClock = rtc
        coprocessorError = fpuError
        all = [pic, pit, portB, uart, rtc, kbc, portA, resetControl, pciHost, post, firmwareConfig, firmwareLog, fpuError,
               ioapic, LocalAPICWindow(machine: machine)] + acpiDevices
        for console in configuration.debugConsoles {
            all.append(DebugConsole(port: console.port, output: console.output))
        }
        if let port = configuration.exitPort {
            all.append(ExitDevice(port: port, platform: machine))
        }
        for ports in configuration.exitPortRanges {
            all.append(ExitDevice(ports: ports, platform: machine))
        }
        if configuration.pcTestDevice {
            // Lines 0-15 are ISA lines (`Machine.setInterruptLine`); 16-23 reach the I/O APIC's pins.
            all.append(PCTestDevice(platform: machine, setIOAPICPin: { [unowned ioapic] in ioapic.setPin($0, asserted: $1) }))
        }
        if configuration.watchdog {
            let wdt = I6300ESB(platform: machine)
            wdt.onTimeout = { controller.watchdogExpired() }
            wdt.onMemoryDecodeChanged = { [unowned machine, unowned wdt] in machine.memoryDecodeChanged(of: wdt) }
            pciHost.registerFunction(bus: 0, device: WatchdogSlot.device, function: WatchdogSlot.function,
                                     space: wdt.configurationSpace)
            all.append(wdt)
            watchdog = wdt
        }
        if configuration.panicDevice {
            // After the exit devices: an exit port the user puts on 505h wins.
            let panic = PVPanic()
            panic.onEvent = { [unowned machine] in controller.guestPanicked(events: $0, cpu: machine.runningCPU) }
            all.append(panic)
        }
        userActions = UserActionSchedule(machine: machine, actions: configuration.userActions)
        timed = everyDevice.compactMap { $0 as? any TimedDevice } + [userActions]
    }
}
