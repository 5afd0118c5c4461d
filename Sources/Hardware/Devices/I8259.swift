/// The PC/AT's pair of Intel 8259A programmable interrupt controllers, and the chipset's
/// edge/level control registers (ELCR) beside them.
///
/// The master answers ports 0x20–0x21 and drives the CPU's INTR pin; the slave answers
/// 0xA0–0xA1 and its INT output is wired to the master's IR2, so ISA IRQ 8–15 reach the
/// CPU through the master's IR2. Ports 0x4D0 and 0x4D1 are the ELCR of IRQ 0–7 and
/// IRQ 8–15 (PIIX/ICH): a set bit makes that input level-triggered.
///
/// Each chip follows the 8259A datasheet in 8086 mode: the ICW1–ICW4 initialization
/// sequence, the mask register (OCW1), EOI, rotation and priority commands (OCW2), register
/// reads, the poll command and special mask mode (OCW3), automatic EOI, special fully
/// nested mode, and default IR7 (a spurious interrupt) when an acknowledged request has
/// gone away.
///
/// Requests: an edge-triggered input latches its IRR bit on a rising edge, and the bit
/// stays set until the request is acknowledged or the chip is re-initialized; a
/// level-triggered input's IRR bit follows the line. (The datasheet's request latch is
/// transparent, so a real edge request that drops before INTA becomes a default IR7; an
/// emulated INTA is instantaneous, and keeping the edge is what lets a slave request that
/// vanished still be seen by the master as IR2, giving the slave's default IR7 — the
/// spurious IRQ 15 that PC operating systems expect and answer with an EOI to the master.)
public final class I8259: Device {
    public let name = "8259"
    public let portRanges: [ClosedRange<UInt16>] = [
        I8259.masterCommandPort...I8259.masterDataPort,
        I8259.slaveCommandPort...I8259.slaveDataPort,
        I8259.masterELCRPort...I8259.slaveELCRPort,
    ]

    /// The master's A0 = 0 port: ICW1, OCW2 and OCW3 on write; IRR, ISR or poll on read.
    public static let masterCommandPort: UInt16 = 0x20
    /// The master's A0 = 1 port: ICW2–ICW4 during initialization, otherwise the IMR (OCW1).
    public static let masterDataPort: UInt16 = 0x21
    /// The slave's A0 = 0 port.
    public static let slaveCommandPort: UInt16 = 0xA0
    /// The slave's A0 = 1 port.
    public static let slaveDataPort: UInt16 = 0xA1
    /// Edge/level control for IRQ 0–7 (bit n: IRQ n level-triggered).
    public static let masterELCRPort: UInt16 = 0x4D0
    /// Edge/level control for IRQ 8–15.
    public static let slaveELCRPort: UInt16 = 0x4D1

    /// The master input that the slave's INT output drives.
    private static let cascadeInput = 2
    /// ELCR bits that exist: IRQ 0, 1, 2, 8 and 13 are edge-triggered only on PIIX/ICH
    /// chipsets, and their bits read 0.
    private static let masterELCRWritable: UInt8 = 0xF8
    private static let slaveELCRWritable: UInt8 = 0xDE

    private unowned let platform: any Platform
    private var master = Chip(isMaster: true)
    private var slave = Chip(isMaster: false)
    /// The INTR level the machine was last told about.
    private var reportedOutput = false

    /// Creates both chips in their power-on state, which the datasheet leaves undefined:
    /// here as ICW1 leaves a chip (IMR clear, IR7 lowest, IRR selected for reads), with
    /// INTR held low until software completes an ICW sequence. The ELCR starts at 0 (all
    /// edge-triggered). The platform owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    /// The INTR pin: the master has an unmasked request of higher priority than any level
    /// in service (or a slave request, through IR2).
    public var interruptOutput: Bool { master.requestsInterrupt }

    /// Drives ISA interrupt request line `irq` (0–15). IRQ 2 is the AT bus pin that the
    /// AT rewired to the slave's IR1, so it arrives as IRQ 9; other numbers are ignored.
    public func setInterruptLine(_ irq: Int, high: Bool) {
        guard Self.drive(irq, high: high, master: &master, slave: &slave) else { return }
        update()
    }

    /// Whether a request arriving now on ISA line `irq` would raise INTR: the input and (for
    /// IRQ 8–15) the cascade unmasked, and no level of equal or higher priority in service.
    /// An idle machine asks this to skip timer events that cannot wake a CPU.
    public func wouldInterrupt(onRequestAt irq: Int) -> Bool {
        var master = master, slave = slave
        guard Self.drive(irq, high: false, master: &master, slave: &slave) else { return false }
        _ = Self.drive(irq, high: true, master: &master, slave: &slave)
        master.setInput(Self.cascadeInput, high: slave.requestsInterrupt)
        return master.requestsInterrupt
    }

    /// Sets the input that ISA line `irq` reaches; `false` for a number no input has.
    private static func drive(_ irq: Int, high: Bool, master: inout Chip, slave: inout Chip) -> Bool {
        switch irq {
        case 0...7 where irq != cascadeInput: master.setInput(irq, high: high)
        case cascadeInput: slave.setInput(1, high: high)
        case 8...15: slave.setInput(irq - 8, high: high)
        default: return false
        }
        return true
    }

    /// The CPU's interrupt-acknowledge cycle. The master resolves its highest request and
    /// moves it to service; for a cascade input the slave with that ID supplies the vector.
    /// A request that went away yields the chip's default IR7 (base + 7) with no ISR bit set;
    /// when that happens on the slave, the master has already put IR2 in service.
    public func acknowledge() -> UInt8 {
        defer { update() }
        guard let level = master.acceptHighestRequest() else {
            return master.vectorBase | 7
        }
        guard master.cascadeInputs & bit(level) != 0 else {
            return master.vectorBase | UInt8(level)
        }
        guard slave.answersCascadeAddress(level) else {
            return 0xFF  // no slave drives the data bus: it floats
        }
        return slave.vectorBase | UInt8(slave.acceptHighestRequest() ?? 7)
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        defer { update() }  // a poll read acknowledges an interrupt
        switch port {
        case Self.masterCommandPort, Self.masterDataPort:
            return UInt32(master.read(oddAddress: port == Self.masterDataPort))
        case Self.slaveCommandPort, Self.slaveDataPort:
            return UInt32(slave.read(oddAddress: port == Self.slaveDataPort))
        case Self.masterELCRPort:
            return UInt32(master.elcr)
        default:
            return UInt32(slave.elcr)
        }
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let byte = UInt8(truncatingIfNeeded: value)
        switch port {
        case Self.masterCommandPort: master.writeCommand(byte)
        case Self.masterDataPort: master.writeData(byte)
        case Self.slaveCommandPort: slave.writeCommand(byte)
        case Self.slaveDataPort: slave.writeData(byte)
        case Self.masterELCRPort: master.setELCR(byte & Self.masterELCRWritable)
        default: slave.setELCR(byte & Self.slaveELCRWritable)
        }
        update()
    }

    /// A platform reset, power cycle or power-off returns both chips and the ELCR to the
    /// power-on state; the levels of the IR lines are the devices' and are kept. INIT
    /// reaches CPUs only.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        master = Chip(isMaster: true, inputs: master.inputs)
        slave = Chip(isMaster: false, inputs: slave.inputs)
        update()
    }

    /// Carries the slave's INT to the master's IR2 and tells the machine when INTR changed.
    private func update() {
        master.setInput(Self.cascadeInput, high: slave.requestsInterrupt)
        let output = master.requestsInterrupt
        if output != reportedOutput {
            reportedOutput = output
            platform.interruptOutputChanged()
        }
    }
}

private func bit(_ level: Int) -> UInt8 { 1 << UInt8(level) }

extension I8259 {
    /// One 8259A.
    struct Chip {
        /// Where the chip is in its initialization sequence.
        enum Initialization {
            /// Power-on: no ICW1 yet.
            case uninitialized
            case awaitingICW2, awaitingICW3, awaitingICW4
            case ready
        }

        let isMaster: Bool
        /// The levels of the eight IR pins.
        private(set) var inputs: UInt8
        /// Requests latched by rising edges on edge-triggered inputs.
        private var edgeRequests: UInt8 = 0
        private(set) var isr: UInt8 = 0
        private(set) var imr: UInt8 = 0
        /// The chipset's ELCR bits for this chip's inputs.
        private(set) var elcr: UInt8 = 0
        private var initialization = Initialization.uninitialized
        /// ICW1 LTIM: every input level-triggered.
        private var levelTriggeredMode = false
        private var singleMode = false
        private var needsICW4 = false
        /// ICW2 T7–T3; an IR level fills in the low three bits.
        private(set) var vectorBase: UInt8 = 0
        /// ICW3: on the master, a bit per IR with a slave; on a slave, its ID in bits 2–0.
        private var icw3: UInt8 = 0
        private var autoEOI = false
        private var specialFullyNested = false
        private var rotateOnAutoEOI = false
        private var specialMask = false
        private var readsISR = false
        private var pollPending = false
        /// The IR with the lowest priority; the one after it (mod 8) has the highest.
        private var lowestPriority = 7

        init(isMaster: Bool, inputs: UInt8 = 0) {
            self.isMaster = isMaster
            self.inputs = inputs
        }

        // MARK: Requests and priority

        private var levelTriggered: UInt8 { levelTriggeredMode ? 0xFF : elcr }

        var irr: UInt8 { (edgeRequests & ~levelTriggered) | (inputs & levelTriggered) }

        /// The inputs that have a slave behind them (master in cascade mode only).
        var cascadeInputs: UInt8 { isMaster && !singleMode ? icw3 : 0 }

        /// INT: an unmasked request that the priority logic lets through.
        var requestsInterrupt: Bool { initialization == .ready && highestRequest != nil }

        mutating func setInput(_ level: Int, high: Bool) {
            let mask = bit(level)
            if high && inputs & mask == 0 && levelTriggered & mask == 0 { edgeRequests |= mask }
            inputs = high ? inputs | mask : inputs & ~mask
        }

        mutating func setELCR(_ value: UInt8) {
            elcr = value
            edgeRequests &= ~levelTriggered
        }

        /// 0 for the highest priority, 7 for the lowest.
        private func rank(_ level: Int) -> Int { (level - lowestPriority - 1) & 7 }

        private func highestPriority(in bits: UInt8) -> Int? {
            (0..<8).lazy.map { (lowestPriority + 1 + $0) & 7 }.first { bits & bit($0) != 0 }
        }

        /// The request that would be serviced now, if any.
        private var highestRequest: Int? {
            let requests = irr & ~imr
            // Special mask mode: every unmasked level not in service may interrupt,
            // lower as well as higher (datasheet, OCW3).
            if specialMask { return highestPriority(in: requests & ~isr) }
            guard let request = highestPriority(in: requests) else { return nil }
            guard let inService = highestPriority(in: isr) else { return request }
            if rank(request) < rank(inService) { return request }
            // Special fully nested mode: a slave in service is not locked out, so its
            // cascade input may interrupt again (for a higher request within the slave).
            let reentersCascade = specialFullyNested && request == inService
                && cascadeInputs & bit(request) != 0
            return reentersCascade ? request : nil
        }

        /// An INTA (or a poll read): the highest request moves from IRR to ISR, or
        /// nothing when no request is left (the caller then answers with IR7).
        mutating func acceptHighestRequest() -> Int? {
            guard initialization == .ready, let level = highestRequest else { return nil }
            edgeRequests &= ~bit(level)
            if !autoEOI {
                isr |= bit(level)
            } else if rotateOnAutoEOI {
                lowestPriority = level
            }
            return level
        }

        /// Whether this chip, as a slave, responds to `address` on the cascade lines.
        func answersCascadeAddress(_ address: Int) -> Bool {
            !isMaster && !singleMode && Int(icw3 & 7) == address
        }

        // MARK: Registers

        /// A read: a pending poll command turns it into an acknowledge (datasheet: the next
        /// RD pulse to the chip), otherwise A0 = 1 reads the IMR and A0 = 0 the IRR or ISR.
        mutating func read(oddAddress: Bool) -> UInt8 {
            if pollPending {
                pollPending = false
                guard let level = acceptHighestRequest() else { return 0 }
                return 0x80 | UInt8(level)
            }
            if oddAddress { return imr }
            return readsISR ? isr : irr
        }

        /// A write with A0 = 0: ICW1 when D4 is set, else OCW3 when D3 is set, else OCW2.
        mutating func writeCommand(_ value: UInt8) {
            if value & 0x10 != 0 {
                writeICW1(value)
            } else if value & 0x08 != 0 {
                writeOCW3(value)
            } else {
                writeOCW2(value)
            }
        }

        /// A write with A0 = 1: the next ICW during initialization, otherwise OCW1.
        mutating func writeData(_ value: UInt8) {
            switch initialization {
            case .awaitingICW2:
                // In 8086 mode T7–T3 come from ICW2 and the IR level supplies the rest.
                vectorBase = value & 0xF8
                initialization = singleMode ? afterICW3 : .awaitingICW3
            case .awaitingICW3:
                icw3 = value
                initialization = afterICW3
            case .awaitingICW4:
                // Bit 0 (uPM) is not modelled: an x86's INTA always takes an 8086-style
                // vector. Bits 2–3 (buffered mode, master/slave) only steer bus buffers.
                autoEOI = value & 0x02 != 0
                specialFullyNested = value & 0x10 != 0
                initialization = .ready
            case .uninitialized, .ready:
                imr = value
            }
        }

        private var afterICW3: Initialization { needsICW4 ? .awaitingICW4 : .ready }

        /// What ICW1 does, per the datasheet: the edge-sense circuit is reset (an input
        /// must go low-to-high again), the IMR is cleared, IR7 gets the lowest priority,
        /// special mask mode is cleared and reads return the IRR; without IC4 the ICW4
        /// functions are zero.
        private mutating func writeICW1(_ value: UInt8) {
            initialization = .awaitingICW2
            levelTriggeredMode = value & 0x08 != 0
            singleMode = value & 0x02 != 0
            needsICW4 = value & 0x01 != 0
            edgeRequests = 0
            imr = 0
            lowestPriority = 7
            specialMask = false
            readsISR = false
            pollPending = false
            autoEOI = false
            specialFullyNested = false
            // The datasheet's list does not name the ISR. Clearing it keeps a level that was
            // in service when a warm reset (INIT, which leaves devices alone) cut its
            // handler short from being blocked forever once the firmware re-initializes.
            isr = 0
        }

        /// OCW2: R, SL and EOI (bits 7–5) select the command, L2–L0 the level.
        private mutating func writeOCW2(_ value: UInt8) {
            let level = Int(value & 7)
            switch value >> 5 {
            case 0b001: endHighestInterrupt(rotating: false)
            case 0b011: isr &= ~bit(level)
            case 0b101: endHighestInterrupt(rotating: true)
            case 0b100: rotateOnAutoEOI = true
            case 0b000: rotateOnAutoEOI = false
            case 0b111:
                isr &= ~bit(level)
                lowestPriority = level
            case 0b110: lowestPriority = level
            default: break  // 0b010: no operation
            }
        }

        /// Non-specific EOI: ends the highest-priority level in service; with rotation
        /// that level becomes the lowest priority.
        private mutating func endHighestInterrupt(rotating: Bool) {
            guard let level = highestPriority(in: isr) else { return }
            isr &= ~bit(level)
            if rotating { lowestPriority = level }
        }

        /// OCW3: ESMM/SMM (bits 6–5), poll (bit 2), RR/RIS (bits 1–0).
        private mutating func writeOCW3(_ value: UInt8) {
            if value & 0x40 != 0 { specialMask = value & 0x20 != 0 }
            if value & 0x04 != 0 { pollPending = true }
            if value & 0x02 != 0 { readsISR = value & 0x01 != 0 }
        }
    }
}
