@testable import X86
import Testing
import X86Asm

/// Conversions with their exception flags (SDM Vol. 2, CVT*): the integer indefinite, rounding
/// by MXCSR.RC and truncation, NaN payloads between formats, overflow and denormal operands.
/// Expected bit patterns from Python `struct` (e.g. `struct.pack('<d', 1e300)`).
@Suite struct SSEConversionTests {
    typealias G = SSEGuest

    static let cvtss2si: [UInt8] = [0xF3, 0x0F, 0x2D, 0xC1]    // cvtss2si eax, xmm1
    static let cvttss2si: [UInt8] = [0xF3, 0x0F, 0x2C, 0xC1]
    static let cvtsi2ss: [UInt8] = [0xF3, 0x0F, 0x2A, 0xC0]    // cvtsi2ss xmm0, eax

    func toInteger(_ code: [UInt8], _ value: UInt32, mxcsr: UInt32 = 0x1F80, expected: UInt32, flags: UInt32,
                   sourceLocation: SourceLocation = #_sourceLocation) {
        let m = G.machine(mxcsr: mxcsr)
        m.expectCleanHalt(G.run(m, code: code, xmm1: UInt128(singles: value)), sourceLocation: sourceLocation)
        #expect(m.r32(.rax) == expected, "\(String(m.r32(.rax), radix: 16))", sourceLocation: sourceLocation)
        #expect(m.cpu.mxcsr == mxcsr | flags, sourceLocation: sourceLocation)
    }

    @Test func floatToInteger() {
        toInteger(Self.cvtss2si, 0x7FC0_0000, expected: 0x8000_0000, flags: 0x01)
        toInteger(Self.cvtss2si, 0x4020_0000, expected: 2, flags: 0x20)                    // 2.5 → 2 (even)
        toInteger(Self.cvtss2si, 0x4060_0000, expected: 4, flags: 0x20)                    // 3.5 → 4
        toInteger(Self.cvtss2si, 0x4020_0000, mxcsr: 0x5F80, expected: 3, flags: 0x20)     // up
        toInteger(Self.cvtss2si, 0x4F32_D05E, expected: 0x8000_0000, flags: 0x01)          // 3e9
        toInteger(Self.cvtss2si, 0xCF00_0000, expected: 0x8000_0000, flags: 0)             // −2^31 fits
        toInteger(Self.cvttss2si, 0xC02C_CCCD, expected: 0xFFFF_FFFE, flags: 0x20)         // −2.7 → −2
        toInteger(Self.cvttss2si, 1, expected: 0, flags: 0x20)                             // denormal: PE, no DE
        toInteger(Self.cvttss2si, 1, mxcsr: 0x1FC0, expected: 0, flags: 0)                 // DAZ: exact zero
    }

    @Test func integerToFloat() {
        for (mxcsr, expected) in [(UInt32(0x1F80), UInt32(0x4F00_0000)), (0x3F80, 0x4EFF_FFFF)] {
            let m = G.machine(mxcsr: mxcsr)
            m.expectCleanHalt(G.run(m, code: Self.cvtsi2ss, xmm0: UInt128(singles: 0, 5, 6, 7), eax: 0x7FFF_FFFF))
            #expect(m.cpu.xmmRegister(0) == UInt128(singles: expected, 5, 6, 7) && m.cpu.mxcsr == mxcsr | 0x20)
        }
    }

    @Test func betweenFormats() {
        // CVTSS2SD of an SNaN: quiet, payload moved up; IE.
        var r = G.result([0xF3, 0x0F, 0x5A, 0xC1], UInt128(doubles: 0, 9), UInt128(singles: 0x7F80_0001))
        #expect(r.xmm0 == UInt128(doubles: 0x7FF8_0000_2000_0000, 9) && r.mxcsr == 0x1F81)
        // CVTSS2SD of a denormal: exact, DE.
        r = G.result([0xF3, 0x0F, 0x5A, 0xC1], 0, UInt128(singles: 1))
        #expect(r.xmm0 == UInt128(doubles: 0x36A0_0000_0000_0000) && r.mxcsr == 0x1F82)
        // CVTSD2SS of 1e300: overflow to ∞ (OE, PE); lanes 1–3 kept.
        r = G.result([0xF2, 0x0F, 0x5A, 0xC1], UInt128(singles: 0, 1, 2, 3), UInt128(doubles: 0x7E37_E43C_8800_759C))
        #expect(r.xmm0 == UInt128(singles: 0x7F80_0000, 1, 2, 3) && r.mxcsr == 0x1FA8)
        // CVTPD2PS narrows NaN payloads and clears the upper half.
        r = G.result([0x66, 0x0F, 0x5A, 0xC1], ~0, UInt128(doubles: 0xFFF0_0000_0000_0001, 0x7FF8_0000_2000_0000))
        #expect(r.xmm0 == UInt128(singles: 0xFFC0_0000, 0x7FC0_0001) && r.mxcsr == 0x1F81)
        // FTZ applies to narrowing conversions: 2^−130 → +0 with UE and PE.
        r = G.result([0xF2, 0x0F, 0x5A, 0xC1], 0, UInt128(doubles: 0x37D0_0000_0000_0000), mxcsr: 0x9F80)
        #expect(r.xmm0 == 0 && r.mxcsr == 0x9FB0)
    }

    /// CVTPI2PS from an MMX register puts the x87 in MMX mode (TOP = 0, all tags valid) and
    /// keeps the destination's upper half.
    @Test func mmxConversionsEnterMMXMode() {
        let m = G.machine()
        m.cpu.fpu.setMMX(1, 0xFFFF_FFFF_0000_0003)
        m.cpu.fpu.top = 5
        m.cpu.fpu.occupied = 0
        m.expectCleanHalt(G.run(m, code: [0x0F, 0x2A, 0xC1], xmm0: UInt128(singles: 9, 9, 7, 7)))
        #expect(m.cpu.xmmRegister(0) == UInt128(singles: 0x4040_0000, 0xBF80_0000, 7, 7))
        #expect(m.cpu.fpu.top == 0 && m.cpu.fpu.occupied == 0xFF)
    }
}
