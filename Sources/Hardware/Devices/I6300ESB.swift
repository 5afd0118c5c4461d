/// The watchdog timer of the Intel 6300ESB I/O controller hub (PCI 8086:25ABh, class 088000h),
/// as Linux's `i6300esb` driver programs it and QEMU's `i6300esb` device models it.
///
/// Configuration space (besides the type-0 header with BAR0):
/// - 60h WDT configuration (16 bits): bits 1:0 WDT_INT_TYPE, what the end of stage 1 does —
///   00b an interrupt (here: `GINTSR` bit 0 and ISA line ``stage1InterruptLine``), 01b
///   reserved, 10b an SMI (this board has no SMM: traced only), 11b nothing; bit 2 WDT_PRE_SEL,
///   the prescaler — 0: the 33 MHz PCI clock divided by 2^15 (about 1 kHz), 1: divided by 2^5
///   (about 1 MHz); bit 5 WDT_OUTPUT — 0: the expiry of stage 2 drives WDT_TOUT#, which this
///   board wires to the power & reset controller (``onTimeout``), 1: it does not.
/// - 68h WDT lock (8 bits): bit 0 WDT_LOCK — once set, the lock register is read-only until a
///   platform reset; bit 1 WDT_ENABLE — 0→1 starts stage 1, 1→0 stops the timer; bit 2
///   WDT_FUNC — 0: watchdog mode, 1: free-running mode (after stage 2 the timer starts over at
///   stage 1).
/// - 10h BAR0: 16 bytes of 32-bit, non-prefetchable memory. Firmware does not assign it; the
///   operating system (or a guest) does, and sets the command register's memory-space bit.
///   A BAR of 0 counts as unassigned and decodes nothing.
///
/// Memory-mapped registers (offsets in BAR0):
/// - 00h preload value 1 and 04h preload value 2 (20 bits each, read/write): the length of
///   stage 1 and of stage 2 in prescaler ticks; a preload of 0 counts as 1.
/// - 08h GINTSR: bit 0, the stage-1 interrupt is active; writing 1 clears it.
/// - 0Ch reload register (16 bits): writing bit 8 (WDT_RELOAD) restarts stage 1 with preload 1
///   ("feeding" the watchdog); bit 9 (WDT_TIMEOUT) reads 1 when the watchdog's stage 2 expired
///   since the guest last cleared it (writing 1 clears it). It survives every reset, including
///   the one the watchdog caused, so a guest can tell a watchdog reset from a clean one; only
///   power-on (a new machine) clears it.
///
/// Writes to the preload and reload registers need the unlock sequence first: 80h then 86h
/// written to the reload register; the next write to one of them takes effect and locks them
/// again. A write of anything else in the middle of the sequence aborts it. GINTSR needs no
/// unlocking. Reads need none either.
///
/// Timing: one prescaler tick is 2^15 (1 kHz) or 2^5 (1 MHz) PCI clocks of 30 ns, so a stage
/// lasts preload × 983 040 ns or preload × 960 ns of virtual time. Linux writes its heartbeat
/// in seconds × 512 to both preloads, so stage 1 and 2 together last the heartbeat.
///
/// When stage 2 expires with WDT_OUTPUT enabled, WDT_TIMEOUT is set, ``onTimeout`` is called
/// and the watchdog returns to its reset state (timer stopped, 60h and 68h and the preloads
/// at their power-on values; BAR0 and the command register stay), as QEMU's model does: a
/// board action that does not reset the machine (`none`, `nmi`) leaves the watchdog disarmed.
/// With WDT_OUTPUT disabled, stage 2's expiry does nothing, and the timer stops unless it is
/// free-running.
public final class I6300ESB: TimedDevice {
    public let name = "i6300esb"

    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x25AB
    /// PCI_CLASS_SYSTEM_OTHER.
    public static let classCode: UInt32 = 0x08_80_00
    public static let configOffset = 0x60
    public static let lockOffset = 0x68
    public static let barOffset = 0x10
    public static let commandOffset = 0x04
    /// Bytes BAR0 decodes.
    public static let registerBlockSize: UInt64 = 16

    // Memory-mapped register offsets.
    public static let preload1Register: UInt64 = 0x00
    public static let preload2Register: UInt64 = 0x04
    public static let interruptStatusRegister: UInt64 = 0x08
    public static let reloadRegister: UInt64 = 0x0C

    // WDT configuration bits.
    public static let outputDisable: UInt16 = 1 << 5
    public static let prescaler1MHz: UInt16 = 1 << 2
    public static let interruptTypeMask: UInt16 = 0x3

    // Lock register bits.
    public static let lockBit: UInt8 = 1 << 0
    public static let enableBit: UInt8 = 1 << 1
    public static let freeRunningBit: UInt8 = 1 << 2

    // Reload register bits.
    public static let reloadBit: UInt32 = 1 << 8
    public static let timeoutBit: UInt32 = 1 << 9

    public static let unlock1: UInt32 = 0x80
    public static let unlock2: UInt32 = 0x86

    /// Nanoseconds per PCI clock (33⅓ MHz).
    public static let pciClockPeriod: UInt64 = 30
    public static let preloadMask: UInt32 = 0xF_FFFF

    /// The function's configuration space, for the PCI host bridge.
    public let configurationSpace: PCIConfigurationSpace
    /// WDT_TOUT#: stage 2 expired with the output enabled. The board decides what it does.
    public var onTimeout: (() -> Void)?
    /// BAR0 or the memory-space enable changed: the bus must map ``memoryRanges`` anew.
    public var onMemoryDecodeChanged: (() -> Void)?
    /// The ISA interrupt line the stage-1 interrupt (WDT_INT_TYPE 00b) drives while GINTSR
    /// bit 0 is set. On the 6300ESB it is input 10 of the hub's own I/O APIC; this board has
    /// one I/O APIC and wires it to IRQ 10.
    public let stage1InterruptLine: Int

    private unowned let platform: any Platform

    private var preload1 = I6300ESB.preloadMask
    private var preload2 = I6300ESB.preloadMask
    /// 0: locked; 1: 80h seen; 2: unlocked for one write.
    private var unlockState = 0
    /// The running stage (1 or 2) and when it ends; `nil` while the timer is stopped.
    public private(set) var stage = 1
    private var deadline: UInt64?
    /// Whether the expiry of the running stage 1 was already reported (free-running repeats
    /// with nothing new to report are not).
    private var stage1Reported = false
    /// GINTSR bit 0.
    private var interruptActive = false
    /// WDT_TIMEOUT: kept across every reset.
    public private(set) var timedOut = false
    private var decodedBase: UInt64?

    public init(platform: any Platform, stage1InterruptLine: Int = 10) {
        precondition((0..<16).contains(stage1InterruptLine), "an ISA interrupt line")
        self.platform = platform
        self.stage1InterruptLine = stage1InterruptLine
        let space = PCIConfigurationSpace(vendorID: Self.vendorID, deviceID: Self.deviceID, classCode: Self.classCode)
        // Command: I/O, memory, bus master, parity, SERR#, interrupt disable writable.
        space.define(offset: Self.commandOffset, size: 2, value: 0, writableMask: 0x0547)
        // Status: fast back-to-back capable, medium DEVSEL timing, as the ESB's functions.
        space.define(offset: 0x06, size: 2, value: 0x0280)
        // BAR0: 32-bit memory, non-prefetchable, 16 bytes (address bits 31:4 writable).
        space.define(offset: Self.barOffset, size: 4, value: 0, writableMask: ~UInt32(Self.registerBlockSize - 1))
        configurationSpace = space
        defineWatchdogRegisters(locked: false, lockValue: 0)
        space.onWrite = { [unowned self] offset, size, _ in configurationWritten(offset: offset, size: size) }
    }

    // MARK: Configuration space

    /// The WDT configuration register (60h).
    public var configuration: UInt16 {
        UInt16(truncatingIfNeeded: configurationSpace.read(offset: Self.configOffset, size: 2))
    }

    /// The WDT lock register (68h).
    public var lockRegister: UInt8 {
        UInt8(truncatingIfNeeded: configurationSpace.read(offset: Self.lockOffset, size: 1))
    }

    public var isEnabled: Bool { lockRegister & Self.enableBit != 0 }
    public var isLocked: Bool { lockRegister & Self.lockBit != 0 }
    private var isFreeRunning: Bool { lockRegister & Self.freeRunningBit != 0 }
    private var outputEnabled: Bool { configuration & Self.outputDisable == 0 }
    private var interruptType: UInt16 { configuration & Self.interruptTypeMask }

    /// (Re)defines 60h and 68h: their power-on values, or the lock register frozen at
    /// `lockValue` (WDT_LOCK makes it read-only until a platform reset).
    private func defineWatchdogRegisters(locked: Bool, lockValue: UInt8) {
        if !locked {
            configurationSpace.define(offset: Self.configOffset, size: 2, value: 0, writableMask: 0x0027)
        }
        configurationSpace.define(offset: Self.lockOffset, size: 1, value: UInt32(lockValue),
                                  writableMask: locked ? 0 : 0x07)
    }

    private var lockBeforeWrite: UInt8 = 0

    private func configurationWritten(offset: Int, size: Int) {
        func covers(_ register: Int, _ length: Int = 1) -> Bool {
            offset < register + length && register < offset + size
        }
        advance(to: platform.now)
        if covers(Self.lockOffset) { lockWritten() }
        if covers(Self.commandOffset, 2) || covers(Self.barOffset, 4) { updateDecode() }
    }

    private func lockWritten() {
        let value = lockRegister
        let wasEnabled = lockBeforeWrite & Self.enableBit != 0
        lockBeforeWrite = value
        if value & Self.lockBit != 0 {
            // Read-only from now on. (`define` also moves the power-on value; `reset(_:)`
            // defines the real one again.)
            defineWatchdogRegisters(locked: true, lockValue: value)
        }
        if value & Self.enableBit == 0 {
            deadline = nil
        } else if !wasEnabled {
            restart(stage: 1)
        }
    }

    private func updateDecode() {
        let command = configurationSpace.read(offset: Self.commandOffset, size: 2)
        let base = UInt64(configurationSpace.read(offset: Self.barOffset, size: 4) & ~UInt32(Self.registerBlockSize - 1))
        let decoded: UInt64? = command & 0x2 != 0 && base != 0 ? base : nil
        guard decoded != decodedBase else { return }
        decodedBase = decoded
        onMemoryDecodeChanged?()
    }

    // MARK: Memory-mapped registers

    public var memoryRanges: [ClosedRange<UInt64>] {
        guard let decodedBase else { return [] }
        return [decodedBase...decodedBase + Self.registerBlockSize - 1]
    }

    /// The 32-bit register image at a dword offset.
    private func registerImage(_ dword: UInt64) -> UInt32 {
        switch dword {
        case Self.preload1Register: preload1
        case Self.preload2Register: preload2
        case Self.interruptStatusRegister: interruptActive ? 1 : 0
        case Self.reloadRegister: timedOut ? Self.timeoutBit : 0
        default: 0
        }
    }

    public func readMemory(_ address: UInt64, size: Int) -> UInt64 {
        advance(to: platform.now)
        guard let base = decodedBase, address >= base else { return size >= 8 ? .max : (1 << (8 * UInt64(size))) - 1 }
        var value: UInt64 = 0
        for byte in 0..<size {
            let offset = address - base + UInt64(byte)
            guard offset < Self.registerBlockSize else { value |= 0xFF << (8 * UInt64(byte)); continue }
            let lane = UInt64(registerImage(offset & ~3) >> (8 * UInt32(offset & 3)) & 0xFF)
            value |= lane << (8 * UInt64(byte))
        }
        return value
    }

    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        advance(to: platform.now)
        guard let base = decodedBase, address >= base, address - base < Self.registerBlockSize else { return }
        let offset = address - base
        let dword = offset & ~3
        let shift = 8 * UInt32(offset & 3)
        let width = min(size, 4 - Int(offset & 3))
        let mask: UInt32 = width >= 4 ? .max : (1 << (8 * UInt32(width))) - 1
        let data = UInt32(truncatingIfNeeded: value) & mask
        // The value as the register sees it (its lanes), and which lanes were written.
        let written = data << shift
        let lanes = mask << shift

        if dword == Self.interruptStatusRegister {
            if written & lanes & 1 != 0 { setInterruptActive(false) }
            return
        }
        if dword == Self.reloadRegister && shift == 0 {
            if data == Self.unlock1 {
                unlockState = 1
                return
            }
            if data == Self.unlock2 && unlockState == 1 {
                unlockState = 2
                return
            }
        }
        guard unlockState == 2 else {
            // Anything else aborts a sequence begun with 80h.
            if dword == Self.reloadRegister { unlockState = 0 }
            return
        }
        unlockState = 0
        switch dword {
        case Self.preload1Register:
            preload1 = (preload1 & ~lanes | written) & Self.preloadMask
        case Self.preload2Register:
            preload2 = (preload2 & ~lanes | written) & Self.preloadMask
        case Self.reloadRegister:
            if written & lanes & Self.timeoutBit != 0 { timedOut = false }
            if written & lanes & Self.reloadBit != 0 { restart(stage: 1) }
        default:
            break
        }
    }

    // MARK: The timer

    /// Virtual nanoseconds a stage with `preload` lasts at the selected prescaler.
    public func stageLength(preload: UInt32) -> UInt64 {
        let ticks = UInt64(max(preload & Self.preloadMask, 1))
        let clocks = configuration & Self.prescaler1MHz != 0 ? ticks << 5 : ticks << 15
        return clocks * Self.pciClockPeriod
    }

    /// Starts `stage` now, if the watchdog is enabled (a reload, or WDT_ENABLE 0→1).
    private func restart(stage: Int) {
        guard isEnabled else { return }
        self.stage = stage
        if stage == 1 { stage1Reported = false }
        deadline = platform.now &+ stageLength(preload: stage == 1 ? preload1 : preload2)
    }

    private func setInterruptActive(_ active: Bool) {
        guard active != interruptActive else { return }
        interruptActive = active
        platform.setInterruptLine(stage1InterruptLine, high: active)
    }

    /// Whether stage 1's expiry would change nothing a guest or the trace can see: it was
    /// reported already this round and its interrupt, if any, is still active.
    private var stage1ExpiryIsSilent: Bool {
        stage1Reported && (interruptType != 0 || interruptActive)
    }

    /// The next expiry that can have an effect; `nil` while the timer is stopped or when the
    /// only thing left to happen is a free-running timer counting rounds that change nothing
    /// (the output disabled, stage 1's report already made).
    public func nextDeadline() -> UInt64? {
        guard let deadline else { return nil }
        if !outputEnabled && (stage == 2 || stage1ExpiryIsSilent) {
            // Stage 2 ends silently; after it only a free-running timer's next stage 1 can matter.
            if !isFreeRunning || stage1ExpiryIsSilent { return nil }
        }
        return deadline
    }

    /// Stage expiries can reset the machine: never skipped while the CPUs sleep.
    public var interruptLine: Int? { nil }

    public func advance(to now: UInt64) {
        while let due = deadline, due <= now {
            if stage == 1 {
                stage1Expired()
                stage = 2
                deadline = due &+ stageLength(preload: preload2)
            } else if outputEnabled {
                timedOut = true
                returnToResetState()
                onTimeout?()
                return
            } else if isFreeRunning {
                stage = 1
                let length1 = stageLength(preload: preload1), length2 = stageLength(preload: preload2)
                var next = due &+ length1
                if stage1ExpiryIsSilent, next < now {
                    // Whole silent rounds pass at once.
                    let period = length1 &+ length2
                    next &+= (now - next) / period * period
                }
                deadline = next
            } else {
                deadline = nil
            }
        }
    }

    private func stage1Expired() {
        guard !stage1Reported || !stage1ExpiryIsSilent else { return }
        let firstReport = !stage1Reported
        stage1Reported = true
        let action: String
        switch interruptType {
        case 0:
            action = "irq"
            setInterruptActive(true)
        case 2: action = "smi"
        case 3: action = "none"
        default: action = "reserved"
        }
        if firstReport {
            platform.record(TraceEvent("watchdog", [("stage", 1), ("action", .text(action))]))
        }
    }

    /// The state after a reset, WDT_TIMEOUT and the PCI header (BAR0, command) aside.
    private func returnToResetState() {
        deadline = nil
        stage = 1
        stage1Reported = false
        unlockState = 0
        preload1 = Self.preloadMask
        preload2 = Self.preloadMask
        lockBeforeWrite = 0
        setInterruptActive(false)
        defineWatchdogRegisters(locked: false, lockValue: 0)
    }

    /// A platform reset returns every register to its power-on value except WDT_TIMEOUT.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        returnToResetState()
        configurationSpace.reset()
        updateDecode()
    }
}
