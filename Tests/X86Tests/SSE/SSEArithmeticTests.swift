@testable import X86
import Testing
import X86Asm

/// SSE floating-point arithmetic against the SDM: MXCSR flags, the QNaN indefinite, the SSE
/// NaN rules, MIN/MAX, rounding modes, DAZ and FTZ, and unmasked exceptions. Expected bit
/// patterns were worked out by hand from the SDM and checked with Python's `struct` and
/// numpy (`np.float32` arithmetic for the nearest-even results).
@Suite struct SSEArithmeticTests {
    typealias G = SSEGuest

    // Raw encodings (nasm): xmm0 is the destination, xmm1 the source.
    static let addss: [UInt8] = [0xF3, 0x0F, 0x58, 0xC1]
    static let subss: [UInt8] = [0xF3, 0x0F, 0x5C, 0xC1]
    static let mulss: [UInt8] = [0xF3, 0x0F, 0x59, 0xC1]
    static let divss: [UInt8] = [0xF3, 0x0F, 0x5E, 0xC1]
    static let divps: [UInt8] = [0x0F, 0x5E, 0xC1]
    static let sqrtss: [UInt8] = [0xF3, 0x0F, 0x51, 0xC1]
    static let minss: [UInt8] = [0xF3, 0x0F, 0x5D, 0xC1]
    static let maxss: [UInt8] = [0xF3, 0x0F, 0x5F, 0xC1]
    static let addsd: [UInt8] = [0xF2, 0x0F, 0x58, 0xC1]

    static let one: UInt32 = 0x3F80_0000
    static let two: UInt32 = 0x4000_0000
    static let three: UInt32 = 0x4040_0000
    static let half: UInt32 = 0x3F00_0000

    func expect(_ code: [UInt8], _ a: UInt32, _ b: UInt32, mxcsr: UInt32 = MXCSR.initial, result: UInt32, flags: UInt32,
                sourceLocation: SourceLocation = #_sourceLocation) {
        // Lanes 1–3 of the destination must survive a scalar operation.
        let r = G.result(code, UInt128(singles: a, 0x1111_1111, 0x2222_2222, 0x3333_3333), UInt128(singles: b, 9, 9, 9),
                         mxcsr: mxcsr, sourceLocation: sourceLocation)
        #expect(r.xmm0 == UInt128(singles: result, 0x1111_1111, 0x2222_2222, 0x3333_3333),
                "result \(String(r.xmm0.single(0), radix: 16))", sourceLocation: sourceLocation)
        #expect(r.mxcsr == mxcsr | flags, "MXCSR \(String(r.mxcsr, radix: 16))", sourceLocation: sourceLocation)
    }

    @Test func invalidOperationsGiveTheQNaNIndefinite() {
        expect(Self.divss, 0, 0, result: 0xFFC0_0000, flags: 0x01)                       // 0/0
        expect(Self.mulss, 0x7F80_0000, 0, result: 0xFFC0_0000, flags: 0x01)              // ∞ × 0
        expect(Self.subss, 0x7F80_0000, 0x7F80_0000, result: 0xFFC0_0000, flags: 0x01)    // ∞ − ∞
        expect(Self.sqrtss, 0, 0xBF80_0000, result: 0xFFC0_0000, flags: 0x01)             // √−1
        expect(Self.sqrtss, 0, 0x8000_0000, result: 0x8000_0000, flags: 0)                // √−0 = −0
    }

    @Test func divisionByZeroFlagsZE() {
        expect(Self.divss, Self.one, 0x8000_0000, result: 0xFF80_0000, flags: 0x04)
        // A denormal dividend: division by zero outranks the denormal operand.
        expect(Self.divss, 1, 0, result: 0x7F80_0000, flags: 0x04)
    }

    /// SDM Vol. 1, Table 4-7 (SSE): the first source's NaN wins, SNaNs are quieted and flag IE.
    @Test func nanPropagationFollowsTheFirstOperand() {
        expect(Self.addss, 0x7FA0_0000, 0xFFC0_0001, result: 0x7FE0_0000, flags: 0x01)    // SNaN, QNaN
        expect(Self.addss, 0x7FC0_0005, 0xFF80_0001, result: 0x7FC0_0005, flags: 0x01)    // QNaN, SNaN
        expect(Self.mulss, 0xFFC0_0007, 0x7FC0_0001, result: 0xFFC0_0007, flags: 0)       // two QNaNs
        expect(Self.divss, Self.one, 0xFF80_0001, result: 0xFFC0_0001, flags: 0x01)       // value, SNaN
        expect(Self.subss, 0x7FC0_1234, Self.one, result: 0x7FC0_1234, flags: 0)
    }

    @Test func overflowAndRoundingModes() {
        let max: UInt32 = 0x7F7F_FFFF
        expect(Self.mulss, max, Self.two, result: 0x7F80_0000, flags: 0x28)
        expect(Self.mulss, max, Self.two, mxcsr: 0x7F80, result: max, flags: 0x28)             // toward zero
        expect(Self.mulss, max | 0x8000_0000, Self.two, mxcsr: 0x5F80, result: 0xFF7F_FFFF, flags: 0x28)   // up
        // 1/3 and −1/3 in each mode (numpy: float32(1/3) = 0x3EAAAAAB).
        let third: [(UInt32, UInt32, UInt32)] = [(0x1F80, 0x3EAA_AAAB, 0xBEAA_AAAB), (0x3F80, 0x3EAA_AAAA, 0xBEAA_AAAB),
                                                 (0x5F80, 0x3EAA_AAAB, 0xBEAA_AAAA), (0x7F80, 0x3EAA_AAAA, 0xBEAA_AAAA)]
        for (mxcsr, positive, negative) in third {
            expect(Self.divss, Self.one, Self.three, mxcsr: mxcsr, result: positive, flags: 0x20)
            expect(Self.divss, 0xBF80_0000, Self.three, mxcsr: mxcsr, result: negative, flags: 0x20)
        }
        // An exact zero sum is −0 only when rounding down.
        expect(Self.subss, Self.one, Self.one, result: 0, flags: 0)
        expect(Self.subss, Self.one, Self.one, mxcsr: 0x3F80, result: 0x8000_0000, flags: 0)
        // 1 + 2^−30 is inexact.
        expect(Self.addss, Self.one, 0x3080_0000, result: Self.one, flags: 0x20)
        expect(Self.addss, Self.one, 0x3080_0000, mxcsr: 0x5F80, result: 0x3F80_0001, flags: 0x20)
    }

    @Test func underflowDenormalsAndFlushToZero() {
        // Exact tiny result: no UE while masked.
        expect(Self.mulss, 0x0080_0000, Self.half, result: 0x0040_0000, flags: 0)
        // Inexact tiny result (a tie, to even): UE and PE.
        expect(Self.mulss, 0x0080_0001, Self.half, result: 0x0040_0000, flags: 0x30)
        // FTZ: tiny results become zeros of their sign, with UE and PE.
        expect(Self.mulss, 0x8080_0000, Self.half, mxcsr: 0x9F80, result: 0x8000_0000, flags: 0x30)
        // A denormal operand flags DE; under DAZ it reads as zero and flags nothing.
        expect(Self.addss, 1, 0, result: 1, flags: 0x02)
        expect(Self.addss, 1, Self.one, mxcsr: 0x1FC0, result: Self.one, flags: 0)
        expect(Self.mulss, 0x8000_0001, Self.two, mxcsr: 0x1FC0, result: 0x8000_0000, flags: 0)
        // Double precision: 2^−1022 × 2^−1 is exact (no flags), FTZ flushes it.
        let r = G.result(Self.addsd, UInt128(doubles: 0x0010_0000_0000_0000), UInt128(doubles: 0x8008_0000_0000_0000))
        #expect(r.xmm0.double(0) == 0x0008_0000_0000_0000 && r.mxcsr == 0x1F82, "a denormal operand")
        let mul: [UInt8] = [0xF2, 0x0F, 0x59, 0xC1]
        let f = G.result(mul, UInt128(doubles: 0x0010_0000_0000_0000), UInt128(doubles: 0x3FE0_0000_0000_0000), mxcsr: 0x9F80)
        #expect(f.xmm0.double(0) == 0 && f.mxcsr == 0x9FB0)
    }

    /// MIN/MAX: the second operand when either is a NaN (IE even for a QNaN, no quieting) or
    /// both are zeros (SDM Vol. 2, MAXSS/MINSS).
    @Test func minimumAndMaximum() {
        expect(Self.maxss, 0, 0x8000_0000, result: 0x8000_0000, flags: 0)
        expect(Self.minss, 0x8000_0000, 0, result: 0, flags: 0)
        expect(Self.minss, 0x7FC0_0000, Self.one, result: Self.one, flags: 0x01)
        expect(Self.maxss, Self.one, 0x7F80_0001, result: 0x7F80_0001, flags: 0x01)
        expect(Self.maxss, Self.two, Self.one, result: Self.two, flags: 0)
        expect(Self.minss, Self.two, Self.one, result: Self.one, flags: 0)
        expect(Self.minss, 1, Self.one, result: 1, flags: 0x02)
    }

    /// Unmasked: #XM with CR4.OSXMMEXCPT, #UD without; the destination keeps its value and only
    /// the pre-computation flags are recorded when one of those is unmasked (SDM Vol. 1, 11.5.2.1).
    @Test func unmaskedExceptionsStopTheInstruction() throws {
        let unmaskZE: UInt32 = 0x1F80 & ~(1 << 9)
        let m = G.machine(mxcsr: unmaskZE)
        m.cpu.setXMMRegister(0, UInt128(singles: Self.one, Self.one, Self.two, Self.two))
        m.cpu.setXMMRegister(1, UInt128(singles: Self.three, 0, Self.one, Self.one))
        try runExpectingException(.simdFloatingPoint, on: m) { a, mark in
            a.bind(mark)
            a.db(Self.divps)
        }
        #expect(m.cpu.xmmRegister(0) == UInt128(singles: Self.one, Self.one, Self.two, Self.two), "destination unchanged")
        #expect(m.cpu.mxcsr == unmaskZE | 0x04, "ZE only: PE of lane 0 is not recorded")

        let u = G.machine(mxcsr: unmaskZE, osxmmexcpt: false)
        u.cpu.setXMMRegister(0, UInt128(singles: Self.one))
        try runExpectingException(.invalidOpcode, on: u) { a, mark in
            a.bind(mark)
            a.db(Self.divss)
        }
        // Unmasked overflow: OE recorded (PE too when the rounded result is inexact, which
        // 2^129 is not), destination unchanged.
        try expectUnmaskedMultiply(0x7F7F_FFFF, by: Self.two, unmasking: 10)
        // Unmasked underflow fires on an exact tiny result too.
        try expectUnmaskedMultiply(0x0080_0000, by: Self.half, unmasking: 11)
    }

    /// MULSS of `value` by `factor` with MXCSR exception `bit` unmasked: #XM, the destination
    /// unchanged, and only that exception's flag recorded.
    private func expectUnmaskedMultiply(_ value: UInt32, by factor: UInt32, unmasking bit: UInt32,
                                        sourceLocation: SourceLocation = #_sourceLocation) throws {
        let mxcsr: UInt32 = 0x1F80 & ~(1 << bit)
        let m = G.machine(mxcsr: mxcsr)
        m.cpu.setXMMRegister(0, UInt128(singles: value))
        m.cpu.setXMMRegister(1, UInt128(singles: factor))
        try runExpectingException(.simdFloatingPoint, on: m) { a, mark in
            a.bind(mark)
            a.db(Self.mulss)
        }
        #expect(m.cpu.xmmRegister(0) == UInt128(singles: value) && m.cpu.mxcsr == mxcsr | 1 << (bit - 7),
                sourceLocation: sourceLocation)
    }

    /// COMISS/UCOMISS: ZF PF CF, OF SF AF cleared; COMISS flags IE for a QNaN, UCOMISS only for an SNaN.
    @Test func orderedAndUnorderedCompares() {
        let comiss: [UInt8] = [0x0F, 0x2F, 0xC1]
        let ucomiss: [UInt8] = [0x0F, 0x2E, 0xC1]
        let zpc = EFlags.zero | EFlags.parity | EFlags.carry
        let cases: [([UInt8], UInt32, UInt32, UInt32, UInt32)] = [
            (comiss, Self.one, Self.two, EFlags.carry, 0), (comiss, Self.two, Self.one, 0, 0),
            (comiss, 0, 0x8000_0000, EFlags.zero, 0), (comiss, Self.one, 0x7FC0_0000, zpc, 1),
            (ucomiss, Self.one, 0x7FC0_0000, zpc, 0), (ucomiss, 0x7F80_0001, Self.one, zpc, 1),
            (comiss, 1, Self.one, EFlags.carry, 2),
        ]
        for (code, a, b, status, flags) in cases {
            let m = G.machine()
            m.cpu.eflags = EFlags.reserved1 | EFlags.overflow | EFlags.sign | EFlags.auxiliary
            m.expectCleanHalt(G.run(m, code: code, xmm0: UInt128(singles: a), xmm1: UInt128(singles: b)))
            #expect(m.cpu.eflags & EFlags.arithmetic == status, "\(code) \(String(a, radix: 16)) \(String(b, radix: 16))")
            #expect(m.cpu.mxcsr == 0x1F80 | flags)
        }
    }

    /// CMPSS: LT/LE/NLT/NLE flag IE for a QNaN; EQ/UNORD/NEQ/ORD only for an SNaN.
    @Test func comparePredicatesSignalAsTheSDMSays() {
        for predicate: UInt8 in 0..<8 {
            let signaling = [1, 2, 5, 6].contains(predicate)
            let code: [UInt8] = [0xF3, 0x0F, 0xC2, 0xC1, predicate]
            let unordered: Bool = predicate == 3 || predicate >= 4 && predicate != 7
            expect(code, Self.one, 0x7FC0_0000, result: unordered ? ~0 : 0, flags: signaling ? 1 : 0)
            expect(code, 0x7F80_0001, Self.one, result: unordered ? ~0 : 0, flags: 1)
        }
        expect([0xF3, 0x0F, 0xC2, 0xC1, 0x01], 1, Self.one, result: ~0, flags: 0x02)   // LT, denormal operand
    }

    /// RCPSS/RSQRTSS: within 1.5 × 2^−12, denormals read as zeros, no flags ever.
    @Test func approximations() {
        let rcpss: [UInt8] = [0xF3, 0x0F, 0x53, 0xC1]
        let rsqrtss: [UInt8] = [0xF3, 0x0F, 0x52, 0xC1]
        expect(rcpss, 0, Self.two, result: Self.half, flags: 0)
        expect(rsqrtss, 0, 0x4080_0000, result: Self.half, flags: 0)
        expect(rcpss, 0, 0x8000_0001, result: 0xFF80_0000, flags: 0)
        expect(rcpss, 0, 0x7F80_0000, result: 0, flags: 0)
        expect(rcpss, 0, 0x7F7F_FFFF, result: 0, flags: 0)          // tiny reciprocal flushed
        expect(rsqrtss, 0, 0xBF80_0000, result: 0xFFC0_0000, flags: 0)
        expect(rsqrtss, 0, 0x8000_0000, result: 0xFF80_0000, flags: 0)
        let r = G.result(rcpss, 0, UInt128(singles: Self.three))
        let error = abs(Double(Float(bitPattern: r.xmm0.single(0))) * 3 - 1)
        #expect(error <= 1.5 / 4096)
    }
}
