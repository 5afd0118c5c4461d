import Testing
@testable import X86
import X86Asm

/// Direct far transfers between code segments, far RET across privilege levels, privileged
/// and IOPL-sensitive instructions, and POPF's privilege rules (SDM Vol. 3A, 5.8; Vol. 2).
@Suite struct PrivilegeTests {
    typealias Selector = PM.Selector
    static let conforming: UInt16 = 0x40
    static let other: UInt16 = 0x48

    private func inRing3(setup: (TestMachine) -> Void = { _ in }, _ body: (inout Assembler, Label) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.enterRing3()
            body(&a, mark)
            a.int(0x40)
        }
        return (m, run, mark)
    }

    @Test func farCallToConformingCodeKeepsCPLAndReturns() throws {
        var routine: Label!, back: Label!
        let (m, run, _) = try inRing3(setup: { $0.setSegment(Self.conforming, access: PM.codeAccess(dpl: 0, conforming: true)) }) { a, _ in
            routine = a.newLabel(); back = a.newLabel()
            a.callFar(segment: Self.conforming, routine)
            a.bind(back)
            a.mov(.dx, .cs)
            a.int(0x40)
            a.bind(routine)
            a.mov(.bx, .cs)
            a.mov(.ecx, Mem(.esp, size: .dword))
            a.mov(.esi, Mem(.esp, disp: 4, size: .dword))
            a.retf()
        }
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == Self.conforming | 3, "CS.RPL stays the CPL")
        #expect(m.r32(.rcx) == run[back])
        #expect(m.r32(.rsi) == UInt32(Selector.userCode))
        #expect(m.r16(.rdx) == Selector.userCode)
    }

    @Test func farCallToMorePrivilegedNonConformingCodeIsGP() throws {
        let (m, run, mark) = try inRing3 { a, mark in
            a.bind(mark)
            a.callFar(segment: Selector.code32 | 3, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
        #expect(m.stackDword(4) == PM.userStack, "nothing was pushed")
    }

    @Test func farJumpToLessPrivilegedCodeIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Selector.userCode, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.userCode & ~3), at: mark)
    }

    @Test func farJumpWithRPLAboveCPLIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Selector.code32 | 1, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
    }

    @Test func farJumpToConformingCodeLessPrivilegedThanCPLIsGP() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.conforming, access: PM.codeAccess(dpl: 3, conforming: true))
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Self.conforming, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: UInt32(Self.conforming), at: mark)
    }

    @Test func farJumpToANotPresentSegmentIsNP() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.other, access: PM.codeAccess(present: false))
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Self.other, offset: 0x7C00)
        }
        m.expectException(run, 11, errorCode: UInt32(Self.other), at: mark)
    }

    @Test func farJumpToADataSegmentIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Selector.data32, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
    }

    @Test func farJumpToANullSelectorIsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: 2, offset: 0x7C00)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func farJumpBeyondTheLimitIsGP0() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.other, limit: 0x7FFF, access: PM.codeAccess(), flags: 0x4)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.bind(mark)
            a.jmpFar(segment: Self.other, offset: 0x8000)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.stackDword(2) == UInt32(Selector.code32))
    }

    @Test func farJumpIntoSixteenBitCodeAndBack() throws {
        let m = TestMachine.protected()
        var sixteen: Label!, back: Label!
        let run = try m.runPM { a in
            sixteen = a.newLabel(); back = a.newLabel()
            a.mov(.ebx, 0xFFFF_FFFF)
            a.jmpFar(segment: Selector.code16, sixteen)
            a.bits(.b16)
            a.bind(sixteen)
            a.mov(.bx, 0x1234)                  // 16-bit operand without a prefix
            a.jmpFar(segment: Selector.code32, back, size: .dword)
            a.bits(.b32)
            a.bind(back)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xFFFF_1234)
        #expect(m.cpu.segment(.cs).defaultSize32)
    }

    @Test func farCallWhoseReturnAddressDoesNotFitIsSS0AndChangesNothing() throws {
        // Ring 3 on a stack whose limit is 0x6FFF, ESP 3 bytes beyond it: the CS push cannot fit.
        let m = TestMachine.protected()
        m.setSegment(Self.other, limit: 0x6FFF, access: PM.dataAccess(dpl: 3), flags: 0x4)
        m.setSegment(Self.conforming, access: PM.codeAccess(dpl: 0, conforming: true))
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.iretToRing3(flags: 0x2, stack: 0x7002, ss: Self.other | 3)
            a.bind(mark)
            a.callFar(segment: Self.conforming, offset: 0x7C00)
        }
        m.expectException(run, 12, errorCode: 0)
        #expect(m.stackDword(1) == run[mark])
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
        #expect(m.stackDword(4) == 0x7002)
        #expect(m.stackDword(5) == UInt32(Self.other | 3))
    }

    // MARK: RET

    @Test func farReturnToRing3LoadsItsStackAndNullsPrivilegedSegments() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.other, access: PM.codeAccess(dpl: 0, conforming: true))
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.mov(.ax, Int(Self.other))
            a.mov(.fs, .ax)                     // conforming code: kept
            a.mov(.ax, Int(Selector.userData))
            a.mov(.gs, .ax)                     // DPL 3 data: kept
            a.push(Int(Selector.userData))
            a.push(Int(PM.userStack))
            a.push(0x1111)                      // parameters released by RET 8 …
            a.push(0x2222)
            a.push(Int(Selector.userCode))
            a.push(target)
            a.retf(8)
            a.bind(target)
            a.mov(.ebx, .esp)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == PM.userStack + 8, "… from the outer stack too")
        #expect(m.cpu.segment(.ds).selector == 0)
        #expect(m.cpu.segment(.es).selector == 0)
        #expect(m.cpu.segment(.fs).selector == Self.other)
        #expect(m.cpu.segment(.gs).selector == Selector.userData)
        #expect(m.cpu.segment(.ds).attributes & SegmentCache.unusable != 0)
    }

    @Test func farReturnToAMorePrivilegedLevelIsGP() throws {
        let (m, run, mark) = try inRing3 { a, mark in
            a.push(Int(Selector.code32))
            a.push(0x7C00)
            a.bind(mark)
            a.retf()
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
    }

    @Test func farReturnWithAStackOfAnotherPrivilegeIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.push(Int(Selector.data32 | 3))    // RPL 3, DPL 0
            a.push(Int(PM.userStack))
            a.push(Int(Selector.userCode))
            a.push(0x7C00)
            a.bind(mark)
            a.retf()
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
        #expect(m.cpu.segment(.cs).selector == Selector.code32)
    }

    @Test func farReturnToANotPresentStackIsSS() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.other, access: PM.dataAccess(dpl: 3, present: false))
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.push(Int(Self.other | 3))
            a.push(Int(PM.userStack))
            a.push(Int(Selector.userCode))
            a.push(0x7C00)
            a.bind(mark)
            a.retf()
        }
        m.expectException(run, 12, errorCode: UInt32(Self.other), at: mark)
    }

    @Test func farReturnAtTheSameLevelReleasesParameters() throws {
        let m = TestMachine.protected()
        var routine: Label!
        let run = try m.runPM { a in
            routine = a.newLabel()
            let done = a.newLabel()
            a.push(1)
            a.push(2)
            a.callFar(segment: Selector.code32, routine)
            a.mov(.ebx, .esp)
            a.jmp(done)
            a.bind(routine)
            a.retf(8)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == ProtectedModeGuest.kernelStackTop)
    }

    // MARK: Privileged instructions

    /// Each of these raises #GP(0) at CPL 3.
    @Test(arguments: [
        ("hlt", [0xF4]), ("lgdt", [0x0F, 0x01, 0x15, 0, 0x30, 0, 0]), ("lidt", [0x0F, 0x01, 0x1D, 0, 0x30, 0, 0]),
        ("lldt", [0x0F, 0x00, 0xD0]), ("ltr", [0x0F, 0x00, 0xD8]), ("mov cr0", [0x0F, 0x22, 0xC0]),
        ("mov eax, cr3", [0x0F, 0x20, 0xD8]), ("mov dr7", [0x0F, 0x23, 0xF8]), ("mov eax, dr6", [0x0F, 0x21, 0xF0]),
        ("clts", [0x0F, 0x06]), ("invlpg", [0x0F, 0x01, 0x38]), ("rdmsr", [0x0F, 0x32]), ("wrmsr", [0x0F, 0x30]),
        ("invd", [0x0F, 0x08]), ("wbinvd", [0x0F, 0x09]), ("lmsw", [0x0F, 0x01, 0xF0]),
        ("cli", [0xFA]), ("sti", [0xFB]),
    ] as [(String, [UInt8])])
    func privilegedInstructionsAreGPAtRing3(_ name: String, _ bytes: [UInt8]) throws {
        let (m, run, mark) = try inRing3 { a, mark in
            a.xor(.eax, .eax)
            a.bind(mark)
            a.emit(bytes)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test(arguments: [
        ("sgdt", [0x0F, 0x01, 0x05, 0, 0x30, 0, 0]), ("sidt", [0x0F, 0x01, 0x0D, 0, 0x30, 0, 0]),
        ("smsw", [0x0F, 0x01, 0xE0]), ("str", [0x0F, 0x00, 0xC8]), ("sldt", [0x0F, 0x00, 0xC0]),
        ("rdtsc", [0x0F, 0x31]), ("rdtscp", [0x0F, 0x01, 0xF9]), ("cpuid", [0x0F, 0xA2]),
    ] as [(String, [UInt8])])
    func unprivilegedSystemInstructionsRunAtRing3(_ name: String, _ bytes: [UInt8]) throws {
        let (m, run, _) = try inRing3 { a, _ in
            a.emit(bytes)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
    }

    /// CR4.TSD makes RDTSC and RDTSCP privileged: #GP(0) at CPL 3, with RDTSCP's ECX untouched.
    @Test(arguments: [false, true])
    func timeStampReadsArePrivilegedWithTSD(withAuxiliary: Bool) throws {
        let m = TestMachine.protected()
        var mark: Label!
        let read = { (a: inout Assembler) in if withAuxiliary { a.rdtscp() } else { a.rdtsc() } }
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.eax, Int(ControlRegister4.timeStampDisable))
            a.mov(.cr4, .eax)
            read(&a)                            // CPL 0: allowed
            a.enterRing3()
            a.mov(.ecx, 0x5555)
            a.bind(mark)
            read(&a)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.r32(.rcx) == 0x5555)
    }

    @Test func cliAndStiFollowIOPL() throws {
        let m = TestMachine.protected()
        let run = try m.runPM { a in
            a.iretToRing3(flags: 0x3002)        // IOPL 3
            a.sti()
            a.cli()
            a.pushfd()
            a.pop(.ebx)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) & EFlags.interrupt == 0)
    }

    @Test func popfAtRing3LeavesIOPLAndIFAlone() throws {
        let (m, run, _) = try inRing3 { a, _ in
            a.push(0x3202 | Int(EFlags.direction | EFlags.carry))
            a.popfd()
            a.pushfd()
            a.pop(.ebx)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x2 | EFlags.direction | EFlags.carry)
    }

    @Test func popfAtRing0SetsIOPLButNeverVM() throws {
        let m = TestMachine.protected()
        let run = try m.runPM { a in
            a.push(0x3002 | Int(EFlags.virtual8086 | EFlags.virtualInterrupt | EFlags.virtualInterruptPending))
            a.popfd()
            a.pushfd()
            a.pop(.ebx)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x3002)
    }
}
