import Testing
@testable import X86
import X86Asm

/// Interrupt and trap gates (SDM Vol. 3A, 6.10–6.13; Vol. 2, INT n and IRET): frames across
/// privilege levels, flag handling, the gate and target checks with their error codes (EXT,
/// IDT bit), and IRET to the same and to an outer level.
@Suite struct InterruptGateTests {
    typealias Selector = PM.Selector
    static let vector: UInt8 = 0x50
    /// Where `record` stores what the handler saw.
    static let frame = 0x3000
    static let flags = 0x3040
    static let cs = 0x3044
    static let ss = 0x3048
    static let esp = 0x304C

    /// Handler: copies 6 dwords of its frame, stores EFLAGS, CS, SS and ESP, halts.
    static func record(_ a: inout Assembler) {
        a.mov(Mem(disp: esp, size: .dword), .esp)
        a.copyStack(dwords: 6, to: frame)
        a.pushfd()
        a.pop(Mem(disp: flags, size: .dword))
        a.mov(Mem(disp: cs), .cs)
        a.mov(Mem(disp: ss), .ss)
        a.hlt()
    }

    private func frame(_ m: TestMachine) -> [UInt32] { (0..<6).map { m.bus.dword(at: Self.frame + 4 * $0) } }

    @Test func intFromRing3ThroughAnInterruptGateSwitchesToTheRing0Stack() throws {
        let m = TestMachine.protected()
        var handler: Label!, back: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); back = a.newLabel()
            a.iretToRing3(flags: 0x4A02)   // NT, OF, IF
            a.int(Self.vector)
            a.bind(back)
            a.bind(handler)
            Self.record(&a)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.source) == [.software])
        #expect(frame(m).prefix(5) == [run[back], UInt32(Selector.userCode), 0x4A02, PM.userStack, UInt32(Selector.userData)])
        #expect(m.bus.dword(at: Self.esp) == ProtectedModeGuest.kernelStackTop - 20)
        #expect(m.bus.word(at: Self.cs) == Selector.code32)
        #expect(m.bus.word(at: Self.ss) == Selector.data32)
        #expect(m.bus.dword(at: Self.flags) & (EFlags.interrupt | EFlags.nestedTask) == 0, "IF and NT cleared")
        #expect(m.bus.dword(at: Self.flags) & EFlags.overflow != 0)
    }

    @Test func trapGateKeepsIF() throws {
        let m = TestMachine.protected()
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.iretToRing3(flags: 0x202)
            a.int(Self.vector)
            a.bind(handler)
            Self.record(&a)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xF, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.bus.dword(at: Self.flags) & EFlags.interrupt != 0)
    }

    @Test func sixteenBitGateFromRing3PushesWords() throws {
        let m = TestMachine.protected()
        var handler: Label!, back: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); back = a.newLabel()
            a.iretToRing3(flags: 0x202)
            a.int(Self.vector)
            a.bind(back)
            a.bind(handler)
            Self.record(&a)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0x6, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.bus.dword(at: Self.esp) == ProtectedModeGuest.kernelStackTop - 10)
        let words = (0..<5).map { m.bus.word(at: Self.frame + 2 * $0) }
        #expect(words == [UInt16(run[back]), Selector.userCode, 0x202, UInt16(PM.userStack), Selector.userData])
    }

    @Test func sameLevelDeliveryPushesNoStackPointer() throws {
        let m = TestMachine.protected()
        var handler: Label!, back: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); back = a.newLabel()
            a.int(Self.vector)
            a.bind(back)
            a.bind(handler)
            Self.record(&a)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(run.reason == .halted)
        #expect(m.bus.dword(at: Self.esp) == ProtectedModeGuest.kernelStackTop - 12)
        #expect(frame(m).prefix(2) == [run[back], UInt32(Selector.code32)])
        #expect(frame(m)[2] & ~EFlags.arithmetic == 0x2)
    }

    @Test func conformingHandlerRunsAtTheInterruptedLevel() throws {
        let m = TestMachine.protected()
        m.setSegment(0x48, access: PM.codeAccess(dpl: 0, conforming: true))
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.enterRing3()
            a.int(Self.vector)
            a.bind(handler)
            a.mov(.bx, .cs)
            a.mov(.ecx, .esp)
            a.int(0x40)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: 0x48, offset: a.address(of: handler)!, type: 0xE, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == 0x48 | 3)
        #expect(m.r32(.rcx) == PM.userStack - 12)
    }

    // MARK: Gate checks

    /// Runs `int vector` (or `trigger`) in ring 3 or 0 and returns the machine.
    private func raise(ring3: Bool = true, setup: (TestMachine) -> Void,
                       _ trigger: (inout Assembler) -> Void = { $0.int(InterruptGateTests.vector) }) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            if ring3 { a.enterRing3() }
            a.bind(mark)
            trigger(&a)
        }
        return (m, run, mark)
    }

    @Test func intThroughAGateMorePrivilegedThanCPLIsGP() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(Self.vector, target: Selector.code32, offset: 0x1800, type: 0xE, dpl: 0) })
        m.expectException(run, 13, errorCode: UInt32(Self.vector) * 8 + 2, at: mark)
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
    }

    @Test func int3AndIntoAreCheckedLikeIntN() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(3, target: Selector.code32, offset: 0x1800, type: 0xE, dpl: 0) }) { a in
            a.int3()
        }
        m.expectException(run, 13, errorCode: 3 * 8 + 2, at: mark)
        let (o, orun, omark) = try raise(setup: { $0.setIDTGate(4, target: Selector.code32, offset: 0x1800, type: 0xE, dpl: 0) }) { a in
            a.mov(.al, 0x7F)
            a.add(.al, 1)
            a.into()
        }
        #expect(orun.reason == .halted)
        #expect(o.handledVectors == [13])
        #expect(o.reportedErrorCodes == [4 * 8 + 2])
        #expect(o.stackDword(1) == orun[omark] + 4, "saved EIP: the INTO")
    }

    @Test func exceptionsIgnoreTheGateDPL() throws {
        let (m, run, mark) = try raise(setup: { m in
            m.setIDTGate(6, target: Selector.code32, offset: UInt32(ProtectedModeGuest.stubBase + 6 * 16), type: 0xE, dpl: 0)
        }) { a in a.ud2() }
        m.expectException(run, 6, errorCode: nil, at: mark)
    }

    @Test func int1IgnoresTheGateDPL() throws {
        let (m, run, _) = try raise(setup: { m in
            m.setIDTGate(1, target: Selector.code32, offset: UInt32(ProtectedModeGuest.stubBase + 16), type: 0xE, dpl: 0)
        }) { a in a.emit([0xF1]) }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [1])
    }

    @Test func int1ThroughANotPresentGateCountsAsExternal() throws {
        // ICEBP is delivered as an event external to the program: EXT is set (XTF swint-emulation).
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(1, target: Selector.code32, offset: 0x1810, type: 0xE, dpl: 3, present: false) }) { a in
            a.emit([0xF1])
        }
        m.expectException(run, 11, errorCode: 1 * 8 + 2 + 1, at: mark)
        let (n, nrun, nmark) = try raise(setup: { $0.setIDTGate(1, target: Selector.code32, offset: 0x1810, type: 0xE, dpl: 3, present: false) }) { a in
            a.int(1)
        }
        n.expectException(nrun, 11, errorCode: 1 * 8 + 2, at: nmark)
    }

    @Test func notPresentGateIsNPWithTheIDTBit() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(Self.vector, target: Selector.code32, offset: 0x1800, type: 0xE, dpl: 3, present: false) })
        m.expectException(run, 11, errorCode: UInt32(Self.vector) * 8 + 2, at: mark)
    }

    @Test func exceptionThroughANotPresentGateHasEXT() throws {
        let (m, run, mark) = try raise(ring3: false, setup: { $0.setIDTGate(6, target: Selector.code32, offset: 0x1800, type: 0xE, present: false) }) { a in
            a.ud2()
        }
        m.expectException(run, 11, errorCode: 6 * 8 + 2 + 1, at: mark)
        #expect(m.events.deliveries.map(\.vector) == [6, 11])
    }

    @Test func vectorBeyondTheIDTLimitIsGPWithTheVector() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            let idtr = a.newLabel(), over = a.newLabel()
            a.jmp(over)
            a.bind(idtr)
            a.dw(0x28E)
            a.dd(UInt32(ProtectedModeGuest.idtBase))
            a.bind(over)
            a.lidt(Mem(label: idtr))
            a.bind(mark)
            a.int(0x51)
        }
        m.expectException(run, 13, errorCode: 0x51 * 8 + 2, at: mark)
    }

    @Test func callGateInTheIDTIsGP() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(Self.vector, target: Selector.code32, offset: 0x1800, type: 0xC, dpl: 3) })
        m.expectException(run, 13, errorCode: UInt32(Self.vector) * 8 + 2, at: mark)
    }

    @Test func gateWithANullTargetIsGP0() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(Self.vector, target: 0, offset: 0x1800, type: 0xE, dpl: 3) })
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func gateToADataSegmentIsGPWithItsSelector() throws {
        let (m, run, mark) = try raise(setup: { $0.setIDTGate(Self.vector, target: Selector.data32, offset: 0x1800, type: 0xE, dpl: 3) })
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
    }

    @Test func handlerLessPrivilegedThanCPLIsGP() throws {
        let (m, run, mark) = try raise(ring3: false, setup: { $0.setIDTGate(Self.vector, target: Selector.userCode, offset: 0x1800, type: 0xE, dpl: 3) })
        m.expectException(run, 13, errorCode: UInt32(Selector.userCode & ~3), at: mark)
    }

    @Test func notPresentHandlerSegmentIsNP() throws {
        let (m, run, mark) = try raise(setup: { m in
            m.setSegment(0x48, access: PM.codeAccess(present: false))
            m.setIDTGate(Self.vector, target: 0x48, offset: 0x1800, type: 0xE, dpl: 3)
        })
        m.expectException(run, 11, errorCode: 0x48, at: mark)
    }

    @Test func entryBeyondTheHandlerLimitIsGP0() throws {
        let (m, run, mark) = try raise(setup: { m in
            m.setSegment(0x48, limit: 0xFFF, access: PM.codeAccess(), flags: 0x4)
            m.setIDTGate(Self.vector, target: 0x48, offset: 0x1000, type: 0xE, dpl: 3)
        })
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func externalInterruptThroughANotPresentGateHasEXT() throws {
        let m = TestMachine.protected()
        m.setIDTGate(0x60, target: Selector.code32, offset: 0x1800, type: 0xE, present: false)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.sti()
            a.nop()
            a.bind(mark)
            a.jmp(mark)
        } prepare: { _ in
            m.interrupts.raise(0x60)
        }
        m.expectException(run, 11, errorCode: 0x60 * 8 + 2 + 1, at: mark)
        #expect(m.events.deliveries.map(\.source) == [.external, .exception])
    }

    @Test func exceptionFromRing3PushesItsErrorCodeOnTheRing0Stack() throws {
        let (m, run, mark) = try raise(setup: { _ in }) { a in
            a.mov(.cx, Int(Selector.data32))
            a.mov(.fs, .cx)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32))
        #expect(m.stackDword(1) == run[mark] + 4, "the MOV FS after the 4-byte MOV CX")
        #expect(m.r32(.rsp) == ProtectedModeGuest.kernelStackTop - 24)
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
        #expect(m.stackDword(4) == PM.userStack)
        #expect(m.stackDword(5) == UInt32(Selector.userData))
    }

    // MARK: IRET

    @Test func iretReturnsToRing3AndNullsMorePrivilegedDataSegments() throws {
        let m = TestMachine.protected()
        var handler: Label!, back: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); back = a.newLabel()
            a.enterRing3()
            a.mov(.cx, Int(Selector.userData))
            a.mov(.fs, .cx)
            a.int(Self.vector)
            a.bind(back)
            a.mov(.edi, .esp)
            a.int(0x40)
            a.bind(handler)
            a.mov(.ax, Int(Selector.data32))
            a.mov(.ds, .ax)
            a.mov(.gs, .ax)
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.stackDword(0) == run[back] + 4)
        #expect(m.r32(.rdi) == PM.userStack)
        #expect(m.cpu.segment(.ds).selector == 0, "DPL 0 data: nulled")
        #expect(m.cpu.segment(.gs).selector == 0)
        #expect(m.cpu.segment(.es).selector == Selector.userData)
        #expect(m.cpu.segment(.fs).selector == Selector.userData)
    }

    /// IRETs from ring 0 to a ring-3 frame assembled on the stack; returns the machine.
    private func iret(cs: UInt16 = Selector.userCode, ss: UInt16 = Selector.userData, flags: UInt32 = 0x202,
                      esp: UInt32 = PM.userStack, setup: (TestMachine) -> Void = { _ in }) throws -> (TestMachine, PMRun, Label, Label) {
        let m = TestMachine.protected()
        setup(m)
        var target: Label!, mark: Label!
        let run = try m.runPM { a in
            target = a.newLabel(); mark = a.newLabel()
            a.push(Int(ss))
            a.push(Int(esp))
            a.push(Int(flags))
            a.push(Int(cs))
            a.push(target)
            a.bind(mark)
            a.iretd()
            a.bind(target)
            a.pushfd()
            a.pop(.ebx)
            a.mov(.cx, .cs)
            a.mov(.dx, .ss)
            a.mov(.esi, .esp)
            a.int(0x40)
        }
        return (m, run, target, mark)
    }

    @Test func iretToRing3LoadsEverythingFromTheFrame() throws {
        let (m, run, _, _) = try iret(flags: 0x3202 | EFlags.carry)
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x3203, "IOPL and IF loaded at CPL 0")
        #expect(m.r16(.rcx) == Selector.userCode)
        #expect(m.r16(.rdx) == Selector.userData)
        #expect(m.r32(.rsi) == PM.userStack)
    }

    @Test func iretToAMorePrivilegedLevelIsGP() throws {
        // From ring 3, a frame naming ring-0 code.
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.enterRing3()
            a.push(0x202)
            a.push(Int(Selector.code32))
            a.push(0x7C00)
            a.bind(mark)
            a.iretd()
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
    }

    @Test func iretWithAStackOfTheWrongRPLIsGP() throws {
        let (m, run, _, mark) = try iret(ss: Selector.userData & ~3)
        m.expectException(run, 13, errorCode: UInt32(Selector.userData & ~3), at: mark)
        #expect(m.cpu.segment(.cs).selector == Selector.code32)
    }

    @Test func iretWithANullStackIsGP0() throws {
        let (m, run, _, mark) = try iret(ss: 3)
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func iretToANotPresentCodeSegmentIsNP() throws {
        let (m, run, _, mark) = try iret(cs: 0x48 | 3, setup: { $0.setSegment(0x48, access: PM.codeAccess(dpl: 3, present: false)) })
        m.expectException(run, 11, errorCode: 0x48, at: mark)
    }

    @Test func iretToNonConformingCodeOfAnotherDPLIsGP() throws {
        let (m, run, _, mark) = try iret(cs: 0x48 | 3, setup: { $0.setSegment(0x48, access: PM.codeAccess(dpl: 2)) })
        m.expectException(run, 13, errorCode: 0x48, at: mark)
    }

    @Test func iretBeyondTheCodeLimitIsGP0() throws {
        let (m, run, _, mark) = try iret(cs: 0x48 | 3, setup: { $0.setSegment(0x48, limit: 0x1000, access: PM.codeAccess(dpl: 3), flags: 0x4) })
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func iretAtRing3CannotChangeIOPLOrIF() throws {
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.iretToRing3(flags: 0x1002)           // IOPL 1, IF 0, CPL 3 > IOPL
            a.push(0x3202 | Int(EFlags.direction))
            a.push(Int(Selector.userCode))
            a.push(target)
            a.iretd()
            a.bind(target)
            a.pushfd()
            a.pop(.ebx)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x1002 | EFlags.direction)
    }

    @Test func iretCannotEnterVirtual8086ModeFromOutsideRing0() throws {
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.enterRing3()
            a.push(Int(EFlags.virtual8086 | 0x2))
            a.push(Int(Selector.userCode))
            a.push(target)
            a.iretd()
            a.bind(target)
            a.pushfd()
            a.pop(.ebx)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) & EFlags.virtual8086 == 0)
    }

    @Test func sixteenBitIretAtTheSameLevel() throws {
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.mov(.edx, .esp)
            a.push(0x0ACD, size: .word)           // FLAGS: OF IF SF ZF PF CF and reserved bit 3
            a.push(Int(Selector.code32), size: .word)
            a.push(target, size: .word)
            a.iretw()
            a.bind(target)
            a.pushfd()
            a.pop(.ebx)
            a.sub(.edx, .esp)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x0AC7)
        #expect(m.r32(.rdx) == 0)
    }

    // MARK: EXT in errors of the stack switch

    @Test func stackSwitchErrorsDuringINTnHaveNoEXT() throws {
        // SS0 names a read-only segment: #TS(SS0) while delivering INT 0x50 from ring 3; the #TS
        // itself is delivered through a task gate (the ring-0 stack is unusable).
        let m = TestMachine.protected()
        TaskSwitchTests.addTasks(m)
        m.setSegment(0x68, access: PM.dataAccess(writable: false))
        m.setIDTGate(Self.vector, target: Selector.code32, offset: 0x1800, type: 0xE, dpl: 3)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.enterRing3()
            a.int(Self.vector)
            a.bind(handler)
            a.pop(.ebx)
            a.hlt()
        }, prepare: { a in
            m.setTSSStack(level: 0, ss: 0x68, esp: 0x9000)
            TaskSwitchTests.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: TaskSwitchTests.tssB)
            m.setIDTGate(10, target: TaskSwitchTests.taskB, type: 5)
        })
        #expect(run.reason == .halted)
        #expect(m.events.vectors == [Self.vector, 10])
        #expect(m.r32(.rbx) == 0x68)
    }

    @Test func stackSwitchErrorsDuringAnExternalInterruptHaveEXT() throws {
        let m = TestMachine.protected()
        TaskSwitchTests.addTasks(m)
        m.setSegment(0x68, access: PM.dataAccess(writable: false))
        m.setIDTGate(0x60, target: Selector.code32, offset: 0x1800, type: 0xE)
        var handler: Label!, loop: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); loop = a.newLabel()
            a.iretToRing3(flags: 0x202)
            a.bind(loop)
            a.jmp(loop)
            a.bind(handler)
            a.pop(.ebx)
            a.hlt()
        }, prepare: { a in
            m.setTSSStack(level: 0, ss: 0x68, esp: 0x9000)
            TaskSwitchTests.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: TaskSwitchTests.tssB)
            m.setIDTGate(10, target: TaskSwitchTests.taskB, type: 5)
            m.interrupts.raise(0x60)
        })
        #expect(run.reason == .halted)
        #expect(m.events.vectors == [0x60, 10])
        #expect(m.r32(.rbx) == 0x68 | 1)
    }

    @Test func sixteenBitIretReturnsToAnOuterLevel() throws {
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.push(Int(Selector.userData), size: .word)
            a.push(0x6F00, size: .word)
            a.push(0x0202, size: .word)
            a.push(Int(Selector.userCode), size: .word)
            a.push(target, size: .word)
            a.iretw()
            a.bind(target)
            a.mov(.ebx, .esp)
            a.mov(.cx, .ss)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x6F00, "ESP from the 16-bit frame, zero-extended onto a 32-bit stack")
        #expect(m.r16(.rcx) == Selector.userData)
        #expect(m.stackDword(2) & EFlags.interrupt != 0)
    }

    @Test func sixteenBitFarReturnToAnOuterLevel() throws {
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.push(Int(Selector.userData), size: .word)
            a.push(0x6F00, size: .word)
            a.push(0x1234, size: .word)           // a parameter word, released by RETF 2
            a.push(Int(Selector.userCode), size: .word)
            a.push(target, size: .word)
            a.retf(size: .word, 2)
            a.bind(target)
            a.mov(.ebx, .esp)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x6F02)
    }

    @Test func interruptFromA16BitStackPushesTheWholeESP() throws {
        // Ring 3 on a 16-bit stack segment with junk in ESP's upper half: the frame has all of ESP.
        let m = TestMachine.protected()
        m.setSegment(0x68, limit: 0xFFFF, access: PM.dataAccess(dpl: 3), flags: 0)
        let run = try m.runPM { a in
            a.iretToRing3(flags: 0x2, stack: 0x1234_6F00, ss: 0x68 | 3)
            a.mov(.edi, .esp)                     // IRET to a 16-bit stack loaded SP only
            a.mov(.esp, 0x1234_6F00)
            a.push(.eax)                          // SP moves, the upper half does not
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.stackDword(3) == 0x1234_6EFC)
        #expect(m.r32(.rdi) == 0x6F00, "the upper half of ESP is the ring-0 ESP's (zero here)")
    }

    @Test func callGateFromA16BitStackPushesTheWholeESP() throws {
        let m = TestMachine.protected()
        m.setSegment(0x68, limit: 0xFFFF, access: PM.dataAccess(dpl: 3), flags: 0)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.iretToRing3(flags: 0x2, stack: 0x6F00, ss: 0x68 | 3)
            a.mov(.esp, 0x1234_6F00)
            a.callFar(segment: 0x40 | 3, offset: 0)
            a.bind(entry)
            a.mov(.ebx, Mem(.esp, disp: 8, size: .dword))
            a.hlt()
        }, prepare: { a in
            m.setGate(0x40, target: Selector.code32, offset: a.address(of: entry)!, type: 0xC, dpl: 3)
        })
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1234_6F00)
    }
}
