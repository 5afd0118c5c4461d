@testable import X86
import Testing
import X86Asm

/// XMM and MXCSR state: reset and INIT, LDMXCSR/STMXCSR, FXSAVE/FXRSTOR with the XMM area,
/// the device-availability faults, the fences, CLFLUSH, PAUSE, PREFETCHh and MOVNTI.
@Suite struct SSEStateTests {
    typealias G = SSEGuest

    // 16-bit encodings with a [disp16] operand at DS:3000h.
    static let ldmxcsr: [UInt8] = [0x0F, 0xAE, 0x16, 0x00, 0x30]
    static let stmxcsr: [UInt8] = [0x0F, 0xAE, 0x1E, 0x04, 0x30]
    static let addps: [UInt8] = [0x0F, 0x58, 0xC1]

    /// SDM Vol. 3A, Table 10-1: XMM 0 and MXCSR 1F80H after RESET; both unchanged by INIT.
    @Test func resetAndInit() throws {
        let m = TestMachine()
        #expect(m.cpu.mxcsr == 0x1F80)
        #expect((0..<16).allSatisfy { m.cpu.xmmRegister($0) == 0 })
        m.cpu.setXMMRegister(15, 0x1234)
        m.cpu.sse.mxcsr = 0x7F80
        m.cpu.enterInitState()
        #expect(m.cpu.xmmRegister(15) == 0x1234 && m.cpu.mxcsr == 0x7F80)
        m.cpu.powerOnReset()
        #expect(m.cpu.xmmRegister(15) == 0 && m.cpu.mxcsr == 0x1F80)
    }

    @Test func loadAndStoreMXCSR() throws {
        let (m, reason) = try G.guest(data: [0xC0, 0x9F, 0, 0]) { a in
            a.db(Self.ldmxcsr)
            a.db(Self.stmxcsr)
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.mxcsr == 0x9FC0 && m.bus.dword(at: G.data + 4) == 0x9FC0)
        // A reserved bit: #GP(0), MXCSR unchanged.
        let bad = G.machine()
        bad.bus.load([0x80, 0x1F, 0x01, 0], at: G.data)
        try runExpectingException(.generalProtection, on: bad) { a, mark in
            a.bind(mark)
            a.db(Self.ldmxcsr)
        }
        #expect(bad.cpu.mxcsr == 0x1F80)
    }

    /// #UD without CR4.OSFXSR or with CR0.EM; #NM with CR0.TS. The SSE integer additions on
    /// MMX registers need only CR0.EM clear.
    @Test func deviceAvailability() throws {
        let noOSFXSR = TestMachine()
        try runExpectingException(.invalidOpcode, on: noOSFXSR) { a, mark in
            a.bind(mark)
            a.db(Self.addps)
        }
        try runExpectingException(.invalidOpcode, on: TestMachine()) { a, mark in
            a.bind(mark)
            a.db(Self.ldmxcsr)
        }
        let ts = G.machine()
        ts.cpu.cr0 |= ControlRegister0.taskSwitched
        try runExpectingException(.deviceNotAvailable, on: ts) { a, mark in
            a.bind(mark)
            a.db(Self.addps)
        }
        let em = G.machine()
        em.cpu.cr0 |= ControlRegister0.emulation
        try runExpectingException(.invalidOpcode, on: em) { a, mark in
            a.bind(mark)
            a.db([0x0F, 0xE0, 0xC1])                        // pavgb mm0, mm1
        }
        // PAVGB mm0, mm1 without OSFXSR runs, and puts the x87 in MMX mode.
        let m = TestMachine()
        m.cpu.fpu.setMMX(0, 0x0001_0203_0405_FF07)
        m.cpu.fpu.setMMX(1, 0x0003_0203_0406_FF08)
        m.cpu.fpu.top = 3
        m.expectCleanHalt(try m.run { a in
            a.db([0x0F, 0xE0, 0xC1])
            a.hlt()
        })
        #expect(m.cpu.fpu.mmx(0) == 0x0002_0203_0406_FF08 && m.cpu.fpu.top == 0)
        // Undefined: F2 0F 58 is ADDSD, but F2 0F 54 (no ANDSD) is #UD; so are LOCK and SSE3's ADDSUBPD.
        for code: [UInt8] in [[0xF2, 0x0F, 0x54, 0xC1], [0xF0, 0x0F, 0x58, 0xC1], [0x66, 0x0F, 0xD0, 0xC1],
                              [0x0F, 0x50, 0x06, 0x00, 0x30], [0x0F, 0x2B, 0xC1]] {
            try runExpectingException(.invalidOpcode, on: G.machine()) { a, mark in
                a.bind(mark)
                a.db(code)
            }
        }
    }

    /// With CR4.OSFXSR set FXSAVE stores XMM0–XMM7 at 160 + 16·i and MXCSR_MASK FFFFh (DAZ);
    /// FXRSTOR loads them back and checks MXCSR's reserved bits.
    @Test func fxsaveAndFxrstorCarryTheXMMRegisters() throws {
        let m = G.machine(mxcsr: 0x1FC0)
        for i in 0..<8 { m.cpu.setXMMRegister(i, UInt128(0x0102_0304_0506_0708_090A_0B0C_0D0E_0F00) &* UInt128(i + 1)) }
        m.bus.load([UInt8](repeating: 0xEE, count: 512), at: G.data + 0x200)
        m.expectCleanHalt(try m.run { a in
            a.fxsave(Mem(disp: G.data + 0x200))
            a.hlt()
        })
        #expect(m.bus.dword(at: G.data + 0x200 + 24) == 0x1FC0 && m.bus.dword(at: G.data + 0x200 + 28) == 0xFFFF)
        for i in 0..<8 {
            let bytes = (0..<16).map { m.bus.byte(at: G.data + 0x200 + 160 + 16 * i + $0) }
            #expect(bytes == G.bytes(m.cpu.xmmRegister(i)))
        }
        #expect((288..<512).allSatisfy { m.bus.byte(at: G.data + 0x200 + $0) == 0xEE }, "reserved area untouched")

        let r = G.machine()
        r.bus.load((0..<512).map { UInt8(truncatingIfNeeded: $0) }, at: G.data + 0x200)
        r.bus.load([0x80, 0x3F, 0, 0], at: G.data + 0x200 + 24)
        r.expectCleanHalt(try r.run { a in
            a.fxsave(Mem(disp: G.data + 0x200), restore: true)
            a.hlt()
        })
        #expect(r.cpu.mxcsr == 0x3F80)
        #expect(r.cpu.xmmRegister(7) == UInt128(littleEndianBytes: (0..<16).map { UInt8(truncatingIfNeeded: 160 + 112 + $0) }))
    }

    @Test func fencesFlushesHintsAndNonTemporalStores() throws {
        let (m, reason) = try G.guest { a in
            a.db([0x0F, 0xAE, 0xE8])                   // lfence
            a.db([0x0F, 0xAE, 0xF0])                   // mfence
            a.db([0x0F, 0xAE, 0xF8])                   // sfence
            a.db([0xF3, 0x90])                         // pause
            a.db([0x0F, 0x18, 0x06, 0x00, 0x30])       // prefetchnta [0x3000]
            a.db([0x0F, 0x18, 0x0E, 0x00, 0x30])       // prefetcht0 [0x3000]
            a.db([0x0F, 0xAE, 0x3E, 0x00, 0x30])       // clflush [0x3000]
            a.mov(.eax, 0x1234_5678)
            a.db([0x0F, 0xC3, 0x06, 0x10, 0x30])       // movnti [0x3010], eax
        }
        m.expectCleanHalt(reason)
        #expect(m.bus.dword(at: G.data + 0x10) == 0x1234_5678)
        // CLFLUSH checks its operand like a byte read: beyond the segment limit is #GP(0).
        try runExpectingException(.generalProtection, on: G.machine()) { a, mark in
            a.mov(.eax, 0x1_0000)
            a.bind(mark)
            a.db([0x67, 0x0F, 0xAE, 0x38])             // clflush [eax]
        }
    }
}

extension UInt128 {
    init(littleEndianBytes bytes: [UInt8]) {
        self = bytes.enumerated().reduce(0) { $0 | UInt128($1.element) << UInt128(8 * $1.offset) }
    }
}
