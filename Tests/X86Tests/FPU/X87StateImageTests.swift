@testable import X86
import Testing
import X86Asm

/// FNSTENV/FLDENV, FNSAVE/FRSTOR (SDM Vol. 1, Figures 8-9 to 8-12) and FXSAVE/FXRSTOR
/// (Vol. 2, FXSAVE, "Non-64-bit-mode layout") images, byte for byte.
@Suite struct X87StateImageTests {
    typealias G = X87Guest

    /// A known state: ST0 = 4.0 in R6, ST1 = 1.0 in R7, the rest empty; the last non-control
    /// instruction `fiadd word [0x3000]` (DE 06 00 30, FOP 0x606) at `fiaddOffset`.
    private func prepare(_ a: inout Assembler, fiaddOffset: inout UInt32) {
        a.x87(0xD9, 0xE8)                                   // fld1
        a.x87(.fild16, G.at(0))                             // 2
        fiaddOffset = a.position
        a.x87(.fiadd16, G.at(0))                            // + 2
    }

    private static let two = G.bytes(UInt16(2))

    private func expectRegisters(_ m: TestMachine, at offset: Int, stride: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(m.extended(at: offset) == Extended80(0x4001, 0x8000_0000_0000_0000), sourceLocation: sourceLocation)
        #expect(m.extended(at: offset + stride) == Extended80.one, sourceLocation: sourceLocation)
        for i in 2..<8 {
            #expect(m.extended(at: offset + stride * i) == .positiveZero, "ST(\(i)): stale +0 of power-up", sourceLocation: sourceLocation)
        }
    }

    @Test func fnsave16BitRealModeImage() throws {
        var fiadd: UInt32 = 0
        let m = try G.run(data: Self.two) { a in
            prepare(&a, fiaddOffset: &fiadd)
            a.x87(.fnsave, G.at(0x100))
        }
        let words = (0..<7).map { m.bus.word(at: G.data + 0x100 + 2 * $0) }
        #expect(words == [0x037F, 0x3000, 0x0FFF, UInt16(fiadd), 0x0606, 0x3000, 0x0000])
        expectRegisters(m, at: 0x100 + 14, stride: 10)
        #expect(m.fpu.control == 0x037F && m.fpu.tagWord == 0xFFFF && m.fpu.status == 0, "FNSAVE initializes")
    }

    @Test func fnsave32BitRealModeImageAndFrstorRoundTrip() throws {
        var fiadd: UInt32 = 0
        let m = try G.run(data: Self.two) { a in
            prepare(&a, fiaddOffset: &fiadd)
            a.x87(.fnsave, G.at(0x100), size: .dword)
            a.x87(.frstor, G.at(0x100), size: .dword)
            a.x87(.fnstenv, G.at(0x200), size: .dword)
        }
        let dwords = (0..<7).map { m.bus.dword(at: G.data + 0x100 + 4 * $0) }
        #expect(dwords == [0xFFFF_037F, 0xFFFF_3000, 0xFFFF_0FFF, 0xFFFF_0000 | fiadd, (fiadd >> 16) << 12 | 0x0606,
                           0xFFFF_3000, 0x0000_0000])
        expectRegisters(m, at: 0x100 + 28, stride: 10)
        #expect(m.memory(0x200, count: 28) == m.memory(0x100, count: 28), "FRSTOR restored what FNSAVE stored")
        #expect(m.fpu.control == 0x037F | 0x3F, "FNSTENV masks all exceptions")
        #expect(m.fpu.st(0) == Extended80(0x4001, 0x8000_0000_0000_0000) && m.fpu.top == 6)
    }

    /// The protected-mode layout, checked on the encoder (the guests here run in real mode).
    @Test func protectedModeEnvironmentLayouts() {
        let image = X87EnvironmentLayout.Image(control: 0x037F, status: 0x3800, tags: 0x3FFF, instructionOffset: 0x1234_5678,
                                               codeSelector: 0x0008, opcode: 0x0606, operandOffset: 0x9ABC_DEF0,
                                               operandSelector: 0x0010)
        var wide = [UInt8](repeating: 0xEE, count: 28)
        wide.withUnsafeMutableBytes { X87EnvironmentLayout(wide: true, realMode: false).encode(image, into: $0) }
        #expect(wide == G.bytes(UInt32(0xFFFF_037F)) + G.bytes(UInt32(0xFFFF_3800)) + G.bytes(UInt32(0xFFFF_3FFF))
            + G.bytes(UInt32(0x1234_5678)) + G.bytes(UInt32(0x0606_0008)) + G.bytes(UInt32(0x9ABC_DEF0))
            + G.bytes(UInt32(0xFFFF_0010)))
        var narrow = [UInt8](repeating: 0xEE, count: 14)
        narrow.withUnsafeMutableBytes { X87EnvironmentLayout(wide: false, realMode: false).encode(image, into: $0) }
        #expect(narrow == [0x7F, 0x03, 0x00, 0x38, 0xFF, 0x3F, 0x78, 0x56, 0x08, 0x00, 0xF0, 0xDE, 0x10, 0x00])
        let decoded = wide.withUnsafeBytes { X87EnvironmentLayout(wide: true, realMode: false).decode($0) }
        #expect(decoded.instructionOffset == 0x1234_5678 && decoded.opcode == 0x0606 && decoded.operandSelector == 0x10)
    }

    /// FLDENV recomputes tags from the contents and keeps only "empty" from the image.
    @Test func fldenvTakesOnlyEmptinessFromTheTagWord() throws {
        let m = try G.run(data: Self.two) { a in
            a.x87(0xD9, 0xEE)                               // fldz into R7
            a.x87(.fnstenv, G.at(0x100))
            a.mov(Mem(disp: G.data + 0x104, size: .word), 0x3FFF)   // claims R7 "valid"
            a.x87(.fldenv, G.at(0x100))
            a.x87(.fnstenv, G.at(0x120))
        }
        #expect(m.bus.word(at: G.data + 0x124) == 0x7FFF, "R7 holds zero: tag 01")
    }

    // MARK: FXSAVE / FXRSTOR

    @Test func fxsaveImage() throws {
        var fiadd: UInt32 = 0
        let m = TestMachine()
        m.bus.load(Self.two, at: G.data)
        m.bus.load([UInt8](repeating: 0xEE, count: 512), at: G.data + 0x200)
        let reason = try m.run { a in
            a.fninit()
            prepare(&a, fiaddOffset: &fiadd)
            a.fxsave(G.at(0x200))
            a.hlt()
        }
        m.expectCleanHalt(reason)
        let header = G.bytes(UInt16(0x037F)) + G.bytes(UInt16(0x3000)) + [0xC0, 0x00] + G.bytes(UInt16(0x0606))
            + G.bytes(fiadd) + [0, 0, 0, 0] + G.bytes(UInt32(0x3000)) + [0, 0, 0, 0]
            + G.bytes(UInt32(0x1F80)) + G.bytes(UInt32(0xFFFF))
        #expect(m.memory(0x200, count: 32) == header)
        expectRegisters(m, at: 0x220, stride: 16)
        #expect(m.memory(0x220 + 10, count: 6) == [0, 0, 0, 0, 0, 0], "reserved bytes of an ST slot")
        #expect(m.memory(0x200 + 160, count: 352).allSatisfy { $0 == 0xEE }, "XMM and reserved areas untouched")
        #expect(m.fpu.top == 6 && m.fpu.control == 0x037F, "FXSAVE does not reinitialize")
    }

    @Test func fxrstorRoundTripsAndChecksMXCSR() throws {
        let m = try G.run(data: Self.two) { a in
            a.x87(0xD9, 0xEB)                               // fldpi
            a.fxsave(G.at(0x200))
            a.fninit()
            a.fxsave(G.at(0x200), restore: true)
        }
        #expect(m.fpu.st(0) == Extended80(0x4000, 0xC90F_DAA2_2168_C235) && m.fpu.top == 7 && m.fpu.occupied == 0x80)

        let bad = try runExpectingException(.generalProtection) { a, mark in
            a.fninit()
            a.fxsave(G.at(0x200))
            a.mov(Mem(disp: G.data + 0x200 + 26, size: .word), 1)   // MXCSR bit 16: reserved
            a.x87(0xD9, 0xE8)                               // fld1: must survive the failed FXRSTOR
            a.bind(mark)
            a.fxsave(G.at(0x200), restore: true)
        }
        #expect(bad.fpu.top == 7 && bad.fpu.st(0) == .one)
    }

    @Test func misalignedFxsaveIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.bind(mark)
            a.fxsave(G.at(0x208))
        }
    }

    /// A store that would cross the segment limit faults before writing anything.
    @Test func fnsaveBeyondTheSegmentLimitWritesNothing() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.fninit()
            a.bind(mark)
            a.x87(.fnsave, Mem(disp: 0xFFC0))
        }
        #expect(m.bus.byte(at: 0xFFC0) == 0)
        #expect(m.fpu.control == 0x037F)
    }
}
