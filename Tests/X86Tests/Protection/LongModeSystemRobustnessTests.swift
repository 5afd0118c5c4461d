import Testing
@testable import X86

/// Random system state in IA-32e mode: every run must end halted, in shutdown or at its budget,
/// in a consistent state, and never crash or hang the emulator.
///
/// Each run starts from one pristine memory image (GDT, LDT, 64-bit TSS, two 64-bit IDTs, 4-level
/// tables mapping the low 2 MiB, a ROM at the top of 4 GiB) and then randomises it: paging-structure
/// entries at every level (not present, reserved bits, large pages including 1 GiB ones, NX, U/S,
/// R/W, loops back into the tables, tables outside RAM or in ROM), CR3, GDT and LDT descriptors
/// (16-byte system descriptors, call gates, TSSs, non-canonical bases), the TSS's RSPn and IST
/// stacks, IDT gates (types, IST, DPL, selectors, non-canonical offsets, not present), the
/// descriptor-table limits, CR0, CR4, EFER and the SYSCALL MSRs. It then runs, in 64-bit or
/// compatibility mode at CPL 0 or 3, random bytes interleaved with system instructions aimed at
/// that state: segment loads, LLDT and LTR, INT n, IRET(Q) and far RET with built frames, far
/// CALL and JMP through memory, SYSCALL/SYSRET, SYSENTER/SYSEXIT, MOV to CR0, CR3, CR4 and CR8,
/// WRMSR, INVLPG, LGDT and LIDT, SWAPGS, and stores into the paging structures and tables.
///
/// The suite makes 10,000 runs; `RESETVECTOR_ROBUSTNESS_RUNS` asks for more (see `Robustness`).
@Suite struct LongModeSystemRobustnessTests {
    static let defaultRuns = 10_000
    static let budget = 1_000
    static let baseSeed: UInt64 = 0x5EED_0000_5757_0064

    // Memory map (physical = linear for the low 2 MiB).
    static let gdt = 0x1000
    static let gdtLimit: UInt32 = 0x1FF
    static let ldt = 0x2000
    static let ldtLimit: UInt32 = 0xFF
    static let tss = 0x3000
    static let tssLimit: UInt32 = 0x67 + 0x100
    /// Two IDTs: every gate to the HLT handler, or every gate to a handler that skips a byte and returns.
    static let haltingIDT = 0x4000
    static let returningIDT = 0xF000
    /// HLT.
    static let haltHandler = 0x5000
    /// `add qword [rsp], 1; iretq`: resumes one byte past the event's return address.
    static let skipHandler = 0x5010
    /// `add rsp, 8; add qword [rsp], 1; iretq`: the same for vectors that push an error code.
    static let skipErrorCodeHandler = 0x5020
    static let kernelStack = 0x8000
    static let userStack = 0xE000
    static let codeArea = 0x1_0000..<0x8_0000
    /// Far pointers and pseudo-descriptors the templates read, rewritten every run.
    static let scratch = 0x8_0000
    static let pml4 = 0x10_0000
    static let pdpt = 0x10_1000
    static let directory = 0x10_2000
    static let table = 0x10_3000
    /// Four pages of random qwords that random entries may point to as tables.
    static let spareTables = 0x10_4000
    static let romSize = 0x1_0000

    // Selectors of the fixed GDT entries.
    static let code64: UInt16 = 0x08
    static let data: UInt16 = 0x10
    static let code32: UInt16 = 0x18
    static let userCode32: UInt16 = 0x20 | 3
    static let userData: UInt16 = 0x28 | 3
    static let userCode64: UInt16 = 0x30 | 3
    static let tssSelector: UInt16 = 0x38
    static let ldtSelector: UInt16 = 0x48
    /// The first GDT slot a run may fill with a random descriptor.
    static let firstRandomSlot = 0x70

    enum Mode: CaseIterable { case kernel64, user64, kernelCompatibility, userCompatibility }

    @Test func randomSystemStateInLongModeEndsInADefinedState() {
        let runs = Robustness.runs(default: Self.defaultRuns)
        let m = Self.pristineMachine()
        let pristine = Array(m.bus.ram)
        var outcomes: [Robustness.Outcome: Int] = [:]
        var problems: [String] = []
        var leftLongMode = 0, endedInCompatibility = 0, endedAtLevel3 = 0, deliveries = 0

        for run in 0..<runs {
            let seed = Robustness.seed(base: Self.baseSeed, run: run)
            var rng = SplitMix64(seed: seed)
            let mode = Mode.allCases[rng.next(in: 0...3)]
            prepare(m, restoringFrom: pristine, mode: mode, rng: &rng)
            let ticksBefore = m.cpu.ticks
            let reason = m.cpu.run(limit: Self.budget)
            let (outcome, found) = Robustness.judge(m, reason, ticksUsed: Int(m.cpu.ticks - ticksBefore), budget: Self.budget)
            outcomes[outcome, default: 0] += 1
            if !m.cpu.longModeActive { leftLongMode += 1 }
            if m.cpu.longModeActive && !m.cpu.segment(.cs).isLongMode { endedInCompatibility += 1 }
            if m.cpu.cpl == 3 { endedAtLevel3 += 1 }
            deliveries += m.events.deliveries.count
            if let problem = Robustness.describe(found, m) { problems.append("seed \(hex(seed)) (\(mode)): \(problem)") }
        }

        for problem in problems.prefix(10) { Issue.record(Comment(rawValue: problem)) }
        #expect(problems.isEmpty, "\(problems.count) runs ended badly")
        #expect(outcomes.values.reduce(0, +) == runs)
        // The random state must be reached, not every run stop at its first instruction: each way
        // of ending occurs, and some runs leave 64-bit mode or IA-32e mode, or end at CPL 3.
        if runs >= Self.defaultRuns {
            #expect(Robustness.Outcome.allCases.allSatisfy { outcomes[$0, default: 0] > 0 }, "outcomes \(outcomes)")
            #expect(leftLongMode > 0 && endedInCompatibility > 0 && endedAtLevel3 > 0)
        }
        print("Long-mode system robustness: \(runs) runs × ≤\(Self.budget) instructions: "
              + Robustness.Outcome.allCases.map { "\(outcomes[$0, default: 0]) \($0)" }.joined(separator: ", ")
              + "; \(deliveries) deliveries; \(endedInCompatibility) ended in compatibility mode, "
              + "\(leftLongMode) outside IA-32e mode, \(endedAtLevel3) at CPL 3")
    }

    // MARK: The pristine image

    /// RAM full of HLT holding the fixed tables, handlers and identity mapping, and a ROM of
    /// random bytes (fixed seed) at the top of 4 GiB, aliased below 1 MiB.
    static func pristineMachine() -> TestMachine {
        var romRNG = SplitMix64(seed: 0x0000_0000_0000_0D0A)
        let rom = (0..<romSize).map { _ in UInt8(truncatingIfNeeded: romRNG.next()) }
        let m = TestMachine(ramSize: 0x20_0000, rom: rom)
        for i in 0..<m.bus.ram.count { m.bus.ram[i] = 0xF4 }
        // GDT.
        m.bus.load([UInt8](repeating: 0, count: Int(gdtLimit) + 1), at: gdt)
        func segment(_ selector: UInt16, access: UInt8, flags: UInt8) {
            m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: access, flags: flags), at: gdt + Int(selector & ~7))
        }
        segment(code64, access: 0x9A, flags: 0xA)
        segment(data, access: 0x92, flags: 0xC)
        segment(code32, access: 0x9A, flags: 0xC)
        segment(userCode32, access: 0xFA, flags: 0xC)
        segment(userData, access: 0xF2, flags: 0xC)
        segment(userCode64, access: 0xFA, flags: 0xA)
        // The 64-bit TSS (busy: TR holds it) and the LDT, 16 bytes each.
        m.bus.load(systemDescriptor(base: UInt64(tss), limit: tssLimit, access: 0x8B), at: gdt + Int(tssSelector))
        m.bus.load(systemDescriptor(base: UInt64(ldt), limit: ldtLimit, access: 0x82), at: gdt + Int(ldtSelector))
        // A conforming 64-bit code segment, and a 64-bit call gate (DPL 3) to the HLT handler.
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: 0x9E, flags: 0xA), at: gdt + 0x58)
        m.bus.load(gate(selector: code64, offset: UInt64(haltHandler), type: 0xC, dpl: 3, ist: 0), at: gdt + 0x60)
        // LDT: data and code segments of every privilege level.
        m.bus.load([UInt8](repeating: 0, count: Int(ldtLimit) + 1), at: ldt)
        for i in 0..<8 {
            let access: UInt8 = (i % 2 == 0 ? 0x92 : 0x9A) | UInt8(i / 2) << 5
            m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: access, flags: i % 4 == 1 ? 0xA : 0xC), at: ldt + 8 * i)
        }
        // TSS: RSP0, IST1–7 on their own stacks; the I/O bitmap denies every port.
        m.bus.load([UInt8](repeating: 0, count: 0x68), at: tss)
        m.setQword(UInt64(kernelStack), at: tss + 4)
        for n in 1...7 { m.setQword(UInt64(0x8000 + 0x800 * n), at: tss + 0x24 + 8 * (n - 1)) }
        m.bus.setWord(0x68, at: tss + 0x66)
        m.bus.load([UInt8](repeating: 0xFF, count: 0x101), at: tss + 0x68)
        // Handlers and IDTs.
        m.bus.load([0x48, 0x83, 0x04, 0x24, 0x01, 0x48, 0xCF], at: skipHandler)
        m.bus.load([0x48, 0x83, 0xC4, 0x08, 0x48, 0x83, 0x04, 0x24, 0x01, 0x48, 0xCF], at: skipErrorCodeHandler)
        // #DF, NMI and #MC on IST stacks 1–3, as 64-bit kernels have them, so a bad RSP ends in the
        // #DF handler rather than always in shutdown.
        let stackTable: [Int: UInt8] = [8: 1, 2: 2, 18: 3]
        for vector in 0..<256 {
            let ist = stackTable[vector, default: 0]
            m.bus.load(gate(selector: code64, offset: UInt64(haltHandler), type: 0xE, dpl: 3, ist: ist), at: haltingIDT + 16 * vector)
            let handler = [8, 10, 11, 12, 13, 14, 17, 21].contains(vector) ? skipErrorCodeHandler : skipHandler
            m.bus.load(gate(selector: code64, offset: UInt64(handler), type: 0xE, dpl: 3, ist: ist), at: returningIDT + 16 * vector)
        }
        // 4-level tables: PML4[0] and PML4[511] → PDPT; PDPT[0] → directory, PDPT[1] a 1 GiB page at 0,
        // PDPT[3] the 1 GiB page holding the ROM; PD[0] → table mapping 0–2 MiB, PD[1] a 2 MiB page at 0.
        for base in [pml4, pdpt, directory, table] { for i in 0..<512 { m.setQword(0, at: base + 8 * i) } }
        m.setQword(UInt64(pdpt) | 7, at: pml4)
        m.setQword(UInt64(pdpt) | 7, at: pml4 + 8 * 511)
        m.setQword(UInt64(directory) | 7, at: pdpt)
        m.setQword(0x87, at: pdpt + 8)
        m.setQword(0xC000_0087, at: pdpt + 8 * 3)
        m.setQword(UInt64(table) | 7, at: directory)
        m.setQword(0x87, at: directory + 8)
        for i in 0..<512 { m.setQword(UInt64(i) << 12 | 7, at: table + 8 * i) }
        var spareRNG = SplitMix64(seed: 0x5EA5_E5EA)
        for i in 0..<(4 * 512) { m.setQword(spareRNG.next(), at: spareTables + 8 * i) }
        return m
    }

    /// A 16-byte system descriptor (LDT or TSS) with a 64-bit base.
    static func systemDescriptor(base: UInt64, limit: UInt32, access: UInt8, upperType: UInt8 = 0) -> [UInt8] {
        let low = UInt64(limit & 0xFFFF) | (base & 0xFF_FFFF) << 16 | UInt64(access) << 40
            | UInt64((limit >> 16) & 0xF) << 48 | ((base >> 24) & 0xFF) << 56
        let high = (base >> 32) | UInt64(upperType & 0x1F) << 40
        return bytes(low) + bytes(high)
    }

    /// A 16-byte IDT or call gate with a 64-bit offset.
    static func gate(selector: UInt16, offset: UInt64, type: UInt8, dpl: UInt8, ist: UInt8, present: Bool = true) -> [UInt8] {
        let low = (offset & 0xFFFF) | UInt64(selector) << 16 | UInt64(ist & 7) << 32
            | UInt64((present ? 0x80 : 0) | (dpl & 3) << 5 | (type & 0x1F)) << 40 | ((offset >> 16) & 0xFFFF) << 48
        return bytes(low) + bytes(offset >> 32)
    }

    static func bytes(_ value: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
    static func bytes32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(truncatingIfNeeded: value >> (8 * UInt32($0))) } }

    // MARK: One run

    /// RESET, the pristine image back, then the random state and code, entered directly.
    private func prepare(_ m: TestMachine, restoringFrom pristine: [UInt8], mode: Mode, rng: inout SplitMix64) {
        let cpu = m.cpu
        cpu.powerOnReset()
        m.restoreRAM(from: pristine)
        // Everything is restored and written from outside the CPU: decoded code may be stale.
        cpu.flushDecodedCode()
        var r = RandomState(m: m, rng: rng)
        r.randomiseTables()
        r.randomisePaging()
        let idt = r.randomiseIDT()
        r.randomiseTSS()

        // Control registers and MSRs.
        var cr0 = ControlRegister0.protectionEnable | ControlRegister0.paging | ControlRegister0.extensionType
        for bit in [ControlRegister0.writeProtect, ControlRegister0.alignmentMask, ControlRegister0.monitorCoprocessor,
                    ControlRegister0.emulation, ControlRegister0.taskSwitched, ControlRegister0.numericError]
        where r.chance(1, in: 3) { cr0 |= bit }
        var cr4 = ControlRegister4.physicalAddressExtension
        for bit in [ControlRegister4.pageGlobalEnable, ControlRegister4.pageSizeExtensions, ControlRegister4.osfxsr,
                    ControlRegister4.osxmmexcpt, ControlRegister4.timeStampDisable, ControlRegister4.debuggingExtensions,
                    ControlRegister4.performanceCounterEnable]
        where r.chance(1, in: 3) { cr4 |= bit }
        var efer = ExtendedFeatureEnable.longModeEnable | ExtendedFeatureEnable.longModeActive
        if r.chance(3, in: 4) { efer |= ExtendedFeatureEnable.noExecuteEnable }
        if r.chance(3, in: 4) { efer |= ExtendedFeatureEnable.systemCallEnable }
        cpu.cr0 = cr0
        cpu.cr4 = cr4
        cpu.efer = efer
        cpu.cr3 = r.randomCR3()
        cpu.msrs.star = r.chance(7, in: 8) ? 0x0020_0008 << 32 : r.next() & 0xFFFF_FFFF_0000_0000
        cpu.msrs.longModeSystemCallTarget = r.canonicalAddress()
        cpu.msrs.compatibilitySystemCallTarget = r.canonicalAddress()
        cpu.msrs.systemCallFlagMask = r.next() & 0xFFFF_FFFF
        cpu.msrs.kernelGSBase = r.canonicalAddress()
        cpu.msrs.sysenterCS = r.chance(1, in: 2) ? UInt64(Self.code64) : UInt64(r.selector())
        cpu.msrs.sysenterESP = r.next() & 0xFFFF_FFFF
        cpu.msrs.sysenterEIP = r.next() & 0xFFFF_FFFF

        // Descriptor tables: mostly whole, sometimes cut short.
        cpu.gdtr = DescriptorTableRegister(base: UInt64(Self.gdt), limit: r.chance(7, in: 8) ? Self.gdtLimit : UInt32(r.pick(in: 0...0x1FF)))
        cpu.idtr = DescriptorTableRegister(base: UInt64(idt), limit: r.chance(15, in: 16) ? 0xFFF : UInt32(r.pick(in: 0...0xFFF)))
        cpu.taskRegister = SegmentCache(selector: Self.tssSelector, base: UInt64(Self.tss), limit: Self.tssLimit, attributes: 0x8B)
        cpu.ldtr = r.chance(3, in: 4) ? SegmentCache(selector: Self.ldtSelector, base: UInt64(Self.ldt), limit: Self.ldtLimit, attributes: 0x82)
            : SegmentCache.null(0)

        // Segments for the mode.
        let level: UInt8 = mode == .user64 || mode == .userCompatibility ? 3 : 0
        let is64 = mode == .kernel64 || mode == .user64
        let (csSelector, csAttributes): (UInt16, UInt32) = switch mode {
        case .kernel64: (Self.code64, 0xA09B)
        case .user64: (Self.userCode64, 0xA0FB)
        case .kernelCompatibility: (Self.code32, 0xC09B)
        case .userCompatibility: (Self.userCode32, 0xC0FB)
        }
        cpu.setSegment(.cs, SegmentCache(selector: csSelector, base: 0, limit: 0xFFFF_FFFF, attributes: csAttributes))
        let dataSegment = level == 0 ? SegmentCache(selector: Self.data, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC093)
            : SegmentCache(selector: Self.userData, base: 0, limit: 0xFFFF_FFFF, attributes: 0xC0F3)
        for s in [SegmentRegister.ss, .ds, .es, .fs, .gs] { cpu.setSegment(s, dataSegment) }
        if is64 && level == 0 && r.chance(1, in: 4) { cpu.setSegment(.ss, SegmentCache.null(0)) }
        if is64 {
            for s in [SegmentRegister.fs, .gs] where r.chance(1, in: 3) {
                var cache = cpu.segment(s)
                cache.base = r.canonicalAddress()
                cpu.setSegment(s, cache)
            }
        }
        cpu.setPrivilegeLevel(level)
        cpu.flushTLB()
        var flags = UInt32(truncatingIfNeeded: r.next()) & (EFlags.arithmetic | EFlags.direction | EFlags.interrupt | EFlags.iopl)
        if r.chance(1, in: 4) { flags |= EFlags.alignmentCheck }
        if r.chance(1, in: 8) { flags |= EFlags.nestedTask }
        if r.chance(1, in: 16) { flags |= EFlags.trap }
        cpu.eflags = flags | EFlags.reserved1

        // Registers: selectors, addresses of interest, or anything.
        for register in X86.GeneralRegister.allCases {
            cpu.setRegister(register, r.chance(1, in: 3) ? UInt64(r.selector()) : r.chance(1, in: 2) ? r.address() : r.next())
        }
        cpu.setRegister(.rsp, level == 0 ? UInt64(Self.kernelStack - 0x100) : UInt64(Self.userStack))
        if r.chance(1, in: 8) { cpu.setRegister(.rsp, r.stackPointer()) }

        // Code: system instructions aimed at that state among random bytes.
        let start = r.pick(in: Self.codeArea.lowerBound...(Self.codeArea.upperBound - 0x400))
        var code: [UInt8] = []
        for _ in 0..<r.pick(in: 1...10) {
            code += (0..<r.pick(in: 0...6)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
            code += r.template(is64: is64)
        }
        code += (0..<r.pick(in: 0...32)).map { _ in UInt8(truncatingIfNeeded: r.next()) }
        r.put(code, at: start)
        cpu.instructionPointer = UInt64(start)
        rng = r.rng
    }
}

/// The random choices of one run, and the host-side writes that put them in memory (each marks
/// its page dirty, so the next run's restore undoes it).
private struct RandomState {
    typealias T = LongModeSystemRobustnessTests
    let m: TestMachine
    var rng: SplitMix64
    /// The next free scratch byte for far pointers and pseudo-descriptors.
    var scratch = T.scratch

    mutating func next() -> UInt64 { rng.next() }
    mutating func pick(in range: ClosedRange<Int>) -> Int { rng.next(in: range) }
    mutating func pick(in range: Range<Int>) -> Int { rng.next(in: range.lowerBound...(range.upperBound - 1)) }
    mutating func chance(_ n: Int, in d: Int) -> Bool { rng.next(in: 0...(d - 1)) < n }
    mutating func choose<E>(_ values: [E]) -> E { values[rng.next(in: 0...(values.count - 1))] }

    func put(_ bytes: [UInt8], at address: Int) {
        m.bus.load(bytes, at: address)
        m.bus.markDirty(address: address, length: bytes.count)
    }
    func putQword(_ value: UInt64, at address: Int) { put(T.bytes(value), at: address) }

    /// Linear addresses worth aiming at: code, handlers, tables and stacks, the 1 GiB page, the
    /// ROM, unmapped canonical addresses in both halves, the mapped top half, and non-canonical ones.
    mutating func address() -> UInt64 {
        switch pick(in: 0...11) {
        case 0, 1: UInt64(pick(in: T.codeArea))
        case 2: UInt64(choose([T.haltHandler, T.skipHandler, T.skipErrorCodeHandler, T.gdt, T.ldt, T.tss, T.haltingIDT]))
        case 3: UInt64(choose([T.pml4, T.pdpt, T.directory, T.table]) + 8 * pick(in: 0...511))
        case 4: 0x4000_0000 + UInt64(pick(in: T.codeArea))
        case 5: 0xFFFF_0000 + UInt64(pick(in: 0...0xFFFF))
        case 6: 0x0000_7FFF_FFFF_F000 + UInt64(pick(in: 0...0xFFF))
        case 7: 0xFFFF_FF80_0000_0000 + UInt64(pick(in: T.codeArea))
        case 8: 0xFFFF_8000_0000_0000 + (next() & 0xFFFF_FFFF)
        case 9: 0x0000_8000_0000_0000 | (next() & 0x7FFF_FFFF_FFFF)
        case 10: UInt64(pick(in: 0x6000...0xEFFF))
        default: next()
        }
    }

    mutating func canonicalAddress() -> UInt64 {
        let value = address()
        return UInt64(bitPattern: Int64(bitPattern: value << 16) >> 16)
    }

    /// A stack pointer: a good stack, unaligned, in ROM, unmapped, at the top of a half, or not canonical.
    mutating func stackPointer() -> UInt64 {
        switch pick(in: 0...7) {
        case 0, 1: UInt64(choose([0x8000, 0x9000, 0xA000, 0xC000, 0xE000]))
        case 2: UInt64(pick(in: 0x6000...0xE000))
        case 3: 0
        case 4: 0xFFFF_0000 + UInt64(pick(in: 0...0xFFFF))
        case 5: 0x0000_8000_0000_0000
        default: address()
        }
    }

    /// A selector: a fixed GDT entry, a random slot of the GDT or LDT, with any RPL, or anything.
    mutating func selector() -> UInt16 {
        let rpl = UInt16(pick(in: 0...3))
        switch pick(in: 0...5) {
        case 0: return choose([T.code64, T.data, T.code32, T.userCode32, T.userData, T.userCode64, T.tssSelector, T.ldtSelector, 0x58, 0x60])
        case 1: return choose([T.code64, T.code32, T.userCode32, T.userCode64, 0x58, 0x60]) & ~3 | rpl
        case 2, 3: return UInt16(pick(in: 0...Int(T.gdtLimit) / 8)) << 3 | rpl
        case 4: return UInt16(pick(in: 0...31)) << 3 | 4 | rpl
        default: return UInt16(truncatingIfNeeded: next())
        }
    }

    // MARK: Tables

    /// Random descriptors in some free GDT slots and some LDT slots.
    mutating func randomiseTables() {
        if chance(1, in: 4) { return }
        for _ in 0..<pick(in: 1...16) {
            let slot = pick(in: T.firstRandomSlot / 8...(Int(T.gdtLimit) - 15) / 8)
            put(descriptor(), at: T.gdt + 8 * slot)
        }
        for _ in 0..<pick(in: 0...4) {
            put(Array(descriptor().prefix(8)), at: T.ldt + 8 * pick(in: 0...31))
        }
        // Now and then the fixed TSS or LDT descriptor itself, or its upper half.
        if chance(1, in: 16) { put(descriptor(), at: T.gdt + Int(choose([T.tssSelector, T.ldtSelector]))) }
        if chance(1, in: 16) { putQword(next(), at: T.gdt + Int(choose([T.tssSelector, T.ldtSelector])) + 8) }
    }

    /// A code or data segment descriptor (8 bytes, padded with the next slot's random bytes), or
    /// a 16-byte system descriptor: LDT, TSS, call, interrupt or trap gate, or any type.
    mutating func descriptor() -> [UInt8] {
        let dpl = UInt8(pick(in: 0...3))
        let present = chance(7, in: 8)
        if chance(1, in: 2) {
            let access = (present ? 0x80 : 0) | dpl << 5 | 0x10 | UInt8(pick(in: 0...15))
            let flags = choose([0xA, 0xC, 0x8, 0x0, 0xE, UInt8(pick(in: 0...15))])
            let base = chance(3, in: 4) ? 0 : UInt32(truncatingIfNeeded: address())
            let limit = chance(3, in: 4) ? 0xF_FFFF : UInt32(pick(in: 0...0xF_FFFF))
            return ProtectedModeGuest.segment(base: base, limit: limit, access: access, flags: flags) + T.bytes(next())
        }
        let type = choose([0x2, 0x9, 0xB, 0xC, 0xC, 0xE, 0xF, UInt8(pick(in: 0...15))])
        switch type {
        case 0x2, 0x9, 0xB, 0x1, 0x3:
            let base = chance(1, in: 2) ? UInt64(choose([T.ldt, T.tss, T.gdt])) : address()
            let limit = chance(1, in: 2) ? (type == 0x2 ? T.ldtLimit : T.tssLimit) : UInt32(pick(in: 0...0xF_FFFF))
            var bytes = T.systemDescriptor(base: base, limit: limit, access: (present ? 0x80 : 0) | dpl << 5 | type,
                                           upperType: chance(1, in: 8) ? UInt8(pick(in: 0...31)) : 0)
            if chance(1, in: 8) { bytes[6] |= 0x80 }   // G
            return bytes
        default:
            let target = chance(3, in: 4) ? choose([T.code64, T.code32, T.userCode64, 0x58]) : selector()
            let offset = chance(1, in: 2) ? UInt64(choose([T.haltHandler, T.skipHandler])) : address()
            return T.gate(selector: target, offset: offset, type: type, dpl: dpl, ist: UInt8(pick(in: 0...7)), present: present)
        }
    }

    /// Entries of the 4-level tables: the low 2 MiB's table (mostly the pages this run uses), the
    /// directory, the PDPT, the PML4 and the spare tables, changed in one of many ways.
    mutating func randomisePaging() {
        if chance(1, in: 4) { return }
        for _ in 0..<pick(in: 1...6) {
            let entry: Int
            switch pick(in: 0...9) {
            case 0: entry = T.pml4 + 8 * choose([0, 511, 1, 256, pick(in: 0...511)])
            case 1: entry = T.pdpt + 8 * choose([0, 1, 3, pick(in: 0...511)])
            case 2: entry = T.directory + 8 * choose([0, 1, pick(in: 0...511)])
            case 3: entry = T.spareTables + 8 * pick(in: 0...(4 * 512 - 1))
            case 4: entry = T.table + 8 * choose([T.gdt, T.ldt, T.tss, T.haltingIDT, T.returningIDT, T.haltHandler] .map { $0 >> 12 })
            case 5: entry = T.table + 8 * pick(in: 6...14)   // the stacks
            case 6: entry = T.table + 8 * pick(in: 0x100...0x107)   // the tables themselves
            default: entry = T.table + 8 * pick(in: T.codeArea.lowerBound >> 12...(T.codeArea.upperBound >> 12) - 1)
            }
            putQword(pagingEntry(m.physicalQword(at: entry)), at: entry)
        }
    }

    /// `value` changed: not present, a right or NX flipped, PS set (a large page, or reserved in
    /// the PML4), a reserved bit, pointing at another table (a loop), outside RAM, at the ROM or
    /// the APIC's page, or anything at all.
    mutating func pagingEntry(_ value: UInt64) -> UInt64 {
        let frames: [UInt64] = [UInt64(T.pml4), UInt64(T.pdpt), UInt64(T.directory), UInt64(T.table),
                                UInt64(T.spareTables + 0x1000 * pick(in: 0...3)), 0x4000_0000, 0xF_FFFF_F000,
                                0xFEE0_0000, 0xFFFF_0000, 0xF_0000, UInt64(pick(in: T.codeArea)) & ~0xFFF, 0]
        switch pick(in: 0...10) {
        case 0: return value & ~1
        case 1: return value ^ (1 << UInt64(choose([1, 2, 63, 7, 8, 5, 6])))
        case 2: return value | 1 << UInt64(pick(in: 36...51))
        case 3: return value | 1 << UInt64(pick(in: 52...62))
        case 4, 5: return (value & ~0x000F_FFFF_FFFF_F000) | choose(frames)
        case 6: return choose(frames) | 0x87 | (chance(1, in: 2) ? 0x2000 : 0)   // a large page, maybe with PAT set
        case 7: return choose(frames) | UInt64(pick(in: 0...0xFFF))
        case 8: return value ^ (1 << 63)
        default: return next()
        }
    }

    /// CR3: mostly the PML4, sometimes another table, the ROM, beyond RAM, or with low bits set.
    mutating func randomCR3() -> UInt64 {
        if chance(7, in: 8) { return UInt64(T.pml4) | (chance(1, in: 8) ? UInt64(choose([0x8, 0x10, 0x18])) : 0) }
        return choose([UInt64(T.pdpt), UInt64(T.spareTables), 0xFFFF_0000, 0x4000_0000, 0xF_FFFF_F000,
                       UInt64(T.pml4) | UInt64(pick(in: 0...0xFFF)), next() & 0xF_FFFF_FFFF_F000])
    }

    /// The IDT for the run (halting or returning handlers) with some gates changed: type, DPL,
    /// IST, selector, offset (non-canonical, unmapped, into the random code), not present.
    mutating func randomiseIDT() -> Int {
        let idt = chance(1, in: 2) ? T.haltingIDT : T.returningIDT
        if chance(1, in: 3) { return idt }
        for _ in 0..<pick(in: 1...8) {
            let vector = choose([8, 13, 14, 6, 12, 11, 10, 3, 1, 0x80, 0x21, pick(in: 0...255)])
            let entry = idt + 16 * vector
            var low = m.physicalQword(at: entry)
            var high = m.physicalQword(at: entry + 8)
            switch pick(in: 0...8) {
            case 0: low &= ~(1 << 47)
            case 1: low = low & ~(0xF << 40) | UInt64(pick(in: 0...15)) << 40
            case 2: low = low & ~(3 << 45) | UInt64(pick(in: 0...3)) << 45
            case 3, 4: low = low & ~(7 << 32) | UInt64(pick(in: 1...7)) << 32
            case 5: low = low & ~0xFFFF_0000 | UInt64(selector()) << 16
            case 6:
                let offset = address()
                low = low & 0x0000_FFFF_FFFF_0000 | (offset & 0xFFFF) | (offset >> 16 & 0xFFFF) << 48
                high = offset >> 32
            case 7: high = next()
            default:
                low = next()
                high = next()
            }
            putQword(low, at: entry)
            putQword(high, at: entry + 8)
        }
        return idt
    }

    /// RSP0–2 and IST1–7: good stacks or not, and sometimes a different I/O-bitmap offset.
    mutating func randomiseTSS() {
        if chance(1, in: 3) { return }
        for _ in 0..<pick(in: 1...5) {
            let slot = choose([4, 4, 12, 20] + (0..<7).map { 0x24 + 8 * $0 })
            putQword(stackPointer(), at: T.tss + slot)
        }
        if chance(1, in: 4) { put([UInt8](T.bytes(next()).prefix(2)), at: T.tss + 0x66) }
    }

    // MARK: Code

    /// One system instruction with its operands set up; encodings of 64-bit mode (in
    /// compatibility mode the REX prefixes become INC/DEC, which is just more random code).
    mutating func template(is64: Bool) -> [UInt8] {
        let selectorBytes = { (s: UInt16) in [UInt8(truncatingIfNeeded: s), UInt8(truncatingIfNeeded: s >> 8)] }
        let movAX = { (s: UInt16) in [0x66, 0xB8] + selectorBytes(s) }
        let movRAX = { (v: UInt64) in [0x48, 0xB8] + T.bytes(v) }
        let push32 = { (v: UInt32) in [0x68] + T.bytes32(v) }
        switch pick(in: 0...27) {
        case 0, 1:   // MOV Sreg, AX
            return movAX(selector()) + [0x8E, 0xC0 | choose([0, 2, 3, 4, 5]) << 3]
        case 2: return movAX(selector()) + [0x0F, 0x00, 0xD0]   // LLDT AX
        case 3: return movAX(selector()) + [0x0F, 0x00, 0xD8]   // LTR AX
        case 4: return [0xCD, UInt8(choose([0x80, 3, 8, 13, 14, 6, 0x21, pick(in: 0...255)]))]
        case 5: return [choose([0xCC, 0xF1, 0xCE])]
        case 6, 7:   // IRETQ (or IRETD) through a built frame: SS, RSP, RFLAGS, CS, RIP
            let frame = push32(UInt32(selector())) + [0x54, 0x9C] + push32(UInt32(selector()))
                + push32(UInt32(truncatingIfNeeded: chance(3, in: 4) ? UInt64(pick(in: T.codeArea)) : address()))
            return frame + (chance(3, in: 4) ? [0x48, 0xCF] : [0xCF])
        case 8:   // far RET (to an outer level: SS and RSP first)
            let outer = chance(1, in: 2) ? push32(UInt32(selector())) + [0x54] : []
            return outer + push32(UInt32(selector())) + push32(UInt32(pick(in: T.codeArea)))
                + choose([[0x48, 0xCB], [0xCB], [0x48, 0xCA, 0x08, 0x00]])
        case 9, 10:   // far CALL or JMP through a pointer in memory (m16:64 with REX.W, else m16:32)
            let pointer = allocateScratch(10)
            let offset = chance(3, in: 4) ? UInt64(pick(in: T.codeArea)) : address()
            put(T.bytes(offset) + selectorBytes(selector()), at: pointer)
            let wide = chance(3, in: 4)
            if !wide { put(T.bytes32(UInt32(truncatingIfNeeded: offset)) + selectorBytes(selector()), at: pointer) }
            return (wide ? [0x48] : []) + [0xFF, chance(1, in: 2) ? 0x1C : 0x2C, 0x25] + T.bytes32(UInt32(pointer))
        case 11:   // far CALL or JMP direct (#UD in 64-bit mode)
            return [choose([0x9A, 0xEA])] + T.bytes32(UInt32(pick(in: T.codeArea))) + selectorBytes(selector())
        case 12: return choose([[0x0F, 0x05], [0x0F, 0x07], [0x48, 0x0F, 0x07], [0x0F, 0x34], [0x0F, 0x35], [0x48, 0x0F, 0x35]])
        case 13:   // MOV CR3, RAX
            return movRAX(randomCR3()) + [0x0F, 0x22, 0xD8]
        case 14:   // MOV CR0, RAX: paging or protection off, WP, CD/NW, or anything
            let cr0 = choose([0x8000_0011, 0x0000_0011, 0x8001_0011, 0x8000_0010, 0x6000_0011, 0xE000_0011, 0x2000_0011,
                              0x8000_0031, 0x10, next() & 0xFFFF_FFFF]) as UInt64
            return movRAX(cr0) + [0x0F, 0x22, 0xC0]
        case 15:   // MOV CR4, RAX; MOV CR8, RAX
            let cr4 = choose([0x20, 0xA0, 0x0, 0x6B0, 0x30, 0x10, next() & 0x7FF, next() & 0xFFFF_FFFF]) as UInt64
            return chance(3, in: 4) ? movRAX(cr4) + [0x0F, 0x22, 0xE0] : movRAX(UInt64(pick(in: 0...16))) + [0x44, 0x0F, 0x22, 0xC0]
        case 16, 17:   // WRMSR (or RDMSR)
            let index = choose([0xC000_0080, 0xC000_0081, 0xC000_0082, 0xC000_0083, 0xC000_0084, 0xC000_0100,
                                0xC000_0101, 0xC000_0102, 0x174, 0x175, 0x176, 0x277, 0x1B, UInt32(truncatingIfNeeded: next())]) as UInt32
            let value: UInt64 = index == 0xC000_0080 ? choose([0x501, 0xD01, 0x901, 0x100, 0x001, 0x500, next() & 0xFFF]) : address()
            return [0xB9] + T.bytes32(index) + [0xB8] + T.bytes32(UInt32(truncatingIfNeeded: value))
                + [0xBA] + T.bytes32(UInt32(truncatingIfNeeded: value >> 32)) + (chance(5, in: 6) ? [0x0F, 0x30] : [0x0F, 0x32])
        case 18: return movRAX(address()) + [0x0F, 0x01, 0x38]   // INVLPG [RAX]
        case 19:   // LGDT or LIDT from a random pseudo-descriptor
            let pointer = allocateScratch(10)
            let base: UInt64 = chance(1, in: 2) ? UInt64(choose([T.gdt, T.haltingIDT, T.returningIDT, T.ldt])) : address()
            put(selectorBytes(UInt16(choose([0x1FF, 0xFFF, 0x7F, 0, pick(in: 0...0xFFFF)]))) + T.bytes(base), at: pointer)
            return [0x0F, 0x01, chance(1, in: 2) ? 0x14 : 0x1C, 0x25] + T.bytes32(UInt32(pointer))
        case 20: return choose([[0x0F, 0x01, 0xF8], [0x0F, 0x01, 0xF9], [0x0F, 0x06], [0x0F, 0x09], [0x0F, 0xA1], [0x0F, 0xA9], [0x17], [0x1F]])
        case 21:   // LAR, LSL, VERR, VERW
            return movAX(selector()) + choose([[0x0F, 0x02, 0xC0], [0x0F, 0x03, 0xC0], [0x0F, 0x00, 0xE0], [0x0F, 0x00, 0xE8]])
        case 22, 23:   // a store into a paging structure, descriptor table or the TSS
            let target = choose([T.pml4 + 8 * choose([0, 511]), T.pdpt + 8 * choose([0, 1, 3]), T.directory,
                                 T.table + 8 * pick(in: 0...511), T.gdt + 8 * pick(in: 0...63), T.haltingIDT + 16 * pick(in: 0...255),
                                 T.returningIDT + 16 * pick(in: 0...255), T.tss + choose([4, 0x24, 0x2C, 0x66])])
            let value = chance(1, in: 2) ? pagingEntry(m.physicalQword(at: target)) : next()
            return movRAX(value) + [0x48, 0x89, 0x04, 0x25] + T.bytes32(UInt32(target))
        case 24:   // POPFQ of a random value (NT, AC, TF, IOPL, IF)
            return push32(UInt32(truncatingIfNeeded: next()) & 0x0004_7FD7) + [0x9D]
        case 25:   // MOV RSP, a random stack
            return [0x48, 0xBC] + T.bytes(stackPointer())
        case 26:   // MOV DR7 (enable a breakpoint on a random address in DR0)
            return movRAX(address()) + [0x0F, 0x23, 0xC0] + movRAX(next() & 0xFFFF_03FF) + [0x0F, 0x23, 0xF8]
        default:   // CLI, STI, HLT, PUSHF/POPF, CPUID, RDTSC
            return choose([[0xFA], [0xFB], [0xF4], [0x9C, 0x9D], [0x0F, 0xA2], [0x0F, 0x31]])
        }
    }

    mutating func allocateScratch(_ size: Int) -> Int {
        let address = scratch
        scratch += (size + 15) & ~15
        return address
    }
}
