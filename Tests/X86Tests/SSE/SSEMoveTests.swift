@testable import X86
import Testing
import X86Asm

/// Memory forms of the SSE moves: aligned and unaligned 16-byte accesses, the scalar and
/// half-register moves, non-temporal and masked stores (SDM Vol. 2 for each).
@Suite struct SSEMoveTests {
    typealias G = SSEGuest

    static let pattern = UInt128(0xFFEE_DDCC_BBAA_9988_7766_5544_3322_1100)
    static var patternBytes: [UInt8] { G.bytes(pattern) }

    @Test func alignedAndUnalignedLoadsAndStores() throws {
        let (m, reason) = try G.guest(data: Self.patternBytes + Self.patternBytes) { a in
            a.db([0x0F, 0x28, 0x06, 0x00, 0x30])             // movaps xmm0, [0x3000]
            a.db([0x66, 0x0F, 0x6F, 0x0E, 0x00, 0x30])       // movdqa xmm1, [0x3000]
            a.db([0x0F, 0x10, 0x16, 0x01, 0x30])             // movups xmm2, [0x3001]
            a.db([0xF3, 0x0F, 0x6F, 0x1E, 0x03, 0x30])       // movdqu xmm3, [0x3003]
            a.db([0x0F, 0x11, 0x16, 0x21, 0x30])             // movups [0x3021], xmm2
            a.db([0x66, 0x0F, 0x29, 0x06, 0x40, 0x30])       // movapd [0x3040], xmm0
            a.db([0x66, 0x0F, 0xE7, 0x06, 0x50, 0x30])       // movntdq [0x3050], xmm0
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.xmmRegister(0) == Self.pattern && m.cpu.xmmRegister(1) == Self.pattern)
        #expect(m.cpu.xmmRegister(2) == Self.pattern >> 8 | 0x00 << 120)
        #expect(m.cpu.xmmRegister(3) == (Self.pattern >> 24 | Self.pattern << 104))
        #expect((0..<16).map { m.bus.byte(at: G.data + 0x21 + $0) } == G.bytes(m.cpu.xmmRegister(2)))
        #expect((0..<16).map { m.bus.byte(at: G.data + 0x40 + $0) } == Self.patternBytes)
        #expect((0..<16).map { m.bus.byte(at: G.data + 0x50 + $0) } == Self.patternBytes)
    }

    /// The aligned forms and packed arithmetic with a misaligned m128: #GP(0) before any change.
    @Test func misalignedOperandsOfAlignedFormsFault() throws {
        for code: [UInt8] in [[0x0F, 0x28, 0x06, 0x08, 0x30], [0x0F, 0x29, 0x06, 0x08, 0x30],
                              [0x0F, 0x58, 0x06, 0x08, 0x30], [0x66, 0x0F, 0xFE, 0x06, 0x08, 0x30],
                              [0x0F, 0x2B, 0x06, 0x08, 0x30], [0x66, 0x0F, 0x70, 0x06, 0x08, 0x30, 0x1B]] {
            let m = G.machine()
            m.cpu.setXMMRegister(0, 5)
            try runExpectingException(.generalProtection, on: m) { a, mark in
                a.bind(mark)
                a.db(code)
            }
            #expect(m.cpu.xmmRegister(0) == 5)
            #expect((0..<16).allSatisfy { m.bus.byte(at: G.data + 8 + $0) == 0 })
        }
        // Scalar memory operands need no alignment.
        let (m, reason) = try G.guest(data: [0, 0, 0x80, 0x3F, 0, 0, 0x80, 0x3F]) { a in
            a.db([0xF3, 0x0F, 0x58, 0x06, 0x04, 0x30])       // addss xmm0, [0x3004]
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.xmmRegister(0) == 0x3F80_0000)
    }

    @Test func scalarAndHalfMoves() throws {
        let (m, reason) = try G.guest(data: Self.patternBytes) { a in
            a.db([0xF3, 0x0F, 0x10, 0x06, 0x00, 0x30])       // movss xmm0, [0x3000]: upper lanes cleared
            a.db([0xF2, 0x0F, 0x10, 0x0E, 0x00, 0x30])       // movsd xmm1, [0x3000]
            a.db([0x0F, 0x12, 0x16, 0x08, 0x30])             // movlps xmm2, [0x3008]
            a.db([0x0F, 0x16, 0x1E, 0x00, 0x30])             // movhps xmm3, [0x3000]
            a.db([0x66, 0x0F, 0x17, 0x1E, 0x20, 0x30])       // movhpd [0x3020], xmm3
            a.db([0xF3, 0x0F, 0x11, 0x06, 0x30, 0x30])       // movss [0x3030], xmm0
            a.db([0xF3, 0x0F, 0x7E, 0x26, 0x04, 0x30])       // movq xmm4, [0x3004]
            a.db([0x66, 0x0F, 0xD6, 0x26, 0x40, 0x30])       // movq [0x3040], xmm4
        }
        let p = Self.pattern
        m.expectCleanHalt(reason)
        #expect(m.cpu.xmmRegister(0) == p & 0xFFFF_FFFF)
        #expect(m.cpu.xmmRegister(1) == p & 0xFFFF_FFFF_FFFF_FFFF)
        #expect(m.cpu.xmmRegister(2) == p >> 64)
        #expect(m.cpu.xmmRegister(3) == p << 64)
        #expect(m.qword(at: 0x20) == UInt64(truncatingIfNeeded: p))
        #expect(m.bus.dword(at: G.data + 0x30) == 0x3322_1100 && m.bus.dword(at: G.data + 0x34) == 0)
        #expect(m.cpu.xmmRegister(4) == (p >> 32) & 0xFFFF_FFFF_FFFF_FFFF)
        #expect(m.qword(at: 0x40) == UInt64(truncatingIfNeeded: p >> 32))
    }

    /// MASKMOVDQU/MASKMOVQ write the selected bytes to DS:DI.
    @Test func maskedStores() throws {
        let m = G.machine()
        m.cpu.setXMMRegister(0, Self.pattern)
        m.cpu.setXMMRegister(1, UInt128(0x80) | UInt128(0xFF) << 120 | UInt128(0x7F) << 8)
        m.bus.load([UInt8](repeating: 0xAA, count: 16), at: G.data)
        m.expectCleanHalt(G.run(m, code: [0xBF, 0x00, 0x30, 0x66, 0x0F, 0xF7, 0xC1], xmm0: Self.pattern,
                                xmm1: UInt128(0x80) | UInt128(0xFF) << 120 | UInt128(0x7F) << 8))
        var expected = [UInt8](repeating: 0xAA, count: 16)
        expected[0] = 0x00
        expected[15] = 0xFF
        #expect((0..<16).map { m.bus.byte(at: G.data + $0) } == expected)
        // MASKMOVQ mm0, mm1.
        let q = G.machine()
        q.cpu.fpu.setMMX(0, 0x8877_6655_4433_2211)
        q.cpu.fpu.setMMX(1, 0x0080_0000_0000_8000)
        q.expectCleanHalt(G.run(q, code: [0xBF, 0x00, 0x30, 0x0F, 0xF7, 0xC1]))
        #expect(q.qword(at: 0) == 0x0077_0000_0000_2200)
    }
}
