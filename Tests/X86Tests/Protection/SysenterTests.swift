import Testing
@testable import X86
import X86Asm

/// SYSENTER and SYSEXIT (SDM Vol. 2): flat segments derived from IA32_SYSENTER_CS.
@Suite struct SysenterTests {
    typealias Selector = PM.Selector
    /// Kernel code, kernel stack, user code, user stack, as SYSENTER/SYSEXIT expect them.
    static let base: UInt16 = 0x40

    static func layout(_ m: TestMachine) {
        m.setSegment(base, access: PM.codeAccess())
        m.setSegment(base + 8, access: PM.dataAccess())
        m.setSegment(base + 16, access: PM.codeAccess(dpl: 3))
        m.setSegment(base + 24, access: PM.dataAccess(dpl: 3))
    }

    static func writeMSR(_ a: inout Assembler, _ index: Int, _ value: Int) {
        a.mov(.ecx, index)
        a.mov(.eax, value)
        a.xor(.edx, .edx)
        a.wrmsr()
    }

    @Test func sysenterAndSysexitRoundTrip() throws {
        let m = TestMachine.protected()
        Self.layout(m)
        var entry: Label!, user: Label!, back: Label!
        let run = try m.runPM { a in
            entry = a.newLabel(); user = a.newLabel(); back = a.newLabel()
            Self.writeMSR(&a, 0x174, Int(Self.base) | 3)   // RPL bits are ignored
            Self.writeMSR(&a, 0x175, 0x8800)
            a.mov(.ecx, 0x176)
            a.mov(.eax, entry)
            a.xor(.edx, .edx)
            a.wrmsr()
            a.iretToRing3(flags: 0x202)
            a.bind(user)
            a.mov(.esi, .esp)
            a.mov(.edx, back)
            a.sysenter()
            a.bind(entry)
            // Ring 0 now: note the state, then go back to the address in EDX with ESP from ECX.
            a.mov(.bx, .cs)
            a.mov(.bp, .ss)
            a.mov(.edi, .esp)
            a.pushfd()
            a.pop(Mem(disp: 0x3000, size: .dword))
            a.mov(.ecx, .esi)
            a.sysexit()
            a.bind(back)
            a.mov(Mem(disp: 0x3004, size: .word), .cs)
            a.mov(Mem(disp: 0x3006, size: .word), .ss)
            a.mov(Mem(disp: 0x3008, size: .dword), .esp)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == Self.base)
        #expect(m.r16(.rbp) == Self.base + 8)
        #expect(m.r32(.rdi) == 0x8800)
        #expect(m.bus.dword(at: 0x3000) & EFlags.interrupt == 0, "SYSENTER clears IF")
        #expect(m.bus.word(at: 0x3004) == (Self.base + 16) | 3)
        #expect(m.bus.word(at: 0x3006) == (Self.base + 24) | 3)
        #expect(m.bus.dword(at: 0x3008) == PM.userStack)
        let cs = m.events.deliveries.last!.cs
        #expect(cs == (Self.base + 16) | 3, "INT 0x40 came from the SYSEXIT-loaded ring 3")
        _ = user
    }

    @Test func sysenterLoadsFlatCachesWithoutReadingTheGDT() throws {
        let m = TestMachine.protected()
        // Nothing at 0x40–0x5F in the GDT: SYSENTER does not care.
        var entry: Label!
        let run = try m.runPM { a in
            entry = a.newLabel()
            Self.writeMSR(&a, 0x174, Int(Self.base))
            Self.writeMSR(&a, 0x175, 0x8800)
            a.mov(.ecx, 0x176)
            a.mov(.eax, entry)
            a.xor(.edx, .edx)
            a.wrmsr()
            a.enterRing3()
            a.sysenter()
            a.bind(entry)
        }
        m.expectClean(run)
        let cs = m.cpu.segment(.cs), ss = m.cpu.segment(.ss)
        #expect(cs.selector == Self.base && cs.base == 0 && cs.limit == 0xFFFF_FFFF && cs.attributes == 0xC09B)
        #expect(ss.selector == Self.base + 8 && ss.base == 0 && ss.limit == 0xFFFF_FFFF && ss.attributes == 0xC093)
        #expect(m.cpu.cpl == 0)
    }

    @Test func sysexitLoadsRing3FlatCaches() throws {
        let m = TestMachine.protected()
        var back: Label!
        let run = try m.runPM { a in
            back = a.newLabel()
            Self.writeMSR(&a, 0x174, Int(Self.base))
            a.mov(.ecx, 0x6000)
            a.mov(.edx, back)
            a.sysexit()
            a.bind(back)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.stackDword(1) == UInt32(Self.base + 16) | 3)
        #expect(m.stackDword(3) == 0x6000)
        #expect(m.stackDword(4) == UInt32(Self.base + 24) | 3)
    }

    @Test func sysenterWithANullCSMSRIsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            Self.writeMSR(&a, 0x174, 3)
            a.bind(mark)
            a.sysenter()
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func sysexitOutsideRing0IsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            Self.writeMSR(&a, 0x174, Int(Self.base))
            a.enterRing3()
            a.bind(mark)
            a.sysexit()
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func sysexitWithANullCSMSRIsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.sysexit()
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    // MARK: IA-32e mode (SDM Vol. 2, SYSENTER and SYSEXIT; Vol. 3A, 5.8.7.1)

    /// SYSENTER's selectors in the IA-32e tests: CS, SS, then the 32-bit and 64-bit return pairs.
    static let longModeBase: UInt16 = 0x80
    private typealias Gates = LongModeCallGateTests

    /// From 64-bit code at level 3, SYSENTER enters 64-bit code (RIP and RSP take all 64 bits
    /// of the MSRs, which WRMSR and RDMSR carry whole); SYSEXIT with REX.W returns to 64-bit code
    /// in CS = SYSENTER_CS + 32, SS + 40, at RDX with RCX, also above 4 GiB.
    @Test func sysenterAndSysexitQInSixtyFourBitMode() throws {
        var kernel: Label!, back: Label!
        let high = 0x1_0000_0000
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            m.setQword(0x87, at: LongModePagingTests.pdpt + 4 * 8)   // 4–5 GiB → 0–1 GiB
        }) { a in
            kernel = a.newLabel(); back = a.newLabel()
            Self.writeMSR(&a, 0x174, Int(Self.longModeBase))
            a.mov(.ecx, 0x175); a.mov(.eax, 0x8800); a.mov(.edx, 1); a.wrmsr()
            a.mov(.ecx, 0x176); a.lea(.rax, Mem(rip: kernel)); a.mov(.edx, 1); a.wrmsr()
            a.xor(.edx, .edx)
            a.rdmsr()
            a.mov(.r15, .rdx)
            Gates.begin(&a, ring3: true)
            a.movabs(.r10, high)
            a.lea(.rdx, Mem(rip: back)); a.add(.rdx, .r10)
            a.movabs(.rcx, high + Int(PM.userStack))
            a.sysenter()
            a.bind(kernel)
            a.lea(.r8, Mem(rip: 0))
            a.mov(.r9, .rsp)
            a.xor(.ebx, .ebx); a.mov(.bx, .cs)
            a.xor(.ebp, .ebp); a.mov(.bp, .ss)
            a.sysexitq()
            a.bind(back)
            a.mov(.r12, .rsp)
            a.lea(.r13, Mem(rip: 0))
            a.xor(.esi, .esi); a.mov(.si, .cs)
            a.xor(.edi, .edi); a.mov(.di, .ss)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40], "\(m.events.deliveries)")
        #expect(m.cpu.register(.r15) == 1, "RDMSR reads SYSENTER_EIP's upper half back")
        #expect(m.cpu.register(.r8) >> 32 == 1, "RIP took IA32_SYSENTER_EIP's 64 bits")
        #expect(m.cpu.register(.r9) == 0x1_0000_8800, "RSP took IA32_SYSENTER_ESP's 64 bits")
        #expect(m.r16(.rbx) == Self.longModeBase && m.r16(.rbp) == Self.longModeBase + 8)
        #expect(m.cpu.register(.r12) == UInt64(high) + UInt64(PM.userStack), "RSP from RCX")
        #expect(m.cpu.register(.r13) >> 32 == 1, "RIP from RDX, 64-bit code")
        #expect(m.r16(.rsi) == (Self.longModeBase + 32) | 3 && m.r16(.rdi) == (Self.longModeBase + 40) | 3)
        #expect(m.events.deliveries.first?.cs == (Self.longModeBase + 32) | 3)
    }

    /// From compatibility code, SYSENTER still enters 64-bit code (CS.L = 1: a MOV r64, imm64
    /// runs); SYSEXIT without REX.W returns to compatibility code in CS = SYSENTER_CS + 16 with
    /// SS + 24, at EDX with ECX.
    @Test func sysenterFromCompatibilityModeEntersSixtyFourBitCode() throws {
        var kernel: Label!, back: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, a in
            Gates.prepare(m)
            m.cpu.msrs.sysenterCS = UInt64(Self.longModeBase)
            m.cpu.msrs.sysenterESP = 0x8800
            m.cpu.msrs.sysenterEIP = UInt64(a.address(of: kernel)!)
        }) { a in
            kernel = a.newLabel(); back = a.newLabel()
            Gates.begin(&a, ring3: true, cs: Selector.userCode)
            a.bits(.b32)
            a.mov(.edx, back)
            a.mov(.ecx, 0x6000)
            a.sysenter()
            a.bits(.b64)
            a.bind(kernel)
            a.movabs(.r8, 0x1122_3344_5566_7788)
            a.mov(.r9, .rsp)
            a.xor(.ebx, .ebx); a.mov(.bx, .cs)
            a.sysexit()
            a.bits(.b32)
            a.bind(back)
            a.mov(.edi, .esp)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40], "\(m.events.deliveries)")
        #expect(m.cpu.register(.r8) == 0x1122_3344_5566_7788, "64-bit code ran after SYSENTER")
        #expect(m.cpu.register(.r9) == 0x8800 && m.r16(.rbx) == Self.longModeBase)
        #expect(m.r32(.rdi) == 0x6000, "ESP from ECX")
        #expect(m.events.deliveries.first?.cs == (Self.longModeBase + 16) | 3, "back in compatibility code")
        #expect(m.events.deliveries.first?.ip == UInt64(run[back]) + 4, "EIP from EDX: after its MOV and INT")
        #expect(Gates.frameQword(m, 4) == UInt64((Self.longModeBase + 24) | 3), "the SS the INT saw")
    }

    /// SYSEXIT with REX.W to a non-canonical RDX is #GP(0), nothing changed.
    @Test func sysexitQToANonCanonicalAddressIsGP0() throws {
        var mark: Label!
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            m.cpu.msrs.sysenterCS = UInt64(Self.longModeBase)
        }) { a in
            mark = a.newLabel()
            Gates.begin(&a)
            a.mov(.rcx, 0x6000)
            a.movabs(.rdx, 0x0000_8000_0000_0000)
            a.bind(mark)
            a.sysexitq()
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [13])
        #expect(m.events.deliveries.first?.errorCode == 0 && m.events.deliveries.first?.ip == UInt64(run[mark]))
        #expect(m.events.deliveries.first?.cs == LongModeExecutionTests.code64)
    }

    /// IA32_SYSENTER_EIP and ESP hold linear addresses: a non-canonical one is #GP(0).
    @Test func wrmsrOfANonCanonicalSysenterAddressIsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ecx, 0x176)
            a.xor(.eax, .eax)
            a.mov(.edx, 0x8000)
            a.bind(mark)
            a.wrmsr()
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.cpu.msrs.sysenterEIP == 0)
    }

    @Test func sysenterInRealModeIsGP0() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0x174)
            a.mov(.eax, 0x40)
            a.xor(.edx, .edx)
            a.wrmsr()
            a.bind(mark)
            a.sysenter()
        }
    }
}
