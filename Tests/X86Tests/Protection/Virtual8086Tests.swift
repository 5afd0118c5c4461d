import Testing
@testable import X86
import X86Asm

/// Virtual-8086 mode (SDM Vol. 3A, 20.2–20.3): entry with IRET, real-mode addressing at CPL 3,
/// the IOPL-sensitive instructions, I/O through the bitmap, interrupts and exceptions to ring 0
/// with the V86 frame, IRET back, task switches into V86 tasks.
@Suite struct Virtual8086Tests {
    typealias Selector = PM.Selector
    static let v86Stack: UInt16 = 0x0600   // SS = 0x600, SP = 0x1000: linear 0x7000
    static let v86Data: UInt16 = 0x0300    // DS = ES = 0x300: linear 0x3000

    /// IRETs into V86 mode at CS = 0, IP = `label`, with `iopl`, and assembles `body` as 16-bit code there.
    static func enterV86(_ a: inout Assembler, iopl: Int, extraFlags: Int = 0, fs: UInt16 = 0x0400, gs: UInt16 = 0x0500,
                         _ body: (inout Assembler) -> Void) {
        let v86 = a.newLabel()
        a.push(Int(gs))
        a.push(Int(fs))
        a.push(Int(v86Data))
        a.push(Int(v86Data))
        a.push(Int(v86Stack))
        a.push(0x1000)
        a.push(Int(EFlags.virtual8086) | iopl << 12 | 0x2 | extraFlags)
        a.push(0)
        a.push(v86)
        a.iretd()
        a.bits(.b16)
        a.bind(v86)
        body(&a)
        a.bits(.b32)
    }

    private func v86(iopl: Int = 3, setup: (TestMachine) -> Void = { _ in }, budget: Int = 100_000,
                     _ body: (inout Assembler, Label) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM(budget: budget) { a in
            mark = a.newLabel()
            Self.enterV86(&a, iopl: iopl) { a in
                body(&a, mark)
            }
        }
        return (m, run, mark)
    }

    /// The V86 interrupt frame on the ring-0 stack: EIP, CS, EFLAGS, ESP, SS, ES, DS, FS, GS (after `skip` dwords).
    private func frame(_ m: TestMachine, skip: Int = 0) -> [UInt32] { (0..<9).map { m.stackDword(skip + $0) } }

    @Test func v86ModeAddressesLikeRealModeAtCPL3() throws {
        let (m, run, _) = try v86 { a, _ in
            a.mov(.ax, 0x1234)
            a.mov(Mem(disp: 0x10, size: .word), .ax)      // DS:0x10 = linear 0x3010
            a.push(.ax)                                    // SS:0xFFE = linear 0x6FFE
            a.mov(.bx, 0x0800)
            a.mov(.es, .bx)                                // no descriptor: base 0x8000
            a.mov(Mem(disp: 0x20, size: .word, segment: .es), .ax)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.bus.word(at: 0x3010) == 0x1234)
        #expect(m.bus.word(at: 0x6FFE) == 0x1234)
        #expect(m.bus.word(at: 0x8020) == 0x1234)
    }

    @Test func interruptFromV86PushesTheSegmentsAndNullsThem() throws {
        var after: Label!
        let (m, run, _) = try v86 { a, _ in
            after = a.newLabel()
            a.int(0x40)
            a.bind(after)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        let f = frame(m)
        #expect(f[0] == run[after])
        #expect(f[1] == 0)
        #expect(f[2] & EFlags.virtual8086 != 0)
        #expect(f[2] & EFlags.iopl == EFlags.iopl)
        #expect(Array(f[3...]) == [0x1000, UInt32(Self.v86Stack), UInt32(Self.v86Data), UInt32(Self.v86Data), 0x400, 0x500])
        #expect(m.r32(.rsp) == ProtectedModeGuest.kernelStackTop - 36)
        for s in [SegmentRegister.ds, .es, .fs, .gs] { #expect(m.cpu.segment(s).selector == 0) }
        #expect(m.cpu.eflags & EFlags.virtual8086 == 0)
        #expect(m.cpu.cpl == 0)
    }

    @Test func exceptionFromV86CarriesTheV86Frame() throws {
        let (m, run, mark) = try v86 { a, mark in
            a.bind(mark)
            a.ud2()
        }
        m.expectException(run, 6, errorCode: nil, at: mark)
        #expect(frame(m)[2] & EFlags.virtual8086 != 0)
        #expect(frame(m)[4] == UInt32(Self.v86Stack))
    }

    @Test func iretFromRing0ResumesV86() throws {
        let m = TestMachine.protected()
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            Self.enterV86(&a, iopl: 3) { a in
                a.mov(.bx, .ds)
                a.int(0x50)
                a.mov(.cx, .ds)
                a.mov(.dx, .sp)
                a.pushf()
                a.pop(.si)
                a.int(0x40)
            }
            a.bind(handler)
            a.mov(.ax, Int(Selector.data32))
            a.mov(.ds, .ax)                                // the handler's own DS; IRET restores V86's
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(0x50, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == Self.v86Data)
        #expect(m.r16(.rcx) == Self.v86Data)
        #expect(m.r16(.rdx) == 0x1000)
        #expect(m.r16(.rsi) & UInt16(EFlags.iopl) == UInt16(EFlags.iopl))
    }

    @Test func iretToV86WithAnEIPBeyond64KIsGP0() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            for value in [0, 0, Int(Self.v86Data), Int(Self.v86Data), Int(Self.v86Stack), 0x1000,
                          Int(EFlags.virtual8086) | 0x2, 0, 0x1_0000] {
                a.push(value)
            }
            a.bind(mark)
            a.iretd()
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.stackDword(3) & EFlags.virtual8086 == 0, "still in protected mode")
    }

    @Test func handlerForV86MustBeRing0() throws {
        let m = TestMachine.protected()
        m.setSegment(0x48, access: PM.codeAccess(dpl: 0, conforming: true))
        m.setIDTGate(0x50, target: 0x48, offset: 0x7C00, type: 0xE, dpl: 3)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            Self.enterV86(&a, iopl: 3) { a in
                a.bind(mark)
                a.int(0x50)
            }
        }
        m.expectException(run, 13, errorCode: 0x48, at: mark)
    }

    // MARK: IOPL-sensitive instructions

    @Test(arguments: [
        ("cli", [0xFA]), ("sti", [0xFB]), ("pushf", [0x9C]), ("popf", [0x9D]), ("int 0x40", [0xCD, 0x40]),
        ("iret", [0xCF]), ("int3", [0xCC]), ("into", [0xCE]),
    ] as [(String, [UInt8])])
    func iopSensitiveInstructionsAreGPBelowIOPL3(_ name: String, _ bytes: [UInt8]) throws {
        let (m, run, mark) = try v86(iopl: 2) { a, mark in
            a.mov(.ax, 0x7F)
            a.add(.al, 1)                                  // OF for INTO
            a.push(.ax)
            a.push(.ax)
            a.push(.ax)
            a.bind(mark)
            a.emit(bytes)
            a.int(0x40)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.stackDword(3) & EFlags.virtual8086 != 0)
    }

    @Test func intoWithoutOverflowIsNotAFaultBelowIOPL3() throws {
        // INTO only raises anything when OF is set; without OF it is a NOP even at IOPL 0.
        let (m, run, _) = try v86(iopl: 0) { a, _ in
            a.xor(.ax, .ax)
            a.into()
            a.ud2()
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [6])
    }

    @Test func cliStiPushfPopfWorkAtIOPL3() throws {
        let (m, run, _) = try v86 { a, _ in
            a.sti()
            a.pushf()
            a.pop(.bx)
            a.cli()
            a.push(0x0202 | 0x1000)                        // try to set IF and change IOPL to 1
            a.popf()
            a.pushf()
            a.pop(.cx)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) & 0x3200 == 0x3200, "IF set, IOPL 3 visible to PUSHF")
        #expect(m.r16(.rcx) & 0x3200 == 0x3200, "POPF set IF but could not change IOPL at CPL 3")
    }

    @Test func iretInV86AtIOPL3IsARealModeReturn() throws {
        var target: Label!
        let (m, run, _) = try v86 { a, _ in
            target = a.newLabel()
            a.push(0x0ACD)                               // FLAGS: OF IF SF ZF PF CF
            a.push(.cs)
            a.push(target)
            a.iret()
            a.bind(target)
            a.pushf()
            a.pop(.bx)
            a.mov(.cx, .sp)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r16(.rbx) == 0x3AC7, "IOPL stays 3 (CPL 3 cannot change it)")
        #expect(m.r16(.rcx) == 0x1000)
    }

    @Test(arguments: [
        ("hlt", [0xF4]), ("lgdt", [0x0F, 0x01, 0x16, 0, 0]), ("mov cr0", [0x0F, 0x22, 0xC0]),
        ("mov eax, cr0", [0x0F, 0x20, 0xC0]), ("clts", [0x0F, 0x06]), ("lmsw", [0x0F, 0x01, 0xF0]), ("rdmsr", [0x0F, 0x32]),
    ] as [(String, [UInt8])])
    func privilegedInstructionsAreGPInV86(_ name: String, _ bytes: [UInt8]) throws {
        let (m, run, mark) = try v86 { a, mark in
            a.bind(mark)
            a.emit(bytes)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test(arguments: [
        ("sldt", [0x0F, 0x00, 0xC0]), ("str", [0x0F, 0x00, 0xC8]), ("lldt", [0x0F, 0x00, 0xD0]), ("verr", [0x0F, 0x00, 0xE0]),
        ("lar", [0x0F, 0x02, 0xC0]), ("lsl", [0x0F, 0x03, 0xC0]), ("arpl", [0x63, 0xC0]),
    ] as [(String, [UInt8])])
    func protectedModeOnlyInstructionsAreUDInV86(_ name: String, _ bytes: [UInt8]) throws {
        let (m, run, mark) = try v86 { a, mark in
            a.bind(mark)
            a.emit(bytes)
        }
        m.expectException(run, 6, errorCode: nil, at: mark)
    }

    @Test func ioInV86AlwaysConsultsTheBitmap() throws {
        // IOPL 3 does not help in V86 mode: port 0x80 is denied by the all-ones bitmap…
        let (m, run, mark) = try v86 { a, mark in
            a.bind(mark)
            a.out(0x80, .al)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        // …and allowed once its bit is clear, even at IOPL 0.
        let (o, orun, _) = try v86(iopl: 0, setup: { IOPermissionTests.allow($0, [0x80]) }) { a, _ in
            a.mov(.al, 0x42)
            a.out(0x80, .al)
            a.ud2()
        }
        #expect(orun.reason == .halted)
        #expect(o.handledVectors == [6])
        #expect(o.bus.writes(to: 0x80) == [0x42])
    }

    @Test func offsetsBeyond64KAreGPOrSS() throws {
        let (m, run, mark) = try v86 { a, mark in
            a.bind(mark)
            a.mov(.ax, Mem(.ebx, disp: 0x1_0000, size: .word))
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        let (s, srun, smark) = try v86 { a, mark in
            a.bind(mark)
            a.mov(.ax, Mem(.esp, disp: 0xFFFF, size: .word))
        }
        s.expectException(srun, 12, errorCode: 0, at: smark)
    }

    @Test func sysenterLeavesV86() throws {
        let m = TestMachine.protected()
        var entry: Label!
        let run = try m.runPM { a in
            entry = a.newLabel()
            SysenterTests.writeMSR(&a, 0x174, Int(Selector.code32))
            SysenterTests.writeMSR(&a, 0x175, 0x8800)
            a.mov(.ecx, 0x176)
            a.mov(.eax, entry)
            a.xor(.edx, .edx)
            a.wrmsr()
            Self.enterV86(&a, iopl: 0) { a in
                a.sysenter()
            }
            a.bind(entry)
        }
        m.expectClean(run)
        #expect(m.cpu.eflags & EFlags.virtual8086 == 0)
        #expect(m.cpu.segment(.cs).selector == Selector.code32)
        #expect(m.r32(.rsp) == 0x8800)
    }

    @Test func taskSwitchIntoAV86Task() throws {
        let m = TestMachine.protected()
        TaskSwitchTests.addTasks(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.jmpFar(segment: TaskSwitchTests.taskA, offset: 0)
            a.bits(.b16)
            a.bind(entry)
            a.mov(Mem(disp: 0x10, size: .word), .ax)
            a.int(0x40)
            a.bits(.b32)
        }, prepare: { a in
            var t = TaskSwitchTests.task(a.address(of: entry)!, stack: 0x1000, eflags: 0x3002 | EFlags.virtual8086)
            t.segments = [Self.v86Data, 0, Self.v86Stack, Self.v86Data, 0, 0]
            t.registers[0] = 0xBEEF
            t.write(to: m, at: TaskSwitchTests.tssA)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.bus.word(at: 0x3010) == 0xBEEF)
        #expect(m.stackDword(2) & EFlags.virtual8086 != 0)
        #expect(m.stackDword(4) == UInt32(Self.v86Stack))
        #expect(m.cpu.taskRegister.selector == TaskSwitchTests.taskA)
    }

    @Test func interruptFromV86ThroughATaskGateToA16BitTaskLeavesV86() throws {
        // The 286 TSS has no VM bit: the handler task runs in protected mode.
        let m = TestMachine.protected()
        m.setSystemSegment(TaskSwitchTests.task16, base: UInt32(TaskSwitchTests.tss16), limit: 0x2B, type: 1)
        m.setIDTGate(0x50, target: TaskSwitchTests.task16, type: 5, dpl: 3)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            Self.enterV86(&a, iopl: 3) { a in
                a.int(0x50)
                a.bind(handler)
                a.pushf()
                a.pop(.bx)
                a.mov(.cx, .cs)
                a.hlt()
            }
        }, prepare: { a in
            var t = TSS16()
            t.ip = UInt16(a.address(of: handler)!)
            t.registers[4] = 0xA000
            t.write(to: m, at: TaskSwitchTests.tss16)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors.isEmpty)
        #expect(m.cpu.eflags & EFlags.virtual8086 == 0)
        #expect(m.cpu.cpl == 0)
        #expect(m.r16(.rcx) == Selector.code16)
        #expect(m.r16(.rbx) & UInt16(EFlags.nestedTask) != 0)
        #expect(m.events.taskSwitches.map(\.reason) == [.interrupt])
    }

    @Test func v86TaskInterruptedThroughATaskGateAndResumed() throws {
        // The main task runs in V86 mode; INT 0x50 switches to task B, whose IRET returns to it:
        // the switch saved VM and the V86 selectors, and the return reloads them as V86 segments.
        let m = TestMachine.protected()
        TaskSwitchTests.addTasks(m)
        m.setIDTGate(0x50, target: TaskSwitchTests.taskB, type: 5, dpl: 3)
        var handler: Label!, back: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); back = a.newLabel()
            Self.enterV86(&a, iopl: 3) { a in
                a.mov(.bx, 0x5555)
                a.int(0x50)
                a.bind(back)
                a.mov(.cx, .ds)
                a.mov(Mem(disp: 0x40, size: .word), .bx)
                a.int(0x40)
            }
            a.bind(handler)
            a.mov(.ebx, 0x6666)
            a.iretd()
        }, prepare: { a in
            TaskSwitchTests.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: TaskSwitchTests.tssB)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        let saved = TSS32.read(from: m, at: ProtectedModeGuest.tssBase)
        #expect(saved.eflags & EFlags.virtual8086 != 0)
        #expect(saved.segments == [Self.v86Data, 0, Self.v86Stack, Self.v86Data, 0x400, 0x500])
        #expect(saved.eip == run[back])
        #expect(m.r16(.rcx) == Self.v86Data)
        #expect(m.bus.word(at: 0x3040) == 0x5555, "BX restored, DS base 0x3000 again")
        #expect(m.stackDword(2) & EFlags.virtual8086 != 0, "INT 0x40 came from V86 mode")
    }

    @Test func unrealSegmentsKeepTheirLimitAcrossRealModeReloads() throws {
        // FS gets a 4 GiB limit in protected mode; back in real mode, MOV FS changes only its base.
        let m = TestMachine.protected()
        let reason = try m.run { a in
            ProtectedModeGuest.enter(&a)
            let real = a.newLabel(), back = a.newLabel()
            a.mov(.ax, Int(Selector.data32))
            a.mov(.fs, .ax)
            a.mov(.ax, Int(Selector.data16))
            a.mov(.gs, .ax)
            a.jmpFar(segment: Selector.code16, real)
            a.bits(.b16)
            a.bind(real)
            a.mov(.eax, .cr0)
            a.and(.eax, ~1)
            a.mov(.cr0, .eax)
            a.jmpFar(segment: 0, back)
            a.bind(back)
            let ivt = a.newLabel(), over = a.newLabel()
            a.jmp(over)
            a.bind(ivt)
            a.dw(0x3FF)
            a.dd(0)
            a.bind(over)
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)
            a.lidt(Mem(label: ivt))
            a.mov(.ax, 0x1000)
            a.mov(.fs, .ax)
            a.mov(.gs, .ax)
            a.mov(.esi, 0x10_0000)
            a.mov(.eax, 0x5A5A_5A5A)
            a.mov(Mem(.esi, size: .dword, segment: .fs), .eax)     // linear 0x11_0000: fine
            a.mov(Mem(.esi, size: .dword, segment: .gs), .eax)     // 64 KiB limit: #GP → INT 13
            a.hlt()
        }
        #expect(reason == .halted)
        #expect(m.bus.dword(at: 0x11_0000) == 0x5A5A_5A5A)
        #expect(m.cpu.segment(.fs).base == 0x1_0000)
        #expect(m.cpu.segment(.fs).limit == 0xFFFF_FFFF)
        #expect(m.events.vectors == [13])
    }
}
