import Testing
@testable import X86
import X86Asm

/// 64-bit code (SDM Vol. 2, 2.2 and Vol. 3A, 10.8.5): a far jump to a code segment with L = 1
/// once IA-32e mode is active enters 64-bit mode, where REX prefixes, 64-bit operands, the
/// 64-bit stack and RIP-relative operands run. EFER.LME is set directly (see LongModePagingTests).
@Suite struct LongModeExecutionTests {
    static let code64: UInt16 = PM.Selector.free
    private typealias Paging = LongModePagingTests

    /// Enters 64-bit mode from the protected-mode prologue and runs `body` as 64-bit code.
    private func run64(_ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun) {
        let m = TestMachine.protected()
        Paging.build(m)
        // A 64-bit code segment: L = 1, D = 0, present, DPL 0, execute/read.
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: 0x9A, flags: 0xA),
                   at: ProtectedModeGuest.gdtBase + Int(Self.code64))
        m.cpu.efer = ExtendedFeatureEnable.longModeEnable
        var entry: Label!
        let run = try m.runPM { a in
            entry = a.newLabel()
            a.enablePaging(cr3: Paging.pml4, cr4: Paging.pae)
            a.jmpFar(segment: Self.code64, entry)
            a.bits(.b64)
            a.bind(entry)
            body(&a)
        }
        return (m, run)
    }

    @Test func sixtyFourBitCodeRuns() throws {
        var data: Label!, subroutine: Label!
        let (m, run) = try run64 { a in
            data = a.newLabel(); subroutine = a.newLabel()
            a.movabs(.rax, 0x1122_3344_5566_7788)
            a.mov(.r9, .rax)
            a.add(.r9, -0x10)                    // an imm8 sign-extended to 64 bits
            a.mov(.rsp, 0x9000)
            a.push(.r9)
            a.pop(.r10)
            a.call(subroutine)
            a.mov(Mem(rip: data), .r10)          // RIP-relative store and load
            a.mov(.r11, Mem(rip: data))
            a.mov(.ecx, Int(bitPattern: 0x8000_0001))
            a.movsxd(.r12, .ecx)
            a.mov(.r14d, -1)                     // a 32-bit write clears bits 63:32
            a.shl(.rax, 8)
            let done = a.newLabel()
            a.jmp(done)
            a.bind(subroutine)
            a.mov(.r13, Int(bitPattern: 0xFFFF_FFFF_8000_0000))
            a.ret()
            a.bind(data)
            a.dq(0)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.r9) == 0x1122_3344_5566_7778)
        #expect(m.cpu.register(.r10) == 0x1122_3344_5566_7778, "PUSH/POP move 64 bits")
        #expect(m.cpu.register(.r11) == 0x1122_3344_5566_7778)
        #expect(m.cpu.register(.r12) == 0xFFFF_FFFF_8000_0001, "MOVSXD")
        #expect(m.cpu.register(.r13) == 0xFFFF_FFFF_8000_0000, "MOV r64, imm32 sign-extends")
        #expect(m.cpu.register(.r14) == 0x0000_0000_FFFF_FFFF)
        #expect(m.cpu.register(.rax) == 0x2233_4455_6677_8800)
        #expect(m.cpu.register(.rsp) == 0x9000, "the call and return balanced on the 64-bit stack")
        #expect(m.bus.dword(at: Int(run.assembler.address(of: data)!)) == 0x5566_7778)
    }

    @Test func stringInstructionsAndByteRegistersUseREX() throws {
        let (m, run) = try run64 { a in
            a.xor(.edx, .edx)
            a.mov(.rdi, 0x3000)
            a.mov(.rcx, 4)
            a.movabs(.rax, 0x0102_0304_0506_0708)
            a.stosq(.rep)
            a.mov(.sil, 0x5A)                    // SIL, not DH: a REX prefix makes 4–7 the low bytes
            a.mov(.r15b, .sil)
        }
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x3018) == 0x0506_0708 && m.bus.dword(at: 0x301C) == 0x0102_0304)
        #expect(m.cpu.register(.rdi) == 0x3020 && m.cpu.register(.rcx) == 0)
        #expect(m.cpu.register(.r15) & 0xFF == 0x5A)
        #expect(m.cpu.register(.rdx) & 0xFF00 == 0, "DH untouched")
    }
}
