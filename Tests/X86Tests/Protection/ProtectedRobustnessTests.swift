import Testing
@testable import X86

/// Random byte sequences executed in protected mode (ring 0, ring 3, 16-bit protected mode and
/// virtual-8086 mode), with paging off, 32-bit or PAE: every run must end halted, in shutdown or
/// at its budget, in a consistent state, and never crash or hang the emulator.
///
/// The machine has the `ProtectedModeGuest` tables, identity-mapped page tables in which some
/// pages of the code area are missing, read-only, supervisor-only or no-execute, and HLT
/// everywhere else. Each run starts from RESET with the pristine memory image, enters the chosen
/// mode by setting the CPU's state directly, and runs random bytes at a random address.
@Suite struct ProtectedRobustnessTests {
    /// 10,000, or the count in `RESETVECTOR_ROBUSTNESS_RUNS` (see `Robustness`).
    static let runs = Robustness.runs(default: 10_000)
    static let budget = 2_000
    static let baseSeed: UInt64 = 0x5EED_0000_0000_0386
    /// Random code goes here (linear = physical), away from the tables and stubs.
    static let codeArea = 0x2_0000..<0x8_0000
    static let pdpt = 0x10_4000

    enum Mode: CaseIterable { case ring0, ring3, protected16, virtual8086 }
    enum Paging: CaseIterable { case off, thirtyTwoBit, pae }

    @Test func randomCodeInProtectedModeEndsInADefinedState() {
        let m = TestMachine(ramSize: 0x20_0000)
        for i in 0..<m.bus.ram.count { m.bus.ram[i] = 0xF4 }
        ProtectedModeGuest.install(on: m)
        Self.buildPageTables(m)
        m.bus.load([UInt8](repeating: 0, count: 0x100), at: 0x3000)
        m.bus.load([0x8B], at: ProtectedModeGuest.gdtBase + Int(PM.Selector.tss) + 5)   // TR holds it: busy
        let pristine = Array(m.bus.ram)
        var outcomes: [Robustness.Outcome: Int] = [:]
        var byMode: [String: Int] = [:]
        var problems: [String] = []
        var runsWithTaskSwitches = 0

        for run in 0..<Self.runs {
            let seed = Robustness.seed(base: Self.baseSeed, run: run)
            var rng = SplitMix64(seed: seed)
            let mode = Mode.allCases[rng.next(in: 0...3)]
            let paging = Paging.allCases[rng.next(in: 0...2)]
            prepare(m, restoringFrom: pristine, mode: mode, paging: paging, rng: &rng)
            let ticksBefore = m.cpu.ticks
            let reason = m.cpu.run(limit: Self.budget)
            let (outcome, found) = Robustness.judge(m, reason, ticksUsed: Int(m.cpu.ticks - ticksBefore), budget: Self.budget)
            let problem = Robustness.describe(found, m)
            outcomes[outcome, default: 0] += 1
            if !m.events.taskSwitches.isEmpty { runsWithTaskSwitches += 1 }
            byMode["\(mode)/\(paging)", default: 0] += 1
            if let problem { problems.append("seed \(hex(seed)) (\(mode), paging \(paging)): \(problem)") }
        }

        for problem in problems.prefix(10) { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty, "\(problems.count) runs ended badly")
        // The random streams must reach the code under test, not all stop at their first byte.
        #expect(outcomes[.halted, default: 0] > 0 && runsWithTaskSwitches > 0, "outcomes \(outcomes)")
        print("Protected robustness: \(Self.runs) runs × ≤\(Self.budget) instructions: "
              + "\(outcomes[.halted, default: 0]) halted by the guest, \(outcomes[.haltedInHandler, default: 0]) in a handler, "
              + "\(outcomes[.shutdown, default: 0]) shutdown, \(outcomes[.budgetUsed, default: 0]) used the budget; "
              + "\(runsWithTaskSwitches) switched tasks")
    }

    /// 32-bit tables at `PM.pageDirectory` and PAE tables at `pdpt`, both mapping 0–4 MiB 1:1.
    /// In the code area every 7th page is missing, every 11th read-only, every 13th supervisor-only,
    /// every 5th no-execute (PAE); the rest is user read/write.
    static func buildPageTables(_ m: TestMachine) {
        func flags(_ page: Int) -> UInt64 {
            let address = page << 12
            guard codeArea.contains(address) else { return 0x7 }
            if page % 7 == 0 { return 0 }
            var f: UInt64 = 0x7
            if page % 11 == 0 { f &= ~0x2 }
            if page % 13 == 0 { f &= ~0x4 }
            return f
        }
        for i in 0..<1024 { m.bus.setDword(0, at: PM.pageDirectory + 4 * i) }
        for t in 0..<2 {
            let table = PM.firstPageTable + t * 0x1000
            m.bus.setDword(UInt32(table) | 0x7, at: PM.pageDirectory + 4 * t)
            for i in 0..<1024 {
                let page = t * 1024 + i
                m.bus.setDword(UInt32(page << 12) | UInt32(flags(page)), at: table + 4 * i)
            }
        }
        let directory = pdpt + 0x1000
        for i in 0..<4 { m.setQword(0, at: pdpt + 8 * i) }
        m.setQword(UInt64(directory) | 1, at: pdpt)
        for i in 0..<512 { m.setQword(0, at: directory + 8 * i) }
        for t in 0..<2 {
            let table = directory + 0x1000 * (t + 1)
            m.setQword(UInt64(table) | 0x7, at: directory + 8 * t)
            for i in 0..<512 {
                let page = t * 512 + i
                var entry = UInt64(page << 12) | flags(page)
                if codeArea.contains(page << 12) && page % 5 == 0 { entry |= 1 << 63 }
                m.setQword(entry, at: table + 8 * i)
            }
        }
    }

    private func prepare(_ m: TestMachine, restoringFrom pristine: [UInt8], mode: Mode, paging: Paging, rng: inout SplitMix64) {
        let cpu = m.cpu
        cpu.powerOnReset()
        m.restoreRAM(from: pristine)
        // Everything was restored from outside the CPU: decoded code may be stale.
        cpu.flushDecodedCode()

        // Registers: random, but often a selector of the GDT, so segment loads and far transfers
        // reach real descriptors.
        for r in X86.GeneralRegister.allCases.prefix(8) {
            let selector = UInt32(rng.next(in: 0...0x7F))
            cpu.setRegister(r, UInt64(rng.next() % 3 == 0 ? selector : rng.next32()))
        }
        // Half the runs get random descriptors in GDT slots 0x40–0x78 (mostly present, based in
        // the code area, where any TSS or LDT they describe is random bytes too).
        if rng.next() % 2 == 0 {
            for slot in stride(from: 0x40, to: 0x80, by: 8) {
                var raw = rng.next()
                let base = UInt64(rng.next(in: Self.codeArea.lowerBound...(Self.codeArea.upperBound - 0x200)))
                raw = raw & ~0xFF00_00FF_FFFF_0000 | (base & 0xFF_FFFF) << 16 | (base >> 24) << 56
                // A type worth having: code, data, LDT, TSS, call or task gate.
                let types: [UInt64] = [0x9A, 0x92, 0x96, 0x9E, 0x82, 0x89, 0x81, 0x8C, 0x84, 0x85, 0x8B]
                let access = types[rng.next(in: 0...(types.count - 1))] | UInt64(rng.next(in: 0...3)) << 5
                raw = raw & ~(0xFF << 40) | access << 40
                if rng.next() % 8 == 0 { raw &= ~(1 << 47) }
                if access & 0x1F == 0x0C || access & 0x1F == 0x04 || access & 0x1F == 0x05 {
                    // A gate: a target selector among the GDT's, an entry in the code area.
                    let target = UInt64(rng.next(in: 0...0x7F))
                    raw = raw & ~0xFFFF_0000 | target << 16
                    raw = raw & ~0xFFFF_0000_0000_FFFF | (base & 0xFFFF) | (base >> 16) << 48
                }
                let address = ProtectedModeGuest.gdtBase + slot
                m.bus.load((0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }, at: address)
                m.bus.markDirty(address: address, length: 8)
            }
        }
        cpu.gdtr = DescriptorTableRegister(base: UInt64(ProtectedModeGuest.gdtBase), limit: 0x7F)
        cpu.idtr = DescriptorTableRegister(base: UInt64(ProtectedModeGuest.idtBase), limit: 0x7FF)
        cpu.taskRegister = SegmentCache(selector: PM.Selector.tss, base: UInt64(ProtectedModeGuest.tssBase),
                                        limit: 0x67 + 0x2000 / 8 + 1, attributes: 0x8B)
        cpu.ldtr = SegmentCache.null(0)
        var cr0 = ControlRegister0.protectionEnable | ControlRegister0.extensionType
        if rng.next() % 2 == 0 { cr0 |= ControlRegister0.writeProtect }
        var cr4: UInt32 = 0
        if rng.next() % 2 == 0 { cr4 |= ControlRegister4.pageSizeExtensions }
        if rng.next() % 2 == 0 { cr4 |= ControlRegister4.pageGlobalEnable }
        switch paging {
        case .off:
            break
        case .thirtyTwoBit:
            cr0 |= ControlRegister0.paging
            cpu.cr3 = UInt64(PM.pageDirectory)
        case .pae:
            cr0 |= ControlRegister0.paging
            cr4 |= ControlRegister4.physicalAddressExtension
            cpu.cr3 = UInt64(Self.pdpt)
            if rng.next() % 2 == 0 { cpu.efer = ExtendedFeatureEnable.noExecuteEnable }
        }
        cpu.cr0 = cr0
        cpu.cr4 = cr4
        if paging == .pae { _ = cpu.loadPageDirectoryPointers() }

        let flat: UInt32 = 0xFFFF_FFFF
        var flags = UInt32(rng.next32()) & (EFlags.arithmetic | EFlags.direction | EFlags.interrupt | EFlags.iopl
                                            | EFlags.nestedTask | EFlags.alignmentCheck)
        if rng.next() % 16 == 0 { flags |= EFlags.trap }
        let level: UInt8
        switch mode {
        case .ring0, .ring3:
            level = mode == .ring0 ? 0 : 3
            let dpl = UInt32(level) << 5
            cpu.setSegment(.cs, SegmentCache(selector: level == 0 ? PM.Selector.code32 : PM.Selector.userCode, base: 0,
                                             limit: flat, attributes: 0xC09B | dpl))
            for s in [SegmentRegister.ss, .ds, .es, .fs, .gs] {
                cpu.setSegment(s, SegmentCache(selector: level == 0 ? PM.Selector.data32 : PM.Selector.userData, base: 0,
                                               limit: flat, attributes: 0xC093 | dpl))
            }
        case .protected16:
            level = 0
            cpu.setSegment(.cs, SegmentCache(selector: PM.Selector.code16, base: 0, limit: 0xFFFF, attributes: 0x9B))
            for s in [SegmentRegister.ss, .ds, .es, .fs, .gs] {
                cpu.setSegment(s, SegmentCache(selector: PM.Selector.data16, base: 0, limit: 0xFFFF, attributes: 0x93))
            }
        case .virtual8086:
            level = 3
            flags |= EFlags.virtual8086
            for s in SegmentRegister.allCases {
                cpu.setSegment(s, SegmentCache.virtual8086(UInt16(truncatingIfNeeded: rng.next(in: 0x2000...0x7000))))
            }
        }
        cpu.setPrivilegeLevel(level)
        cpu.flushTLB()
        cpu.eflags = flags | EFlags.reserved1

        // Code at a random place in the code area, reachable from CS.
        let address: Int
        if mode == .virtual8086 {
            let cs = cpu.segment(.cs)
            address = Int(cs.base) + rng.next(in: 0...0xFFBF)
            cpu.instructionPointer = UInt64(address - Int(cs.base))
        } else if mode == .protected16 {
            address = rng.next(in: 0xA000...0xFFBF)
            cpu.instructionPointer = UInt64(address)
        } else {
            address = rng.next(in: Self.codeArea.lowerBound...(Self.codeArea.upperBound - 0x100))
            cpu.instructionPointer = UInt64(address)
        }
        // A stack somewhere sensible: ring 0 on its own stack, the others in the code area.
        let stack = mode == .ring0 ? ProtectedModeGuest.kernelStackTop : UInt32(rng.next(in: 0x2_1000...0x7_F000))
        if mode == .virtual8086 {
            cpu.setRegister(.rsp, UInt64(rng.next16()))
        } else if mode == .protected16 {
            cpu.setRegister(.rsp, UInt64(rng.next(in: 0x9000...0xF000)))
        } else {
            cpu.setRegister(.rsp, UInt64(stack))
        }
        let length = rng.next(in: 16...64)
        for i in 0..<length { m.bus.ram[address + i] = UInt8(truncatingIfNeeded: rng.next()) }
        // Half the runs begin with a system instruction aimed at those descriptors.
        if rng.next() % 2 == 0 {
            let selector = UInt8(truncatingIfNeeded: rng.next(in: 8...15) << 3 | rng.next(in: 0...3))
            let offset = [UInt8](repeating: 0, count: 4).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            let templates: [[UInt8]] = [
                [0xEA] + offset + [selector, 0],           // jmp far
                [0x9A] + offset + [selector, 0],           // call far
                [0x66, 0xB8, selector, 0, 0x8E, 0xD8],     // mov ax, sel; mov ds, ax
                [0x66, 0xB8, selector, 0, 0x8E, 0xD0],     // mov ss
                [0x66, 0xB8, selector, 0, 0x0F, 0x00, 0xD8],   // ltr
                [0x66, 0xB8, selector, 0, 0x0F, 0x00, 0xD0],   // lldt
                [0xCF], [0xCA, offset[0], 0], [0xCD, offset[1]],
                [0x0F, 0x02, 0xC3], [0x0F, 0x03, 0xC3], [0x0F, 0x00, 0xE3], [0x63, 0xD8],
                [0x0F, 0x34], [0x0F, 0x35], [0x0F, 0x01, 0x38], [0x0F, 0x22, 0xD8], [0x0F, 0x22, 0xC0],
                [0xE6, offset[2]], [0xEC],
            ]
            let chosen = templates[rng.next(in: 0...(templates.count - 1))]
            for (i, byte) in chosen.enumerated() { m.bus.ram[address + i] = byte }
        }
        // Sometimes a back-link to one of them, for IRET with NT, and a task gate in the IDT.
        if rng.next() % 4 == 0 {
            m.bus.setWord(UInt16(rng.next(in: 0x40...0x7F)), at: ProtectedModeGuest.tssBase)
            m.bus.markDirty(address: ProtectedModeGuest.tssBase, length: 2)
        }
        if rng.next() % 4 == 0 {
            let vector = [13, 14, 6, 0x21][rng.next(in: 0...3)]
            let gate = ProtectedModeGuest.gate(selector: UInt16(rng.next(in: 0x40...0x7F)), offset: 0, type: 5, dpl: 3)
            m.bus.load(gate, at: ProtectedModeGuest.idtBase + 8 * vector)
            m.bus.markDirty(address: ProtectedModeGuest.idtBase + 8 * vector, length: 8)
        }
        m.bus.markDirty(address: address, length: length)
    }
}
