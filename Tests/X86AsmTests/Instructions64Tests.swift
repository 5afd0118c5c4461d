import Testing
import X86Asm

// 64-bit code: golden bytes from nasm 2.16.01 (`nasm -f bin`, after `bits 64` and the
// Golden's `org`), filled in and re-checked by Tools/check-x86asm-golden.py.

@Suite struct Instructions64Tests {
    @Test func arithmetic() {
        let g = Golden(.b64)
        g.check("add rax, rbx\nor r8, [rax]\nadc [r9], r10\nsbb r11d, 5\nand rax, -1\nsub spl, 1\nxor r8d, r8d\ncmp r15, [rbp+8]", "48 01 D8 4C 0B 00 4D 11 11 41 83 DB 05 48 83 E0 FF 40 80 EC 01 45 31 C0 4C 3B 7D 08") { a in
            a.add(.rax, .rbx); a.or(.r8, Mem(.rax)); a.adc(Mem(.r9), .r10); a.sbb(.r11d, 5)
            a.and(.rax, -1); a.sub(.spl, 1); a.xor(.r8d, .r8d); a.cmp(.r15, Mem(.rbp, disp: 8))
        }
        // Qword immediates are dwords, sign-extended: 83 ib, the accumulator 05 id, 81 id.
        g.check("add rax, 1\nadd rax, 0x1000\nadd rcx, -0x80000000\nadd r9, 0x7FFFFFFF\nsub qword [rsp+8], 16\ncmp qword [r8], 0x100", "48 83 C0 01 48 05 00 10 00 00 48 81 C1 00 00 00 80 49 81 C1 FF FF FF 7F 48 83 6C 24 08 10 49 81 38 00 01 00 00") { a in
            a.add(.rax, 1); a.add(.rax, 0x1000); a.add(.rcx, -0x8000_0000); a.add(.r9, 0x7FFF_FFFF)
            a.sub(Mem(.rsp, disp: 8, size: .qword), 16); a.cmp(Mem(.r8, size: .qword), 0x100)
        }
        g.check("test rax, rax\ntest r8, 0x100\ntest rax, 0x7FFFFFFF\ntest qword [rax], 1\ntest [r10], r11b\ntest sil, 1", "48 85 C0 49 F7 C0 00 01 00 00 48 A9 FF FF FF 7F 48 F7 00 01 00 00 00 45 84 1A 40 F6 C6 01") { a in
            a.test(.rax, .rax); a.test(.r8, 0x100); a.test(.rax, 0x7FFF_FFFF); a.test(Mem(.rax, size: .qword), 1)
            a.test(Mem(.r10), .r11b); a.test(.sil, 1)
        }
        // No 40–4F short forms in 64-bit code: those bytes are REX prefixes.
        g.check("inc rax\ninc eax\ninc ax\ndec r8\ndec r9d\ninc qword [rax]\ndec byte [r8]\ninc r10w", "48 FF C0 FF C0 66 FF C0 49 FF C8 41 FF C9 48 FF 00 41 FE 08 66 41 FF C2") { a in
            a.inc(.rax); a.inc(.eax); a.inc(.ax); a.dec(.r8); a.dec(.r9d)
            a.inc(Mem(.rax, size: .qword)); a.dec(Mem(.r8, size: .byte)); a.inc(.r10w)
        }
        g.check("not rax\nneg r9\nmul r10\nimul qword [rbx]\ndiv rcx\nidiv r15d\nneg qword [r12]", "48 F7 D0 49 F7 D9 49 F7 E2 48 F7 2B 48 F7 F1 41 F7 FF 49 F7 1C 24") { a in
            a.not(.rax); a.neg(.r9); a.mul(.r10); a.imul(Mem(.rbx, size: .qword)); a.div(.rcx); a.idiv(.r15d)
            a.neg(Mem(.r12, size: .qword))
        }
        g.check("imul rax, rcx\nimul r8, [rax]\nimul rdx, rsi, 10\nimul r9, r10, 1000\nimul r11, [r12], -2", "48 0F AF C1 4C 0F AF 00 48 6B D6 0A 4D 69 CA E8 03 00 00 4D 6B 1C 24 FE") { a in
            a.imul(.rax, .rcx); a.imul(.r8, Mem(.rax)); a.imul(.rdx, .rsi, 10); a.imul(.r9, .r10, 1000)
            a.imul(.r11, Mem(.r12), -2)
        }
        g.check("xadd rax, rbx\nlock xadd [rdi], r8\ncmpxchg [rsi], rcx\ncmpxchg r8b, r9b\ncmpxchg8b [rdi]\ncmpxchg16b [rdi]\nlock cmpxchg16b [r8]", "48 0F C1 D8 F0 4C 0F C1 07 48 0F B1 0E 45 0F B0 C8 0F C7 0F 48 0F C7 0F F0 49 0F C7 08") { a in
            a.xadd(.rax, .rbx); a.lock(); a.xadd(Mem(.rdi), .r8); a.cmpxchg(Mem(.rsi), .rcx); a.cmpxchg(.r8b, .r9b)
            a.cmpxchg8b(Mem(.rdi)); a.cmpxchg16b(Mem(.rdi)); a.lock(); a.cmpxchg16b(Mem(.r8))
        }
        g.check("cbw\ncwde\ncdqe\ncwd\ncdq\ncqo", "66 98 98 48 98 66 99 99 48 99") { a in
            a.cbw(); a.cwde(); a.cdqe(); a.cwd(); a.cdq(); a.cqo()
        }
    }

    @Test func moves() {
        let g = Golden(.b64, origin: 0x20_0000)
        // The shortest form of mov r64, imm, as nasm picks it; strict qword is movabs.
        g.check("mov rax, 1\nmov rax, -1\nmov rax, 0xFFFFFFFF\nmov rax, 0x100000000\nmov r8, 0x123456789ABCDEF0\nmov r15, -0x80000001\nmov r9, 0x7FFFFFFF\nmov rax, strict qword 1\nmov r12, strict qword -1", "B8 01 00 00 00 48 C7 C0 FF FF FF FF B8 FF FF FF FF 48 B8 00 00 00 00 01 00 00 00 49 B8 F0 DE BC 9A 78 56 34 12 49 BF FF FF FF 7F FF FF FF FF 41 B9 FF FF FF 7F 48 B8 01 00 00 00 00 00 00 00 49 BC FF FF FF FF FF FF FF FF") { a in
            a.mov(.rax, 1); a.mov(.rax, -1); a.mov(.rax, 0xFFFF_FFFF); a.mov(.rax, 0x1_0000_0000)
            a.mov(.r8, 0x1234_5678_9ABC_DEF0); a.mov(.r15, -0x8000_0001); a.mov(.r9, 0x7FFF_FFFF)
            a.movabs(.rax, 1); a.movabs(.r12, -1)
        }
        g.check("mov r8d, 5\nmov r9w, 5\nmov qword [rax], -1\nmov word [r8], 0x1234\nmov byte [r9], 1\nmov qword [rbp-8], 0x7FFFFFFF", "41 B8 05 00 00 00 66 41 B9 05 00 48 C7 00 FF FF FF FF 66 41 C7 00 34 12 41 C6 01 01 48 C7 45 F8 FF FF FF 7F") { a in
            a.mov(.r8d, 5); a.mov(.r9w, 5); a.mov(Mem(.rax, size: .qword), -1); a.mov(Mem(.r8, size: .word), 0x1234)
            a.mov(Mem(.r9, size: .byte), 1); a.mov(Mem(.rbp, disp: -8, size: .qword), 0x7FFF_FFFF)
        }
        g.check("mov rax, msg\nmov r10, msg\nmov ecx, msg\nmsg: db 0", "48 B8 19 00 20 00 00 00 00 00 49 BA 19 00 20 00 00 00 00 00 B9 19 00 20 00 00") { a in
            let msg = a.newLabel()
            a.mov(.rax, msg); a.mov(.r10, msg); a.mov(.ecx, msg); a.bind(msg); a.db([0])
        }
        g.check("movzx rax, cl\nmovzx r8, word [rax]\nmovsx rax, bl\nmovsx r9d, r10w\nmovsxd rax, ecx\nmovsxd r8, dword [rax]\nmovsx rax, ecx\nmovzx r11, r12b", "48 0F B6 C1 4C 0F B7 00 48 0F BE C3 45 0F BF CA 48 63 C1 4C 63 00 48 63 C1 4D 0F B6 DC") { a in
            a.movzx(.rax, .cl); a.movzx(.r8, Mem(.rax, size: .word)); a.movsx(.rax, .bl); a.movsx(.r9d, .r10w)
            a.movsxd(.rax, .ecx); a.movsxd(.r8, Mem(.rax)); a.movsx(.rax, .ecx); a.movzx(.r11, .r12b)
        }
        g.check("lea rax, [rbx+rcx*2+3]\nlea r8d, [rax]\nlea r13, [r13]", "48 8D 44 4B 03 44 8D 00 4D 8D 6D 00") { a in
            a.lea(.rax, Mem(.rbx, index: .rcx, scale: 2, disp: 3)); a.lea(.r8d, Mem(.rax)); a.lea(.r13, Mem(.r13))
        }
        // xchg eax, eax cannot be 90 in 64-bit code: that is nop, which keeps rax's top half.
        g.check("xchg rax, rbx\nxchg rax, r8\nxchg r8d, eax\nxchg eax, eax\nxchg rax, rax\nxchg ax, r9w\nxchg [rax], r10\nxchg cl, r11b\nxchg r12, r13", "48 93 49 90 41 90 87 C0 48 90 66 41 91 4C 87 10 41 86 CB 4D 87 E5") { a in
            a.xchg(.rax, .rbx); a.xchg(.rax, .r8); a.xchg(.r8d, .eax); a.xchg(.eax, .eax); a.xchg(.rax, .rax)
            a.xchg(.ax, .r9w); a.xchg(Mem(.rax), .r10); a.xchg(.cl, .r11b); a.xchg(.r12, .r13)
        }
    }

    @Test func segmentAndSystemRegisterMoves() {
        let g = Golden(.b64)
        // nasm leaves out the REX.W of mov r64, sreg, which changes nothing (the selector is
        // zero-extended either way): this assembler keeps it, so it is spelled out with db.
        g.check("mov ds, ax\nmov fs, r8w\nmov ds, rax\nmov eax, ds\ndb 0x48\nmov eax, ds\ndb 0x49\nmov eax, ss\nmov [rax], es", "8E D8 41 8E E0 8E D8 8C D8 48 8C D8 49 8C D0 8C 00") { a in
            a.mov(.ds, .ax); a.mov(.fs, .r8w); a.mov(.ds, .rax); a.mov(.eax, .ds); a.mov(.rax, .ds)
            a.mov(.r8, .ss); a.mov(Mem(.rax), .es)
        }
        g.check("mov cr0, rax\nmov rax, cr0\nmov cr3, r8\nmov r9, cr4\nmov cr8, rax\nmov rax, cr8\nmov cr2, r15", "0F 22 C0 0F 20 C0 41 0F 22 D8 41 0F 20 E1 44 0F 22 C0 44 0F 20 C0 41 0F 22 D7") { a in
            a.mov(.cr0, .rax); a.mov(.rax, .cr0); a.mov(.cr3, .r8); a.mov(.r9, .cr4)
            a.mov(.cr8, .rax); a.mov(.rax, .cr8); a.mov(.cr2, .r15)
        }
        g.check("mov dr7, rax\nmov rcx, dr6\nmov dr0, r15", "0F 23 F8 0F 21 F1 41 0F 23 C7") { a in
            a.mov(.dr7, .rax); a.mov(.rcx, .dr6); a.mov(.dr0, .r15)
        }
    }

    @Test func stack() {
        let g = Golden(.b64, origin: 0x20_0000)
        // 64 bits by default, 16 with 66; r8–r15 with REX.B.
        g.check("push rax\npush r8\npush r15\npop rbx\npop r12\npush ax\npush r9w\npop r10w", "50 41 50 41 57 5B 41 5C 66 50 66 41 51 66 41 5A") { a in
            a.push(.rax); a.push(.r8); a.push(.r15); a.pop(.rbx); a.pop(.r12); a.push(.ax); a.push(.r9w); a.pop(.r10w)
        }
        g.check("push 5\npush 0x12345678\npush -1\npush word 5\npush word 0x1234\npush qword [rax]\npush word [rax]\npop qword [r8]\npush qword [r9+r10*8]", "6A 05 68 78 56 34 12 6A FF 66 6A 05 66 68 34 12 FF 30 66 FF 30 41 8F 00 43 FF 34 D1") { a in
            a.push(5); a.push(0x1234_5678); a.push(-1); a.push(5, size: .word); a.push(0x1234, size: .word)
            a.push(Mem(.rax)); a.push(Mem(.rax, size: .word)); a.pop(Mem(.r8, size: .qword)); a.push(Mem(.r9, index: .r10, scale: 8))
        }
        g.check("push fs\npush gs\npop fs\npop gs\npushf\npopf\npushfq\npopfq\npushfw\npopfw\npush here\nhere:", "0F A0 0F A8 0F A1 0F A9 9C 9D 9C 9D 66 9C 66 9D 68 15 00 20 00") { a in
            let here = a.newLabel()
            a.push(.fs); a.push(.gs); a.pop(.fs); a.pop(.gs); a.pushf(); a.popf(); a.pushfq(); a.popfq()
            a.pushfw(); a.popfw(); a.push(here); a.bind(here)
        }
    }

    @Test func shiftsAndBits() {
        let g = Golden(.b64)
        g.check("shl rax, 1\nshr r8, cl\nsar r9d, 5\nrol qword [rax], 3\nrcr r10b, 1\nror sil, cl\nshld rax, rbx, 4\nshrd r8, r9, cl\nshld [r10], r11, 63", "48 D1 E0 49 D3 E8 41 C1 F9 05 48 C1 00 03 41 D0 DA 40 D2 CE 48 0F A4 D8 04 4D 0F AD C8 4D 0F A4 1A 3F") { a in
            a.shl(.rax, 1); a.shr(.r8, .cl); a.sar(.r9d, 5); a.rol(Mem(.rax, size: .qword), 3); a.rcr(.r10b, 1)
            a.ror(.sil, .cl); a.shld(.rax, .rbx, 4); a.shrd(.r8, .r9, .cl); a.shld(Mem(.r10), .r11, 63)
        }
        g.check("bt rax, rbx\nbts r8, 63\nbtr qword [rax], 5\nbtc [r9], r10\nbsf rax, rcx\nbsr r8, [rax]\nbswap rax\nbswap r8\nbswap r9d\nbswap eax", "48 0F A3 D8 49 0F BA E8 3F 48 0F BA 30 05 4D 0F BB 11 48 0F BC C1 4C 0F BD 00 48 0F C8 49 0F C8 41 0F C9 0F C8") { a in
            a.bt(.rax, .rbx); a.bts(.r8, 63); a.btr(Mem(.rax, size: .qword), 5); a.btc(Mem(.r9), .r10)
            a.bsf(.rax, .rcx); a.bsr(.r8, Mem(.rax)); a.bswap(.rax); a.bswap(.r8); a.bswap(.r9d); a.bswap(.eax)
        }
        g.check("cmovz rax, rbx\ncmovl r8, [rax]\ncmovae r9d, r10d\nsetc al\nsetg r15b\nsetnz byte [r8]", "48 0F 44 C3 4C 0F 4C 00 45 0F 43 CA 0F 92 C0 41 0F 9F C7 41 0F 95 00") { a in
            a.cmovcc(.z, .rax, .rbx); a.cmovcc(.l, .r8, Mem(.rax)); a.cmovcc(.ae, .r9d, .r10d)
            a.setcc(.c, .al); a.setcc(.g, .r15b); a.setcc(.nz, Mem(.r8))
        }
    }
}
