import Testing
@testable import X86
import X86Asm

/// Blocks that run across near transfers (`CPU.decodeBlock`): decoding follows a JMP or CALL
/// with a relative target, and a backward Jcc, to a target on the same page. Such a block must
/// behave as the instructions fetched one by one: code rewritten at the target runs new, a
/// fault after the transfer is reported at its own instruction, a call pushes its return
/// address, single-stepping and small budgets stop at the target.
@Suite struct SuperblockTests {
    /// A loop whose body, reached through a forward JMP, rewrites its own immediate each time
    /// around: the block running across the JMP and the loop's backward branch sees every new value.
    @Test func codeRewrittenPastAFollowedJumpRunsNew() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), body = a.newLabel(), immediate = a.newLabel()
        a.mov(.cx, 3)
        a.xor(.dx, .dx)
        a.bind(top)
        a.jmpShort(body)
        a.nop()
        a.bind(body)
        a.bind(immediate)
        a.mov(.al, 1)
        a.add(.dl, .al)
        a.inc(Mem(disp: 1, label: immediate, size: .byte))
        a.dec(.cx)
        a.jccShort(.nz, top)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) & 0xFF == 1 + 2 + 3)
    }

    /// A block runs across a CALL into its callee; code elsewhere on the page then rewrites the
    /// callee, and the next call runs the new bytes.
    @Test func aCalleeRewrittenAfterAFollowedCallRunsNew() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let again = a.newLabel(), routine = a.newLabel()
        a.mov(.cx, 2)
        a.xor(.dx, .dx)
        a.bind(again)
        a.call(routine)
        a.mov(Mem(disp: 1, label: routine, size: .byte), 5)
        a.dec(.cx)
        a.jcc(.nz, again)
        a.hlt()
        a.bind(routine)
        a.mov(.al, 1)
        a.add(.dl, .al)
        a.ret()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) & 0xFF == 1 + 5)
    }

    /// The same, with the write made by the host (a DMA-like store announced with `invalidateCode`)
    /// between two runs of the warm block.
    @Test func aHostWriteToAFollowedTargetIsSeen() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let start = a.newLabel(), target = a.newLabel()
        a.bind(start)
        a.jmpShort(target)
        a.nop()
        a.nop()
        a.bind(target)
        a.mov(.al, 1)
        a.jmpShort(start)
        try m.load(a)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 1)
        let address = Int(a.address(of: target)!) + 1
        m.bus.load([2], at: address)
        m.cpu.invalidateCode(physicalAddress: UInt64(address), length: 1)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 2)
    }

    /// A fault after a followed JMP is reported at the faulting instruction, not at an address
    /// worked out from the JMP's position.
    @Test func aFaultAfterAFollowedJumpHasItsOwnAddress() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let target = a.newLabel(), divide = a.newLabel()
        a.mov(.ax, 7)
        a.jmpShort(target)
        a.hlt()
        a.hlt()
        a.bind(target)
        a.xor(.bx, .bx)
        a.bind(divide)
        a.div(.bx)
        a.hlt()
        try m.load(a)
        _ = m.run()
        #expect(m.events.deliveries.first?.vector == 0)
        #expect(m.events.deliveries.first?.ip == a.address(of: divide).map(UInt64.init))
    }

    /// A fault in a loop body after the backward branch was followed (the second time around)
    /// is reported at its own address too.
    @Test func aFaultAfterAFollowedBackwardBranchHasItsOwnAddress() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), divide = a.newLabel()
        a.mov(.cx, 3)
        a.mov(.bx, 2)
        a.bind(top)
        a.mov(.ax, 100)
        a.xor(.dx, .dx)
        a.bind(divide)
        a.div(.bx)
        a.dec(.bx)
        a.dec(.cx)
        a.jccShort(.nz, top)
        a.hlt()
        try m.load(a)
        _ = m.run()
        #expect(m.events.deliveries.first?.vector == 0, "the third division is by zero")
        #expect(m.events.deliveries.first?.ip == a.address(of: divide).map(UInt64.init))
        #expect(m.r16(.rcx) == 1)
    }

    /// A followed CALL pushes the address after itself.
    @Test func aFollowedCallPushesItsReturnAddress() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let routine = a.newLabel(), after = a.newLabel()
        a.call(routine)
        a.bind(after)
        a.hlt()
        a.bind(routine)
        a.pop(.ax)
        a.push(.ax)
        a.ret()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(UInt32(m.r16(.rax)) == a.address(of: after))
    }

    /// Small budgets stop inside a block that runs across a taken backward branch with EIP at
    /// the branch's target, and the loop then goes on from there.
    @Test func aBudgetEndingAtAFollowedBranchLeavesEIPAtItsTarget() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), branch = a.newLabel()
        a.mov(.cx, 10)
        a.xor(.ax, .ax)
        a.bind(top)
        a.inc(.ax)
        a.dec(.cx)
        a.bind(branch)
        a.jccShort(.nz, top)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 5) == .limitReached)      // mov, xor, inc, dec, jnz (taken)
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: top)!))
        #expect(m.r16(.rax) == 1)
        #expect(m.run(budget: 2) == .limitReached)      // inc, dec
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: branch)!))
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rax) == 10)
        #expect(m.r16(.rcx) == 0)
    }

    /// A forward Jcc whose target is a later instruction of its block goes on there when taken
    /// (`Op.jccSkip`): the instructions it passes over neither run nor count as retired, and a
    /// budget that ends at the branch leaves EIP at its target.
    @Test func aTakenForwardBranchGoesOnWithinItsBlock() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), over = a.newLabel()
        a.mov(.cx, 9)
        a.xor(.ax, .ax)
        a.xor(.dx, .dx)
        a.bind(top)
        a.test(.cx, 1)
        a.jccShort(.nz, over)            // taken while CX is odd
        a.inc(.dx)
        a.inc(.dx)
        a.bind(over)
        a.inc(.ax)
        a.dec(.cx)
        a.jccShort(.nz, top)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 5) == .limitReached)      // mov, xor, xor, test, jnz (taken)
        #expect(m.cpu.instructionPointer == UInt64(a.address(of: over)!))
        #expect(m.r16(.rdx) == 0)
        #expect(m.run(budget: 1) == .limitReached)      // inc ax
        #expect(m.r16(.rax) == 1)
        m.expectCleanHalt(m.run())
        // CX = 9, 7, 5, 3, 1 take the branch (5 instructions each round), 8, 6, 4, 2 do not (7).
        #expect(m.r16(.rax) == 9)
        #expect(m.r16(.rdx) == 8)
        #expect(m.cpu.instructionsRetired == 3 + 5 * 5 + 4 * 7 + 1)
    }

    /// Single-stepping through a taken forward branch inside a block traps at its target.
    @Test func singleStepTrapsAtATakenForwardBranchsTarget() throws {
        let m = TestMachine()
        var g = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let branch = g.newLabel(), over = g.newLabel()
        g.mov(.di, TestMachine.data)
        TestMachine.emitTrapFlagOn(&g)
        g.xor(.bx, .bx)                  // ZF = 1
        g.bind(branch)
        g.jccShort(.z, over)
        g.inc(.bx)
        g.bind(over)
        g.inc(.bx)
        g.hlt()
        let logged = try Self.trapAddresses(m, &g)
        let address = { (label: Label) in UInt16(g.address(of: label)!) }
        #expect(Array(logged.prefix(3)) == [address(branch), address(over), address(over) + 1])
        #expect(m.r16(.rbx) == 1)
    }

    /// Appends the trap logger (`TestMachine.emitTrapLogger`), runs the program to its HLT and
    /// returns the logged addresses.
    private static func trapAddresses(_ m: TestMachine, _ g: inout Assembler) throws -> [UInt16] {
        let handler = TestMachine.emitTrapLogger(&g)
        try m.load(g)
        m.setVector(1, to: handler, in: g)
        #expect(m.run() == .halted)
        return m.loggedTrapAddresses
    }

    /// Single-stepping through a followed JMP and a loop's followed branch traps with the
    /// address each transfer went to.
    @Test func singleStepTrapsAtFollowedTargets() throws {
        let m = TestMachine()
        var g = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let gTarget = g.newLabel(), gBranch = g.newLabel(), gAfter = g.newLabel()
        let gStep = g.newLabel(), gDone = g.newLabel()
        g.mov(.di, TestMachine.data)
        g.mov(.dx, 2)                    // the first pass runs without TF, the second with it
        g.bind(gStep)
        g.mov(.bx, 2)
        g.jmpShort(gTarget)
        g.nop()
        g.bind(gTarget)
        g.dec(.bx)
        g.bind(gBranch)
        g.jccShort(.nz, gTarget)
        g.bind(gAfter)
        g.pushf()
        g.pop(.ax)
        g.and(.ax, ~Int(EFlags.trap) & 0xFFFF)
        g.dec(.dx)
        g.jcc(.z, gDone)
        g.or(.ax, Int(EFlags.trap))
        g.push(.ax)
        g.popf()                         // TF = 1 from the next instruction on
        g.jmp(gStep)
        g.bind(gDone)
        g.push(.ax)
        g.popf()                         // began with TF = 1: still traps
        g.hlt()
        let logged = try Self.trapAddresses(m, &g)
        let address = { (label: Label) in UInt16(g.address(of: label)!) }
        // From the JMP rel to gStep: mov bx; jmp → target; dec; jnz (taken) → target; dec;
        // jnz (not taken) → after; pushf; pop; and; dec dx; jz (taken) → done; push; popf.
        let stepStart = address(gStep)
        let afterMov = stepStart + 3
        let expected: [UInt16] = [stepStart, afterMov, address(gTarget), address(gBranch), address(gTarget),
                                  address(gBranch), address(gAfter)]
        #expect(Array(logged.prefix(expected.count)) == expected)
        #expect(m.r16(.rbx) == 0)
    }

    /// A loop in 64-bit code whose body loads RIP-relative data: after the backward branch is
    /// followed, the operand's address is still worked out from the instruction's own RIP.
    @Test func ripRelativeOperandsAfterAFollowedBranch() throws {
        var data: Label!
        let (m, run) = try LongModeExecutionTests.run64 { a in
            data = a.newLabel()
            let top = a.newLabel(), done = a.newLabel()
            a.mov(.ecx, 5)
            a.xor(.eax, .eax)
            a.bind(top)
            a.add(.eax, Mem(rip: data, size: .dword))
            a.add(Mem(rip: data, size: .dword), 1)
            a.dec(.ecx)
            a.jccShort(.nz, top)
            a.jmp(done)
            a.bind(data)
            a.dd(10)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rax) == 10 + 11 + 12 + 13 + 14)
        #expect(m.bus.dword(at: Int(run.assembler.address(of: data)!)) == 15)
    }

    /// A jump to another page is not followed, and code there runs as usual.
    @Test func aJumpToAnotherPageEndsTheBlock() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let far = a.newLabel(), back = a.newLabel()
        a.mov(.cx, 4)
        a.xor(.dx, .dx)
        a.bind(back)
        a.jmp(far)
        a.align(0x1000)
        a.bind(far)
        a.inc(.dx)
        a.dec(.cx)
        a.jcc(.nz, back)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) == 4)
    }
}
