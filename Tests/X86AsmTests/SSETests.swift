import Testing
import X86Asm

// SSE2 moves: golden bytes from nasm 2.16.01, filled in and re-checked by
// Tools/check-x86asm-golden.py. The mandatory prefix (66, F3) comes before REX.

@Suite struct SSETests {
    @Test func movesIn64BitCode() {
        let g = Golden(.b64)
        g.check("movdqa xmm0, [rsi]\nmovdqa [rdi+16], xmm1\nmovdqa xmm9, [r8+rax*2]\nmovdqu xmm15, [rsp]\nmovdqu [r12+8], xmm8", "66 0F 6F 06 66 0F 7F 4F 10 66 45 0F 6F 0C 40 F3 44 0F 6F 3C 24 F3 45 0F 7F 44 24 08") { a in
            a.movdqa(XMM(0), Mem(.rsi)); a.movdqa(Mem(.rdi, disp: 16), XMM(1)); a.movdqa(XMM(9), Mem(.r8, index: .rax, scale: 2))
            a.movdqu(XMM(15), Mem(.rsp)); a.movdqu(Mem(.r12, disp: 8), XMM(8))
        }
        g.check("movq xmm0, rax\nmovq r9, xmm10\nmovq xmm12, r15\npaddq xmm0, xmm1\npaddq xmm11, xmm3", "66 48 0F 6E C0 66 4D 0F 7E D1 66 4D 0F 6E E7 66 0F D4 C1 66 44 0F D4 DB") { a in
            a.movq(XMM(0), .rax); a.movq(.r9, XMM(10)); a.movq(XMM(12), .r15)
            a.paddq(XMM(0), XMM(1)); a.paddq(XMM(11), XMM(3))
        }
    }

    @Test func movesIn16And32BitCode() {
        let g32 = Golden(.b32)
        g32.check("movdqa xmm7, [esi+0x100]\nmovdqu [es:edi], xmm2\npaddq xmm1, xmm2", "66 0F 6F BE 00 01 00 00 26 F3 0F 7F 17 66 0F D4 CA") { a in
            a.movdqa(XMM(7), Mem(.esi, disp: 0x100)); a.movdqu(Mem(.edi, segment: .es), XMM(2)); a.paddq(XMM(1), XMM(2))
        }
        let g16 = Golden(.b16)
        g16.check("movdqa xmm3, [bx+si]\nmovdqu [ebx], xmm4", "66 0F 6F 18 67 F3 0F 7F 23") { a in
            a.movdqa(XMM(3), Mem(.bx, .si)); a.movdqu(Mem(.ebx), XMM(4))
        }
    }

    @Test func upperRegistersNeedLongMode() {
        for bits in [Bits.b16, .b32] {
            var a = Assembler(bits: bits)
            a.nop()
            a.paddq(XMM(8), XMM(0))
            #expect(throws: AssemblerError.operandNeedsLongMode(position: 1)) { try a.finish() }
        }
    }
}
