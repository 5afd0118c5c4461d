import Firmware
import Hardware

/// The devices of a PC board and how they are wired to the machine.
final class BoardDevices {
    private(set) var interruptController: I8259!
    private(set) var timer: I8254!
    private(set) var serialPort: Uart16550!
    private(set) var keyboardController: I8042!
    private(set) var coprocessorError: CoprocessorErrorPort!
    /// One local APIC per CPU, in CPU order; all sit at the same address, where
    /// `LocalAPICWindow` shows each CPU its own.
    private(set) var localAPICs: [LocalAPIC] = []
    private(set) var ioAPIC: IOAPIC!
    /// The firmware configuration interface, where the board's payloads and tables are files.
    private(set) var firmwareConfig: FirmwareConfig!
    /// The devices on the buses (the local APICs are reached through `LocalAPICWindow`).
    private(set) var all: [any Device] = []
    /// Every device, for resets: those on the buses and the local APICs.
    var everyDevice: [any Device] { all + localAPICs }
    private(set) var timed: [any TimedDevice] = []

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
        }
        let ioapic = IOAPIC(onSend: { [unowned machine] in machine.sendAPICMessage($0, from: nil) })
        for apic in apics { apic.onEndOfInterrupt = { ioapic.endOfInterrupt(vector: $0) } }

        interruptController = pic
        localAPICs = apics
        ioAPIC = ioapic
        self.firmwareConfig = firmwareConfig
        timer = pit
        serialPort = uart
        keyboardController = kbc
        coprocessorError = fpuError
        all = [pic, pit, portB, uart, rtc, kbc, portA, resetControl, pciHost, post, firmwareConfig, firmwareLog, fpuError,
               ioapic, LocalAPICWindow(machine: machine)]
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
        timed = everyDevice.compactMap { $0 as? any TimedDevice }
    }
}
