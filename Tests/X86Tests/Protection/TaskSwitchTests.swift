import Testing
@testable import X86
import X86Asm

/// A 32-bit TSS image (SDM Vol. 3A, 7.2.1).
struct TSS32: Equatable {
    var backLink: UInt16 = 0
    var esp0: UInt32 = ProtectedModeGuest.kernelStackTop
    var ss0: UInt16 = PM.Selector.data32
    var cr3: UInt32 = 0
    var eip: UInt32 = 0
    var eflags: UInt32 = 0x2
    /// EAX, ECX, EDX, EBX, ESP, EBP, ESI, EDI.
    var registers: [UInt32] = [0, 0, 0, 0, 0, 0, 0, 0]
    /// ES, CS, SS, DS, FS, GS.
    var segments: [UInt16] = [0x10, 0x08, 0x10, 0x10, 0x10, 0x10]
    var ldt: UInt16 = 0
    var trap = false
    var ioMapBase: UInt16 = 0x68

    func write(to m: TestMachine, at address: Int) {
        var bytes = [UInt8](repeating: 0, count: 0x68)
        func put(_ offset: Int, _ value: UInt32, _ size: Int = 4) {
            for i in 0..<size { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt32(i))) }
        }
        put(0, UInt32(backLink), 2)
        put(4, esp0)
        put(8, UInt32(ss0), 2)
        put(0x1C, cr3)
        put(0x20, eip)
        put(0x24, eflags)
        for (i, r) in registers.enumerated() { put(0x28 + 4 * i, r) }
        for (i, s) in segments.enumerated() { put(0x48 + 4 * i, UInt32(s), 2) }
        put(0x60, UInt32(ldt), 2)
        put(0x64, (trap ? 1 : 0) | UInt32(ioMapBase) << 16)
        m.bus.load(bytes, at: address)
    }

    static func read(from m: TestMachine, at address: Int) -> TSS32 {
        var t = TSS32()
        t.backLink = m.bus.word(at: address)
        t.esp0 = m.bus.dword(at: address + 4)
        t.ss0 = m.bus.word(at: address + 8)
        t.cr3 = m.bus.dword(at: address + 0x1C)
        t.eip = m.bus.dword(at: address + 0x20)
        t.eflags = m.bus.dword(at: address + 0x24)
        t.registers = (0..<8).map { m.bus.dword(at: address + 0x28 + 4 * $0) }
        t.segments = (0..<6).map { m.bus.word(at: address + 0x48 + 4 * $0) }
        t.ldt = m.bus.word(at: address + 0x60)
        t.trap = m.bus.word(at: address + 0x64) & 1 != 0
        t.ioMapBase = m.bus.word(at: address + 0x66)
        return t
    }
}

/// A 16-bit (286) TSS image.
struct TSS16 {
    var backLink: UInt16 = 0
    var sp0: UInt16 = UInt16(ProtectedModeGuest.kernelStackTop)
    var ss0: UInt16 = PM.Selector.data32
    var ip: UInt16 = 0
    var flags: UInt16 = 0x2
    /// AX, CX, DX, BX, SP, BP, SI, DI.
    var registers: [UInt16] = [0, 0, 0, 0, 0, 0, 0, 0]
    /// ES, CS, SS, DS.
    var segments: [UInt16] = [0x20, 0x18, 0x20, 0x20]
    var ldt: UInt16 = 0

    func write(to m: TestMachine, at address: Int) {
        var words = [UInt16](repeating: 0, count: 0x16)
        words[0] = backLink
        words[1] = sp0
        words[2] = ss0
        words[7] = ip
        words[8] = flags
        for (i, r) in registers.enumerated() { words[9 + i] = r }
        for (i, s) in segments.enumerated() { words[0x11 + i] = s }
        words[0x15] = ldt
        for (i, w) in words.enumerated() { m.bus.setWord(w, at: address + 2 * i) }
    }
}

/// Hardware task switching (SDM Vol. 3A, 7.3–7.4; Vol. 2, JMP, CALL, IRET, INT n).
@Suite struct TaskSwitchTests {
    typealias Selector = PM.Selector
    static let taskA: UInt16 = 0x40
    static let taskB: UInt16 = 0x48
    static let gateA: UInt16 = 0x50
    static let task16: UInt16 = 0x58
    static let ldt: UInt16 = 0x60
    static let tssA = 0x1_1000
    static let tssB = 0x1_1100
    static let tss16 = 0x1_1200
    static let ldtBase = 0x1_1400
    static let mainTSS = ProtectedModeGuest.tssBase

    /// TSS A (0x40), TSS B (0x48) and a task gate to A (0x50, DPL 3) in the GDT.
    static func addTasks(_ m: TestMachine) {
        m.setSystemSegment(taskA, base: UInt32(tssA), limit: 0x67, type: 9)
        m.setSystemSegment(taskB, base: UInt32(tssB), limit: 0x67, type: 9)
        m.setGate(gateA, target: taskA, type: 5, dpl: 3)
    }

    /// A task running `label` at ring 0 on its own stack, with recognisable registers.
    static func task(_ eip: UInt32, stack: UInt32 = 0xA000, eflags: UInt32 = 0x8C3) -> TSS32 {
        var t = TSS32()
        t.eip = eip
        t.eflags = eflags
        t.registers = [0xA0A0_0000, 0xA0A0_1111, 0xA0A0_2222, 0xA0A0_3333, stack, 0xA0A0_5555, 0xA0A0_6666, 0xA0A0_7777]
        return t
    }

    /// Sets recognisable values in the main task's registers (ESP = 0x8F00).
    static func setMainRegisters(_ a: inout Assembler) {
        a.mov(.eax, 0x1111_0000)
        a.mov(.ecx, 0x1111_1111)
        a.mov(.edx, 0x1111_2222)
        a.mov(.ebx, 0x1111_3333)
        a.mov(.esp, 0x8F00)
        a.mov(.ebp, 0x1111_5555)
        a.mov(.esi, 0x1111_6666)
        a.mov(.edi, 0x1111_7777)
    }
    static let mainRegisters: [UInt32] = [0x1111_0000, 0x1111_1111, 0x1111_2222, 0x1111_3333, 0x8F00, 0x1111_5555, 0x1111_6666, 0x1111_7777]

    private func registers(_ m: TestMachine) -> [UInt32] {
        [GeneralRegister.rax, .rcx, .rdx, .rbx, .rsp, .rbp, .rsi, .rdi].map { m.r32($0) }
    }

    @Test func jumpToATSSSavesTheOldTaskAndLoadsTheNewOne() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!, after: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); after = a.newLabel()
            a.pushfd()
            a.or(Mem(.esp, size: .dword), Int(EFlags.nestedTask | EFlags.direction))
            a.popfd()
            Self.setMainRegisters(&a)
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.bind(after)
            a.hlt()
            a.bind(entry)
        }, prepare: { a in
            Self.task(a.address(of: entry)!).write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.cpu.taskRegister.selector == Self.taskA)
        #expect(m.cpu.taskRegister.base == UInt64(Self.tssA))
        #expect(registers(m) == Self.task(0).registers)
        #expect(m.cpu.eflags == 0x8C3, "EFLAGS from the new TSS; NT stays clear after a JMP")
        #expect(m.cpu.controlRegister0 & ControlRegister0.taskSwitched != 0)
        let old = TSS32.read(from: m, at: Self.mainTSS)
        #expect(old.eip == run[after])
        #expect(old.registers == Self.mainRegisters)
        #expect(old.segments == [0x10, 0x08, 0x10, 0x10, 0x10, 0x10])
        #expect(old.eflags & (EFlags.nestedTask | EFlags.direction) == EFlags.nestedTask | EFlags.direction,
                "a JMP leaves NT as it is in the saved image")
        #expect(m.accessByte(Selector.tss) == 0x89, "old task no longer busy")
        #expect(m.accessByte(Self.taskA) == 0x8B, "new task busy")
        #expect(TSS32.read(from: m, at: Self.tssA).backLink == 0, "no back-link for a JMP")
        #expect(m.events.taskSwitches == [TaskSwitch(oldSelector: Selector.tss, newSelector: Self.taskA, reason: .jump, vector: nil)])
    }

    @Test func callNestsTheTaskAndIretReturnsToIt() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!, after: Label!, resumed: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); after = a.newLabel(); resumed = a.newLabel()
            Self.setMainRegisters(&a)
            a.callFar(segment: Self.taskA, offset: 0)
            a.bind(after)
            a.pushfd()
            a.pop(Mem(disp: 0x3010, size: .dword))
            a.hlt()
            a.bind(entry)
            // Task A: note EFLAGS and TR, change a register, return.
            a.pushfd()
            a.pop(Mem(disp: 0x3000, size: .dword))
            a.str(Mem(disp: 0x3004))
            a.mov(.eax, 0xA0A0_9999)
            a.iretd()
            a.bind(resumed)
        }, prepare: { a in
            Self.task(a.address(of: entry)!).write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x3000) & EFlags.nestedTask != 0, "NT set in the called task")
        #expect(m.bus.word(at: 0x3004) == Self.taskA)
        #expect(m.bus.dword(at: 0x3010) & EFlags.nestedTask == 0, "the caller's own NT is as it was")
        #expect(m.cpu.taskRegister.selector == Selector.tss)
        #expect(registers(m) == Self.mainRegisters.enumerated().map { $0.offset == 4 ? 0x8F00 : $0.element })
        let a = TSS32.read(from: m, at: Self.tssA)
        #expect(a.backLink == Selector.tss)
        #expect(a.eip == run[resumed], "task A saved at the instruction after its IRET")
        #expect(a.eflags & EFlags.nestedTask == 0, "IRET clears NT in the image it saves")
        #expect(a.registers[0] == 0xA0A0_9999)
        #expect(m.accessByte(Selector.tss) == 0x8B)
        #expect(m.accessByte(Self.taskA) == 0x89)
        #expect(m.events.taskSwitches.map(\.reason) == [.call, .iret])
        #expect(m.events.taskSwitches.map(\.newSelector) == [Self.taskA, Selector.tss])
        _ = after
    }

    @Test func jumpBackToTheFirstTaskResumesIt() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            Self.setMainRegisters(&a)
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.mov(Mem(disp: 0x3000, size: .dword), .eax)
            a.hlt()
            a.bind(entry)
            a.jmpFar(segment: Selector.tss, offset: 0)
        }, prepare: { a in
            Self.task(a.address(of: entry)!).write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x3000) == 0x1111_0000)
        #expect(m.cpu.taskRegister.selector == Selector.tss)
        #expect(m.accessByte(Self.taskA) == 0x89)
        #expect(m.accessByte(Selector.tss) == 0x8B)
    }

    @Test func taskGateChecksItsOwnDPLNotTheTSSs() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enterRing3()
            a.jmpFar(segment: Self.gateA | 3, offset: 0)
            a.bind(entry)
        }, prepare: { a in
            Self.task(a.address(of: entry)!).write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.cpu.taskRegister.selector == Self.taskA)
        #expect(m.cpu.cpl == 0)
        let old = TSS32.read(from: m, at: Self.mainTSS)
        #expect(old.segments[1] == Selector.userCode)
        #expect(old.segments[2] == Selector.userData)
    }

    /// Runs `transfer` (at ring 3 if asked) with tasks A and B set up by `setup`; returns the machine.
    private func attempt(ring3: Bool = false, setup: @escaping (TestMachine) -> Void = { _ in },
                         _ transfer: @escaping (inout Assembler) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var mark: Label!, entry: Label!
        let run = try m.runPM({ a in
            mark = a.newLabel(); entry = a.newLabel()
            if ring3 { a.enterRing3() }
            a.bind(mark)
            transfer(&a)
            a.hlt()
            a.bind(entry)
            a.hlt()
        }, prepare: { a in
            Self.task(a.address(of: entry)!).write(to: m, at: Self.tssA)
            setup(m)
        })
        return (m, run, mark)
    }

    @Test func directTransferToATSSChecksItsDPL() throws {
        let (m, run, mark) = try attempt(ring3: true) { $0.jmpFar(segment: Self.taskA | 3, offset: 0) }
        m.expectException(run, 13, errorCode: UInt32(Self.taskA), at: mark)
        let (r, rrun, rmark) = try attempt { $0.callFar(segment: Self.taskA | 1, offset: 0) }
        r.expectException(rrun, 13, errorCode: UInt32(Self.taskA), at: rmark)
    }

    @Test func taskGateLessPrivilegedThanCPLIsGP() throws {
        let (m, run, mark) = try attempt(ring3: true, setup: { $0.setGate(Self.gateA, target: Self.taskA, type: 5, dpl: 2) }) {
            $0.jmpFar(segment: Self.gateA | 3, offset: 0)
        }
        m.expectException(run, 13, errorCode: UInt32(Self.gateA), at: mark)
    }

    @Test func notPresentTaskGateIsNP() throws {
        let (m, run, mark) = try attempt(setup: { $0.setGate(Self.gateA, target: Self.taskA, type: 5, dpl: 3, present: false) }) {
            $0.callFar(segment: Self.gateA, offset: 0)
        }
        m.expectException(run, 11, errorCode: UInt32(Self.gateA), at: mark)
    }

    @Test func taskGateToSomethingOtherThanAnAvailableTSSIsGP() throws {
        let (m, run, mark) = try attempt(setup: { $0.setGate(Self.gateA, target: Selector.data32, type: 5) }) {
            $0.jmpFar(segment: Self.gateA, offset: 0)
        }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
        let (l, lrun, lmark) = try attempt(setup: { $0.setGate(Self.gateA, target: Self.taskA | 4, type: 5) }) {
            $0.jmpFar(segment: Self.gateA, offset: 0)
        }
        l.expectException(lrun, 13, errorCode: UInt32(Self.taskA | 4), at: lmark)
    }

    @Test func busyTSSIsGP() throws {
        let (m, run, mark) = try attempt { $0.jmpFar(segment: Selector.tss, offset: 0) }
        m.expectException(run, 13, errorCode: UInt32(Selector.tss), at: mark)
        let (c, crun, cmark) = try attempt(setup: { $0.setGate(Self.gateA, target: Selector.tss, type: 5) }) {
            $0.callFar(segment: Self.gateA, offset: 0)
        }
        c.expectException(crun, 13, errorCode: UInt32(Selector.tss), at: cmark)
        #expect(c.cpu.taskRegister.selector == Selector.tss)
    }

    @Test func notPresentTSSIsNP() throws {
        let (m, run, mark) = try attempt(setup: { $0.setSystemSegment(Self.taskA, base: UInt32(Self.tssA), limit: 0x67, type: 9, present: false) }) {
            $0.jmpFar(segment: Self.taskA, offset: 0)
        }
        m.expectException(run, 11, errorCode: UInt32(Self.taskA), at: mark)
    }

    @Test func tssShorterThanTheMinimumIsTS() throws {
        let (m, run, mark) = try attempt(setup: { $0.setSystemSegment(Self.taskA, base: UInt32(Self.tssA), limit: 0x66, type: 9) }) {
            $0.jmpFar(segment: Self.taskA, offset: 0)
        }
        m.expectException(run, 10, errorCode: UInt32(Self.taskA), at: mark)
        #expect(m.cpu.taskRegister.selector == Selector.tss)
        #expect(m.accessByte(Selector.tss) == 0x8B)
        #expect(m.events.taskSwitches.isEmpty)
    }

    @Test func iretWithNTToATaskThatIsNotBusyIsTS() throws {
        let (m, run, mark) = try attempt(setup: { m in
            m.bus.setWord(Self.taskA, at: Self.mainTSS)     // back-link → an available TSS
        }) { a in
            a.pushfd()
            a.or(Mem(.esp, size: .dword), Int(EFlags.nestedTask))
            a.popfd()
            a.iretd()
        }
        m.expectException(run, 10, errorCode: UInt32(Self.taskA))
        #expect(m.stackDword(1) == run[mark] + 9, "the IRET after PUSHFD, OR (7 bytes) and POPFD")
    }

    // MARK: Exceptions and interrupts through task gates

    @Test func exceptionThroughATaskGatePushesItsErrorCodeInTheNewTask() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var handler: Label!, mark: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); mark = a.newLabel()
            a.mov(.ax, 0x200)
            a.bind(mark)
            a.mov(.ds, .ax)
            a.hlt()
            a.bind(handler)
            a.mov(.esi, .esp)
            a.pop(.ebx)
            a.pushfd()
            a.pop(.ecx)
            a.hlt()
        }, prepare: { a in
            Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: Self.tssB)
            m.setIDTGate(13, target: Self.taskB, type: 5)
        })
        #expect(run.reason == .halted)
        #expect(m.cpu.taskRegister.selector == Self.taskB)
        #expect(m.r32(.rsi) == 0xB000 - 4)
        #expect(m.r32(.rbx) == 0x200, "the error code on the handler task's stack")
        #expect(m.r32(.rcx) & EFlags.nestedTask != 0)
        let main = TSS32.read(from: m, at: Self.mainTSS)
        #expect(main.eip == run[mark], "the faulting instruction")
        #expect(TSS32.read(from: m, at: Self.tssB).backLink == Selector.tss)
        #expect(m.events.taskSwitches == [TaskSwitch(oldSelector: Selector.tss, newSelector: Self.taskB, reason: .exception, vector: 13)])
        #expect(m.accessByte(Selector.tss) == 0x8B && m.accessByte(Self.taskB) == 0x8B)
    }

    @Test func softwareInterruptThroughATaskGate() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var handler: Label!, after: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); after = a.newLabel()
            a.enterRing3()
            a.int(0x50)
            a.bind(after)
            a.bind(handler)
            a.mov(.esi, .esp)
            a.hlt()
        }, prepare: { a in
            Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: Self.tssB)
            m.setIDTGate(0x50, target: Self.taskB, type: 5, dpl: 3)
        })
        #expect(run.reason == .halted)
        #expect(m.r32(.rsi) == 0xB000, "no error code, no frame")
        #expect(TSS32.read(from: m, at: Self.mainTSS).eip == run[after])
        #expect(m.events.taskSwitches.map(\.reason) == [.interrupt])
        #expect(m.events.taskSwitches.first?.vector == 0x50)
    }

    @Test func softwareInterruptThroughAPrivilegedTaskGateIsGP() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        m.setIDTGate(0x50, target: Self.taskB, type: 5, dpl: 0)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.enterRing3()
            a.bind(mark)
            a.int(0x50)
        }
        m.expectException(run, 13, errorCode: 0x50 * 8 + 2, at: mark)
        #expect(m.events.taskSwitches.isEmpty)
    }

    @Test func externalInterruptAndNMIThroughTaskGates() throws {
        for nmi in [false, true] {
            let m = TestMachine.protected()
            Self.addTasks(m)
            var handler: Label!, loop: Label!
            let first = try m.runPM(budget: 300, { a in
                handler = a.newLabel(); loop = a.newLabel()
                if !nmi { a.sti() }
                a.bind(loop)
                a.jmp(loop)
                a.bind(handler)
                a.hlt()
            }, prepare: { a in
                Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: Self.tssB)
                m.setIDTGate(nmi ? 2 : 0x60, target: Self.taskB, type: 5)
            })
            #expect(first.reason == .limitReached)
            if nmi { m.cpu.signalNMI() } else { m.interrupts.raise(0x60) }
            #expect(m.run() == .halted)
            #expect(m.cpu.taskRegister.selector == Self.taskB)
            #expect(m.events.taskSwitches == [TaskSwitch(oldSelector: Selector.tss, newSelector: Self.taskB, reason: .interrupt, vector: nmi ? 2 : 0x60)])
            #expect(TSS32.read(from: m, at: Self.mainTSS).eip == first[loop])
        }
    }

    @Test func doubleFaultThroughATaskGate() throws {
        // #GP whose gate is missing: #NP while delivering #GP is a double fault, handled by a task.
        let m = TestMachine.protected()
        Self.addTasks(m)
        m.setIDTGate(13, target: Selector.code32, offset: 0x1800, type: 0xE, present: false)
        var handler: Label!, mark: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); mark = a.newLabel()
            a.mov(.ax, 0x200)
            a.bind(mark)
            a.mov(.ds, .ax)
            a.hlt()
            a.bind(handler)
            a.pop(.ebx)
            a.hlt()
        }, prepare: { a in
            Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: Self.tssB)
            m.setIDTGate(8, target: Self.taskB, type: 5)
        })
        #expect(run.reason == .halted)
        #expect(m.events.vectors == [13, 8])
        #expect(m.cpu.taskRegister.selector == Self.taskB)
        #expect(m.r32(.rbx) == 0, "#DF's error code")
        #expect(m.r32(.rsp) == 0xB000)
        #expect(TSS32.read(from: m, at: Self.mainTSS).eip == run[mark])
    }

    // MARK: What the switch loads

    @Test func sixteenBitTaskRoundTrip() throws {
        let m = TestMachine.protected()
        m.setSystemSegment(Self.task16, base: UInt32(Self.tss16), limit: 0x2B, type: 1)
        var entry: Label!, resumed: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); resumed = a.newLabel()
            a.mov(.eax, Int(Selector.data32))
            a.mov(.fs, .eax)
            a.mov(.gs, .eax)
            Self.setMainRegisters(&a)
            a.callFar(segment: Self.task16, offset: 0)
            a.mov(Mem(disp: 0x3000, size: .dword), .eax)
            a.hlt()
            a.bits(.b16)
            a.bind(entry)
            a.mov(Mem(disp: 0x3010, size: .dword), .eax)
            a.mov(Mem(disp: 0x3014, size: .dword), .esp)
            a.mov(Mem(disp: 0x3018, size: .dword), .edi)
            a.mov(Mem(disp: 0x301C, size: .word), .fs)
            a.mov(Mem(disp: 0x301E, size: .word), .gs)
            a.mov(Mem(disp: 0x3004, size: .word), .ax)
            a.mov(Mem(disp: 0x3006, size: .word), .sp)
            a.mov(Mem(disp: 0x3008, size: .word), .cs)
            a.pushf()
            a.pop(Mem(disp: 0x300A, size: .word))
            a.str(Mem(disp: 0x300C))
            a.mov(.ax, 0x7777)
            a.iret()
            a.bind(resumed)
            a.bits(.b32)
        }, prepare: { a in
            var t = TSS16()
            t.ip = UInt16(a.address(of: entry)!)
            t.flags = 0x0C3
            t.registers = [0x1600, 0x1611, 0x1622, 0x1633, 0xA000, 0x1655, 0x1666, 0x1677]
            t.write(to: m, at: Self.tss16)
        })
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x3010) == 0xFFFF_1600, "upper words FFFFh after a switch into a 16-bit task, as 386-class hardware does")
        #expect(m.bus.dword(at: 0x3014) == 0xFFFF_A000)
        #expect(m.bus.dword(at: 0x3018) == 0xFFFF_1677)
        #expect(m.bus.word(at: 0x301C) == 0 && m.bus.word(at: 0x301E) == 0, "a 16-bit TSS has no FS or GS: both null")
        #expect(m.bus.word(at: 0x3004) == 0x1600)
        #expect(m.bus.word(at: 0x3006) == 0xA000)
        #expect(m.bus.word(at: 0x3008) == Selector.code16)
        #expect(m.bus.word(at: 0x300A) == 0x40C3, "FLAGS from the TSS, and NT set in the called 16-bit task")
        #expect(m.bus.word(at: 0x300C) == Self.task16)
        #expect(m.bus.dword(at: 0x3000) == 0x1111_0000, "the caller's EAX restored")
        // The 16-bit TSS got the back-link and, on IRET, its task's state as words.
        #expect(m.bus.word(at: Self.tss16) == Selector.tss)
        #expect(m.bus.word(at: Self.tss16 + 0x0E) == UInt16(run[resumed]))
        #expect(m.bus.word(at: Self.tss16 + 0x12) == 0x7777)
        #expect(m.bus.word(at: Self.tss16 + 0x10) & UInt16(EFlags.nestedTask) == 0)
        #expect(m.accessByte(Self.task16) == 0x81, "available 286 TSS again")
    }

    @Test func theSwitchLoadsLDTRAndSegmentsFromTheLDT() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        m.setSystemSegment(Self.ldt, base: UInt32(Self.ldtBase), limit: 0x17, type: 2)
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC), at: Self.ldtBase)
        m.bus.load(ProtectedModeGuest.segment(base: 0x2_0000, limit: 0xFFFF, access: 0x92, flags: 0x4), at: Self.ldtBase + 8)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.bind(entry)
        }, prepare: { a in
            var t = Self.task(a.address(of: entry)!)
            t.ldt = Self.ldt
            t.segments = [0x0C, 0x04, 0x10, 0x0C, 0, 0]
            t.write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.cpu.ldtr.selector == Self.ldt)
        #expect(m.cpu.ldtr.base == UInt64(Self.ldtBase))
        #expect(m.cpu.segment(.cs).selector == 0x04)
        #expect(m.cpu.segment(.ds).base == 0x2_0000)
        #expect(m.cpu.segment(.es).base == 0x2_0000)
        #expect(m.cpu.segment(.fs).selector == 0)
        #expect(TSS32.read(from: m, at: Self.mainTSS).ldt == 0, "LDTR is not saved")
    }

    @Test func theSwitchLoadsCR3ButDoesNotSaveIt() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        m.identityMap32()
        // A second address space in which linear 0x12000 maps physical 0x13000.
        let directory = 0x10_2000, table = 0x10_3000
        for i in 0..<1024 { m.bus.setDword(m.bus.dword(at: PM.firstPageTable + 4 * i), at: table + 4 * i) }
        m.bus.setDword(0x13007, at: table + 0x12 * 4)
        m.bus.setDword(UInt32(table) | 7, at: directory)
        m.bus.setDword(0x1111, at: 0x12000)
        m.bus.setDword(0x2222, at: 0x13000)
        m.bus.setDword(0xDEAD_0000, at: Self.mainTSS + 0x1C)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enablePaging()
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.bind(entry)
            a.mov(.ecx, Mem(disp: 0x12000, size: .dword))
            a.mov(.edx, .cr3)
        }, prepare: { a in
            var t = Self.task(a.address(of: entry)!)
            t.cr3 = UInt32(directory)
            t.write(to: m, at: Self.tssA)
        })
        m.expectClean(run)
        #expect(m.r32(.rcx) == 0x2222)
        #expect(m.r32(.rdx) == UInt32(directory))
        #expect(m.bus.dword(at: Self.mainTSS + 0x1C) == 0xDEAD_0000)
    }

    // MARK: Faults in the new task

    /// Switches with JMP to task A whose TSS `adjust` changes; returns the machine and A's EIP.
    private func faultInNewTask(_ adjust: @escaping (inout TSS32) -> Void, setup: @escaping (TestMachine) -> Void = { _ in }) throws -> (TestMachine, PMRun, UInt32) {
        let m = TestMachine.protected()
        Self.addTasks(m)
        setup(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.hlt()
            a.bind(entry)
        }, prepare: { a in
            var t = Self.task(a.address(of: entry)!, eflags: 0x2)
            adjust(&t)
            t.write(to: m, at: Self.tssA)
        })
        return (m, run, run.assembler.address(of: entry)!)
    }

    @Test func invalidDataSegmentIsTSInTheNewTask() throws {
        let (m, run, eip) = try faultInNewTask { $0.segments[3] = 0x200 }
        m.expectException(run, 10, errorCode: 0x200)
        #expect(m.stackDword(1) == eip, "saved EIP: the new task's first instruction")
        #expect(m.stackDword(2) == UInt32(Selector.code32))
        #expect(m.cpu.taskRegister.selector == Self.taskA)
        #expect(m.r32(.rsp) == 0xA000 - 16, "the frame is on the new task's stack")
        #expect(m.accessByte(Self.taskA) == 0x8B)
    }

    @Test func notPresentDataSegmentIsNPInTheNewTask() throws {
        let (m, run, eip) = try faultInNewTask({ $0.segments[5] = 0x68 }, setup: { $0.setSegment(0x68, access: PM.dataAccess(present: false)) })
        m.expectException(run, 11, errorCode: 0x68)
        #expect(m.stackDword(1) == eip)
    }

    @Test func dataSegmentMorePrivilegedThanTheNewCPLIsTS() throws {
        let (m, run, _) = try faultInNewTask({ t in
            t.segments = [0x33, 0x2B, 0x33, 0x10, 0x33, 0x33]
            t.esp0 = 0x9000
        })
        m.expectException(run, 10, errorCode: 0x10)
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
    }

    @Test func badStackSegmentIsTSAndMissingOneSS() throws {
        let (m, run, _) = try faultInNewTask { $0.segments[2] = 0x33 }
        m.expectException(run, 10, errorCode: 0x30)
        let (n, nrun, _) = try faultInNewTask({ $0.segments[2] = 0x68 }, setup: { $0.setSegment(0x68, access: PM.dataAccess(present: false)) })
        n.expectException(nrun, 12, errorCode: 0x68)
    }

    @Test func badCodeSegmentIsTSAndMissingOneNP() throws {
        let (m, run, _) = try faultInNewTask { $0.segments[1] = 0x10 }
        m.expectException(run, 10, errorCode: 0x10)
        let (n, nrun, _) = try faultInNewTask({ $0.segments[1] = 0x68 }, setup: { $0.setSegment(0x68, access: PM.codeAccess(present: false)) })
        n.expectException(nrun, 11, errorCode: 0x68)
    }

    @Test func badLDTIsTSAndAMissingLDTIsTSToo() throws {
        let (m, run, _) = try faultInNewTask { $0.ldt = Selector.data32 }
        m.expectException(run, 10, errorCode: UInt32(Selector.data32))
        // SDM Vol. 3A, Table 7-1: "LDT of new task is present in memory" fails with #TS.
        let (n, nrun, _) = try faultInNewTask({ $0.ldt = Self.ldt }, setup: { $0.setSystemSegment(Self.ldt, base: 0, limit: 0xFF, type: 2, present: false) })
        n.expectException(nrun, 10, errorCode: UInt32(Self.ldt))
    }

    @Test func entryPointBeyondTheCodeLimitIsGP0InTheNewTask() throws {
        let (m, run, _) = try faultInNewTask({ t in
            t.segments[1] = 0x68
            t.eip = 0x2_0000
        }, setup: { $0.setSegment(0x68, limit: 0xFFFF, access: PM.codeAccess(), flags: 0x4) })
        m.expectException(run, 13, errorCode: 0)
        #expect(m.stackDword(1) == 0x2_0000)
        #expect(m.stackDword(2) == 0x68)
        #expect(m.cpu.taskRegister.selector == Self.taskA)
    }

    @Test func ring3TaskCallsARing0TaskAndIsResumedAtRing3() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!, after: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); after = a.newLabel()
            a.enterRing3()
            a.mov(.ax, Int(Selector.userData))
            a.mov(.fs, .ax)
            a.mov(.ebx, 0x3333)
            a.callFar(segment: Self.gateA | 3, offset: 0)
            a.bind(after)
            a.mov(.cx, .cs)
            a.mov(.dx, .fs)
            a.int(0x40)
            a.bind(entry)
            a.mov(.ebx, 0x4444)
            a.iretd()
        }, prepare: { a in
            Self.task(a.address(of: entry)!, eflags: 0x2).write(to: m, at: Self.tssA)
        })
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.r32(.rbx) == 0x3333)
        #expect(m.r16(.rcx) == Selector.userCode)
        #expect(m.r16(.rdx) == Selector.userData)
        #expect(m.stackDword(0) == run[after] + 8, "INT 0x40 after the two MOVs")
        #expect(m.events.taskSwitches.map(\.reason) == [.call, .iret])
    }

    @Test func theTSFlagMakesTheNextFloatingPointInstructionNM() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!, mark: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel(); mark = a.newLabel()
            a.mov(.eax, .cr0)
            a.or(.eax, Int(ControlRegister0.monitorCoprocessor))
            a.mov(.cr0, .eax)
            a.fwait()                               // fine before the switch
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.bind(entry)
            a.bind(mark)
            a.fwait()
        }, prepare: { a in
            Self.task(a.address(of: entry)!, eflags: 0x2).write(to: m, at: Self.tssA)
        })
        m.expectException(run, 7, errorCode: nil, at: mark)
    }

    @Test func faultsInATaskEnteredByAnExternalInterruptHaveEXT() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        m.setSegment(0x68, access: PM.dataAccess(present: false))
        var handler: Label!, loop: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel(); loop = a.newLabel()
            a.sti()
            a.bind(loop)
            a.jmp(loop)
            a.bind(handler)
            a.hlt()
        }, prepare: { a in
            var t = Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2)
            t.segments[3] = 0x68
            t.write(to: m, at: Self.tssB)
            m.setIDTGate(0x60, target: Self.taskB, type: 5)
            m.interrupts.raise(0x60)
        })
        m.expectException(run, 11, errorCode: 0x68 | 1)
        #expect(m.stackDword(1) == run[handler])
        #expect(m.cpu.taskRegister.selector == Self.taskB)
    }

    // MARK: The T flag

    @Test func debugTrapFlagRaisesDBBeforeTheNewTasksFirstInstruction() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.jmpFar(segment: Self.taskA, offset: 0)
            a.bind(entry)
            a.mov(.ebx, 1)
        }, prepare: { a in
            var t = Self.task(a.address(of: entry)!, eflags: 0x2)
            t.trap = true
            t.write(to: m, at: Self.tssA)
        })
        m.expectException(run, 1, errorCode: nil, at: entry)
        #expect(m.events.deliveries.first?.source == .exception)
        #expect(m.cpu.debugRegister(6) & (1 << 15) != 0, "DR6.BT")
        #expect(m.cpu.taskRegister.selector == Self.taskA)
        #expect(m.r32(.rbx) != 1, "the trap came before the first instruction")
        #expect(m.r32(.rsp) == 0xA000 - 12, "delivered on the new task's stack")
    }

    @Test func debugTrapFlagAfterATaskGateEventFollowsTheErrorCode() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.mov(.ax, 0x200)
            a.mov(.ds, .ax)
            a.bind(handler)
            a.hlt()
        }, prepare: { a in
            var t = Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2)
            t.trap = true
            t.write(to: m, at: Self.tssB)
            m.setIDTGate(13, target: Self.taskB, type: 5)
        })
        m.expectException(run, 1, errorCode: nil, at: handler)
        #expect(m.events.vectors == [13, 1])
        #expect(m.stackDword(3) == 0x200, "the #GP error code lies under the #DB frame")
    }

    @Test func faultThroughATaskGateSavesRF() throws {
        let m = TestMachine.protected()
        Self.addTasks(m)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            a.ud2()
            a.bind(handler)
            a.hlt()
        }, prepare: { a in
            Self.task(a.address(of: handler)!, stack: 0xB000, eflags: 0x2).write(to: m, at: Self.tssB)
            m.setIDTGate(6, target: Self.taskB, type: 5)
        })
        #expect(run.reason == .halted)
        #expect(TSS32.read(from: m, at: Self.mainTSS).eflags & EFlags.resume != 0)
    }
}
