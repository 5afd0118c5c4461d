import Testing
@testable import X86
import X86Asm

/// A debugger's data watchpoints (`CPU.dataWatchpoints`), in real mode: seen on the memory slow
/// path for every kind of access, invisible to the guest.
@Suite struct DataWatchpointTests {
    static let data = UInt64(TestMachine.data)

    /// One step of a guest run the way a debugger runs it (one instruction, or one iteration of
    /// a REP string instruction, at a time): the hit it made and CX after it.
    struct Step {
        let hit: DataWatchpointHit?
        let cx: UInt16
    }

    /// Loads `build` (then HLT), arms `watchpoints` and runs it step by step until it halts.
    static func steps(_ watchpoints: [DataWatchpoint], on m: TestMachine = TestMachine(),
                      _ build: (inout Assembler) -> Void) throws -> [Step] {
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        build(&a)
        a.hlt()
        try m.load(a)
        m.cpu.activity = .active            // after an earlier run's HLT
        m.cpu.dataWatchpoints = watchpoints
        var steps: [Step] = []
        for _ in 0..<1000 {
            let reason = m.cpu.run(limit: 1)
            if reason == .halted { break }
            steps.append(Step(hit: m.cpu.takeDataWatchpointHit(), cx: m.r16(.rcx)))
        }
        return steps
    }

    static func watch(_ kind: DataWatchpoint.Kind, _ address: UInt64, _ length: UInt64) -> DataWatchpoint {
        DataWatchpoint(kind: kind, address: address, length: length)
    }

    @Test func aWriteOfTheSameValueIsAHitTheGuestNeverSees() throws {
        let m = TestMachine()
        m.bus.setWord(0x1234, at: TestMachine.data)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        a.mov(Mem(disp: TestMachine.data, size: .word), 0x1234)
        a.hlt()
        try m.load(a)
        m.cpu.dataWatchpoints = [Self.watch(.write, Self.data, 2)]
        m.expectCleanHalt(m.run())
        #expect(m.cpu.takeDataWatchpointHit() == DataWatchpointHit(watchpoint: Self.watch(.write, Self.data, 2), address: Self.data))
        #expect(m.cpu.takeDataWatchpointHit() == nil, "taken once")
        // DR6 and DR7 keep their reset values: the watchpoint is the debugger's.
        #expect(m.cpu.debugRegister(6) == 0xFFFF_0FF0 && m.cpu.debugRegister(7) == 0x400)
    }

    @Test func readWatchpointsIgnoreWritesAndAccessWatchpointsSeeBoth() throws {
        let read = Self.watch(.read, Self.data + 4, 4), access = Self.watch(.access, Self.data + 0x20, 1)
        let steps = try Self.steps([read, access]) { a in
            a.mov(Mem(disp: TestMachine.data + 4, size: .dword), .eax)      // write: not a read
            a.mov(.bx, Mem(disp: TestMachine.data + 6, size: .word))         // read of bytes 6–7
            a.mov(.bx, Mem(disp: TestMachine.data + 8, size: .word))         // beside the range
            a.mov(Mem(disp: TestMachine.data + 0x1F, size: .word), .bx)      // write over byte 20h
        }
        #expect(steps.map(\.hit) == [nil, DataWatchpointHit(watchpoint: read, address: Self.data + 6), nil,
                                     DataWatchpointHit(watchpoint: access, address: Self.data + 0x20)])
    }

    @Test func repMovsHitsAtTheIterationThatTouchesAWatchedByte() throws {
        let source = Self.watch(.read, Self.data + 10, 1), destination = Self.watch(.write, Self.data + 0x103, 1)
        let steps = try Self.steps([source, destination]) { a in
            a.mov(.si, TestMachine.data)
            a.mov(.di, TestMachine.data + 0x100)
            a.mov(.cx, 16)
            a.cld()
            a.movsb(.rep)
        }
        let hits = steps.filter { $0.hit != nil }
        // The 4th iteration writes byte 103h (12 left), the 11th reads byte 10 (5 left).
        #expect(hits.map(\.hit) == [DataWatchpointHit(watchpoint: destination, address: Self.data + 0x103),
                                    DataWatchpointHit(watchpoint: source, address: Self.data + 10)])
        #expect(hits.map(\.cx) == [12, 5])
    }

    @Test func pushAndCallStackWritesAreHits() throws {
        let top = UInt64(TestMachine.stackTop)
        let pushed = Self.watch(.write, top - 2, 2), returnAddress = Self.watch(.access, top - 4, 2)
        let steps = try Self.steps([pushed, returnAddress]) { a in
            let function = a.newLabel()
            a.push(.ax)
            a.call(function)
            a.bind(function)
        }
        #expect(steps.map(\.hit) == [DataWatchpointHit(watchpoint: pushed, address: top - 2),
                                     DataWatchpointHit(watchpoint: returnAddress, address: top - 4)])
    }

    /// INT n pushes FLAGS, CS and IP: the delivery's stack writes are hits of the INT.
    @Test func anInterruptFrameIsAHit() throws {
        let top = UInt64(TestMachine.stackTop)
        let frame = Self.watch(.write, top - 6, 6)
        let steps = try Self.steps([frame]) { a in
            a.int(0x30)
        }
        #expect(steps.first?.hit == DataWatchpointHit(watchpoint: frame, address: top - 2), "FLAGS, pushed first")
    }

    @Test func pageCrossingAccessesAreSeenOnTheSecondPage() throws {
        let written = Self.watch(.write, 0x4001, 1), read = Self.watch(.read, 0x4000, 1)
        let steps = try Self.steps([written, read]) { a in
            a.mov(Mem(disp: 0x3FFE, size: .dword), .eax)                     // bytes 3FFE–4001
            a.mov(.eax, Mem(disp: 0x3FFD, size: .dword))                     // bytes 3FFD–4000
        }
        #expect(steps.map(\.hit) == [DataWatchpointHit(watchpoint: written, address: 0x4001),
                                     DataWatchpointHit(watchpoint: read, address: 0x4000)])
    }

    /// Arming a watchpoint flushes the translations of accesses made before it; removing it
    /// stops the hits.
    @Test func armingAndRemovingTakeEffectOnPagesAlreadyTranslated() throws {
        let m = TestMachine()
        let read = Self.watch(.read, Self.data, 2)
        func readTwice(_ a: inout Assembler) {
            a.mov(.ax, Mem(disp: TestMachine.data, size: .word))
            a.mov(.ax, Mem(disp: TestMachine.data, size: .word))
        }
        let hit = DataWatchpointHit(watchpoint: read, address: Self.data)
        #expect(try Self.steps([], on: m, readTwice).map(\.hit) == [nil, nil])
        #expect(try Self.steps([read], on: m, readTwice).map(\.hit) == [hit, hit])
        #expect(try Self.steps([], on: m, readTwice).map(\.hit) == [nil, nil])
    }

    /// An instruction that faults after a watched access did not complete: no hit (it runs
    /// again after its handler).
    @Test func aFaultingInstructionMakesNoHit() throws {
        let source = Self.watch(.read, Self.data, 2)
        let faulting = try Self.steps([source]) { a in
            a.mov(.si, TestMachine.data)
            a.mov(.di, 0xFFFF)                  // the word store crosses ES's limit: #GP
            a.movsw()
        }
        #expect(!faulting.isEmpty && faulting.allSatisfy { $0.hit == nil })
        let completing = try Self.steps([source]) { a in
            a.mov(.si, TestMachine.data)
            a.mov(.di, 0xFFF0)
            a.movsw()
        }
        #expect(completing.compactMap(\.hit) == [DataWatchpointHit(watchpoint: source, address: Self.data)])
    }

    /// A guest data breakpoint on the same bytes still raises the guest's #DB with only its own
    /// DR6 bit, while the debugger sees its hit.
    @Test func guestDataBreakpointsWorkBesideDebuggerWatchpoints() throws {
        let m = TestMachine()
        m.cpu.dataWatchpoints = [Self.watch(.access, Self.data, 1)]
        _ = try runExpectingException(.debug, on: m) { a, mark in
            DebugRegisterTests.moveToDebugRegister(&a, 0, UInt32(TestMachine.data))
            DebugRegisterTests.moveToDebugRegister(&a, 7, DebugRegisterTests.control(0, readWrite: 1, length: 0))
            a.mov(Mem(disp: TestMachine.data, size: .byte), 0x5A)
            a.bind(mark)
            a.nop()
        }
        #expect(m.cpu.debugRegister(6) & 0xF == 0b0001)
        #expect(m.cpu.takeDataWatchpointHit() == DataWatchpointHit(watchpoint: Self.watch(.access, Self.data, 1), address: Self.data))
    }
}
