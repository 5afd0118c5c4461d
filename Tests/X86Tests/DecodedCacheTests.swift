import Testing
import X86
import X86Asm

/// The decoded-instruction cache must be invisible: code that rewrites itself, code copied
/// over running code, host writes announced with `invalidateCode`, and long-running loops all
/// behave as if every instruction were fetched from memory when it executes (SDM Vol. 3A, 11.6).
@Suite struct DecodedCacheTests {
    /// A store into the immediate of the very next instruction takes effect.
    @Test func storeRewritesTheNextInstruction() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let target = a.newLabel()
        a.mov(Mem(disp: 1, label: target, size: .byte), 0x42)
        a.bind(target)
        a.mov(.al, 0x00)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rax) & 0xFF == 0x42)
    }

    /// A loop that increments an immediate in its own body each time around.
    @Test func loopRewritingItselfEveryIteration() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), immediate = a.newLabel()
        a.mov(.cx, 100)
        a.xor(.dx, .dx)
        a.bind(top)
        a.bind(immediate)
        a.mov(.ax, 0)                        // B8 iw: the immediate starts one byte in
        a.add(.dx, .ax)
        a.inc(Mem(disp: 1, label: immediate, size: .word))
        a.loop(top)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) == UInt16((0..<100).reduce(0, +)))
    }

    /// REP MOVSB copies a new routine over the instructions right after it.
    @Test func repMovsOverTheRunningCode() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let patch = a.newLabel(), target = a.newLabel()
        a.mov(.si, patch)
        a.mov(.di, target)
        a.mov(.cx, 5)
        a.cld()
        a.movsb(.rep)
        a.bind(target)
        a.mov(.ax, 0x1111)                   // these five bytes are replaced by the patch
        a.nop()
        a.nop()
        a.hlt()
        a.bind(patch)
        a.mov(.ax, 0x2222)
        a.mov(.bx, .ax)
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.events.deliveries.isEmpty)
        #expect(m.r16(.rax) == 0x2222)
        #expect(m.r16(.rbx) == 0x2222)
    }

    /// A host write (DMA, a loader) plus `invalidateCode` makes the CPU see the new bytes.
    @Test func hostWriteWithInvalidation() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let start = a.newLabel(), immediate = a.newLabel()
        a.bind(start)
        a.bind(immediate)
        a.mov(.al, 1)
        a.jmpShort(start)
        try m.load(a)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 1)

        let address = Int(a.address(of: immediate)!) + 1
        m.bus.load([2], at: address)
        m.cpu.invalidateCode(physicalAddress: UInt64(address), length: 1)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 2)
    }

    /// A host write of a whole page, announced as one range, drops decoded code anywhere in it
    /// (the code here sits in the middle of its page, far from both ends of the range).
    @Test(arguments: [0x1000, 0x3000])
    func hostWriteOfAWholeRangeWithInvalidation(length: Int) throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let start = a.newLabel(), immediate = a.newLabel()
        a.bind(start)
        a.bind(immediate)
        a.mov(.al, 1)
        a.jmpShort(start)
        try m.load(a)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 1)

        let address = Int(a.address(of: immediate)!) + 1
        let rangeStart = (Int(TestMachine.codeOrigin) & ~0xFFF) - (length - 0x1000) / 2
        var bytes = Array(m.bus.ram[rangeStart..<rangeStart + length])
        bytes[address - rangeStart] = 2
        m.bus.load(bytes, at: rangeStart)
        m.cpu.invalidateCode(physicalAddress: UInt64(rangeStart), length: length)
        #expect(m.run(budget: 20) == .limitReached)
        #expect(m.r16(.rax) & 0xFF == 2)
    }

    /// The same decoded block runs many thousand times and still computes the right thing.
    @Test func decodedLoopRunsManyIterationsCorrectly() throws {
        let m = try runSnippet { a in
            let top = a.newLabel()
            a.xor(.ax, .ax)                  // Fibonacci mod 2^16
            a.mov(.bx, 1)
            a.mov(.ecx, 15_000)
            a.bind(top)
            a.mov(.dx, .ax)
            a.add(.dx, .bx)
            a.mov(.ax, .bx)
            a.mov(.bx, .dx)
            a.emit([0x67]); a.loop(top)      // LOOP with ECX
        }
        var (x, y): (UInt16, UInt16) = (0, 1)
        for _ in 0..<15_000 { (x, y) = (y, x &+ y) }
        #expect(m.r16(.rax) == x)
        #expect(m.r16(.rbx) == y)
        #expect(m.r32(.rcx) == 0)
    }

    /// An instruction that straddles two pages, with the second page rewritten in between.
    @Test func instructionCrossingAPageBoundary() throws {
        let m = TestMachine()
        let start = 0x8FFE                   // B8 at 8FFEh, imm16 at 8FFFh–9000h
        m.bus.load([0xB8, 0x34, 0x12, 0xEB, 0xFB], at: start)   // mov ax, 0x1234; jmp start
        m.cpu.instructionPointer = UInt64(start)
        m.cpu.loadRealModeSegment(.cs, selector: 0)
        #expect(m.run(budget: 10) == .limitReached)
        #expect(m.r16(.rax) == 0x1234)
        m.bus.load([0x56], at: 0x9000)
        m.cpu.invalidateCode(physicalAddress: 0x9000, length: 1)
        #expect(m.run(budget: 10) == .limitReached)
        #expect(m.r16(.rax) == 0x5634)
    }

    /// With the A20 gate off, FFFF:xxxx is another linear address for the same physical code:
    /// stores through it must still reach the decoded instructions.
    @Test func storeThroughAnA20AliasRewritesCode() throws {
        let m = TestMachine()
        m.cpu.setA20(enabled: false)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), immediate = a.newLabel(), done = a.newLabel()
        a.mov(.ax, 0xFFFF)
        a.mov(.es, .ax)
        a.bind(top)
        a.bind(immediate)
        a.mov(.bl, 0x00)
        a.cmp(.bl, 3)
        a.jcc(.e, done)
        // ES:(10h + address) is linear 100000h + address: physical `address` with A20 off.
        a.inc(Mem(disp: 0x10 + Int(a.address(of: immediate)!) + 1, size: .byte, segment: .es))
        a.jmp(top)
        a.bind(done)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rbx) & 0xFF == 3)
    }

    /// More distinct code than the decoded-instruction pool holds: the cache must recycle
    /// itself and the code must still compute the same result on a second pass.
    @Test func moreCodeThanTheCacheHolds() throws {
        let m = TestMachine(stubs: .reportAndReturn)
        let segments: [UInt16] = [0x1000, 0x2000, 0x3000, 0x4000, 0x5000]
        let blocksPerSegment = 21_840
        for (n, segment) in segments.enumerated() {
            // inc ax; jmp $+2 — each pair is a block of its own.
            var code = [UInt8](repeating: 0, count: blocksPerSegment * 3)
            for i in 0..<blocksPerSegment { code.replaceSubrange(3 * i..<3 * i + 3, with: [0x40, 0xEB, 0x00]) }
            if n + 1 < segments.count {
                let next = segments[n + 1]
                code += [0xEA, 0x00, 0x00, UInt8(next & 0xFF), UInt8(next >> 8)]   // jmp far next:0000
            } else {
                code += [0xF4]                                                      // hlt
            }
            m.bus.load(code, at: Int(segment) << 4)
        }
        let incs = segments.count * blocksPerSegment
        for pass in 1...2 {
            m.cpu.loadRealModeSegment(.cs, selector: segments[0])
            m.cpu.instructionPointer = 0
            m.cpu.signalNMI()                      // leaves the HLT of the first pass; the stub returns at once
            #expect(m.run(budget: 1_000_000) == .halted)
            #expect(m.r16(.rax) == UInt16(truncatingIfNeeded: pass * incs), "pass \(pass)")
        }
    }

    // MARK: Decoding once

    /// A loop whose stack lies on its own code page: CALL, RET, PUSH and POP write that page
    /// every iteration but never over decoded bytes, so nothing is decoded again.
    @Test func aStackSharingTheCodePageKeepsItsDecodedCode() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel(), routine = a.newLabel()
        a.mov(.sp, 0x7F00)                    // same 4 KiB page as the code at 7C00h
        a.mov(.cx, 1000)
        a.xor(.dx, .dx)
        a.bind(top)
        a.push(.cx)
        a.call(routine)
        a.pop(.cx)
        a.loop(top)
        a.hlt()
        a.bind(routine)
        a.add(.dx, 3)
        a.ret()
        try m.load(a)
        let before = m.cpu.blocksDecoded
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) == 3000)
        #expect(m.cpu.blocksDecoded - before < 10, "decoded \(m.cpu.blocksDecoded - before) blocks")
    }

    /// Data on a page that shares the code page's TLB slot (106000h folds onto 7000h's) is read
    /// every iteration; the code's translation lives in the code TLB, so nothing is decoded again.
    @Test func dataSharingTheCodesTLBSlotDoesNotEvictIt() throws {
        let m = TestMachine(ramSize: 0x11_0000)
        m.bus.load([5, 0], at: 0x10_6000)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel()
        a.mov(.ax, 0xFFFF)
        a.mov(.ds, .ax)
        a.mov(.cx, 1000)
        a.xor(.dx, .dx)
        a.bind(top)
        a.add(.dx, Mem(disp: 0x6010))          // FFFF:6010 = 106000h
        a.mov(Mem(disp: 0x6012), .dx)
        a.loop(top)
        a.hlt()
        try m.load(a)
        let before = m.cpu.blocksDecoded
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rdx) == 5000)
        #expect(m.cpu.blocksDecoded - before < 10, "decoded \(m.cpu.blocksDecoded - before) blocks")
    }

    /// A store over decoded bytes on a page that also holds a stack still takes effect.
    @Test func aStoreOverDecodedBytesNextToTheStackStillRewritesCode() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let target = a.newLabel()
        a.mov(.sp, 0x7F00)
        a.push(.ax)                            // the page is written beside the code first
        a.pop(.ax)
        a.mov(Mem(disp: 1, label: target, size: .byte), 0x42)
        a.bind(target)
        a.mov(.al, 0x00)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rax) & 0xFF == 0x42)
    }

    /// The cache does not grow across resets: 10,000 rounds of RESET and a short program.
    @Test func resetsDoNotGrowTheCache() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let top = a.newLabel()
        a.mov(.cx, 3)
        a.bind(top)
        a.inc(.ax)
        a.loop(top)
        a.hlt()
        let program = try a.finish()
        var largest = (pages: 0, records: 0)
        for _ in 0..<10_000 {
            m.cpu.powerOnReset()
            m.load(program)
            #expect(m.cpu.run(limit: 100) == .halted)
            let size = m.cpu.decodedCodeSize
            largest = (max(largest.pages, size.pages), max(largest.records, size.records))
        }
        #expect(largest.pages == 1)
        #expect(largest.records < 16)
    }

    /// The same bytes run with a 16-bit and then a 32-bit code segment decode as the segment
    /// says each time: a block decoded for one default size is not reused for the other.
    @Test func theSameBytesDecodeAgainWhenCSChangesItsDefaultSize() throws {
        let m = TestMachine()
        m.load([0xB8, 0x11, 0x11, 0x90, 0x90, 0xF4])      // mov ax, imm; nop; nop; hlt — or mov eax, imm; hlt
        m.cpu.setRegister(.rax, 0)
        #expect(m.run(budget: 3) == .limitReached)      // mov, nop, nop: stopped before the HLT
        #expect(m.cpu.register(.rax) == 0x1111)

        var cs = m.cpu.segment(.cs)
        cs = SegmentCache(selector: cs.selector, base: cs.base, limit: 0xFFFF_FFFF, attributes: cs.attributes | 0x4000)
        m.cpu.setSegment(.cs, cs)
        m.cpu.instructionPointer = UInt64(TestMachine.codeOrigin)
        #expect(m.run(budget: 10) == .halted)
        #expect(m.cpu.register(.rax) == 0x9090_1111)
    }

    /// A block decoded under one CS limit is not reused under a lower one: the instruction past
    /// the new limit raises #GP as it would if fetched afresh.
    @Test func aLowerCodeSegmentLimitIsHonouredByDecodedCode() throws {
        let m = TestMachine()
        let origin = Int(TestMachine.codeOrigin)
        m.load([0x90, 0x90, 0x90, 0xF4])                     // nop; nop; nop; hlt
        #expect(m.run(budget: 3) == .limitReached)
        #expect(m.events.deliveries.isEmpty)

        let cs = m.cpu.segment(.cs)
        m.cpu.setSegment(.cs, SegmentCache(selector: 0, base: 0, limit: UInt32(origin + 1), attributes: cs.attributes))
        m.cpu.instructionPointer = UInt64(origin)
        _ = m.run(budget: 10)
        #expect(m.events.deliveries.first?.vector == 13, "the third NOP lies past the limit")
    }

    // MARK: Branches that fall through

    /// A conditional branch that is not taken does not end its block; a store before it that
    /// rewrites an instruction after it, in the same block, still takes effect.
    @Test func aStoreRewritesCodePastAFallingThroughBranch() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let target = a.newLabel(), skip = a.newLabel()
        a.mov(Mem(disp: 1, label: target, size: .byte), 0x42)
        a.cmp(.ax, .ax)
        a.jccShort(.ne, skip)                  // never taken
        a.bind(target)
        a.mov(.al, 0x00)
        a.bind(skip)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rax) & 0xFF == 0x42)
    }

    /// Bytes after a taken branch are decoded into its block but never run: an invalid opcode
    /// there raises nothing.
    @Test func anInvalidOpcodeAfterATakenBranchIsNotRaised() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let over = a.newLabel()
        a.xor(.ax, .ax)
        a.jccShort(.z, over)                   // always taken
        a.ud2()
        a.bind(over)
        a.mov(.bx, 0x1234)
        a.hlt()
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rbx) == 0x1234)
        #expect(m.events.deliveries.isEmpty)
    }
}
