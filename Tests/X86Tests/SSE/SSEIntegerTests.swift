@testable import X86
import Testing
import X86Asm

/// Memory forms of the integer instructions (the register forms are in SSEReferenceTests):
/// a 128-bit source must be aligned, PINSRW reads 16 bits, MOVD 32, MOVNTQ stores an MMX
/// register, and PSHUFW reads an m64 (SDM Vol. 2, each instruction).
@Suite struct SSEIntegerTests {
    typealias G = SSEGuest

    @Test func memoryOperands() throws {
        let data: [UInt8] = (0..<32).map { UInt8($0) }
        let (m, reason) = try G.guest(data: data) { a in
            a.db([0x66, 0x0F, 0x6E, 0x06, 0x04, 0x30])             // movd xmm0, [0x3004]
            a.db([0x66, 0x0F, 0xFC, 0x0E, 0x10, 0x30])             // paddb xmm1, [0x3010]
            a.db([0x66, 0x0F, 0xC4, 0x16, 0x02, 0x30, 0x07])       // pinsrw xmm2, [0x3002], 7
            a.db([0x0F, 0x70, 0x06, 0x08, 0x30, 0x1B])             // pshufw mm0, [0x3008], 0x1B
            a.db([0x0F, 0xE7, 0x06, 0x20, 0x30])                   // movntq [0x3020], mm0
            a.db([0x66, 0x0F, 0x7E, 0x06, 0x28, 0x30])             // movd [0x3028], xmm0
        }
        m.expectCleanHalt(reason)
        #expect(m.cpu.xmmRegister(0) == 0x0706_0504)
        #expect(m.cpu.xmmRegister(1) == UInt128(littleEndianBytes: (16..<32).map { UInt8($0) }))
        #expect(m.cpu.xmmRegister(2) == UInt128(0x0302) << 112)
        #expect(m.cpu.fpu.mmx(0) == 0x0908_0B0A_0D0C_0F0E && m.cpu.fpu.top == 0)
        #expect(m.qword(at: 0x20) == 0x0908_0B0A_0D0C_0F0E)
        #expect(m.bus.dword(at: G.data + 0x28) == 0x0706_0504)
    }

    /// MOVQ2DQ and MOVDQ2Q report a pending x87 exception first (#MF with CR0.NE).
    @Test func mmxTransfersReportPendingX87Exceptions() throws {
        let m = G.machine()
        m.cpu.cr0 |= ControlRegister0.numericError
        m.cpu.fpu.control = 0x037E            // invalid unmasked
        m.cpu.fpu.statusFlags = FPUException.invalid
        try runExpectingException(.x87FloatingPoint, on: m) { a, mark in
            a.bind(mark)
            a.db([0xF3, 0x0F, 0xD6, 0xC1])                          // movq2dq xmm0, mm1
        }
    }
}
