import Testing
@testable import X86
import X86Asm

/// Exceptions in protected mode (SDM Vol. 3A, 6.15): faults versus traps, the double-fault
/// classes of Table 6-5, shutdown, NMI blocking, the MOV SS shadow and single-stepping.
@Suite struct DoubleFaultTests {
    typealias Selector = PM.Selector

    // MARK: Faults and traps

    /// Runs `body` and expects `vector` with the saved EIP at the returned mark (faults) or after
    /// the instruction (traps: `trapLength` bytes on).
    private func expect(_ vector: UInt8, errorCode: UInt32? = nil, trapLength: UInt32 = 0, cr0: Int? = nil,
                        _ body: (inout Assembler) -> Void) throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            if let cr0 {
                a.mov(.eax, .cr0)
                a.or(.eax, cr0)
                a.mov(.cr0, .eax)
            }
            a.mov(.ecx, 0)
            a.mov(.eax, 0x7F)
            a.add(.al, 1)
            a.bind(mark)
            body(&a)
        }
        m.expectException(run, vector, errorCode: errorCode)
        #expect(m.stackDword(errorCode == nil ? 0 : 1) == run[mark] + trapLength, "saved EIP for vector \(vector)")
    }

    @Test func divideErrorIsAFault() throws { try expect(0) { $0.div(.ecx) } }
    @Test func breakpointIsATrap() throws { try expect(3, trapLength: 1) { $0.int3() } }
    @Test func overflowIsATrap() throws { try expect(4, trapLength: 1) { $0.into() } }
    @Test func boundRangeIsAFault() throws {
        try expect(5) { $0.bound(.eax, Mem(disp: 0x3000, size: .dword)) }   // bounds 0…0, EAX = 0x80
    }
    @Test func invalidOpcodeIsAFault() throws { try expect(6) { $0.ud2() } }
    @Test func deviceNotAvailableIsAFault() throws {
        try expect(7, cr0: Int(ControlRegister0.taskSwitched | ControlRegister0.monitorCoprocessor)) { $0.fwait() }
    }
    @Test func generalProtectionIsAFault() throws { try expect(13, errorCode: 0) { $0.mov(Mem(disp: 0, size: .dword, segment: .cs), .eax) } }

    @Test func singleStepTrapsAfterTheFirstRing3Instruction() throws {
        // IRET sets TF for ring 3: IRET itself is not stepped (TF was clear when it began); the
        // first ring-3 instruction is, and the trap's frame holds the next one.
        let m = TestMachine.protected()
        var target: Label!
        let run = try m.runPM { a in
            target = a.newLabel()
            a.push(Int(Selector.userData))
            a.push(Int(PM.userStack))
            a.push(0x102)
            a.push(Int(Selector.userCode))
            a.push(target)
            a.iretd()
            a.bind(target)
            a.nop()
            a.nop()
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [1])
        #expect(m.events.deliveries.first?.source == .exception)
        #expect(m.stackDword(0) == run[target] + 1)
        #expect(m.stackDword(1) == UInt32(Selector.userCode))
        #expect(m.stackDword(2) & EFlags.trap != 0, "TF in the pushed image")
        #expect(m.stackDword(2) & EFlags.resume == 0, "a trap's image has no RF")
        #expect(m.cpu.eflags & EFlags.trap == 0, "TF cleared in the handler")
        #expect(m.cpu.debugRegister(6) & (1 << 14) != 0, "DR6.BS")
    }

    // MARK: RF in the pushed image

    @Test func faultFramesHaveRFAndTrapAndInterruptFramesDoNot() throws {
        // A fault (#GP), a software interrupt and a trap (#BP) from ring 3: only the fault's EFLAGS image has RF.
        for (vector, hasRF) in [(13, true), (0x40, false), (3, false)] as [(UInt8, Bool)] {
            let m = TestMachine.protected()
            let run = try m.runPM { a in
                a.enterRing3()
                switch vector {
                case 13: a.hlt()
                case 3: a.int3()
                default: a.int(0x40)
                }
            }
            #expect(run.reason == .halted)
            #expect(m.handledVectors == [vector])
            let flags = m.stackDword(vector == 13 ? 3 : 2)
            #expect((flags & EFlags.resume != 0) == hasRF, "vector \(vector): EFLAGS image \(hex(flags))")
            #expect(m.cpu.eflags & EFlags.resume == 0, "RF is clear in the handler")
        }
    }

    @Test func rfFromAFaultFrameLastsOneInstructionAfterIret() throws {
        // The #UD handler returns past the UD2 with IRET, loading RF = 1 from its frame; RF is
        // cleared as the next instruction starts, so the INT after it pushes RF = 0.
        let m = TestMachine.protected()
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.ud2()
            a.int(0x40)
            a.bind(handler)
            a.mov(.ebx, Mem(.esp, disp: 8, size: .dword))   // the pushed EFLAGS
            a.add(Mem(.esp, size: .dword), 2)               // skip the UD2
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(6, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) & EFlags.resume != 0, "the #UD frame had RF")
        #expect(m.stackDword(2) & EFlags.resume == 0, "INT 0x40's frame: RF was cleared as it started")
        #expect(m.cpu.eflags & EFlags.resume == 0)
    }

    @Test func interruptBetweenRepeatIterationsPushesRF() throws {
        // REP MOVSB is stopped by the run budget between iterations; an interrupt taken there
        // returns to the REP with RF = 1 in its frame; one taken after an ordinary instruction has RF = 0.
        let m = TestMachine.protected()
        var rep: Label!, handler: Label!
        let first = try m.runPM({ a in
            rep = a.newLabel(); handler = a.newLabel()
            a.mov(.esi, 0x2_0000)
            a.mov(.edi, 0x3_0000)
            a.mov(.ecx, 10_000)
            a.sti()
            a.hlt()
            a.bind(rep)
            a.movsb(.rep)
            a.hlt()
            a.bind(handler)
            a.mov(.ebx, Mem(.esp, size: .dword))
            a.mov(.edx, Mem(.esp, disp: 8, size: .dword))
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(0x60, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(first.reason == .halted)
        m.cpu.activity = .active
        #expect(m.run(budget: 50) == .limitReached)
        #expect(m.r32(.rcx) == 10_000 - 50)
        m.interrupts.raise(0x60)
        #expect(m.run() == .halted)
        #expect(m.r32(.rbx) == first[rep], "the frame returns to the REP")
        #expect(m.r32(.rdx) & EFlags.resume != 0)
        #expect(m.r32(.rcx) == 0, "the repetition finished after the IRET")
        #expect(m.cpu.eflags & EFlags.resume == 0)
    }

    @Test func externalInterruptFrameHasNoRF() throws {
        let m = TestMachine.protected()
        let run = try m.runPM({ a in
            a.iretToRing3(flags: 0x202)
            let loop = a.newLabel()
            a.bind(loop)
            a.jmp(loop)
        }, prepare: { _ in m.interrupts.raise(0x60) })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x60])
        #expect(m.stackDword(2) & EFlags.resume == 0)
    }

    // MARK: Double faults

    @Test func contributoryDuringContributoryIsADoubleFault() throws {
        // #GP whose gate names a null selector: #GP(EXT) while delivering #GP → #DF with error code 0.
        let m = TestMachine.protected()
        m.setIDTGate(13, target: 0, offset: 0, type: 0xE)
        let run = try m.runPM { a in
            a.mov(Mem(disp: 0, size: .dword, segment: .cs), .eax)
        }
        m.expectException(run, 8, errorCode: 0)
        #expect(m.events.vectors == [13, 8])
    }

    @Test func pageFaultDuringPageFaultIsADoubleFault() throws {
        // The ring-0 stack is on a missing page: the #PF's frame faults again. A #DF task handles it.
        let m = TestMachine.protected()
        TaskSwitchTests.addTasks(m)
        m.identityMap32()
        m.setPTE(0x15000, 0)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.enablePaging()
            a.mov(.esp, 0x16000)
            a.push(.eax)
            a.hlt()
            a.bind(handler)
            a.pop(.ebx)
            a.hlt()
        }, prepare: { a in
            var t = TaskSwitchTests.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2)
            t.cr3 = UInt32(PM.pageDirectory)
            t.write(to: m, at: TaskSwitchTests.tssB)
            m.setIDTGate(8, target: TaskSwitchTests.taskB, type: 5)
        })
        #expect(run.reason == .halted)
        #expect(m.events.vectors == [14, 8])
        #expect(m.r32(.rbx) == 0)
        #expect(m.cpu.controlRegister2 == 0x15FFC)
        #expect(m.cpu.taskRegister.selector == TaskSwitchTests.taskB)
    }

    @Test func contributoryDuringPageFaultIsADoubleFault() throws {
        // #PF delivered through a gate whose code segment is not present: #NP while delivering #PF.
        let m = TestMachine.protected()
        m.identityMap32()
        m.setPTE(0x5000, 0)
        m.setSegment(0x48, access: PM.codeAccess(present: false))
        m.setIDTGate(14, target: 0x48, offset: 0, type: 0xE)
        let run = try m.runPM { a in
            a.enablePaging()
            a.mov(.eax, Mem(disp: 0x5000, size: .dword))
        }
        m.expectException(run, 8, errorCode: 0)
        #expect(m.events.vectors == [14, 8])
    }

    @Test func pageFaultDuringContributoryIsHandledSerially() throws {
        // #GP's handler is in an LDT on a missing page: reading its descriptor is a #PF, which is
        // delivered normally (contributory then page fault is not a double fault).
        let m = TestMachine.protected()
        m.identityMap32()
        m.setSystemSegment(0x48, base: 0x2_0000, limit: 0xFF, type: 2)
        m.setPTE(0x2_0000, 0)
        m.setIDTGate(13, target: 0x04, offset: 0, type: 0xE)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ax, 0x48)
            a.lldt(.ax)
            a.enablePaging()
            a.bind(mark)
            a.mov(.ax, 0x200)
            a.mov(.ds, .ax)
        }
        m.expectException(run, 14, errorCode: 0)
        #expect(m.events.vectors == [13, 14])
        #expect(m.cpu.controlRegister2 == 0x2_0000)
    }

    @Test func benignDuringAnythingIsHandledSerially() throws {
        // #UD through a not-present gate: #NP (contributory after benign) is delivered, no #DF.
        let m = TestMachine.protected()
        m.setIDTGate(6, target: Selector.code32, offset: 0x1860, type: 0xE, present: false)
        let run = try m.runPM { a in a.ud2() }
        m.expectException(run, 11, errorCode: 6 * 8 + 2 + 1)
        #expect(m.events.vectors == [6, 11])
    }

    @Test func faultWhileDeliveringADoubleFaultIsShutdown() throws {
        let m = TestMachine.protected()
        m.setIDTGate(13, target: Selector.code32, offset: 0x18D0, type: 0xE, present: false)
        m.setIDTGate(8, target: Selector.code32, offset: 0x1880, type: 0xE, present: false)
        let run = try m.runPM { a in
            a.mov(.ax, 0x200)
            a.mov(.ds, .ax)
        }
        #expect(run.reason == .shutdown)
        #expect(m.cpu.activity == .shutdown)
        #expect(m.events.shutdownChains == [[13, 8, 11]])
        #expect(m.cpu.shutdownChain == [13, 8, 11])
        #expect(m.handledVectors.isEmpty)
    }

    /// A single step over INT n whose delivery triple-faults: shutdown stops the processor until
    /// NMI, INIT or RESET (SDM Vol. 3A, 6.15, Interrupt 8), so the step trap pending after the
    /// instruction is dropped, not delivered into a second shutdown. Found by the long-mode
    /// system robustness sweep.
    @Test func singleStepOverAnInstructionThatShutsDownDeliversNoTrap() throws {
        let m = TestMachine.protected()
        for vector: UInt8 in [0x50, 11, 8] {
            m.setIDTGate(vector, target: Selector.code32, offset: 0x1880, type: 0xE, dpl: 3, present: false)
        }
        let run = try m.runPM { a in
            a.pushfd()
            a.or(Mem(.esp, size: .dword), Int(EFlags.trap))
            a.popfd()
            a.int(0x50)                                  // #NP(0x50), #NP again: #DF, #NP: shutdown
        }
        #expect(run.reason == .shutdown)
        #expect(m.events.vectors == [0x50, 11, 8])
        #expect(m.events.shutdownChains == [[0x50, 11, 8, 11]])
        #expect(m.cpu.shutdownChain == [0x50, 11, 8, 11])
    }

    @Test func invalidRing0StackFromRing3EndsInShutdownUnlessDFHasATask() throws {
        // A ring-3 #GP needs the ring-0 stack; SS0 is null: #TS(EXT) while delivering #GP is #DF,
        // and #DF through an interrupt gate needs the same stack.
        for withTask in [false, true] {
            let m = TestMachine.protected()
            TaskSwitchTests.addTasks(m)
            var handler: Label!
            let run = try m.runPM({ a in
                handler = a.newLabel()
                a.enterRing3()
                a.hlt()                                  // #GP at CPL 3
                a.bind(handler)
                a.pop(.ebx)
                a.hlt()
            }, prepare: { a in
                m.setTSSStack(level: 0, ss: 0, esp: 0x9000)
                if withTask {
                    TaskSwitchTests.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: TaskSwitchTests.tssB)
                    m.setIDTGate(8, target: TaskSwitchTests.taskB, type: 5)
                }
            })
            if withTask {
                #expect(run.reason == .halted)
                #expect(m.events.vectors == [13, 8])
                #expect(m.r32(.rbx) == 0)
                let main = TSS32.read(from: m, at: ProtectedModeGuest.tssBase)
                #expect(main.segments[1] == Selector.userCode, "the interrupted task was at ring 3")
            } else {
                #expect(run.reason == .shutdown)
                #expect(m.events.shutdownChains == [[13, 8, 10]])
            }
        }
    }

    @Test func softwareInterruptFailureIsNotADoubleFault() throws {
        // INT n through a gate with a null selector: #GP(0), delivered as an ordinary fault.
        let m = TestMachine.protected()
        m.setIDTGate(0x50, target: 0, type: 0xE, dpl: 3)
        let run = try m.runPM { a in a.int(0x50) }
        m.expectException(run, 13, errorCode: 0)
        #expect(m.events.vectors == [0x50, 13])
    }

    // MARK: NMI and shadows

    @Test func nmiStaysBlockedUntilAnyIret() throws {
        // NMI handler (a trap gate, so IF stays set): counts, and the first time halts inside.
        // A second NMI waits; an external interrupt wakes the handler, and that interrupt
        // handler's IRET already unblocks NMI, so the second NMI nests right there.
        let m = TestMachine.protected()
        var nmi: Label!, done: Label!, intr: Label!, loop: Label!
        let first = try m.runPM({ a in
            nmi = a.newLabel(); done = a.newLabel(); intr = a.newLabel(); loop = a.newLabel()
            a.sti()
            a.bind(loop)
            a.hlt()
            a.jmp(loop)
            a.bind(nmi)
            a.inc(Mem(disp: 0x3000, size: .dword))
            a.cmp(Mem(disp: 0x3000, size: .dword), 1)
            a.jcc(.ne, done)
            a.hlt()
            a.bind(done)
            a.iretd()
            a.bind(intr)
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(2, target: Selector.code32, offset: a.address(of: nmi)!, type: 0xF)
            m.setIDTGate(0x60, target: Selector.code32, offset: a.address(of: intr)!, type: 0xE)
        })
        #expect(first.reason == .halted)
        m.cpu.signalNMI()
        #expect(m.run() == .halted)
        #expect(m.bus.dword(at: 0x3000) == 1)
        m.cpu.signalNMI()
        #expect(m.run() == .halted, "blocked: the NMI does not wake the handler's HLT")
        #expect(m.bus.dword(at: 0x3000) == 1)
        m.interrupts.raise(0x60)
        #expect(m.run() == .halted)
        #expect(m.bus.dword(at: 0x3000) == 2)
        #expect(m.events.vectors == [2, 0x60, 2])
        #expect(m.events.deliveries[2].ip == UInt64(first[done]), "the second NMI arrived right after the INTR handler's IRET")
    }

    @Test func aFaultingIretStillUnblocksNMI() throws {
        // The NMI handler's IRET names a CS beyond the GDT: #GP. NMI is unblocked all the same,
        // so an NMI that arrived during the handler is delivered right after the #GP's delivery.
        let m = TestMachine.protected()
        var nmi: Label!, loop: Label!
        let first = try m.runPM({ a in
            nmi = a.newLabel(); loop = a.newLabel()
            a.bind(loop)
            a.hlt()
            a.jmp(loop)
            a.bind(nmi)
            a.nop()
            a.push(0x2)
            a.push(0x200)
            a.push(0)
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(2, target: Selector.code32, offset: a.address(of: nmi)!, type: 0xE)
        })
        #expect(first.reason == .halted)
        m.cpu.signalNMI()
        #expect(m.run(budget: 1) == .limitReached)      // in the handler
        m.cpu.signalNMI()
        _ = m.run()
        #expect(Array(m.events.vectors.prefix(3)) == [2, 13, 2])
    }

    @Test func movSSShadowHoldsAnInterruptForOneInstruction() throws {
        let m = TestMachine.protected()
        var after: Label!, handler: Label!
        let first = try m.runPM({ a in
            after = a.newLabel(); handler = a.newLabel()
            a.mov(.ax, Int(Selector.data32))
            a.sti()
            a.hlt()
            a.mov(.ss, .ax)
            a.mov(.esp, 0x8800)
            a.bind(after)
            a.nop()
            a.hlt()
            a.bind(handler)
            a.mov(.ebx, .esp)
            a.hlt()
        }, prepare: { a in
            m.setIDTGate(0x60, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(first.reason == .halted)
        m.cpu.activity = .active
        #expect(m.run(budget: 1) == .limitReached)     // MOV SS
        m.interrupts.raise(0x60)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.map(\.ip) == [UInt64(first[after])])
        #expect(m.r32(.rbx) == 0x8800 - 12, "the frame went onto the new stack")
    }
}
