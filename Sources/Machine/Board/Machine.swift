import Foundation
import Hardware
import X86

/// A PC: CPUs, memory, devices, the power & reset controller and the event trace.
///
/// `run()` drives the CPUs in time slices that end at the next device deadline, so timer
/// interrupts arrive at exact virtual times; virtual time is one nanosecond per retired
/// instruction and jumps to the next deadline while every CPU is halted. Runs are
/// deterministic: the same configuration and inputs give the same trace.
public final class Machine {
    public let configuration: MachineConfiguration
    public let trace: EventTrace
    let memory: PhysicalMemory
    let bus: SystemBus
    /// The processors (index 0 is the bootstrap processor).
    public let cpus: [CPU]
    var controller: PowerResetController!
    let devices: BoardDevices

    // MARK: Time
    // `now` is read by every RDTSC and timer access: its parts are unchecked stored properties,
    // which spares each read two dynamic exclusivity checks (about 75 host instructions each).
    /// Virtual time at the start of the current slice.
    @exclusivity(unchecked) private var clockBase: UInt64 = 0
    /// The running CPU's `ticks` when its slice (or the last clock update in it) began.
    @exclusivity(unchecked) private var sliceStartTicks: UInt64 = 0
    /// The CPU executing the current slice, if any.
    @exclusivity(unchecked) private(set) var runningCPU: Int?
    /// Virtual time at which the current slice ends.
    private var sliceEnd: UInt64 = 0

    // MARK: Run state
    private var outcome: RunOutcome?
    private var a20Inputs: Set<A20Input> = []
    /// CPUs that entered shutdown since the machine last answered one (each entry is
    /// answered, however soon it follows the last reset).
    private var unansweredShutdown: [Bool]
    /// The 8259 pair's INTR output as last driven onto every LINT0 and I/O APIC pin 0.
    var externalInterruptLevel = false
    /// CPUs sent an ExtINT message (through the I/O APIC) not yet acknowledged.
    var externalInterruptMessagePending: [Bool]
    private var started = false
    /// Whether the board is in S3 (from the `sleep` event to the wake): no processor runs.
    public private(set) var isAsleep = false
    /// When every CPU last went idle (see `idleUntilNextEvent`).
    private var idleSinceTicks: UInt64 = .max
    private var idleSinceTime: UInt64 = 0
    /// Paces virtual time to the host's clock (`ClockMode.realtime`), from the run's start.
    private var pacer: RealTimePacer?
    /// Times the bootstrap processor began at the reset vector (power-on, resets, INIT).
    public private(set) var boots = 0
    /// Called when a CPU enters HLT (the demo types keys here); the CPU's index is passed.
    public var onHalt: ((Machine, Int) -> Void)?
    /// The control socket, asked for its commands between slices (``MachineControl``).
    public var control: (any MachineControl)?
    /// Whether the user stopped the machine (``stop(cause:)``): no CPU runs, time stands still.
    public internal(set) var isStopped = false
    /// CPUs whose shutdown the control caught (``MachineControl/catchesShutdown(of:on:)``),
    /// answered when the machine resumes.
    var caughtShutdowns: Set<Int> = []

    /// Builds the machine in its power-on state.
    public init(_ configuration: MachineConfiguration) throws(MachineError) {
        let multiboot = try configuration.validate()
        let linux = try configuration.linuxLoad()
        self.configuration = configuration
        trace = EventTrace(keepAll: configuration.keepTrace, only: configuration.keptTraceEvents)
        memory = try PhysicalMemory(ramSize: configuration.memorySize)
        memory.installROM(configuration.firmware)
        let bus = SystemBus(memory: memory)
        self.bus = bus
        let codeCoherence = CodeCoherence()
        cpus = (0..<configuration.processorCount).map {
            CPU(bus: bus, index: $0, isBootstrapProcessor: $0 == 0, codeCoherence: codeCoherence)
        }
        unansweredShutdown = Array(repeating: false, count: cpus.count)
        externalInterruptMessagePending = Array(repeating: false, count: cpus.count)
        devices = BoardDevices()
        controller = PowerResetController(machine: self, board: configuration.board, quirks: configuration.quirks,
                                          onReset: configuration.onReset, onShutdown: configuration.onShutdown,
                                          powerCycleMemory: configuration.powerCycleMemory)
        devices.build(for: self, multiboot: multiboot, linux: linux)
        for device in devices.all { bus.attach(device) }
        bus.afterDeviceWrite = { [unowned self] device in
            if device is any TimedDevice || device is LocalAPICWindow { endSliceBeforeNextDeadline() }
        }
        for device in devices.everyDevice { device.reset(.full) }
        for cpu in cpus {
            cpu.interruptController = self
            cpu.observer = self
            cpu.timeSource = self
            cpu.hasLocalAPIC = true
        }
        applyA20()
    }

    // MARK: Running

    /// Longest slice between looks at devices, in instructions, with one processor.
    static let maximumSlice: UInt64 = 1_000_000
    /// Developer aid: every exception delivered, on standard error (RESETVECTOR_DEBUG_EXCEPTIONS set).
    static let debugExceptions = ProcessInfo.processInfo.environment["RESETVECTOR_DEBUG_EXCEPTIONS"] != nil
    /// With several processors, the round-robin quantum: each CPU that can run gets a slice of
    /// at most this many instructions in turn (cut short at the next device deadline, and when
    /// it halts or waits for a start-up IPI), so a CPU's write is seen by the others within
    /// a round.
    static let quantum: UInt64 = 10_000

    /// Runs until the guest or a policy ends the run.
    public func run() -> RunOutcome {
        if !started {
            started = true
            var fields: [(String, TraceValue)] = [("board", .text(configuration.board.rawValue)),
                                                  ("memory", .number(UInt64(configuration.memorySize)))]
            if let label = configuration.label { fields.append(("label", .text(label))) }
            emit(TraceEvent("power-on", fields))
            if configuration.clock == .realtime { pacer = RealTimePacer(virtualStart: now) }
            cpusStarted()
            // User actions scheduled at time 0 come before the first instruction.
            devices.userActions.advance(to: now)
        }
        let longestSlice = cpus.count == 1 ? Machine.maximumSlice : Machine.quantum
        while outcome == nil {
            if let control {
                control.performPendingCommands(on: self)
                if outcome != nil { break }
                if isStopped {
                    control.waitForCommands(milliseconds: 50)
                    continue
                }
            }
            let everyInstruction = control?.wantsEveryInstruction == true
            if isAsleep {
                controller.passTimeAsleep()
                continue
            }
            var ran = false
            for index in cpus.indices {
                controller.performPending(beforeTurnOf: index)
                if outcome != nil || isAsleep { break }
                // A processor that is waiting (halted, in shutdown, or for a start-up IPI) with
                // nothing pending to wake it costs nothing.
                if !cpus[index].canMakeProgress { continue }
                ran = true
                var slice = everyInstruction ? 1 : longestSlice
                if let deadline = nextDeadline() { slice = min(slice, max(1, deadline &- now)) }
                sliceEnd = now &+ slice
                if let limit = configuration.maxInstructions {
                    let done = tickCount
                    if done >= limit {
                        finish(.instructionLimit)
                        break
                    }
                    slice = min(slice, limit - done)
                }
                runSlice(of: index, limit: slice)
                if everyInstruction { control?.instructionRetired(by: index, on: self) }
                if isStopped { break }
            }
            if outcome == nil && !ran {
                // Every processor waits: let time reach the next event that can wake one.
                pollSerialInput()
                advanceDevices()
                if !cpus.contains(where: \.canMakeProgress) { idleUntilNextEvent() }
            }
        }
        return outcome!
    }

    /// Runs CPU `index` for at most `limit` ticks. Virtual time is shared and advances with
    /// each slice: the processors take turns on one clock, so every device, and every CPU's
    /// view of time, sees it only move forward.
    private func runSlice(of index: Int, limit: UInt64) {
        let cpu = cpus[index]
        runningCPU = index
        sliceStartTicks = cpu.ticks
        let reason = cpu.run(limit: Int(limit))
        clockBase &+= cpu.ticks &- sliceStartTicks
        sliceStartTicks = cpu.ticks
        runningCPU = nil
        pacer?.catchUp(to: clockBase)
        pollSerialInput()
        advanceDevices()
        handle(reason, cpu: index)
    }

    private func handle(_ reason: StopReason, cpu index: Int) {
        let cpu = cpus[index]
        switch reason {
        case .halted:
            // Still halted and unable to take what is pending (IF clear, or no request): idle.
            let canTakeInterrupt = cpu.interruptRequested && cpu.eflags & EFlags.interrupt != 0
            if cpu.activity == .halted && !canTakeInterrupt { idleUntilNextEvent() }
        case .shutdown:
            if unansweredShutdown[index] {
                unansweredShutdown[index] = false
                if let control, control.catchesShutdown(of: index, on: self) {
                    caughtShutdowns.insert(index)
                    return
                }
                controller.cpuShutdown(index, chain: cpu.shutdownChain)
            } else {
                idleUntilNextEvent()
            }
        case .limitReached, .stopRequested, .waitingForStartup:
            break
        }
    }

    /// Longest stretch of virtual time every CPU may sleep with no instruction executed
    /// before the run ends as halted: device events keep coming (a masked timer), but
    /// nothing wakes a CPU, and the emulator must not spin forever.
    static let idleLimit: UInt64 = 600_000_000_000

    /// Every CPU is stopped: move virtual time in one step to the next device event that can
    /// wake a CPU, or end the run when nothing can. Events that cannot wake one (a masked
    /// timer's ticks) are not visited one by one: the devices catch up in one jump.
    private func idleUntilNextEvent() {
        // A transition requested meanwhile (the user's reset button) comes first.
        // So does a CPU with something to take (an INIT, a start-up IPI) at its next turn.
        guard controller.pending == nil, !cpus.contains(where: \.canMakeProgress) else { return }
        let canTakeInterrupts = cpus.contains { $0.activity == .halted && $0.eflags & EFlags.interrupt != 0 }
        // A watchdog expiry or a user action comes whatever the CPUs do: time runs on to it.
        let boardEvent = devices.boardEventSources.compactMap { $0.nextDeadline() }.min()
        if tickCount != idleSinceTicks {
            idleSinceTicks = tickCount
            idleSinceTime = now
        }
        if canTakeInterrupts {
            let idleEnd = idleSinceTime &+ Machine.idleLimit
            if let wake = nextWakeDeadline(), wake <= idleEnd {
                jumpClock(to: wake)
                return
            }
            if let input = configuration.serialInput, input.mayProduceMore {
                // Waiting for the terminal: let real time pass instead of ending the run.
                usleep(10_000)
                return
            }
            if let boardEvent {
                jumpClock(to: min(boardEvent, nextWakeDeadline() ?? .max))
                return
            }
            if waitForControl() { return }
            // Nothing can wake a CPU before the idle limit: that much idle time passes at once.
            guard jumpClock(to: idleEnd) else { return }
        } else if let boardEvent {
            jumpClock(to: boardEvent)
            return
        } else if waitForControl() {
            return
        }
        if configuration.exitOnHalt || canTakeInterrupts {
            finish(.allHalted)
        } else {
            finish(.paused(reason: "every CPU is halted with interrupts disabled or in shutdown; nothing can wake it"))
        }
    }

    /// With a control socket, an idle machine waits for the user's commands (a reset, the power
    /// button, `quit`) rather than end the run, as QEMU does; `--exit-on-halt` still ends it.
    private func waitForControl() -> Bool {
        guard let control, !configuration.exitOnHalt else { return false }
        control.waitForCommands(milliseconds: 50)
        return true
    }

    /// The next device deadline that can wake a CPU: one of a device whose interrupt request
    /// the 8259 would pass on to INTR now, or of a device whose events do more than interrupt.
    private func nextWakeDeadline() -> UInt64? {
        let interruptController = devices.interruptController!
        return timedDevices.compactMap { device -> UInt64? in
            guard let deadline = device.nextDeadline() else { return nil }
            if let line = device.interruptLine, !interruptController.wouldInterrupt(onRequestAt: line) { return nil }
            return deadline
        }.min()
    }

    /// Moves idle virtual time forward to `time` and lets the devices catch up. With the
    /// real-time clock it goes only as far as the host's clock has come after a short wait;
    /// false when it stopped short of `time` (the run loop comes back: terminal input and
    /// devices are looked at meanwhile).
    @discardableResult
    func jumpClock(to time: UInt64) -> Bool {
        let reached = pacer?.wait(until: time) ?? time
        clockBase = max(clockBase, reached)
        advanceDevices()
        return reached >= time
    }

    /// Ends the run with `outcome` at the next instruction boundary (the first outcome wins):
    /// the machine's own outcomes, and the owner's (an output it writes to failed).
    public func finish(_ outcome: RunOutcome) {
        if self.outcome == nil { self.outcome = outcome }
        stopCPUsAtBoundary()
    }

    func stopCPUsAtBoundary() {
        for cpu in cpus { cpu.requestStop() }
    }

    private func pollSerialInput() {
        guard let input = configuration.serialInput else { return }
        for command in input.takeCommands() {
            switch command {
            case .stop(let reason): finish(.stopped(reason: reason))
            case .perform(let action): perform(ScheduledUserAction(time: now, action: action))
            }
        }
        let space = devices.serialPort.receiverSpace
        if space > 0 {
            let bytes = input.take(limit: space)
            if !bytes.isEmpty { devices.serialPort.receive(bytes) }
        }
    }

    // MARK: Time

    /// Instructions retired by all CPUs.
    public var instructionCount: UInt64 { cpus.reduce(0) { $0 &+ $1.instructionsRetired } }

    /// Clock ticks of all CPUs: retired instructions and delivered events (`CPU.ticks`).
    /// `--max-instructions` counts these, so an exception storm cannot outlast it.
    public var tickCount: UInt64 { cpus.reduce(0) { $0 &+ $1.ticks } }

    private var timedDevices: [any TimedDevice] { devices.timed }

    private func nextDeadline() -> UInt64? {
        timedDevices.compactMap { $0.nextDeadline() }.min()
    }

    /// A guest reprogrammed a timer: if it now fires before the running slice ends, the slice
    /// ends at this instruction boundary, so the next one stops at the new deadline.
    private func endSliceBeforeNextDeadline() {
        guard let index = runningCPU, let deadline = nextDeadline(), deadline < sliceEnd else { return }
        cpus[index].requestStop()
    }

    private func advanceDevices() {
        let time = now
        for device in timedDevices { device.advance(to: time) }
        interruptOutputChanged()
    }

    // MARK: Resets (called by the power & reset controller)

    func initAllCPUs() {
        for device in devices.everyDevice { device.reset(.initSignal) }
        for cpu in cpus { cpu.applyINIT() }
        cpusStarted()
    }

    func platformReset(_ kind: ResetKind, clearRAM: Bool) {
        if clearRAM { memory.clearRAM() }
        for device in devices.everyDevice { device.reset(kind) }
        restartCPUs()
    }

    /// S3: every device takes its sleep state (``ResetKind/sleep``) and no CPU runs until the
    /// wake (`restartCPUs()`); RAM is untouched.
    func enterSleep() {
        for device in devices.everyDevice { device.reset(.sleep) }
        isAsleep = true
    }

    /// Every CPU at its power-on state, after a platform reset or the wake from S3 (which
    /// asserts PLTRST# too; the devices took their sleep state on entry): the bootstrap
    /// processor at the reset vector, the others waiting for a start-up IPI.
    func restartCPUs() {
        isAsleep = false
        for cpu in cpus { cpu.powerOnReset() }
        remapLocalAPICs()
        cpusStarted()
        applyA20()
    }

    /// After power-on, a reset or a board-wide INIT: the bootstrap processor starts at the
    /// reset vector (`cpu-start`), each application processor waits for a start-up IPI
    /// (`wait-for-sipi`).
    private func cpusStarted() {
        for (index, cpu) in cpus.enumerated() {
            if cpu.isBootstrapProcessor {
                boots += 1
                emit(TraceEvent("cpu-start", cpu: index, [("cs", .number(UInt64(cpu.segment(.cs).selector))),
                                                           ("ip", .number(cpu.instructionPointer))]))
            } else {
                emit(TraceEvent("wait-for-sipi", cpu: index))
            }
        }
    }

    private func applyA20() {
        let enabled = !a20Inputs.isEmpty
        for cpu in cpus { cpu.setA20(enabled: enabled) }
    }

    // MARK: Tracing

    func emit(_ event: TraceEvent) {
        trace.record(event, time: now, instructionCount: instructionCount)
    }

    // MARK: The user's hands

    /// Types set-1 scancodes on the keyboard (e.g. Ctrl-Alt-Del: 1D 38 53 D3 B8 9D).
    public func typeScancodes(_ codes: [UInt8]) {
        emit(TraceEvent("key", [("scancodes", .numbers(codes.map(UInt64.init)))]))
        devices.keyboardController.typeScancodes(codes)
    }

    /// Requests a reset as the user (the reset button).
    public func pressResetButton() {
        controller.request(ResetRequest(source: .user, requestedKind: .hard))
    }

    /// Wakes the board from S3 as the user (QMP `system_wakeup`); false when it is not asleep.
    public func wakeFromSleep() -> Bool {
        guard isAsleep else { return false }
        devices.powerManagement.wakeByUser()
        return true
    }

    /// Presses the power button: PWRBTN_STS in the ACPI PM block (an SCI once the OS enabled it).
    public func pressPowerButton() {
        emit(TraceEvent("power-button"))
        devices.powerManagement.pressPowerButton()
    }

    /// Copies bytes into guest RAM (for loaders and tests).
    public func writeMemory(_ bytes: [UInt8], at address: UInt64) {
        memory.write(bytes, at: address)
        cpus.first?.invalidateCode(physicalAddress: address, length: bytes.count)
    }

    /// Reads guest RAM.
    public func readMemory(_ address: UInt64, count: Int) -> [UInt8] {
        memory.read(address, count: count)
    }
}

// MARK: - Services the devices and CPUs use

extension Machine: Platform, TimeSource {
    public var now: UInt64 {
        guard let index = runningCPU else { return clockBase }
        return clockBase &+ (cpus[index].ticks &- sliceStartTicks)
    }

    /// An ISA interrupt line reaches both the 8259 pair and the I/O APIC, as on a PC: IRQ 0 on
    /// pin 2 (pin 0 is the 8259's output), every other IRQ on its own pin.
    public func setInterruptLine(_ irq: Int, high: Bool) {
        devices.interruptController.setInterruptLine(irq, high: high)
        devices.ioAPIC.setPin(irq == 0 ? 2 : irq, asserted: high)
    }

    public func requestReset(_ request: ResetRequest) {
        controller.request(request)
    }

    public func requestSleep(_ request: SleepRequest) {
        controller.requestSleep(request)
    }

    public func setA20(_ input: A20Input, enabled: Bool) {
        if enabled { a20Inputs.insert(input) } else { a20Inputs.remove(input) }
        applyA20()
    }

    public func record(_ event: TraceEvent) {
        var event = event
        if event.cpu == nil { event.cpu = runningCPU }
        emit(event)
    }

    public func requestExit(status: Int32) {
        finish(.exitRequested(status: status))
    }

    public func dmaRead(_ address: UInt64, count: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        guard forEachPage(address, count: count, write: false, { page, offset, length in
            bytes.append(contentsOf: UnsafeBufferPointer(start: page + offset, count: length))
        }) else { return nil }
        return bytes
    }

    public func dmaWrite(_ bytes: [UInt8], at address: UInt64) -> Bool {
        guard forEachPage(address, count: bytes.count, write: true, { _, _, _ in }) else { return false }
        var done = 0
        _ = forEachPage(address, count: bytes.count, write: true) { page, offset, length in
            bytes.withUnsafeBufferPointer { (page + offset).update(from: $0.baseAddress! + done, count: length) }
            done += length
        }
        // One processor stands for them all: the stores reach its whole coherence domain.
        cpus.first?.invalidateCode(physicalAddress: address, length: bytes.count)
        return true
    }

    /// Calls `body` with each host page of a physical range, in order; `false` (after the
    /// pages before it) at the first page that is not memory, or not RAM for a write.
    private func forEachPage(_ address: UInt64, count: Int, write: Bool,
                             _ body: (UnsafeMutablePointer<UInt8>, Int, Int) -> Void) -> Bool {
        guard count > 0 else { return true }
        guard address <= UInt64.max - UInt64(count) else { return false }
        var at = address
        let end = address + UInt64(count)
        while at < end {
            let length = Int(min(end, (at | 0xFFF) + 1) - at)
            guard let page = bus.memoryPage(at >> 12, write: write) else { return false }
            body(page, Int(at & 0xFFF), length)
            at += UInt64(length)
        }
        return true
    }

    /// The 8259 pair's INTR output may have changed: on a PC it is wired to LINT0 of every
    /// processor and to pin 0 of the I/O APIC, so a guest chooses between "virtual wire"
    /// through a local APIC (LINT0 in ExtINT mode, as firmware leaves the BSP) and through the
    /// I/O APIC (MP specification 1.4, 3.6.2.2 and 3.6.2.3).
    public func interruptOutputChanged() {
        let level = devices.interruptController.interruptOutput
        if level != externalInterruptLevel {
            externalInterruptLevel = level
            for (index, apic) in devices.localAPICs.enumerated() {
                if let signal = apic.setLocalInterruptLine(0, level: level) {
                    apply(signal, toCPU: index, source: .localInterrupt(pin: 0))
                }
            }
            devices.ioAPIC.setPin(0, asserted: level)
        }
        updateInterruptRequests()
    }
}

extension Machine: InterruptController {
    /// The interrupt-acknowledge cycle of the CPU that is running: its local APIC's interrupt
    /// first, else the 8259's when an ExtINT reached the CPU (LINT0, a message, or LINT0 as
    /// the INTR pin of a globally disabled APIC).
    public func acknowledgeInterrupt() -> UInt8? {
        let index = runningCPU ?? 0
        let apic = devices.localAPICs[index]
        if apic.hasDeliverableInterrupt { return apic.acknowledge() }
        guard apic.isExternalInterruptRequested || externalInterruptMessagePending[index] else { return nil }
        externalInterruptMessagePending[index] = false
        defer { updateInterruptRequests() }
        return devices.interruptController.acknowledge()
    }

    public func readTimeStampDeadline() -> UInt64 {
        devices.localAPICs[runningCPU ?? 0].timeStampDeadlineMSR
    }

    public func writeTimeStampDeadline(_ value: UInt64, timeStampCounter: UInt64) {
        devices.localAPICs[runningCPU ?? 0].writeTimeStampDeadline(value, timeStampCounter: timeStampCounter)
        endSliceBeforeNextDeadline()
    }

    /// RDMSR of an x2APIC register by the running CPU: its own local APIC answers.
    public func readAPICRegister(_ index: UInt32) -> UInt64? {
        devices.localAPICs[runningCPU ?? 0].readMSR(index)
    }

    /// WRMSR of an x2APIC register by the running CPU. A timer write may move a deadline
    /// before the slice's end, as an MMIO write to the page does.
    public func writeAPICRegister(_ index: UInt32, _ value: UInt64) -> Bool {
        let written = devices.localAPICs[runningCPU ?? 0].writeMSR(index, value)
        if written { endSliceBeforeNextDeadline() }
        return written
    }
}

extension Machine: CPUObserver {
    public func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?) {
        if Machine.debugExceptions && source == .exception {
            FileHandle.standardError.write(Data("exception cpu\(cpu.index) #\(tickCount) vector=\(vector) error=\(errorCode.map { String($0, radix: 16) } ?? "-") rip=\(String(cpu.instructionPointer, radix: 16)) cr2=\(String(cpu.controlRegister2, radix: 16))\n".utf8))
        }
        if vector == ExceptionVector.doubleFault.rawValue && source == .exception {
            emit(TraceEvent("double-fault", cpu: cpu.index, [("vector", .number(UInt64(vector)))]))
        }
    }

    /// Noted here, answered when the CPU's slice ends (`handle(_:cpu:)`).
    public func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8]) {
        unansweredShutdown[cpu.index] = true
    }

    /// CR0.PE or CR0.PG changed: a `mode` event with the new state, EFER.LMA included (paging
    /// turned on or off with EFER.LME set enters or leaves IA-32e mode in the same write).
    public func cpu(_ cpu: CPU, changedModeFrom oldCR0: UInt32, to newCR0: UInt32) {
        let longModeActive = cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive != 0
        emit(TraceEvent("mode", cpu: cpu.index, [
            ("pe", .number(UInt64(newCR0 & ControlRegister0.protectionEnable))),
            ("pg", .number(UInt64(newCR0 >> 31))),
            ("lma", .number(longModeActive ? 1 : 0)),
        ]))
    }

    /// A hardware task switch: old and new TSS selectors, the reason, and the vector for a task gate.
    public func cpu(_ cpu: CPU, switchedTask taskSwitch: TaskSwitch) {
        emit(TraceEvent("task-switch", cpu: cpu.index, [
            ("from", .number(UInt64(taskSwitch.oldSelector))),
            ("to", .number(UInt64(taskSwitch.newSelector))),
            ("reason", .text(taskSwitch.reason.rawValue)),
            ("vector", taskSwitch.vector.map { .number(UInt64($0)) } ?? .null),
        ]))
    }

    /// FERR# goes to the board's coprocessor-error logic (IRQ 13).
    public func cpu(_ cpu: CPU, floatingPointErrorChanged asserted: Bool) {
        devices.coprocessorError.floatingPointErrorChanged(asserted: asserted)
    }

    /// IA32_APIC_BASE moves the CPU's local APIC page (bits 35:12), turns it on or off
    /// (bit 11) and in or out of x2APIC mode (bit 10, where the page is not decoded); the bus
    /// and every CPU's TLB forget the old mapping. The CPU has refused illegal transitions.
    public func cpu(_ cpu: CPU, changedAPICBase value: UInt64) {
        let apic = devices.localAPICs[cpu.index]
        apic.baseAddress = value & LocalAPIC.baseAddressMask
        apic.isEnabled = value & 1 << 11 != 0
        apic.isX2APICMode = value & 1 << 10 != 0
        remapLocalAPICs()
        updateInterruptRequests()
    }

    /// Every HLT is traced (with IF) and offered to `onHalt` at that instruction boundary.
    public func cpuHalted(_ cpu: CPU) {
        emit(TraceEvent("halt", cpu: cpu.index, [("if", .number(cpu.eflags & EFlags.interrupt != 0 ? 1 : 0))]))
        onHalt?(self, cpu.index)
    }

    /// The end of a halt is traced too, so a timeline knows how long the CPU slept.
    public func cpu(_ cpu: CPU, wokeFromHaltFor vector: UInt8, isNMI: Bool) {
        emit(TraceEvent("wake", cpu: cpu.index, [("by", .text(isNMI ? "nmi" : "interrupt")), ("vector", .number(UInt64(vector)))]))
    }
}
