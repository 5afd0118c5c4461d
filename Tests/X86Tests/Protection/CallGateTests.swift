import Testing
@testable import X86
import X86Asm

/// Call gates (SDM Vol. 3A, 5.8.3–5.8.6; Vol. 2, CALL and JMP): privilege checks, the stack
/// switch through the TSS with parameter copy, 16- and 32-bit gates, and the return.
@Suite struct CallGateTests {
    typealias Selector = PM.Selector
    static let gate: UInt16 = 0x40
    static let code1: UInt16 = 0x50 | 1
    static let data1: UInt16 = 0x58 | 1
    static let badStack: UInt16 = 0x60
    static let ring1StackTop: UInt32 = 0xA000
    /// Where handlers copy the frame they were entered with (later events reuse the stack).
    static let copy = 0x3000

    /// Copies `dwords` dwords from the top of the stack to `copy` (ESI, EDI, ECX clobbered).
    static func copyFrame(_ a: inout Assembler, dwords: Int) {
        a.mov(.esi, .esp)
        a.mov(.edi, copy)
        a.mov(.ecx, dwords)
        a.cld()
        a.movsd(.rep)
    }

    /// Adds ring-1 code and data and the TSS's ring-1 stack.
    static func addRing1(_ m: TestMachine) {
        m.setSegment(code1, access: PM.codeAccess(dpl: 1))
        m.setSegment(data1, access: PM.dataAccess(dpl: 1))
        m.setTSSStack(level: 1, ss: data1, esp: ring1StackTop)
    }

    @Test func ring3CallsRing0ThroughA32BitGateCopyingParameters() throws {
        let m = TestMachine.protected()
        var entry: Label!, back: Label!, after: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); back = a.newLabel(); after = a.newLabel()
            a.enterRing3()
            a.push(0xBBBB)
            a.push(0xAAAA)
            a.callFar(segment: Self.gate | 3, offset: 0)
            a.bind(back)
            a.mov(.edi, .esp)
            a.int(0x40)
            a.bind(entry)
            // Ring 0: record the frame, then return with the two parameters released.
            a.mov(.ebx, .esp)
            a.mov(.ebp, .cs)
            a.mov(.edx, Mem(.esp, disp: 8, size: .dword))
            Self.copyFrame(&a, dwords: 6)
            a.retf(8)
            a.bind(after)
        }, prepare: { a in
            m.setGate(Self.gate, target: Selector.code32, offset: a.address(of: entry)!, type: 0xC, dpl: 3, parameters: 2)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        // The frame on the ring-0 stack: EIP, CS, the parameters in their order, ESP, SS.
        let top = ProtectedModeGuest.kernelStackTop
        #expect(m.r32(.rbx) == top - 24)
        let frame = (0..<6).map { m.bus.dword(at: Self.copy + 4 * $0) }
        #expect(frame == [run[back], UInt32(Selector.userCode), 0xAAAA, 0xBBBB, PM.userStack - 8, UInt32(Selector.userData)])
        #expect(m.r32(.rbp) == UInt32(Selector.code32), "CS.RPL = new CPL 0")
        #expect(m.r32(.rdx) == 0xAAAA)
        // RET 8 released the parameters from both stacks.
        #expect(m.r32(.rdi) == PM.userStack)
        #expect(m.accessByte(Selector.code32) & 1 == 1)
    }

    @Test func ring3CallsRing0ThroughA16BitGate() throws {
        let m = TestMachine.protected()
        var entry: Label!, back: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); back = a.newLabel()
            a.enterRing3()
            a.push(0x2222_BBBB)
            a.push(0x1111_AAAA)
            a.callFar(segment: Self.gate | 3, offset: 0x1234_5678)
            a.bind(back)
            a.mov(.edi, .esp)
            a.int(0x40)
            a.bind(entry)
            a.mov(.ebx, .esp)
            Self.copyFrame(&a, dwords: 3)
            a.retf(size: .word, 4)   // o16 retf 4: two word parameters
        }, prepare: { a in
            // A 286 gate: words pushed, two word parameters copied, 16-bit entry offset.
            m.setGate(Self.gate, target: Selector.code32, offset: a.address(of: entry)!, type: 0x4, dpl: 3, parameters: 2)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        let top = Int(ProtectedModeGuest.kernelStackTop)
        #expect(m.r32(.rbx) == UInt32(top - 12))
        let words = (0..<6).map { m.bus.word(at: Self.copy + 2 * $0) }
        #expect(words == [UInt16(run[back] & 0xFFFF), Selector.userCode, 0xAAAA, 0x1111, UInt16(PM.userStack - 8), Selector.userData])
        // RETF 4 released two words from each stack: the 16-bit return goes back to ESP - 8 + 4.
        #expect(m.r32(.rdi) == PM.userStack - 4)
    }

    @Test func callThroughAGateAtTheSameLevelPushesOnlyTheReturnAddress() throws {
        let m = TestMachine.protected()
        var entry: Label!, back: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); back = a.newLabel()
            a.push(0xAAAA)
            a.callFar(segment: Self.gate, offset: 0)
            a.bind(back)
            a.hlt()
            a.bind(entry)
            a.mov(.esi, .esp)
            a.mov(.ebx, Mem(.esp, size: .dword))
            a.mov(.ecx, Mem(.esp, disp: 4, size: .dword))
            a.mov(.edx, Mem(.esp, disp: 8, size: .dword))
            a.retf()
        }, prepare: { a in
            m.setGate(Self.gate, target: Selector.code32, offset: a.address(of: entry)!, type: 0xC, parameters: 3)
        })
        m.expectClean(run)
        let top = ProtectedModeGuest.kernelStackTop
        #expect(m.r32(.rsi) == top - 12)
        #expect(m.r32(.rbx) == run[back])
        #expect(m.r32(.rcx) == UInt32(Selector.code32))
        #expect(m.r32(.rdx) == 0xAAAA)
        #expect(m.r32(.rsp) == top - 4)
    }

    @Test func jumpThroughAGateAtTheSameLevel() throws {
        let m = TestMachine.protected()
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.jmpFar(segment: Self.gate, offset: 0)
            a.mov(.ebx, 1)
            a.hlt()
            a.bind(entry)
            a.mov(.ebx, 2)
            a.mov(.esi, .esp)
        }, prepare: { a in
            m.setGate(Self.gate, target: Selector.code32, offset: a.address(of: entry)!, type: 0xC)
        })
        m.expectClean(run)
        #expect(m.r32(.rbx) == 2)
        #expect(m.r32(.rsi) == ProtectedModeGuest.kernelStackTop)
    }

    @Test func jumpThroughAGateToAMorePrivilegedSegmentIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM({ a in
            mark = a.newLabel()
            a.enterRing3()
            a.bind(mark)
            a.jmpFar(segment: Self.gate | 3, offset: 0)
        }, prepare: { _ in
            m.setGate(Self.gate, target: Selector.code32, offset: 0x7C00, type: 0xC, dpl: 3)
        })
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
    }

    @Test func jumpThroughAGateToConformingCodeKeepsCPL() throws {
        let m = TestMachine.protected()
        m.setSegment(0x48, access: PM.codeAccess(dpl: 0, conforming: true))
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enterRing3()
            a.jmpFar(segment: Self.gate | 3, offset: 0)
            a.bind(entry)
            a.mov(.bx, .cs)
            a.int(0x40)
        }, prepare: { a in
            m.setGate(Self.gate, target: 0x48, offset: a.address(of: entry)!, type: 0xC, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == 0x48 | 3)
    }

    @Test func callThroughAGateToConformingCodeStaysAtTheCallersLevelAndStack() throws {
        let m = TestMachine.protected()
        m.setSegment(0x48, access: PM.codeAccess(dpl: 0, conforming: true))
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enterRing3()
            a.push(0xAAAA)
            a.callFar(segment: Self.gate | 3, offset: 0)
            a.bind(entry)
            a.mov(.bx, .cs)
            a.mov(.esi, .esp)
            a.int(0x40)
        }, prepare: { a in
            m.setGate(Self.gate, target: 0x48, offset: a.address(of: entry)!, type: 0xC, dpl: 3, parameters: 1)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == 0x48 | 3)
        #expect(m.r32(.rsi) == PM.userStack - 12)
    }

    // MARK: Gate checks

    private func callGate(_ gateSelector: UInt16, from ring3: Bool = true, setup: (TestMachine) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        Self.addRing1(m)
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            if ring3 { a.enterRing3() }
            a.push(0x1234)
            a.mov(.ebx, .esp)
            a.bind(mark)
            a.callFar(segment: gateSelector, offset: 0)
            a.int(0x41)
        }
        return (m, run, mark)
    }

    @Test func gateLessPrivilegedThanCPLIsGP() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Selector.code32, offset: 0x7C00, type: 0xC, dpl: 2)
        }
        m.expectException(run, 13, errorCode: UInt32(Self.gate), at: mark)
    }

    @Test func gateLessPrivilegedThanRPLIsGP() throws {
        let (m, run, mark) = try callGate(Self.gate | 3, from: false) { m in
            m.setGate(Self.gate, target: Selector.code32, offset: 0x7C00, type: 0xC, dpl: 2)
        }
        m.expectException(run, 13, errorCode: UInt32(Self.gate), at: mark)
    }

    @Test func notPresentGateIsNP() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Selector.code32, offset: 0x7C00, type: 0xC, dpl: 3, present: false)
        }
        m.expectException(run, 11, errorCode: UInt32(Self.gate), at: mark)
    }

    @Test func gateWithANullTargetIsGP0() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: 3, offset: 0x7C00, type: 0xC, dpl: 3)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func gateToADataSegmentIsGPWithTheTarget() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Selector.data32, offset: 0x7C00, type: 0xC, dpl: 3)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
    }

    @Test func gateToALessPrivilegedSegmentIsGP() throws {
        // CPL 1 calling ring-3 code through a gate: calls never go outward.
        let m = TestMachine.protected()
        Self.addRing1(m)
        m.setGate(Self.gate, target: Selector.userCode, offset: 0x7C00, type: 0xC, dpl: 3)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.enterRing3(stack: 0x9800, cs: Self.code1, ss: Self.data1)
            a.bind(mark)
            a.callFar(segment: Self.gate, offset: 0)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.userCode & ~3), at: mark)
    }

    @Test func gateToANotPresentSegmentIsNPWithTheTarget() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setSegment(0x48, access: PM.codeAccess(dpl: 0, present: false))
            m.setGate(Self.gate, target: 0x48, offset: 0x7C00, type: 0xC, dpl: 3)
        }
        m.expectException(run, 11, errorCode: 0x48, at: mark)
    }

    @Test func gateEntryBeyondTheTargetLimitIsGP0() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setSegment(0x48, limit: 0xFFF, access: PM.codeAccess(dpl: 0), flags: 0x4)
            m.setGate(Self.gate, target: 0x48, offset: 0x1000, type: 0xC, dpl: 3)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func interruptGateInTheGDTIsNotACallTarget() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Selector.code32, offset: 0x7C00, type: 0xE, dpl: 3)
        }
        m.expectException(run, 13, errorCode: UInt32(Self.gate), at: mark)
    }

    // MARK: The stack switch

    @Test func nullStackForTheNewLevelIsTS() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3)
            m.setTSSStack(level: 1, ss: 1, esp: 0x9800)
        }
        m.expectException(run, 10, errorCode: 0, at: mark)
        // Nothing changed: the frame shows ring 3 with its stack and the pushed parameter.
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
        #expect(m.stackDword(4) == PM.userStack - 4)
        #expect(m.bus.dword(at: Int(PM.userStack) - 4) == 0x1234)
    }

    @Test func stackOfTheWrongPrivilegeIsTSWithItsSelector() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3)
            m.setTSSStack(level: 1, ss: Selector.data32 | 1, esp: 0x9800)
        }
        m.expectException(run, 10, errorCode: UInt32(Selector.data32), at: mark)
    }

    @Test func readOnlyStackIsTS() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3)
            m.setSegment(Self.badStack, access: PM.dataAccess(dpl: 1, writable: false))
            m.setTSSStack(level: 1, ss: Self.badStack | 1, esp: 0x9800)
        }
        m.expectException(run, 10, errorCode: UInt32(Self.badStack), at: mark)
    }

    @Test func notPresentStackIsSSWithItsSelector() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3)
            m.setSegment(Self.badStack, access: PM.dataAccess(dpl: 1, present: false))
            m.setTSSStack(level: 1, ss: Self.badStack | 1, esp: 0x9800)
        }
        m.expectException(run, 12, errorCode: UInt32(Self.badStack), at: mark)
    }

    @Test func newStackWithoutRoomIsSSWithItsSelector() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3, parameters: 1)
            m.setSegment(Self.badStack, limit: 0x97FF, access: PM.dataAccess(dpl: 1), flags: 0x4)
            m.setTSSStack(level: 1, ss: Self.badStack | 1, esp: 0x980C)   // room for 3 of the 5 dwords
        }
        m.expectException(run, 12, errorCode: UInt32(Self.badStack), at: mark)
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
        #expect(m.stackDword(4) == PM.userStack - 4)
    }

    @Test func tssTooShortForTheStackPointerIsTSWithTheTSSSelector() throws {
        let (m, run, mark) = try callGate(Self.gate | 3) { m in
            m.setGate(Self.gate, target: Self.code1, offset: 0x7C00, type: 0xC, dpl: 3)
            // TSS limit 0x0F: ESP1 (0x0C–0x0F) fits, SS1 (0x10) does not. Ring 0's stack (4–0xB) still does.
            m.setSystemSegment(Selector.tss, base: UInt32(ProtectedModeGuest.tssBase), limit: 0x0F, type: 0x9)
        }
        m.expectException(run, 10, errorCode: UInt32(Selector.tss), at: mark)
    }

    @Test func ring3ToRing1AndBackWithAFarReturn() throws {
        let m = TestMachine.protected()
        Self.addRing1(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enterRing3()
            a.push(7)
            a.callFar(segment: Self.gate | 3, offset: 0)
            a.mov(.edi, .esp)
            a.mov(.bx, .cs)
            a.mov(.cx, .ss)
            a.int(0x40)
            a.bind(entry)
            a.mov(.esi, .esp)
            a.mov(.dx, .ss)
            a.mov(.ebp, Mem(.esp, disp: 8, size: .dword))
            a.retf(4)
        }, prepare: { a in
            m.setGate(Self.gate, target: Self.code1, offset: a.address(of: entry)!, type: 0xC, dpl: 3, parameters: 1)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rsi) == Self.ring1StackTop - 20)
        #expect(m.r16(.rdx) == Self.data1)
        #expect(m.r32(.rbp) == 7)
        #expect(m.r32(.rdi) == PM.userStack)
        #expect(m.r16(.rbx) == Selector.userCode)
        #expect(m.r16(.rcx) == Selector.userData)
        #expect(m.accessByte(Self.data1) & 1 == 1, "the new stack's descriptor is marked accessed")
    }
}
