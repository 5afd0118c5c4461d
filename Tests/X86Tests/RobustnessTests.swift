import Testing
import X86

/// Random byte sequences from random register state must never crash the emulator, and
/// every run must end in a defined state within its budget.
///
/// One CPU and bus are reused: between runs the CPU gets RESET and the bus restores every
/// page it handed out for writing, so each run starts from the same memory image.
@Suite struct RobustnessTests {
    /// 10,000, or the count in `RESETVECTOR_ROBUSTNESS_RUNS` (see `Robustness`).
    static let runs = Robustness.runs(default: 10_000)
    static let budget = 2_000
    static let baseSeed: UInt64 = 0x5EED_CAFE_F00D_0001

    /// How a run ended, for the summary line.
    enum Outcome: Hashable, CustomStringConvertible {
        case haltedByGuest, haltedInHandler(UInt8), shutdown, budgetUsed
        var description: String {
            switch self {
            case .haltedByGuest: "halted by the guest"
            case .haltedInHandler(let v): "halted in handler \(v)"
            case .shutdown: "shutdown"
            case .budgetUsed: "budget used"
            }
        }
    }

    @Test func randomCodeEndsInADefinedState() {
        let m = TestMachine(ramSize: 0x11_0000, stubs: .haltOnly)
        // Everything above the IVT and stubs is HLT, so code that runs off its random bytes stops.
        let stubsEnd = Int(TestMachine.stubSegment) * 16 + 256 * TestMachine.stubSize
        for i in stubsEnd..<m.bus.ram.count { m.bus.ram[i] = 0xF4 }
        let pristine = Array(m.bus.ram)
        var outcomes: [Outcome: Int] = [:]
        var problems: [String] = []
        var storms = 0

        for run in 0..<RobustnessTests.runs {
            let seed = Robustness.seed(base: RobustnessTests.baseSeed, run: run)
            var rng = SplitMix64(seed: seed)
            prepare(m, restoringFrom: pristine, with: &rng)
            let (ticksBefore, deliveriesBefore) = (m.cpu.ticks, m.cpu.eventsDelivered)
            let reason = m.cpu.run(limit: RobustnessTests.budget)
            var (outcome, problem) = judge(m, reason)
            // Every run ends within its budget, however many events it delivers (a handler that
            // faults before retiring anything included).
            let used = Int(m.cpu.ticks - ticksBefore)
            if used > RobustnessTests.budget + Robustness.deliveryOvershoot {
                problem = (problem.map { $0 + "; " } ?? "") + "used \(used) ticks of a budget of \(RobustnessTests.budget)"
            }
            if m.cpu.eventsDelivered - deliveriesBefore > UInt64(RobustnessTests.budget / 2) { storms += 1 }
            outcomes[outcome, default: 0] += 1
            if let problem { problems.append("seed \(hex(seed)): \(problem)") }
        }

        for problem in problems.prefix(10) { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty, "\(problems.count) runs ended badly")
        #expect(outcomes.values.reduce(0, +) == RobustnessTests.runs)
        #expect(storms > 0, "no run became an exception storm")

        let inHandlers = outcomes.filter { if case .haltedInHandler = $0.key { true } else { false } }
        let byVector = inHandlers.sorted { $0.value > $1.value }.prefix(6).map { "\($0.key): \($0.value)" }
        print("Robustness: \(RobustnessTests.runs) runs × ≤\(RobustnessTests.budget) instructions: "
              + "\(outcomes[.haltedByGuest, default: 0]) halted by the guest, "
              + "\(inHandlers.values.reduce(0, +)) halted in a handler (\(byVector.joined(separator: ", "))), "
              + "\(outcomes[.shutdown, default: 0]) shutdown, \(outcomes[.budgetUsed, default: 0]) used the budget "
              + "(\(storms) mostly on deliveries)")
    }

    /// RESET, restore dirtied RAM, then random registers, segments, flags and code at a random CS:IP.
    /// One run in four gets handlers that fault themselves: the stubs of some exception vectors
    /// become UD2, so an exception can turn into a storm of deliveries that retire nothing.
    private func prepare(_ m: TestMachine, restoringFrom pristine: [UInt8], with rng: inout SplitMix64) {
        m.cpu.powerOnReset()
        m.restoreRAM(from: pristine)
        if rng.next() % 4 == 0 {
            for vector in 0..<32 where rng.next() % 2 == 0 {
                let stub = Int(TestMachine.stubSegment) * 16 + vector * TestMachine.stubSize
                m.bus.load([0x0F, 0x0B], at: stub)
                m.bus.markDirty(address: stub, length: 2)
                m.cpu.invalidateCode(physicalAddress: UInt64(stub), length: 2)
            }
        }

        for r in X86.GeneralRegister.allCases.prefix(8) { m.cpu.setRegister(r, UInt64(rng.next32())) }
        for s in [SegmentRegister.ds, .es, .ss, .fs, .gs] { m.cpu.loadRealModeSegment(s, selector: rng.next16()) }
        // Code inside RAM, away from the IVT and stubs, not wrapping IP.
        let cs = UInt16(rng.next(in: 0x0200...0xFFFF))
        let ip = rng.next(in: 0...0xFFBF)
        m.cpu.loadRealModeSegment(.cs, selector: cs)
        m.cpu.instructionPointer = UInt64(ip)
        // Random flags; TF only now and then, or nearly every run would stop at the first #DB.
        let flags = UInt32(rng.next16())
        m.cpu.eflags = rng.next() % 16 == 0 ? flags : flags & ~EFlags.trap

        let length = rng.next(in: 16...64)
        let address = Int(cs) << 4 + ip
        for i in 0..<length { m.bus.ram[address + i] = UInt8(truncatingIfNeeded: rng.next()) }
        m.bus.markDirty(address: address, length: length)
        m.cpu.invalidateCode(physicalAddress: UInt64(address), length: length)
    }

    /// Classifies a finished run and says what is wrong with it, if anything.
    private func judge(_ m: TestMachine, _ reason: StopReason) -> (Outcome, String?) {
        let cpu = m.cpu
        var problems: [String] = []
        let cs = cpu.segment(.cs)
        if cpu.instructionPointer > UInt64(cs.limit) {
            problems.append("IP \(hex(cpu.instructionPointer)) beyond the CS limit \(hex(cs.limit))")
        }
        let last = m.events.deliveries.last
        let outcome: Outcome
        switch reason {
        case .halted:
            if cpu.activity != .halted { problems.append("halted, but activity is \(cpu.activity)") }
            if let last {
                outcome = .haltedInHandler(last.vector)
                if last.source == .exception && ExceptionVector(rawValue: last.vector) == nil {
                    problems.append("exception delivery with vector \(last.vector), not an exception vector")
                }
                if last.source == .external { problems.append("external event \(last.vector) without a request") }
            } else {
                outcome = .haltedByGuest
            }
        case .shutdown:
            outcome = .shutdown
            if cpu.activity != .shutdown { problems.append("shutdown, but activity is \(cpu.activity)") }
            if cpu.shutdownChain.isEmpty { problems.append("shutdown with an empty chain") }
        case .limitReached:
            outcome = .budgetUsed
            if cpu.activity != .active { problems.append("budget used, but activity is \(cpu.activity)") }
        default:
            outcome = .budgetUsed
            problems.append("unexpected stop reason \(reason)")
        }
        return (outcome, problems.isEmpty ? nil : problems.joined(separator: "; ") + " (last delivery: \(last.map(String.init(describing:)) ?? "none"))")
    }
}
