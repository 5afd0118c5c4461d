/// The PC's Intel 8254 programmable interval timer: three 16-bit down-counters clocked at
/// 1.193182 MHz, at ports 0x40–0x42, with the control word register at 0x43.
///
/// Counter 0's OUT drives IRQ 0. Counter 1 (DRAM refresh on the first PCs) has no visible
/// output. Counter 2's GATE and OUT are wired to system control port B (0x61), which uses
/// `channel2Gate` and `channel2Output()`; GATE 0 and GATE 1 are tied high.
///
/// Nothing ticks. The CLK input is a function of virtual time (edge *k* falls at
/// *k* / 1.193182 MHz), and each counter's state is a closed form of the CLK edges since
/// its last event (a control word, a count, a GATE change), evaluated with integer
/// arithmetic when a port is accessed. `nextDeadline()` names the time of the next change
/// of OUT 0, and `advance(to:)` drives IRQ 0 accordingly.
///
/// At power-on the datasheet leaves mode, count and OUT undefined; here every counter
/// starts as if programmed for mode 0 with no count written: not counting, OUT low.
public final class I8254: TimedDevice {
    public let name = "8254"
    public let portRanges: [ClosedRange<UInt16>] = [I8254.counter0Port...I8254.controlPort]

    /// Counter 0's port; counters 1 and 2 follow at 0x41 and 0x42.
    public static let counter0Port: UInt16 = 0x40
    /// Control words, counter latch and read-back commands (write only).
    public static let controlPort: UInt16 = 0x43
    /// The CLK input frequency in hertz.
    public static let clockFrequency: UInt64 = 1_193_182
    /// The interrupt request line that counter 0's OUT drives.
    public static let timerIRQ = 0

    private static let nanosecondsPerSecond: UInt64 = 1_000_000_000

    private unowned let platform: any Platform
    private var counters = I8254.powerOnCounters(gate2: false)
    /// The level of IRQ 0 the platform was last given, and the CLK edge it reflects.
    private var reportedOutput = false
    private var reportedEdge: Int64 = 0

    /// Creates the timer in its power-on state; IRQ 0 starts low. The platform owns the device.
    public init(platform: any Platform) {
        self.platform = platform
    }

    /// GATE 2, driven by bit 0 of port 0x61. A rising edge triggers modes 1 and 5 and
    /// restarts modes 2 and 3; low suspends counting in modes 0, 2, 3 and 4.
    public var channel2Gate: Bool {
        get { counters[2].gate }
        set {
            let edge = synchronize()
            counters[2].setGate(newValue, at: edge)
        }
    }

    /// OUT 2, read through bit 5 of port 0x61.
    public func channel2Output() -> Bool {
        counters[2].output(at: Self.edges(at: platform.now))
    }

    public func readPort(_ port: UInt16, size: Int) -> UInt32 {
        let edge = synchronize()
        // The control word register cannot be read: the data bus floats.
        guard port != Self.controlPort else { return 0xFF }
        return UInt32(counters[Int(port - Self.counter0Port)].read(at: edge))
    }

    public func writePort(_ port: UInt16, size: Int, value: UInt32) {
        let edge = synchronize()
        let byte = UInt8(truncatingIfNeeded: value)
        if port == Self.controlPort {
            writeControl(byte, at: edge)
        } else {
            counters[Int(port - Self.counter0Port)].write(byte, at: edge)
        }
        reportOutput(upTo: edge)
    }

    /// A platform reset, power cycle or power-off returns the counters to the power-on
    /// state, which drops IRQ 0. GATE 2 is an input and keeps its level. INIT reaches
    /// CPUs only.
    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        counters = Self.powerOnCounters(gate2: counters[2].gate)
        reportedEdge = Self.edges(at: platform.now)
        drive(false)
    }

    public func nextDeadline() -> UInt64? {
        counters[0].nextOutputChange(after: reportedEdge).map(Self.time(ofEdge:))
    }

    public func advance(to now: UInt64) {
        reportOutput(upTo: Self.edges(at: now))
    }

    public var interruptLine: Int? { Self.timerIRQ }

    private static func powerOnCounters(gate2: Bool) -> [Counter] {
        [Counter(gate: true), Counter(gate: true), Counter(gate: gate2)]
    }

    /// A write to 0x43: read-back (SC = 11), counter latch (RW = 00) or a control word.
    private func writeControl(_ value: UInt8, at edge: Int64) {
        let select = Int(value >> 6)
        guard select != 3 else {
            // Read-back: bit 5 clear latches the count, bit 4 clear the status, of each
            // counter selected by bits 1–3.
            for index in 0..<3 where value & (2 << index) != 0 {
                if value & 0x20 == 0 { counters[index].latchCount(at: edge) }
                if value & 0x10 == 0 { counters[index].latchStatus(at: edge) }
            }
            return
        }
        if value & 0x30 == 0 {
            counters[select].latchCount(at: edge)
        } else {
            counters[select].writeControl(value, at: edge)
        }
    }

    /// Brings IRQ 0 up to now and returns the current CLK edge. Every port access starts
    /// here, so OUT 0 changes under a counter's old programming are reported before it changes.
    private func synchronize() -> Int64 {
        let edge = Self.edges(at: platform.now)
        reportOutput(upTo: edge)
        return edge
    }

    /// Drives IRQ 0 to OUT 0's level at `edge`. If OUT 0 rose since the last report
    /// (even if it has fallen again), the line shows that rising edge first, so the
    /// interrupt controller latches it.
    private func reportOutput(upTo edge: Int64) {
        let edge = max(edge, reportedEdge)
        var rose = false
        if let first = counters[0].nextOutputChange(after: reportedEdge), first <= edge {
            rose = counters[0].output(at: first)
                || counters[0].nextOutputChange(after: first).map { $0 <= edge } == true
        }
        counters[0].settle(at: edge)
        reportedEdge = edge
        if rose {
            drive(false)
            drive(true)
        }
        drive(counters[0].output(at: edge))
    }

    private func drive(_ level: Bool) {
        guard level != reportedOutput else { return }
        reportedOutput = level
        platform.setInterruptLine(Self.timerIRQ, high: level)
    }

    // MARK: Virtual time and CLK edges

    /// The number of CLK edges in (0, `time`]: ⌊time · f / 10⁹⌋, split so it cannot overflow.
    static func edges(at time: UInt64) -> Int64 {
        let seconds = time / nanosecondsPerSecond
        let fraction = time % nanosecondsPerSecond
        return Int64(seconds * clockFrequency + fraction * clockFrequency / nanosecondsPerSecond)
    }

    /// The earliest virtual time at which CLK edge `edge` has happened: ⌈edge · 10⁹ / f⌉.
    static func time(ofEdge edge: Int64) -> UInt64 {
        let edge = UInt64(max(edge, 0))
        let seconds = edge / clockFrequency
        let fraction = edge % clockFrequency
        return seconds * nanosecondsPerSecond
            + (fraction * nanosecondsPerSecond + clockFrequency - 1) / clockFrequency
    }
}

extension I8254 {
    /// One counter: its count register, counting element, output latch, status and OUT.
    ///
    /// "Edge" below is the index of a CLK edge since power-on. A count written between
    /// edges E and E + 1 reaches the counting element on edge E + 1 (datasheet: "on the
    /// next CLK pulse"), which does not count.
    struct Counter {
        /// How the counter's bytes are read and written (control word RW1–RW0).
        enum Access {
            case leastSignificantByte, mostSignificantByte, leastThenMostSignificantByte
        }

        /// What the counting element does from some edge on.
        enum Run {
            /// Not counting: the element keeps `value` and OUT keeps `output`.
            case held(value: Int, output: Bool)
            /// Modes 0, 1, 4, 5: the element holds `value` at edge `origin` and decrements by
            /// one per edge, wrapping past zero. If `armed`, the terminal count (the element
            /// reaching 0) is at edge `origin + value` and changes OUT.
            case countdown(origin: Int64, value: Int, armed: Bool)
            /// Modes 2 and 3: `count` is loaded at edge `origin` and every `count` edges after.
            case periodic(origin: Int64, count: Int)
        }

        private(set) var gate: Bool
        private var mode = 0
        private var access = Access.leastThenMostSignificantByte
        private var bcd = false
        /// Bits 5–0 of the last control word, as the read-back status reports them.
        private var controlBits: UInt8 = 0x30
        private var countRegister: UInt16 = 0
        private var countWritten = false
        /// The first byte of a two-byte count, waiting for the second.
        private var pendingLeastSignificantByte: UInt8?
        private var readsMostSignificantByteNext = false
        private var latchedCount: UInt16?
        private var latchedStatus: UInt8?
        /// Set when a count is written, cleared when it reaches the counting element.
        private var nullCount = true
        private var current = Run.held(value: 0, output: false)
        /// A run that replaces `current` from edge `from` on (a count being loaded).
        private var queued: (run: Run, from: Int64)?

        init(gate: Bool) {
            self.gate = gate
        }

        // MARK: Port operations

        mutating func writeControl(_ value: UInt8, at edge: Int64) {
            settle(at: edge)
            let element = state(at: edge).value
            controlBits = value & 0x3F
            access = switch (value >> 4) & 3 {
            case 1: .leastSignificantByte
            case 2: .mostSignificantByte
            default: .leastThenMostSignificantByte
            }
            let selectedMode = Int(value >> 1) & 7
            mode = selectedMode > 5 ? selectedMode - 4 : selectedMode  // 6 and 7 are 2 and 3
            bcd = value & 1 != 0
            // Datasheet: a control word resets the counter's control logic; OUT goes low
            // in mode 0 and high in every other mode, and nothing counts until a count is written.
            current = .held(value: element, output: mode != 0)
            queued = nil
            countWritten = false
            nullCount = true
            pendingLeastSignificantByte = nil
            readsMostSignificantByteNext = false
            latchedCount = nil
            latchedStatus = nil
        }

        mutating func write(_ byte: UInt8, at edge: Int64) {
            settle(at: edge)
            switch access {
            case .leastSignificantByte:
                load(UInt16(byte), at: edge)
            case .mostSignificantByte:
                load(UInt16(byte) << 8, at: edge)
            case .leastThenMostSignificantByte:
                if let low = pendingLeastSignificantByte {
                    pendingLeastSignificantByte = nil
                    load(UInt16(byte) << 8 | UInt16(low), at: edge)
                } else {
                    pendingLeastSignificantByte = byte
                    // Datasheet, mode 0: writing the first byte of a two-byte count stops
                    // the count and sets OUT low at once.
                    if mode == 0 { stopForNewCount(at: edge) }
                }
            }
        }

        /// A read: a latched status first, then the latched count, else the live count
        /// element, byte by byte as the access mode says.
        mutating func read(at edge: Int64) -> UInt8 {
            settle(at: edge)
            if let status = latchedStatus {
                latchedStatus = nil
                return status
            }
            let count = latchedCount ?? encodedElement(at: edge)
            let readsHighByte: Bool
            switch access {
            case .leastSignificantByte: readsHighByte = false
            case .mostSignificantByte: readsHighByte = true
            case .leastThenMostSignificantByte:
                readsHighByte = readsMostSignificantByteNext
                readsMostSignificantByteNext.toggle()
            }
            if readsHighByte || access == .leastSignificantByte { latchedCount = nil }
            return UInt8(truncatingIfNeeded: readsHighByte ? count >> 8 : count)
        }

        /// The counter latch command; ignored while an earlier latched count is unread.
        mutating func latchCount(at edge: Int64) {
            settle(at: edge)
            if latchedCount == nil { latchedCount = encodedElement(at: edge) }
        }

        /// Read-back status: OUT, null count and the control word's bits 5–0; ignored while
        /// an earlier latched status is unread.
        mutating func latchStatus(at edge: Int64) {
            settle(at: edge)
            guard latchedStatus == nil else { return }
            latchedStatus = (output(at: edge) ? 0x80 : 0) | (nullCount ? 0x40 : 0) | controlBits
        }

        mutating func setGate(_ high: Bool, at edge: Int64) {
            guard high != gate else { return }
            settle(at: edge)
            switch mode {
            case 0, 4:
                // GATE low suspends counting; counting resumes where it stopped.
                rebaseCountdown(at: edge)
                gate = high
            case 2, 3:
                // GATE low sets OUT high at once and stops the count; a rising GATE reloads
                // the count on the next CLK, restarting the period.
                current = .held(value: state(at: edge).value, output: true)
                gate = high
                queued = high && countWritten ? (.periodic(origin: edge + 1, count: count), edge + 1) : nil
            default:
                // Modes 1 and 5: a rising GATE is the trigger; the level does not matter.
                gate = high
                if high && countWritten {
                    queued = (.countdown(origin: edge + 1, value: count, armed: true), edge + 1)
                }
            }
        }

        // MARK: Outputs

        func output(at edge: Int64) -> Bool {
            state(at: edge).output
        }

        /// The first edge after `edge` at which OUT changes, if it changes on its own.
        func nextOutputChange(after edge: Int64) -> Int64? {
            guard let queued, edge < queued.from else {
                return nextChange(of: run(at: edge), after: edge)
            }
            if let change = nextChange(of: current, after: edge), change < queued.from {
                return change
            }
            let levelBefore = state(of: current, at: queued.from - 1).output
            if state(of: queued.run, at: queued.from).output != levelBefore {
                return queued.from
            }
            return nextChange(of: queued.run, after: queued.from)
        }

        /// Makes a queued run current once its first edge has come.
        mutating func settle(at edge: Int64) {
            guard let queued, edge >= queued.from else { return }
            current = queued.run
            self.queued = nil
            nullCount = false
        }

        // MARK: Counting

        /// The value a count of 0 stands for, and the element's wrap-around.
        private var modulus: Int { bcd ? 10_000 : 65_536 }

        /// The count register as a number of CLK periods.
        private var count: Int {
            let value = bcd ? Self.decodeBCD(countRegister) : Int(countRegister)
            return value == 0 ? modulus : value
        }

        private var countingSuspended: Bool { !gate && (mode == 0 || mode == 4) }

        private mutating func load(_ value: UInt16, at edge: Int64) {
            countRegister = value
            countWritten = true
            nullCount = true
            let next = edge + 1
            switch mode {
            case 0:
                stopForNewCount(at: edge)
                queued = (.countdown(origin: next, value: count, armed: true), next)
            case 4:
                queued = (.countdown(origin: next, value: count, armed: true), next)
            case 2, 3:
                if !gate {
                    queued = (.held(value: count, output: true), next)
                } else if case let .periodic(origin, runningCount) = current {
                    queued = endOfCycle(origin: origin, count: runningCount, after: edge)
                } else {
                    queued = (.periodic(origin: next, count: count), next)
                }
            default:
                break  // modes 1 and 5 wait for a trigger on GATE
            }
        }

        private mutating func stopForNewCount(at edge: Int64) {
            current = .held(value: state(at: edge).value, output: false)
            queued = nil
        }

        /// Datasheet: a count written while modes 2 and 3 count takes effect at the end of
        /// the current period (mode 2) or half-cycle (mode 3), not at once.
        private func endOfCycle(origin: Int64, count running: Int, after edge: Int64)
            -> (run: Run, from: Int64)
        {
            let period = Int64(running)
            let phase = floorMod(edge - origin, period)
            let highHalf = (period + 1) / 2
            if mode == 3 && phase < highHalf {
                // The new count starts with the low half: place its origin a high half earlier.
                let from = edge - phase + highHalf
                return (.periodic(origin: from - Int64((count + 1) / 2), count: count), from)
            }
            let from = edge - phase + period
            return (.periodic(origin: from, count: count), from)
        }

        /// Restarts a countdown's closed form at `edge` with its current value (for a GATE change).
        private mutating func rebaseCountdown(at edge: Int64) {
            guard case let .countdown(origin, value, armed) = current else { return }
            let elapsed = countingSuspended ? 0 : Int(max(0, edge - origin))
            let stillArmed = armed && elapsed <= value
            let remaining = value - elapsed
            current = .countdown(
                origin: edge, value: stillArmed ? remaining : floorMod(remaining, modulus), armed: stillArmed)
        }

        private func run(at edge: Int64) -> Run {
            if let queued, edge >= queued.from { return queued.run }
            return current
        }

        private func state(at edge: Int64) -> (value: Int, output: Bool) {
            state(of: run(at: edge), at: edge)
        }

        /// The counting element (not yet reduced modulo `modulus`) and OUT at `edge`.
        private func state(of run: Run, at edge: Int64) -> (value: Int, output: Bool) {
            switch run {
            case let .held(value, output):
                return (value, output)
            case let .countdown(origin, value, armed):
                let elapsed = countingSuspended ? 0 : Int(max(0, edge - origin))
                let remaining = value - elapsed
                switch mode {
                case 0, 1:  // low until the terminal count, then high
                    return (remaining, !armed || remaining <= 0)
                default:  // 4, 5: a strobe, low for the one CLK period of the terminal count
                    return (remaining, !(armed && remaining == 0))
                }
            case let .periodic(origin, count):
                let phase = Int(floorMod(edge - origin, Int64(count)))
                if mode == 2 {
                    // Counts N … 1; OUT is low while the element holds 1.
                    return (count - phase, phase != count - 1)
                }
                // Mode 3: each half loads N rounded down to even and counts down by two; an
                // odd N gives a high half one CLK longer than the low half.
                let highHalf = (count + 1) / 2
                let top = count & ~1
                return phase < highHalf ? (top - 2 * phase, true) : (top - 2 * (phase - highHalf), false)
            }
        }

        private func nextChange(of run: Run, after edge: Int64) -> Int64? {
            switch run {
            case .held:
                return nil
            case let .countdown(origin, value, armed):
                guard armed, !countingSuspended else { return nil }
                let terminal = origin + Int64(value)
                let changes = mode == 0 || mode == 1 ? [terminal] : [terminal, terminal + 1]
                return changes.first { $0 > edge }
            case let .periodic(origin, count):
                // A count of 1 is illegal in modes 2 and 3; OUT then stays at one level.
                guard count > 1 else { return nil }
                let period = Int64(count)
                let fall = mode == 2 ? period - 1 : (period + 1) / 2
                let phase = floorMod(edge - origin, period)
                return edge - phase + (phase < fall ? fall : period)
            }
        }

        private func encodedElement(at edge: Int64) -> UInt16 {
            let value = floorMod(state(at: edge).value, modulus)
            return bcd ? Self.encodeBCD(value) : UInt16(value)
        }

        /// Four BCD digits as a number. Nibbles above 9 (not valid BCD) count at their face value.
        private static func decodeBCD(_ digits: UInt16) -> Int {
            (0..<4).reversed().reduce(0) { $0 * 10 + Int((digits >> (4 * UInt16($1))) & 0xF) }
        }

        private static func encodeBCD(_ value: Int) -> UInt16 {
            var digits: UInt16 = 0
            var rest = value
            for index in 0..<4 {
                digits |= UInt16(rest % 10) << (4 * UInt16(index))
                rest /= 10
            }
            return digits
        }
    }
}

/// `value` modulo a positive `modulus`, never negative (the quotient rounds down).
private func floorMod<T: BinaryInteger>(_ value: T, _ modulus: T) -> T {
    let remainder = value % modulus
    return remainder < 0 ? remainder + modulus : remainder
}
