import Testing
@testable import X86
import X86Asm

/// The fast paths for single string instructions, REP MOVS/STOS within a page, and the far
/// transfers of real mode (INT n, IRET, far CALL, RETF): each must leave exactly what the
/// general path leaves, and hand over to it at a segment limit, a wrap of SP or an offset, a
/// page holding code, or a page the TLB does not map yet.
@Suite struct FastPathTests {
    private let data = TestMachine.data

    /// LODS, STOS, MOVS, SCAS and CMPS one at a time, forward and backward, bytes and words;
    /// each page is touched first so that the later instructions find it in the TLB.
    @Test func singleStringInstructionsInBothDirections() throws {
        let m = TestMachine()
        m.bus.load([1, 2, 3, 4, 5, 6, 7, 8], at: data)
        m.expectCleanHalt(try m.run { a in
            a.mov(.si, data)
            a.mov(.di, data + 0x100)
            a.cld()
            a.lodsb()                 // al = 1
            a.lodsb()                 // al = 2
            a.stosb()                 // [100] = 2
            a.movsb()                 // [101] = 3
            a.lodsw()                 // ax = 0504
            a.stosw()                 // [102] = 04 05
            a.std()
            a.lodsb()                 // al = [3005] = 6
            a.stosb()                 // [104] = 6
            a.movsb()                 // [103] = [3004] = 5
            a.mov(.dx, .si)           // 3003
            a.mov(.bp, .di)           // 3102
            a.mov(.di, data + 0x100)
            a.mov(.al, 2)
            a.scasb()                 // 2 - 2: ZF = 1, di = 30FF
            a.mov(.cx, .di)
            a.cld()
            a.mov(.si, data + 1)      // 2
            a.mov(.di, data + 0x101)  // 3
            a.cmpsb()                 // 2 - 3: CF = 1
            a.hlt()
        })
        #expect((0..<5).map { m.bus.byte(at: data + 0x100 + $0) } == [2, 3, 4, 5, 6])
        #expect(m.r16(.rdx) == UInt16(data + 3) && m.r16(.rbp) == UInt16(data + 0x102))
        #expect(m.r16(.rcx) == UInt16(data + 0xFF))
        #expect(m.r16(.rsi) == UInt16(data + 2) && m.r16(.rdi) == UInt16(data + 0x102))
        #expect(m.flag(EFlags.carry) && !m.flag(EFlags.zero))
    }

    /// SI wraps at 64 KiB with a 16-bit address size; ESI does not with a 32-bit one (the next
    /// access through it would be past DS's limit).
    @Test func singleLodsWrapsWithTheAddressSize() throws {
        let m = TestMachine()
        m.bus.load([0x11], at: 0xFFFF)
        m.expectCleanHalt(try m.run { a in
            a.mov(.al, Mem(disp: 0xFFFF, size: .byte))   // fills the TLB
            a.mov(.si, 0xFFFF)
            a.lodsb()                                     // SI wraps to 0
            a.mov(.bl, .al)
            a.mov(.esi, 0xFFFF)
            a.db([0x67, 0xAC])                            // a32 lodsb
            a.mov(.bh, .al)
            a.hlt()
        })
        #expect(m.r16(.rbx) == 0x1111)
        #expect(m.r32(.rsi) == 0x1_0000)
    }

    /// A single MOVSW whose source word ends past DS's limit is #GP(0) at the MOVSW, with SI
    /// and DI unchanged.
    @Test func aSingleMovsPastTheSegmentLimitFaults() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.si, 0xFFFF)
            a.mov(.di, data)
            a.mov(.ax, Mem(disp: data))
            a.bind(mark)
            a.movsw()
        }
        #expect(m.r16(.rsi) == 0xFFFF && m.r16(.rdi) == UInt16(data))
    }

    /// The same through SS (an override) is #SS(0); a STOSW ending past ES's limit is #GP(0).
    @Test func singleStringFaultsNameTheSegment() throws {
        try runExpectingException(.stackFault) { a, mark in
            a.mov(.si, 0xFFFF)
            a.bind(mark)
            a.db([0x36, 0xAD])   // ss lodsw
        }
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.di, 0xFFFF)
            a.bind(mark)
            a.stosw()
        }
        #expect(m.r16(.rdi) == 0xFFFF)
    }

    /// A STOSB over the next instruction's immediate runs the new byte, and so does a MOVSB.
    @Test func singleStoresOverTheRunningCodeAreSeen() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let first = a.newLabel(), second = a.newLabel()
        a.mov(.di, Mem(disp: 0))                  // DI is set below; this only warms the TLB
        a.mov(.di, first)
        a.inc(.di)
        a.mov(.al, 7)
        a.stosb()
        a.bind(first)
        a.mov(.bl, 1)
        a.mov(.si, data)
        a.mov(.di, second)
        a.inc(.di)
        a.movsb()
        a.bind(second)
        a.mov(.bh, 1)
        a.hlt()
        m.bus.load([9], at: data)
        try m.load(a)
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rbx) == 0x0907)
    }

    /// REP MOVSB within a page, backward over an overlapping destination, and REP STOSW backward:
    /// every element in the instruction's order, each iteration retired.
    @Test func repeatedMovesWithinAPageInBothDirections() throws {
        let m = TestMachine()
        m.bus.load([1, 2, 3, 4, 5, 6], at: data)
        let retiredBefore = m.cpu.instructionsRetired
        m.expectCleanHalt(try m.run { a in
            a.mov(.al, Mem(disp: data))       // the TLB maps both pages
            a.mov(Mem(disp: data + 0x200), .al)
            a.std()
            a.mov(.si, data + 4)
            a.mov(.di, data + 5)
            a.mov(.cx, 5)
            a.movsb(.rep)                     // memmove up by one: 1 1 2 3 4 5
            a.mov(.ax, 0xABCD)
            a.mov(.di, data + 0x206)
            a.mov(.cx, 3)
            a.stosw(.rep)                     // 200..207 = ?? CD AB CD AB CD AB
            a.hlt()
        })
        #expect((0..<6).map { m.bus.byte(at: data + $0) } == [1, 1, 2, 3, 4, 5])
        #expect((0..<3).map { m.bus.word(at: data + 0x202 + 2 * $0) } == [0xABCD, 0xABCD, 0xABCD])
        #expect(m.r16(.rsi) == UInt16(data - 1) && m.r16(.rdi) == UInt16(data + 0x200))
        #expect(m.r16(.rcx) == 0)
        // 11 instructions, HLT and 5 + 3 - 2 further iterations.
        #expect(m.cpu.instructionsRetired - retiredBefore == 12 + 6)
    }

    /// A REP MOVSB longer than what is left of the run's budget stops where the budget ends.
    @Test func aRepeatedMoveStopsAtTheBudget() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        a.mov(.si, data)
        a.mov(.di, data + 0x100)
        a.mov(.al, Mem(disp: data))
        a.mov(Mem(disp: data + 0x100), .al)
        a.mov(.cx, 50)
        a.movsb(.rep)
        a.hlt()
        try m.load(a)
        #expect(m.run(budget: 25) == .limitReached)
        #expect(m.r16(.rcx) == 30 && m.r16(.rsi) == UInt16(data + 20))
        m.expectCleanHalt(m.run())
        #expect(m.r16(.rcx) == 0 && m.r16(.rdi) == UInt16(data + 0x100 + 50))
    }

    /// INT through a vector the guest has just written goes to the new handler, the second
    /// time too (the table's page then in the TLB); IRET comes back with FLAGS as they were.
    @Test func intThroughAVectorJustWritten() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let first = a.newLabel(), second = a.newLabel()
        a.xor(.bx, .bx)
        a.mov(.ax, first)
        a.mov(Mem(disp: 0x61 * 4), .ax)
        a.mov(Mem(disp: 0x61 * 4 + 2, size: .word), 0)
        a.stc()
        a.int(0x61)
        a.mov(.ax, second)
        a.mov(Mem(disp: 0x61 * 4), .ax)
        a.int(0x61)
        a.hlt()
        a.bind(first)
        a.add(.bx, 1)
        a.iret()
        a.bind(second)
        a.add(.bx, 0x100)
        a.clc()
        a.iret()
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.r16(.rbx) == 0x101)
        #expect(m.flag(EFlags.carry))   // IRET restored the CF pushed by the second INT
        #expect(m.r16(.rsp) == TestMachine.stackTop)
        #expect(m.events.deliveries.map(\.vector) == [0x61, 0x61])
        #expect(m.events.deliveries.allSatisfy { $0.source == .software })
    }

    /// INT with SP = 2 pushes across the stack segment's wrap, and IRET pops back across it.
    @Test func intAndIretAcrossTheStackWrap() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let handler = a.newLabel(), back = a.newLabel()
        a.mov(.ax, handler)
        a.mov(Mem(disp: 0x62 * 4), .ax)
        a.mov(Mem(disp: 0x62 * 4 + 2, size: .word), 0)
        a.mov(.ax, 0x0800)
        a.mov(.ss, .ax)
        a.mov(.sp, 2)
        a.int(0x62)
        a.bind(back)
        a.int(0x62)
        a.hlt()
        a.bind(handler)
        a.inc(.bx)
        a.mov(.cx, .sp)
        a.iret()
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.r16(.rbx) == 2 && m.r16(.rsp) == 2 && m.r16(.rcx) == 0xFFFC)
        // The second INT's frame: IP at FFFC, CS at FFFE, FLAGS at 0000 of SS.
        #expect(m.bus.word(at: 0x8000 + 0xFFFC) == UInt16(a.address(of: back)!) + 2)
        #expect(m.bus.word(at: 0x8000 + 0xFFFE) == 0)
        #expect(m.bus.word(at: 0x8000) & 0x0002 == 0x0002)
    }

    /// A 32-bit IRET popping an EIP past CS's limit is #GP(0) at the IRET, the stack unchanged.
    @Test func iretPastTheCodeSegmentLimitFaults() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.pushfd()
            a.push(0, size: .dword)
            a.push(0x1_0000, size: .dword)
            a.bind(mark)
            a.iretd()
        }
        // The #GP frame sits below the 12-byte IRET frame.
        #expect(m.r16(.rsp) == TestMachine.stackTop - 12 - 6)
    }

    /// Far CALL and RETF (with a release count) across the stack segment's wrap, and within it.
    @Test func farCallAndReturnAcrossTheStackWrap() throws {
        let m = TestMachine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let routine = a.newLabel(), back = a.newLabel()
        a.mov(.ax, 0x0800)
        a.mov(.ss, .ax)
        a.mov(.sp, 6)
        a.push(0x1111)
        a.callFar(segment: 0, routine)     // pushes CS at 0002, IP at 0000
        a.mov(.sp, 2)
        a.push(0x2222)                     // at 0000
        a.callFar(segment: 0, routine)     // CS at FFFE, IP at FFFC
        a.bind(back)
        a.hlt()
        a.bind(routine)
        a.inc(.bx)
        a.mov(.cx, .sp)
        a.retf(2)
        try m.load(a)
        #expect(m.run() == .halted)
        #expect(m.r16(.rbx) == 2 && m.r16(.rsp) == 2 && m.r16(.rcx) == 0xFFFC)
        #expect(m.bus.word(at: 0x8000 + 0xFFFC) == UInt16(a.address(of: back)!))
        #expect(m.bus.word(at: 0x8000 + 0xFFFE) == 0)
    }

    /// A 32-bit far CALL to an offset past CS's limit is #GP(0) at the CALL, SP as before it.
    @Test func farCallPastTheCodeSegmentLimitFaults() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.push(0)                      // the stack's page is in the TLB
            a.pop(.ax)
            a.bind(mark)
            a.callFar(segment: 0, offset: 0x1_0000, size: .dword)
        }
        #expect(m.r16(.rsp) == TestMachine.stackTop - 6)
    }
}
