import Testing
@testable import X86

/// Random byte sequences executed in 64-bit mode: every run must end halted, in shutdown or at its
/// budget in a consistent state (`Robustness.judge`), and never crash or hang the emulator.
/// 4-level tables map the low 2 MiB (every 7th code page missing, every 5th no-execute, every
/// 11th read-only), and a 64-bit IDT sends every vector to a HLT, so faults end the run in a handler.
@Suite struct LongModeRobustnessTests {
    /// 10,000, or the count in `RESETVECTOR_ROBUSTNESS_RUNS` (see `Robustness`).
    static let runs = Robustness.runs(default: 10_000)
    static let budget = 2_000
    static let baseSeed: UInt64 = 0x5EED_0000_0000_0064
    static let codeArea = 0x2_0000..<0x8_0000
    static let idt = 0x1_0000
    static let handler = 0x1_1000
    static let code64: UInt16 = 0x40
    private typealias Paging = LongModePagingTests

    @Test func randomCodeIn64BitModeEndsInADefinedState() {
        let m = TestMachine(ramSize: 0x20_0000)
        for i in 0..<m.bus.ram.count { m.bus.ram[i] = 0xF4 }
        ProtectedModeGuest.install(on: m)
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: 0x9A, flags: 0xA),
                   at: ProtectedModeGuest.gdtBase + Int(Self.code64))
        Paging.build(m)
        for page in Self.codeArea.lowerBound >> 12..<Self.codeArea.upperBound >> 12 {
            var entry = UInt64(page) << 12 | 7
            if page % 7 == 0 { entry = 0 }
            if page % 5 == 0 { entry |= 1 << 63 }
            if page % 11 == 0 { entry &= ~2 }
            m.setQword(entry, at: Paging.table + 8 * page)
        }
        // Every vector: a present 64-bit interrupt gate to the HLT at `handler`.
        for vector in 0..<256 {
            let low = UInt64(Self.handler & 0xFFFF) | UInt64(Self.code64) << 16 | 0x8E << 40
                | UInt64(Self.handler >> 16) << 48
            m.setQword(low, at: Self.idt + 16 * vector)
            m.setQword(0, at: Self.idt + 16 * vector + 8)
        }
        let pristine = Array(m.bus.ram)
        var outcomes: [Robustness.Outcome: Int] = [:]
        var problems: [String] = []
        for run in 0..<Self.runs {
            let seed = Robustness.seed(base: Self.baseSeed, run: run)
            var rng = SplitMix64(seed: seed)
            m.cpu.powerOnReset()
            m.restoreRAM(from: pristine)
            m.cpu.flushDecodedCode()
            enter64BitMode(m.cpu, rng: &rng)
            let start = rng.next(in: Self.codeArea.lowerBound...(Self.codeArea.upperBound - 64))
            m.bus.load((0..<48).map { _ in UInt8(truncatingIfNeeded: rng.next()) }, at: start)
            // Dirty, so the next run's restore puts the HLTs back: each run depends on its seed alone.
            m.bus.markDirty(address: start, length: 48)
            m.cpu.instructionPointer = UInt64(start)
            let ticksBefore = m.cpu.ticks
            let reason = m.cpu.run(limit: Self.budget)
            let (outcome, found) = Robustness.judge(m, reason, ticksUsed: Int(m.cpu.ticks - ticksBefore), budget: Self.budget)
            outcomes[outcome, default: 0] += 1
            if let problem = Robustness.describe(found, m) { problems.append("seed \(hex(seed)): \(problem)") }
        }
        for problem in problems.prefix(10) { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty, "\(problems.count) runs ended badly")
        // The streams must reach real code: some fault into the handler, some run on.
        #expect(outcomes[.haltedInHandler, default: 0] > 0 && outcomes[.halted, default: 0] > 0, "outcomes \(outcomes)")
        print("Long-mode robustness: \(Self.runs) runs × ≤\(Self.budget) instructions: \(outcomes)")
    }

    /// IA-32e mode with 4-level paging and NX, CS the 64-bit code segment at CPL 0, random
    /// general registers, a stack in the low 2 MiB, and the 64-bit IDT.
    private func enter64BitMode(_ cpu: CPU, rng: inout SplitMix64) {
        cpu.efer = ExtendedFeatureEnable.longModeEnable | ExtendedFeatureEnable.longModeActive | ExtendedFeatureEnable.noExecuteEnable
        cpu.cr4 = ControlRegister4.physicalAddressExtension
        cpu.cr3 = UInt64(Paging.pml4)
        cpu.cr0 = ControlRegister0.protectionEnable | ControlRegister0.paging | ControlRegister0.extensionType
        cpu.setSegment(.cs, SegmentCache(selector: Self.code64, base: 0, limit: 0xFFFF_FFFF, attributes: 0xA09B))
        for segment in [SegmentRegister.ss, .ds, .es, .fs, .gs] {
            cpu.setSegment(segment, SegmentCache(selector: PM.Selector.data32, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093))
        }
        cpu.idtr = DescriptorTableRegister(base: UInt64(Self.idt), limit: 256 * 16 - 1)
        cpu.gdtr = DescriptorTableRegister(base: UInt64(ProtectedModeGuest.gdtBase), limit: UInt32(PM.gdtLimit))
        cpu.flushTLB()
        for r in X86.GeneralRegister.allCases { cpu.setRegister(r, rng.next() & (rng.next(in: 0...1) == 0 ? 0x1F_FFFF : ~0)) }
        cpu.setRegister(.rsp, UInt64(0x9_0000 + rng.next(in: 0...0xFF0)))
    }
}
