import Testing
import X86
import X86Asm

/// Exceptions raised by instructions in real mode, and the return address each one pushes:
/// faults report the faulting instruction, traps and INT n the next one (SDM Vol. 3A, 6.5).
@Suite struct ExceptionTests {
    /// Runs `build` (which binds `mark` where it wants the return address checked), expects the
    /// stub of `vector` to have halted, and returns the machine plus the address of `mark`.
    private func expectException(_ vector: ExceptionVector, source: InterruptSource = .exception,
                                 sourceLocation: SourceLocation = #_sourceLocation,
                                 _ build: (inout Assembler, Label) -> Void) throws -> (TestMachine, UInt16) {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let mark = a.newLabel()
        build(&a, mark)
        a.hlt()
        try m.load(a)
        #expect(m.run() == .halted, sourceLocation: sourceLocation)
        #expect(m.handledVectors == [vector.rawValue], sourceLocation: sourceLocation)
        #expect(m.events.deliveries.map(\.source) == [source], sourceLocation: sourceLocation)
        let expectedIP = UInt16(a.address(of: mark)!)
        #expect(m.frame.ip == expectedIP, "pushed IP", sourceLocation: sourceLocation)
        #expect(m.frame.cs == 0, sourceLocation: sourceLocation)
        return (m, expectedIP)
    }

    @Test func divideByZeroFaultsOnTheDivide() throws {
        let (m, _) = try expectException(.divideError) { a, mark in
            a.mov(.ax, 10)
            a.mov(.bl, 0)
            a.bind(mark)
            a.div(.bl)
        }
        #expect(m.r16(.rax) == 10, "destination unchanged by a faulting DIV")
    }

    @Test func quotientOverflowIsADivideError() throws {
        _ = try expectException(.divideError) { a, mark in
            a.mov(.ax, 0x1000)
            a.mov(.bl, 0x10)              // 100h does not fit AL
            a.bind(mark)
            a.div(.bl)
        }
    }

    @Test func ud2IsInvalidOpcode() throws {
        _ = try expectException(.invalidOpcode) { a, mark in
            a.nop()
            a.bind(mark)
            a.ud2()
        }
    }

    /// LOCK is #UD unless the instruction is a read-modify-write with a memory destination
    /// (SDM Vol. 2, LOCK); the fault points at the prefix, the start of the instruction.
    @Test func lockOnARegisterDestinationIsInvalidOpcode() throws {
        _ = try expectException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.lock()
            a.add(.ax, .bx)
        }
    }

    @Test func lockOnAMemoryDestinationIsAllowed() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .word), 40)
            a.mov(.ax, 2)
            a.lock()
            a.add(Mem(disp: TestMachine.data), .ax)
        }
        #expect(m.bus.word(at: TestMachine.data) == 42)
    }

    @Test func boundOutsideTheRangeFaults() throws {
        let (m, _) = try expectException(.boundRange) { a, mark in
            a.mov(Mem(disp: TestMachine.data, size: .word), 0)
            a.mov(Mem(disp: TestMachine.data + 2, size: .word), 10)
            a.mov(.ax, 11)
            a.bind(mark)
            a.bound(.ax, Mem(disp: TestMachine.data))
        }
        #expect(m.r16(.rax) == 11)
    }

    /// BOUND compares signed: -1 lies within [-5, 5].
    @Test func boundInsideASignedRangePasses() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: TestMachine.data, size: .word), -5)
            a.mov(Mem(disp: TestMachine.data + 2, size: .word), 5)
            a.mov(.ax, -1)
            a.bound(.ax, Mem(disp: TestMachine.data))
            a.mov(.ax, 5)
            a.bound(.ax, Mem(disp: TestMachine.data))
        }
        #expect(m.r16(.rax) == 5)
    }

    /// INTO traps with OF = 1: the pushed IP is the next instruction.
    @Test func intoWithOverflowTraps() throws {
        _ = try expectException(.overflow, source: .software) { a, mark in
            a.mov(.al, 0x7F)
            a.add(.al, 1)                 // OF = 1
            a.into()
            a.bind(mark)
        }
    }

    @Test func intoWithoutOverflowDoesNothing() throws {
        let m = try runSnippet { a in
            a.mov(.al, 0x7E)
            a.add(.al, 1)
            a.into()
            a.mov(.bx, 1)
        }
        #expect(m.r16(.rbx) == 1)
    }

    @Test func int3PushesTheNextInstruction() throws {
        _ = try expectException(.breakpoint, source: .software) { a, mark in
            a.int3()
            a.bind(mark)
        }
    }

    @Test func int3TwoByteFormPushesTheNextInstruction() throws {
        _ = try expectException(.breakpoint, source: .software) { a, mark in
            a.int(3)
            a.bind(mark)
        }
    }

    // MARK: The 64 KiB real-mode segment limit (SDM Vol. 3A, 20.1.1)

    @Test func wordAtOffsetFFFFInDataSegmentIsGeneralProtection() throws {
        _ = try expectException(.generalProtection) { a, mark in
            a.bind(mark)
            a.mov(.ax, Mem(disp: 0xFFFF))
        }
    }

    @Test func byteAtOffsetFFFFIsWithinTheLimit() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: 0xFFFF, size: .byte), 0x5A)
            a.mov(.al, Mem(disp: 0xFFFF))
        }
        #expect(m.r16(.rax) & 0xFF == 0x5A)
        #expect(m.bus.byte(at: 0xFFFF) == 0x5A)
    }

    @Test func wordAtOffsetFFFFInStackSegmentIsStackFault() throws {
        _ = try expectException(.stackFault) { a, mark in
            a.mov(.bp, 0xFFFF)
            a.bind(mark)
            a.mov(.ax, Mem(.bp))
        }
    }

    @Test func pushWithSPOneIsStackFault() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let push = a.newLabel()
        a.mov(.sp, 1)
        a.bind(push)
        a.push(.ax)
        a.hlt()
        try m.load(a)
        // The frame of the #SS handler cannot be pushed at SP = 1 either: a second #SS while
        // delivering the first makes #DF, and #DF fails the same way (SDM Vol. 3A, Table 6-5).
        #expect(m.run() == .shutdown)
        #expect(m.events.vectors == [12, 8])
        #expect(m.events.deliveries.first?.ip == UInt64(a.address(of: push)!))
        #expect(m.r16(.rsp) == 1, "nothing was pushed")
    }

    /// A 32-bit effective address beyond FFFFh in real mode exceeds the limit too.
    @Test func thirtyTwoBitOffsetBeyondTheLimitIsGeneralProtection() throws {
        _ = try expectException(.generalProtection) { a, mark in
            a.mov(.ebx, 0x1_0000)
            a.bind(mark)
            a.mov(.al, Mem(.ebx))
        }
    }
}
