import Testing
import X86
import X86Asm

/// Exceptions raised by instructions in real mode, and the return address each one pushes:
/// faults report the faulting instruction, traps and INT n the next one (SDM Vol. 3A, 6.5).
@Suite struct ExceptionTests {
    @Test func divideByZeroFaultsOnTheDivide() throws {
        let m = try runExpectingException(.divideError) { a, mark in
            a.mov(.ax, 10)
            a.mov(.bl, 0)
            a.bind(mark)
            a.div(.bl)
        }
        #expect(m.r16(.rax) == 10, "destination unchanged by a faulting DIV")
    }

    @Test func quotientOverflowIsADivideError() throws {
        try runExpectingException(.divideError) { a, mark in
            a.mov(.ax, 0x1000)
            a.mov(.bl, 0x10)              // 100h does not fit AL
            a.bind(mark)
            a.div(.bl)
        }
    }

    @Test func ud2IsInvalidOpcode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.nop()
            a.bind(mark)
            a.ud2()
        }
    }

    /// LOCK is #UD unless the instruction is a read-modify-write with a memory destination
    /// (SDM Vol. 2, LOCK); the fault points at the prefix, the start of the instruction.
    @Test func lockOnARegisterDestinationIsInvalidOpcode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
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
        let m = try runExpectingException(.boundRange) { a, mark in
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
        try runExpectingException(.overflow, source: .software) { a, mark in
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
        try runExpectingException(.breakpoint, source: .software) { a, mark in
            a.int3()
            a.bind(mark)
        }
    }

    @Test func int3TwoByteFormPushesTheNextInstruction() throws {
        try runExpectingException(.breakpoint, source: .software) { a, mark in
            a.int(3)
            a.bind(mark)
        }
    }

    // MARK: The 64 KiB real-mode segment limit (SDM Vol. 3A, 20.1.1)

    @Test func wordAtOffsetFFFFInDataSegmentIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
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
        try runExpectingException(.stackFault) { a, mark in
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
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ebx, 0x1_0000)
            a.bind(mark)
            a.mov(.al, Mem(.ebx))
        }
    }

    @Test func movToCSIsInvalidOpcode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.emit([0x8E, 0xC8])                 // mov cs, ax
        }
    }

    // MARK: Instruction fetch (SDM Vol. 2, 2.3.11; Vol. 3A, 5.3)

    /// Fifteen bytes is the longest legal instruction.
    @Test func fifteenByteInstructionRuns() throws {
        let m = try runSnippet { a in
            a.emit(Array(repeating: 0x3E, count: 14) + [0x90])
        }
        #expect(m.cpu.instructionsRetired == 2)
    }

    @Test func sixteenByteInstructionIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.bind(mark)
            a.emit(Array(repeating: 0x3E, count: 15) + [0x90])
        }
    }

    /// An instruction whose last byte lies beyond the CS limit faults, reporting that
    /// instruction's own CS:IP.
    @Test func codeFetchBeyondTheLimitFaultsAtTheInstruction() throws {
        let m = TestMachine()
        m.bus.load([0xB0], at: 0x1_FFFF)         // mov al, imm8 at 1000:FFFF; imm8 at offset 10000h
        try m.run { a in a.jmpFar(segment: 0x1000, offset: 0xFFFF) }
        #expect(m.handledVectors == [ExceptionVector.generalProtection.rawValue])
        #expect(m.frame.cs == 0x1000)
        #expect(m.frame.ip == 0xFFFF)
    }

    @Test func oneByteInstructionAtTheLimitRuns() throws {
        let m = TestMachine()
        m.bus.load([0xF4], at: 0x1_FFFF)         // hlt at 1000:FFFF
        let reason = try m.run { a in a.jmpFar(segment: 0x1000, offset: 0xFFFF) }
        m.expectCleanHalt(reason)
    }

    /// A near jump with a 32-bit operand size to an offset above FFFFh leaves the CS limit.
    @Test func nearJumpBeyondTheCSLimitIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.eax, 0x1_0000)
            a.bind(mark)
            a.jmp(.eax)
        }
    }
}
