import Foundation
import Testing
@testable import X86

/// What the random-code robustness suites share: how many runs they make, each run's seed, and
/// the checks every finished run must pass whatever mode it ran in.
enum Robustness {
    /// The environment variable that asks the robustness suites for more (or fewer) runs than
    /// their default, e.g. `RESETVECTOR_ROBUSTNESS_RUNS=200000 swift test -c release --filter Robustness`.
    static let runsVariable = "RESETVECTOR_ROBUSTNESS_RUNS"

    /// Events a run may deliver past its budget: one taken before the budget is looked at
    /// again, and a fault of the block that used up the last tick.
    static let deliveryOvershoot = 2

    /// The number of runs a suite makes: `suiteDefault`, or the positive count in `runsVariable`.
    static func runs(default suiteDefault: Int) -> Int {
        guard let text = ProcessInfo.processInfo.environment[runsVariable], let count = Int(text), count > 0 else {
            return suiteDefault
        }
        return count
    }

    /// The seed of run `run` of a suite whose first seed is `base`: runs are independent and
    /// each can be reproduced alone.
    static func seed(base: UInt64, run: Int) -> UInt64 {
        base &+ UInt64(run) &* 0x9E37_79B9_7F4A_7C15
    }

    /// How a protected-mode or long-mode run ended.
    enum Outcome: Hashable, CaseIterable, CustomStringConvertible {
        case halted, haltedInHandler, shutdown, budgetUsed
        var description: String {
            switch self {
            case .halted: "halted by the guest"
            case .haltedInHandler: "halted in a handler"
            case .shutdown: "shutdown"
            case .budgetUsed: "used the budget"
            }
        }
    }

    /// Classifies a finished protected-mode or long-mode run and lists what is inconsistent
    /// about it: the stop reason against the activity state and the observer's events, the run
    /// overshooting its budget, CPL against CS (or VM, or real mode), the TLB half against CPL,
    /// reserved EFLAGS bits, RIP outside CS (or not canonical in 64-bit mode), and IA-32e mode
    /// (EFER.LMA) against CR0.PG, CR4.PAE and EFER.LME.
    static func judge(_ m: TestMachine, _ reason: StopReason, ticksUsed: Int, budget: Int) -> (Outcome, [String]) {
        let cpu = m.cpu
        var problems: [String] = []
        if ticksUsed > budget + deliveryOvershoot { problems.append("used \(ticksUsed) ticks of a budget of \(budget)") }
        let outcome: Outcome
        switch reason {
        case .halted:
            if cpu.activity != .halted { problems.append("halted, but activity is \(cpu.activity)") }
            outcome = m.events.deliveries.isEmpty ? .halted : .haltedInHandler
            if let last = m.events.deliveries.last, last.source == .external {
                problems.append("external event \(last.vector) without a request")
            }
        case .shutdown:
            outcome = .shutdown
            if cpu.activity != .shutdown { problems.append("shutdown, but activity is \(cpu.activity)") }
            if cpu.shutdownChain.isEmpty { problems.append("shutdown with an empty chain") }
            if m.events.shutdownChains != [cpu.shutdownChain] {
                problems.append("shutdown chain \(cpu.shutdownChain), but the observer saw \(m.events.shutdownChains)")
            }
        case .limitReached:
            outcome = .budgetUsed
            if cpu.activity != .active { problems.append("budget used, but activity is \(cpu.activity)") }
        default:
            outcome = .budgetUsed
            problems.append("unexpected stop reason \(reason)")
        }
        if reason != .shutdown && !m.events.shutdownChains.isEmpty {
            problems.append("the observer saw a shutdown (\(m.events.shutdownChains)), but the run stopped \(reason)")
        }
        let cs = cpu.segment(.cs)
        let in64BitMode = cpu.longModeActive && cs.isLongMode
        if reason != .shutdown {
            if in64BitMode ? !cpu.isCanonical(cpu.instructionPointer) : cpu.instructionPointer > UInt64(cs.limit) {
                problems.append("RIP \(hex(cpu.instructionPointer)) outside CS \(hex(cs.selector)) (limit \(hex(cs.limit)))")
            }
            let expectedLevel: UInt8 = !cpu.isProtectedMode ? 0 : cpu.eflags & EFlags.virtual8086 != 0 ? 3 : UInt8(cs.selector & 3)
            if cpu.cpl != expectedLevel {
                problems.append("CPL \(cpu.cpl) but CS \(hex(cs.selector)), VM \(cpu.eflags & EFlags.virtual8086 != 0), PE \(cpu.isProtectedMode)")
            }
        }
        if cpu.isUserTLB != (cpu.cpl == 3) { problems.append("TLB half does not match CPL \(cpu.cpl)") }
        let reservedFlags: UInt32 = 1 << 3 | 1 << 5 | 1 << 15 | 0xFFC0_0000
        if cpu.eflags & EFlags.reserved1 == 0 || cpu.eflags & reservedFlags != 0 {
            problems.append("EFLAGS \(hex(cpu.eflags))")
        }
        let lme = cpu.efer & ExtendedFeatureEnable.longModeEnable != 0
        if cpu.longModeActive != (lme && cpu.pagingEnabled) {
            problems.append("EFER \(hex(cpu.efer)) with CR0 \(hex(cpu.cr0)): LMA must be LME and PG")
        }
        if cpu.longModeActive && !cpu.paeEnabled { problems.append("IA-32e mode with CR4.PAE clear (CR4 \(hex(cpu.cr4)))") }
        if cpu.pagingEnabled && !cpu.isProtectedMode { problems.append("CR0 \(hex(cpu.cr0)): PG without PE") }
        return (outcome, problems)
    }

    /// `judge`'s problems as one line, with the last delivery for context; `nil` when there are none.
    static func describe(_ problems: [String], _ m: TestMachine) -> String? {
        guard !problems.isEmpty else { return nil }
        let last = m.events.deliveries.last.map(String.init(describing:)) ?? "none"
        return problems.joined(separator: "; ") + " (last delivery: \(last))"
    }
}
