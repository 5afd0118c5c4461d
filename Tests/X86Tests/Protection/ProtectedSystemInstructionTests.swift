import Testing
@testable import X86
import X86Asm

/// LAR, LSL, VERR, VERW, ARPL, SLDT, STR, LLDT and LTR (SDM Vol. 2).
@Suite struct ProtectedSystemInstructionTests {
    typealias Selector = PM.Selector
    static let probe: UInt16 = 0x40
    static let ldt: UInt16 = 0x48
    static let secondTSS: UInt16 = 0x50

    /// Runs `instruction` (with the selector in BX and EAX preset to a marker) at CPL 0 or 3,
    /// and returns EAX and ZF afterwards.
    private func probe(_ selector: UInt16, ring3: Bool = false, setup: (TestMachine) -> Void = { _ in },
                       _ instruction: (inout Assembler) -> Void) throws -> (eax: UInt32, zf: Bool) {
        let m = TestMachine.protected()
        setup(m)
        let run = try m.runPM { a in
            if ring3 { a.enterRing3() }
            a.mov(.bx, Int(selector))
            a.mov(.eax, 0xA5A5_A5A5)
            a.cmp(.eax, 0)                      // ZF = 0 beforehand
            instruction(&a)
            a.setcc(.z, .cl)
            a.mov(.edx, .eax)
            if ring3 { a.int(0x40) }
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == (ring3 ? [0x40] : []))
        return (m.r32(.rdx), m.r32(.rcx) & 0xFF == 1)
    }

    private func lar(_ selector: UInt16, ring3: Bool = false, setup: (TestMachine) -> Void = { _ in }) throws -> (eax: UInt32, zf: Bool) {
        try probe(selector, ring3: ring3, setup: setup) { $0.lar(.eax, .bx) }
    }
    private func lsl(_ selector: UInt16, ring3: Bool = false, setup: (TestMachine) -> Void = { _ in }) throws -> (eax: UInt32, zf: Bool) {
        try probe(selector, ring3: ring3, setup: setup) { $0.lsl(.eax, .bx) }
    }
    private func verr(_ selector: UInt16, ring3: Bool = false, setup: (TestMachine) -> Void = { _ in }) throws -> Bool {
        try probe(selector, ring3: ring3, setup: setup) { $0.verr(.bx) }.zf
    }
    private func verw(_ selector: UInt16, ring3: Bool = false, setup: (TestMachine) -> Void = { _ in }) throws -> Bool {
        try probe(selector, ring3: ring3, setup: setup) { $0.verw(.bx) }.zf
    }

    // MARK: LAR

    @Test func larReturnsTheAccessRightsOfASegment() throws {
        let r = try lar(Self.probe) { $0.setSegment(Self.probe, base: 0x1234_5678, limit: 0xABCDE, access: 0xF2, flags: 0xC) }
        #expect(r.zf)
        #expect(r.eax == 0x00C0_F200, "flags, limit 19:16 masked out, access byte")
    }

    @Test func larWithA16BitOperandKeepsTheUpperHalf() throws {
        let r = try probe(Selector.data32) { $0.lar(.ax, .bx) }
        #expect(r.zf)
        #expect(r.eax == 0xA5A5_9300)
    }

    @Test func larAcceptsLDTsTSSsAndCallAndTaskGates() throws {
        for type: UInt8 in [1, 2, 3, 4, 5, 9, 0xB, 0xC] {
            let r = try lar(Self.probe) { $0.setSegment(Self.probe, base: 0, limit: 0x67, access: 0x80 | type, flags: 0) }
            #expect(r.zf, "type \(type)")
            #expect(r.eax == UInt32(0x80 | type) << 8, "type \(type)")
        }
    }

    @Test func larRejectsInterruptAndTrapGatesAndReservedTypes() throws {
        for type: UInt8 in [0, 6, 7, 8, 0xA, 0xD, 0xE, 0xF] {
            let r = try lar(Self.probe) { $0.setSegment(Self.probe, base: 0, limit: 0x67, access: 0x80 | type, flags: 0) }
            #expect(!r.zf, "type \(type)")
            #expect(r.eax == 0xA5A5_A5A5, "type \(type): destination unchanged")
        }
    }

    @Test func larRejectsNullAndOutOfTableSelectors() throws {
        #expect(try !lar(0).zf)
        #expect(try !lar(0x200).zf)
    }

    @Test func larChecksPrivilegeExceptForConformingCode() throws {
        #expect(try !lar(Selector.data32 | 3, ring3: true).zf, "DPL 0 < CPL 3")
        #expect(try !lar(Selector.data32 | 3).zf, "DPL 0 < RPL 3")
        #expect(try lar(Selector.userData, ring3: true).zf)
        #expect(try lar(Self.probe | 3, ring3: true) { $0.setSegment(Self.probe, access: PM.codeAccess(dpl: 0, conforming: true)) }.zf)
        #expect(try !lar(Selector.tss | 3, ring3: true).zf, "a DPL 0 TSS from ring 3")
    }

    @Test func larAndLslAreUDInRealMode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.lar(.ax, .bx)
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.lsl(.ax, .bx)
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.arpl(.ax, .bx)
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.verr(.ax)
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.str(.ax)
        }
    }

    // MARK: LSL

    @Test func lslReturnsTheByteGranularLimit() throws {
        let byte = try lsl(Self.probe) { $0.setSegment(Self.probe, limit: 0x1_2345, access: 0x92, flags: 0x4) }
        #expect(byte.zf)
        #expect(byte.eax == 0x1_2345)
        let page = try lsl(Self.probe) { $0.setSegment(Self.probe, limit: 0x1_2345, access: 0x92, flags: 0xC) }
        #expect(page.eax == 0x1_2345_FFF)
        let tss = try lsl(Selector.tss)
        #expect(tss.zf)
        #expect(tss.eax == 0x67 + 0x2000 / 8 + 1)
    }

    @Test func lslWithA16BitOperandTruncates() throws {
        let r = try probe(Selector.data32) { $0.lsl(.ax, .bx) }
        #expect(r.zf)
        #expect(r.eax == 0xA5A5_FFFF)
    }

    @Test func lslRejectsGates() throws {
        for type: UInt8 in [4, 5, 0xC, 0xE] {
            let r = try lsl(Self.probe) { $0.setSegment(Self.probe, base: 0, limit: 0x67, access: 0x80 | type, flags: 0) }
            #expect(!r.zf, "type \(type)")
            #expect(r.eax == 0xA5A5_A5A5)
        }
        #expect(try lsl(Self.probe) { $0.setSegment(Self.probe, base: 0, limit: 0x67, access: 0x82, flags: 0) }.zf, "LDT")
    }

    @Test func lslChecksPrivilege() throws {
        #expect(try !lsl(Selector.code32, ring3: true).zf)
        #expect(try lsl(Selector.userCode, ring3: true).zf)
    }

    // MARK: VERR, VERW

    @Test func verrAndVerwFollowTheSegmentType() throws {
        #expect(try verr(Selector.data32))
        #expect(try verw(Selector.data32))
        let readOnly: (TestMachine) -> Void = { $0.setSegment(Self.probe, access: PM.dataAccess(writable: false)) }
        #expect(try verr(Self.probe, setup: readOnly))
        #expect(try !verw(Self.probe, setup: readOnly))
        #expect(try verr(Selector.code32))
        #expect(try !verw(Selector.code32))
        let executeOnly: (TestMachine) -> Void = { $0.setSegment(Self.probe, access: PM.codeAccess(readable: false)) }
        #expect(try !verr(Self.probe, setup: executeOnly))
        #expect(try !verr(Selector.tss))
        #expect(try !verw(Selector.tss))
        #expect(try !verr(0))
        #expect(try !verw(0x200))
    }

    @Test func verrAndVerwCheckPrivilege() throws {
        #expect(try !verr(Selector.data32 | 3, ring3: true))
        #expect(try !verw(Selector.data32 | 3, ring3: true))
        #expect(try verw(Selector.userData, ring3: true))
        #expect(try !verr(Selector.code32 | 3, ring3: true))
        let conforming: (TestMachine) -> Void = { $0.setSegment(Self.probe, access: PM.codeAccess(dpl: 0, conforming: true)) }
        #expect(try verr(Self.probe | 3, ring3: true, setup: conforming), "readable conforming code is readable from any level")
        #expect(try !verw(Self.probe | 3, ring3: true, setup: conforming))
        #expect(try verw(Selector.userData & ~3), "RPL 0, DPL 3 at CPL 0")
    }

    @Test func verrTakesAMemoryOperand() throws {
        let m = TestMachine.protected()
        m.bus.setWord(Selector.data32, at: 0x3000)
        m.bus.setWord(Selector.code32, at: 0x3002)
        let run = try m.runPM { a in
            a.verw(Mem(disp: 0x3000))
            a.setcc(.z, .bl)
            a.verw(Mem(disp: 0x3002))
            a.setcc(.z, .bh)
        }
        m.expectClean(run)
        #expect(m.r16(.rbx) == 0x0001)
    }

    @Test func verrDoesNotSetTheAccessedBit() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.probe, access: 0x92)
        let run = try m.runPM { a in
            a.mov(.ax, Int(Self.probe))
            a.verr(.ax)
            a.lar(.ebx, .ax)
            a.lsl(.ebx, .ax)
        }
        m.expectClean(run)
        #expect(m.accessByte(Self.probe) == 0x92)
    }

    // MARK: ARPL

    @Test func arplRaisesTheRPL() throws {
        let m = TestMachine.protected()
        m.bus.setWord(0x1231, at: 0x3000)
        let run = try m.runPM { a in
            a.mov(.ax, 0x0010)
            a.mov(.bx, 0x0003)
            a.arpl(.ax, .bx)
            a.setcc(.z, .cl)
            a.mov(.dx, 0x0022)
            a.arpl(.dx, .bx)                    // 2 < 3: raised
            a.mov(.si, 0x0003)
            a.mov(.bx, 0x0001)
            a.arpl(.si, .bx)                    // 3 ≥ 1: unchanged
            a.setcc(.z, .ch)
            a.mov(.bx, 0x0002)
            a.arpl(Mem(disp: 0x3000), .bx)
        }
        m.expectClean(run)
        #expect(m.r16(.rax) == 0x0013)
        #expect(m.r16(.rdx) == 0x0023)
        #expect(m.r16(.rsi) == 0x0003)
        #expect(m.r16(.rcx) == 0x0001, "ZF set for the raise, clear for no change")
        #expect(m.bus.word(at: 0x3000) == 0x1232)
    }

    // MARK: SLDT, STR, LLDT, LTR

    @Test func strAndSldtStoreTheSelectors() throws {
        let m = TestMachine.protected()
        m.setSystemSegment(Self.ldt, base: UInt32(PM.scratch), limit: 0xFF, type: 2)
        m.bus.setDword(0xFFFF_FFFF, at: 0x3000)
        let run = try m.runPM { a in
            a.mov(.ax, Int(Self.ldt))
            a.lldt(.ax)
            a.mov(.ebx, 0xFFFF_FFFF)
            a.str(.ebx)
            a.mov(.ecx, 0xFFFF_FFFF)
            a.sldt(.ecx)
            a.mov(.edx, 0xFFFF_FFFF)
            a.str(.dx)
            a.sldt(Mem(disp: 0x3000))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == UInt32(Selector.tss), "a 32-bit register gets the selector zero-extended")
        #expect(m.r32(.rcx) == UInt32(Self.ldt))
        #expect(m.r32(.rdx) == 0xFFFF_0000 | UInt32(Selector.tss))
        #expect(m.bus.dword(at: 0x3000) == 0xFFFF_0000 | UInt32(Self.ldt), "memory gets 16 bits")
        #expect(m.cpu.ldtr.base == UInt64(PM.scratch))
        #expect(m.cpu.ldtr.limit == 0xFF)
    }

    /// Runs LLDT (or LTR) of `selector` and returns the machine.
    private func load(_ ltr: Bool, _ selector: UInt16, setup: (TestMachine) -> Void = { _ in }) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ax, Int(selector))
            a.bind(mark)
            if ltr { a.ltr(.ax) } else { a.lldt(.ax) }
        }
        return (m, run, mark)
    }

    @Test func lldtChecksTheDescriptor() throws {
        let (m, run, mark) = try load(false, Selector.tss)
        m.expectException(run, 13, errorCode: UInt32(Selector.tss), at: mark)
        let (l, lrun, lmark) = try load(false, Self.ldt | 4)
        l.expectException(lrun, 13, errorCode: UInt32(Self.ldt | 4), at: lmark)
        let (n, nrun, nmark) = try load(false, Self.ldt) { $0.setSystemSegment(Self.ldt, base: 0, limit: 0xFF, type: 2, present: false) }
        n.expectException(nrun, 11, errorCode: UInt32(Self.ldt), at: nmark)
        let (o, orun, omark) = try load(false, 0x200)
        o.expectException(orun, 13, errorCode: 0x200, at: omark)
    }

    @Test func lldtWithANullSelectorMakesLDTReferencesFault() throws {
        let m = TestMachine.protected()
        m.setSystemSegment(Self.ldt, base: UInt32(PM.scratch), limit: 0xFF, type: 2)
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC), at: PM.scratch + 8)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ax, Int(Self.ldt))
            a.lldt(.ax)
            a.mov(.ax, 0x0C)
            a.mov(.fs, .ax)                     // through the LDT: fine
            a.xor(.eax, .eax)
            a.lldt(.ax)
            a.mov(.ax, 0x0C)
            a.bind(mark)
            a.mov(.gs, .ax)
        }
        m.expectException(run, 13, errorCode: 0x0C, at: mark)
        #expect(m.cpu.segment(.fs).selector == 0x0C)
        #expect(m.cpu.ldtr.selector == 0)
    }

    @Test func ltrMarksTheTSSBusy() throws {
        let m = TestMachine.protected()
        let run = try m.runPM { a in }
        m.expectClean(run)
        #expect(m.accessByte(Selector.tss) == 0x8B)
        #expect(m.cpu.taskRegister.selector == Selector.tss)
        #expect(m.cpu.taskRegister.base == UInt64(ProtectedModeGuest.tssBase))
    }

    @Test func ltrChecksTheDescriptor() throws {
        // The prologue's LTR made the TSS busy: loading it again is #GP.
        let (m, run, mark) = try load(true, Selector.tss)
        m.expectException(run, 13, errorCode: UInt32(Selector.tss), at: mark)
        let (n, nrun, nmark) = try load(true, 0)
        n.expectException(nrun, 13, errorCode: 0, at: nmark)
        let (d, drun, dmark) = try load(true, Selector.data32)
        d.expectException(drun, 13, errorCode: UInt32(Selector.data32), at: dmark)
        let (p, prun, pmark) = try load(true, Self.secondTSS) {
            $0.setSystemSegment(Self.secondTSS, base: 0x5000, limit: 0x67, type: 9, present: false)
        }
        p.expectException(prun, 11, errorCode: UInt32(Self.secondTSS), at: pmark)
        let (l, lrun, lmark) = try load(true, Self.secondTSS | 4)
        l.expectException(lrun, 13, errorCode: UInt32(Self.secondTSS | 4), at: lmark)
    }

    @Test func ltrOfASixteenBitTSS() throws {
        let (m, run, _) = try load(true, Self.secondTSS) {
            $0.setSystemSegment(Self.secondTSS, base: 0x5000, limit: 0x2B, type: 1)
        }
        m.expectClean(run)
        #expect(m.accessByte(Self.secondTSS) == 0x83)
        #expect(m.cpu.taskRegister.attributes & 0xF == 3)
    }
}
