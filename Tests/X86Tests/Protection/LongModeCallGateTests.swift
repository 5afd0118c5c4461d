import Testing
@testable import X86
import X86Asm

/// Call gates in IA-32e mode (SDM Vol. 3A, 5.8.3.1; Vol. 2, CALL, JMP and RET): 16-byte gates
/// to 64-bit code, the stack switch to RSPn with a null SS, 8-byte frames without parameter
/// copy, RETFQ back to the outer level, and the faults of each check. Every vector of a 64-bit
/// IDT leads to a HLT on the IST1 stack, so faults end the run in a known state even when RSPn
/// is broken.
@Suite struct LongModeCallGateTests {
    typealias Selector = PM.Selector
    static let code64 = LongModeExecutionTests.code64
    /// 64-bit code at levels 3 and 1.
    static let user64: UInt16 = 0x48 | 3
    static let ring1Code64: UInt16 = 0x50 | 1
    /// The 16-byte call gate under test (0x60–0x6F) and a second one (0x70–0x7F).
    static let gate: UInt16 = 0x60
    static let secondGate: UInt16 = 0x70
    static let idt = 0x1_2000
    static let idtPointer = 0x1_3100
    static let handler = 0x1_3000
    static let istTop: UInt64 = 0x8C00
    static let ring0Stack: UInt64 = 0x8808
    static let ring1Stack: UInt64 = 0x8400

    /// The 16-byte gate descriptor's two halves.
    static func callGate(target: UInt16, offset: UInt64, dpl: UInt8 = 3, type: UInt8 = 0xC,
                         present: Bool = true) -> (UInt64, UInt64) {
        let access = UInt64((present ? 0x80 : 0) | dpl << 5 | type)
        let low = offset & 0xFFFF | UInt64(target) << 16 | access << 40 | (offset >> 16 & 0xFFFF) << 48
        return (low, offset >> 32)
    }

    static func setGDTEntry(_ m: TestMachine, _ selector: UInt16, _ halves: (UInt64, UInt64)) {
        m.setQword(halves.0, at: ProtectedModeGuest.gdtBase + Int(selector & ~7))
        m.setQword(halves.1, at: ProtectedModeGuest.gdtBase + Int(selector & ~7) + 8)
    }

    /// The 64-bit code segments, the 64-bit IDT (every vector a DPL-3 interrupt gate to the
    /// HLT at `handler` on IST1) and the 64-bit TSS's RSP0, RSP1 and IST1.
    static func prepare(_ m: TestMachine, rsp0: UInt64 = ring0Stack) {
        m.setSegment(user64, access: PM.codeAccess(dpl: 3), flags: 0xA)
        m.setSegment(ring1Code64, access: PM.codeAccess(dpl: 1), flags: 0xA)
        for vector in 0..<256 {
            let low = UInt64(handler & 0xFFFF) | UInt64(code64) << 16 | 1 << 32 | 0xEE << 40 | UInt64(handler >> 16) << 48
            m.setQword(low, at: idt + 16 * vector)
            m.setQword(0, at: idt + 16 * vector + 8)
        }
        m.bus.load([0xF4], at: handler)
        m.bus.setWord(256 * 16 - 1, at: idtPointer)
        m.setQword(UInt64(idt), at: idtPointer + 2)
        let tss = ProtectedModeGuest.tssBase
        m.setQword(rsp0, at: tss + 4)
        m.setQword(ring1Stack, at: tss + 12)
        m.setQword(istTop, at: tss + 0x24)
    }

    /// Loads the 64-bit IDT; with `ring3`, drops to 64-bit code at level 3 with RETFQ
    /// (SS:RSP = user data : `PM.userStack`).
    static func begin(_ a: inout Assembler, ring3: Bool = false, cs: UInt16 = user64) {
        a.lidt(Mem(disp: idtPointer))
        a.mov(.rsp, 0x9000)
        guard ring3 else { return }
        let next = a.newLabel()
        a.push(Int(Selector.userData))
        a.push(Int(PM.userStack))
        a.push(Int(cs))
        a.lea(.rax, Mem(rip: next))
        a.push(.rax)
        a.retf(size: .qword)
        a.bind(next)
    }

    /// Records, in a handler reached through a gate: RSP in R8, CS in RBX, SS in RBP, and the
    /// frame's first four qwords in R11–R14.
    static func recordEntry(_ a: inout Assembler) {
        a.mov(.r8, .rsp)
        a.xor(.ebx, .ebx); a.mov(.bx, .cs)
        a.xor(.ebp, .ebp); a.mov(.bp, .ss)
        a.mov(.r11, Mem(.rsp, size: .qword))
        a.mov(.r12, Mem(.rsp, disp: 8, size: .qword))
        a.mov(.r13, Mem(.rsp, disp: 16, size: .qword))
        a.mov(.r14, Mem(.rsp, disp: 24, size: .qword))
    }

    /// The qword `index` slots above RSP where the CPU halted (the handler's frame).
    static func frameQword(_ m: TestMachine, _ index: Int) -> UInt64 {
        m.physicalQword(at: Int(m.cpu.register(.rsp)) + 8 * index)
    }

    /// 64-bit code at level 3 calls level-0 code through a gate (CALL m16:64; the pointer's offset
    /// is ignored): RSP0 unaligned and unchanged by alignment, SS null, the old SS, RSP, CS and RIP
    /// in 8-byte slots; RETFQ pops them all back.
    @Test func ring3CallsRing0AndRETFQReturns() throws {
        var kernel: Label!, back: Label!, pointer: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, a in
            Self.prepare(m)
            Self.setGDTEntry(m, Self.gate, Self.callGate(target: Self.code64, offset: UInt64(a.address(of: kernel)!)))
        }) { a in
            kernel = a.newLabel(); back = a.newLabel(); pointer = a.newLabel()
            Self.begin(&a, ring3: true)
            a.callFar(Mem(rip: pointer, size: .qword))
            a.bind(back)
            a.mov(.r15, .rsp)
            a.xor(.ecx, .ecx); a.mov(.cx, .ss)
            a.xor(.edx, .edx); a.mov(.dx, .cs)
            a.int(0x40)
            a.bind(kernel)
            Self.recordEntry(&a)
            a.retf(size: .qword)
            a.bind(pointer)
            a.dq(0xDEAD_BEEF)
            a.dw(Self.gate | 3)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40], "\(m.events.deliveries)")
        #expect(m.cpu.register(.r8) == Self.ring0Stack - 32, "four slots below RSP0, no 16-byte alignment")
        #expect(m.cpu.register(.rbx) == UInt64(Self.code64), "CS.RPL = new CPL 0")
        #expect(m.cpu.register(.rbp) == 0, "SS: the null selector with RPL 0")
        #expect(m.cpu.register(.r11) == UInt64(run[back]), "RIP")
        #expect(m.cpu.register(.r12) == UInt64(Self.user64), "CS")
        #expect(m.cpu.register(.r13) == UInt64(PM.userStack), "RSP")
        #expect(m.cpu.register(.r14) == UInt64(Selector.userData), "SS")
        #expect(m.cpu.register(.r15) == UInt64(PM.userStack), "RETFQ restored RSP")
        #expect(m.cpu.register(.rcx) == UInt64(Selector.userData) && m.cpu.register(.rdx) == UInt64(Self.user64))
        #expect(m.events.deliveries.first?.cs == Self.user64, "INT 0x40 came from level 3")
    }

    /// Compatibility code at level 3 calls level-1 64-bit code (CALL ptr16:32): RSP1, SS null with
    /// RPL 1, the 32-bit return address in an 8-byte slot; RETFQ goes back to compatibility mode.
    @Test func compatibilityCodeCallsRing1SixtyFourBitCode() throws {
        var ring1: Label!, back: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, a in
            Self.prepare(m)
            Self.setGDTEntry(m, Self.gate, Self.callGate(target: Self.ring1Code64 & ~3, offset: UInt64(a.address(of: ring1)!)))
        }) { a in
            ring1 = a.newLabel(); back = a.newLabel()
            Self.begin(&a, ring3: true, cs: Selector.userCode)
            a.bits(.b32)
            a.callFar(segment: Self.gate | 3, offset: 0x1234)
            a.bind(back)
            a.mov(.edi, .esp)
            a.xor(.ecx, .ecx); a.mov(.cx, .ss)
            a.xor(.edx, .edx); a.mov(.dx, .cs)
            a.int(0x40)
            a.bits(.b64)
            a.bind(ring1)
            Self.recordEntry(&a)
            a.retf(size: .qword)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40], "\(m.events.deliveries)")
        #expect(m.cpu.register(.r8) == Self.ring1Stack - 32, "RSP1 from the TSS")
        #expect(m.cpu.register(.rbx) == UInt64(Self.ring1Code64))
        #expect(m.cpu.register(.rbp) == 1, "SS: the null selector with RPL 1")
        #expect(m.cpu.register(.r11) == UInt64(run[back]))
        #expect(m.cpu.register(.r12) == UInt64(Selector.userCode))
        #expect(m.cpu.register(.r13) == UInt64(PM.userStack))
        #expect(m.cpu.register(.r14) == UInt64(Selector.userData))
        #expect(m.r32(.rdi) == PM.userStack && m.r16(.rcx) == Selector.userData && m.r16(.rdx) == Selector.userCode)
        #expect(m.events.deliveries.first?.cs == Selector.userCode, "back in compatibility code at level 3")
    }

    /// At the same level a CALL through a gate pushes CS and RIP in 8-byte slots on the current
    /// stack and leaves SS alone; a JMP through a gate just goes. Both entries lie above 4 GiB
    /// (a 1 GiB page maps 4–5 GiB onto 0–1 GiB), so the gate's upper half supplies bits 63:32.
    @Test func sameLevelCallAndJumpReachEntriesAboveFourGiB() throws {
        var callee: Label!, back: Label!, target: Label!, callPointer: Label!, jumpPointer: Label!
        let high: UInt64 = 0x1_0000_0000
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, a in
            Self.prepare(m)
            m.setQword(0x87, at: LongModePagingTests.pdpt + 4 * 8)
            Self.setGDTEntry(m, Self.gate, Self.callGate(target: Self.code64, offset: high + UInt64(a.address(of: callee)!), dpl: 0))
            Self.setGDTEntry(m, Self.secondGate, Self.callGate(target: Self.code64, offset: high + UInt64(a.address(of: target)!), dpl: 0))
        }) { a in
            callee = a.newLabel(); back = a.newLabel(); target = a.newLabel()
            callPointer = a.newLabel(); jumpPointer = a.newLabel()
            Self.begin(&a)
            a.callFar(Mem(rip: callPointer, size: .dword))     // m16:32: the gate's size rules
            a.bind(back)
            a.mov(.r15, .rsp)
            a.jmpFar(Mem(rip: jumpPointer, size: .qword))
            a.bind(callee)
            a.lea(.r9, Mem(rip: 0))
            Self.recordEntry(&a)
            a.retf(size: .qword)
            a.bind(callPointer)
            a.dd(0)
            a.dw(Self.gate)
            a.bind(jumpPointer)
            a.dq(0)
            a.dw(Self.secondGate)
            a.bind(target)
            a.lea(.r10, Mem(rip: 0))
        }
        m.expectClean(run)
        #expect(m.cpu.register(.r9) >> 32 == 1 && m.cpu.register(.r10) >> 32 == 1, "ran above 4 GiB")
        #expect(m.cpu.register(.r8) == 0x9000 - 16, "two 8-byte slots on the current stack")
        #expect(m.cpu.register(.r11) == UInt64(run[back]) && m.cpu.register(.r12) == UInt64(Self.code64))
        #expect(m.cpu.register(.rbp) == UInt64(Selector.data32), "SS unchanged")
        #expect(m.cpu.register(.r15) == 0x9000)
        #expect(m.cpu.instructionPointer >> 32 == 1)
    }

    enum Fault: CaseIterable {
        case legacyGateFollowedByADescriptor, upperTypeNotZero, sixteenBitGateNotPresent, interruptGate
        case gateNotPresent, gateAtTheGDTLimit, gateAtTheLDTLimit, targetIsCompatibilityCode, nullTarget
        case nonCanonicalEntry, gateDPLBelowCPL, jumpToAnInnerLevel, nonCanonicalRSP0, frameLeavesCanonicalSpace
    }

    /// Each check of a far CALL (or JMP) through a gate in IA-32e mode, and the exception it
    /// raises (SDM Vol. 2, CALL and JMP, "IA-32e mode" and 64-bit mode exceptions).
    @Test(arguments: Fault.allCases)
    func checksAndTheirFaults(_ fault: Fault) throws {
        let entry = UInt64(0x2_0000)
        var gate = Self.gate
        var jump = false
        var rsp0 = Self.ring0Stack
        var expected: (vector: UInt8, errorCode: UInt32)
        var halves = Self.callGate(target: Self.code64, offset: entry)
        var extra: (TestMachine) -> Void = { _ in }
        switch fault {
        case .legacyGateFollowedByADescriptor:
            // A legacy layout: the next GDT entry, a code segment, is read as the upper half.
            halves.1 = UInt64(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: 0x9A, flags: 0xC)
                .enumerated().reduce(0) { $0 | UInt64($1.element) << (8 * $1.offset) })
            expected = (13, UInt32(gate))
        case .upperTypeNotZero:
            halves.1 = 0xC << 40
            expected = (13, UInt32(gate))
        case .sixteenBitGateNotPresent:
            halves = Self.callGate(target: Self.code64, offset: entry, type: 4, present: false)
            expected = (13, UInt32(gate))
        case .interruptGate:
            halves = Self.callGate(target: Self.code64, offset: entry, type: 0xE)
            expected = (13, UInt32(gate))
        case .gateNotPresent:
            halves = Self.callGate(target: Self.code64, offset: entry, present: false)
            expected = (11, UInt32(gate))
        case .gateAtTheGDTLimit:
            gate = PM.gdtLimit & ~7                          // its first 8 bytes are the table's last
            expected = (13, UInt32(gate))
        case .gateAtTheLDTLimit:
            // An LDT of 0x18 bytes at 0x1_4000: a gate at 0x10 has only its lower half inside.
            gate = 0x10 | 4
            let ldt: UInt16 = 0x80
            extra = { m in
                Self.setGDTEntry(m, ldt, (0x17 | 0x4000 << 16 | 0x1 << 32 | 0x82 << 40, 0))
                m.setQword(halves.0, at: 0x1_4010)
                m.setQword(halves.1, at: 0x1_4018)
            }
            expected = (13, UInt32(gate))
        case .targetIsCompatibilityCode:
            halves = Self.callGate(target: Selector.code32, offset: entry)
            expected = (13, UInt32(Selector.code32))
        case .nullTarget:
            halves = Self.callGate(target: 0, offset: entry)
            expected = (13, 0)
        case .nonCanonicalEntry:
            halves = Self.callGate(target: Self.code64, offset: 0x0000_8000_0000_0000)
            expected = (13, 0)
        case .gateDPLBelowCPL:
            halves = Self.callGate(target: Self.code64, offset: entry, dpl: 0)
            expected = (13, UInt32(gate))
        case .jumpToAnInnerLevel:
            jump = true
            expected = (13, UInt32(Self.code64))
        case .nonCanonicalRSP0:
            rsp0 = 0x0000_8000_0000_0000
            expected = (12, 0)
        case .frameLeavesCanonicalSpace:
            rsp0 = 0xFFFF_8000_0000_0010                   // canonical, but 32 bytes below it is not
            expected = (12, 0)
        }
        var mark: Label!, pointer: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Self.prepare(m, rsp0: rsp0)
            if fault != .gateAtTheLDTLimit {
                m.setQword(halves.0, at: ProtectedModeGuest.gdtBase + Int(gate & ~7))
                if gate & ~7 != PM.gdtLimit & ~7 { m.setQword(halves.1, at: ProtectedModeGuest.gdtBase + Int(gate & ~7) + 8) }
            }
            extra(m)
        }) { a in
            mark = a.newLabel(); pointer = a.newLabel()
            if fault == .gateAtTheLDTLimit {
                a.mov(.eax, 0x80)
                a.lldt(.ax)
            }
            Self.begin(&a, ring3: true)
            a.bind(mark)
            if jump { a.jmpFar(Mem(rip: pointer, size: .qword)) } else { a.callFar(Mem(rip: pointer, size: .qword)) }
            a.bind(pointer)
            a.dq(0)
            a.dw(gate | 3)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [expected.vector], "\(m.events.deliveries)")
        #expect(m.events.deliveries.first?.errorCode == expected.errorCode)
        #expect(m.events.deliveries.first?.ip == UInt64(run[mark]), "reported at the CALL or JMP")
        #expect(m.events.deliveries.first?.cs == Self.user64, "nothing changed before the fault")
        #expect(Self.frameQword(m, 4) == UInt64(PM.userStack), "the interrupted RSP")
    }

    /// A 16-byte IDT gate whose upper half lies beyond the IDT's limit is #GP(vector × 8 + 2).
    @Test func idtGateAcrossTheLimitIsGP() throws {
        var mark: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Self.prepare(m)
            m.bus.setWord(0x40 * 16 + 7, at: Self.idtPointer)   // vector 0x40's first 8 bytes only
        }) { a in
            mark = a.newLabel()
            Self.begin(&a)
            a.bind(mark)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40, 13])
        let errorCode: UInt32? = 0x40 * 8 + 2
        #expect(m.events.deliveries.last?.errorCode == errorCode, "\(m.events.deliveries)")
        #expect(Self.frameQword(m, 1) == UInt64(run[mark]), "the #GP frame's RIP: the INT itself")
    }
}
