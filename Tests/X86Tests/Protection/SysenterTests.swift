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
