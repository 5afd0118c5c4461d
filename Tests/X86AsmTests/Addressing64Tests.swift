import Testing
import X86Asm

// 64-bit code: golden bytes from nasm 2.16.01 (`nasm -f bin`, after `bits 64` and the
// Golden's `org`), filled in and re-checked by Tools/check-x86asm-golden.py.

@Suite struct Addressing64Tests {
    @Test func registerOperandsTakeREX() {
        let g = Golden(.b64)
        // REX.B (r/m), REX.R (reg), both, and REX.W with each.
        g.check("mov eax, r8d\nmov r9d, ecx\nmov r10d, r11d\nmov rax, r8\nmov r9, rcx\nmov r15, r14", "44 89 C0 41 89 C9 45 89 DA 4C 89 C0 49 89 C9 4D 89 F7") { a in
            a.mov(.eax, .r8d); a.mov(.r9d, .ecx); a.mov(.r10d, .r11d)
            a.mov(.rax, .r8); a.mov(.r9, .rcx); a.mov(.r15, .r14)
        }
        g.check("mov ax, r8w\nmov r12w, r13w\nadd r15w, 1", "66 44 89 C0 66 45 89 EC 66 41 83 C7 01") { a in
            a.mov(.ax, .r8w); a.mov(.r12w, .r13w); a.add(.r15w, 1)
        }
        // Every 64-bit register as destination and source.
        g.check("mov rax, rax\nmov rcx, rcx\nmov rdx, rdx\nmov rbx, rbx\nmov rsp, rsp\nmov rbp, rbp\nmov rsi, rsi\nmov rdi, rdi\nmov r8, r8\nmov r9, r9\nmov r10, r10\nmov r11, r11\nmov r12, r12\nmov r13, r13\nmov r14, r14\nmov r15, r15", "48 89 C0 48 89 C9 48 89 D2 48 89 DB 48 89 E4 48 89 ED 48 89 F6 48 89 FF 4D 89 C0 4D 89 C9 4D 89 D2 4D 89 DB 4D 89 E4 4D 89 ED 4D 89 F6 4D 89 FF") { a in
            let all: [Reg64] = [.rax, .rcx, .rdx, .rbx, .rsp, .rbp, .rsi, .rdi, .r8, .r9, .r10, .r11, .r12, .r13, .r14, .r15]
            for r in all { a.mov(r, r) }
        }
    }

    @Test func byteRegisters() {
        let g = Golden(.b64)
        // spl…dil need a bare REX (40); r8b–r15b REX.B/REX.R; the legacy ones none.
        g.check("mov al, spl\nmov bpl, cl\nmov sil, dil\nmov r8b, al\nmov bl, r15b\nmov ah, bh\nmov r9b, r10b", "40 88 E0 40 88 CD 40 88 FE 41 88 C0 44 88 FB 88 FC 45 88 D1") { a in
            a.mov(.al, .spl); a.mov(.bpl, .cl); a.mov(.sil, .dil); a.mov(.r8b, .al); a.mov(.bl, .r15b)
            a.mov(.ah, .bh); a.mov(.r9b, .r10b)
        }
        g.check("mov spl, 1\nmov dil, 0xFF\nmov r12b, 2\nmov ah, 3\nsete sil\nsetne r11b\ninc bpl\nmovzx eax, sil\nmovzx eax, ah", "40 B4 01 40 B7 FF 41 B4 02 B4 03 40 0F 94 C6 41 0F 95 C3 40 FE C5 40 0F B6 C6 0F B6 C4") { a in
            a.mov(.spl, 1); a.mov(.dil, 0xFF); a.mov(.r12b, 2); a.mov(.ah, 3)
            a.setcc(.e, .sil); a.setcc(.ne, .r11b); a.inc(.bpl); a.movzx(.eax, .sil)
            a.movzx(.eax, Reg8.ah)
        }
    }

    @Test func baseRegisters() {
        let g = Golden(.b64)
        g.check("mov rax, [rax]\nmov rax, [rcx]\nmov rax, [rdx]\nmov rax, [rbx]\nmov rax, [rsp]\nmov rax, [rbp]\nmov rax, [rsi]\nmov rax, [rdi]\nmov rax, [r8]\nmov rax, [r9]\nmov rax, [r10]\nmov rax, [r11]\nmov rax, [r12]\nmov rax, [r13]\nmov rax, [r14]\nmov rax, [r15]", "48 8B 00 48 8B 01 48 8B 02 48 8B 03 48 8B 04 24 48 8B 45 00 48 8B 06 48 8B 07 49 8B 00 49 8B 01 49 8B 02 49 8B 03 49 8B 04 24 49 8B 45 00 49 8B 06 49 8B 07") { a in
            let all: [Reg64] = [.rax, .rcx, .rdx, .rbx, .rsp, .rbp, .rsi, .rdi, .r8, .r9, .r10, .r11, .r12, .r13, .r14, .r15]
            for base in all { a.mov(.rax, Mem(base)) }
        }
        // rsp/r12 need a SIB byte; rbp/r13 a zero disp8; disp8 and disp32 on extended bases.
        g.check("mov ecx, [rsp+8]\nmov ecx, [r12+8]\nmov ecx, [rbp-8]\nmov ecx, [r13-8]\nmov ecx, [r12+0x1000]\nmov ecx, [r13+0x1000]\nmov r9d, [r15-128]\nmov r9d, [r14+127]\nmov r9d, [r14+128]", "8B 4C 24 08 41 8B 4C 24 08 8B 4D F8 41 8B 4D F8 41 8B 8C 24 00 10 00 00 41 8B 8D 00 10 00 00 45 8B 4F 80 45 8B 4E 7F 45 8B 8E 80 00 00 00") { a in
            a.mov(.ecx, Mem(.rsp, disp: 8)); a.mov(.ecx, Mem(.r12, disp: 8))
            a.mov(.ecx, Mem(.rbp, disp: -8)); a.mov(.ecx, Mem(.r13, disp: -8))
            a.mov(.ecx, Mem(.r12, disp: 0x1000)); a.mov(.ecx, Mem(.r13, disp: 0x1000))
            a.mov(.r9d, Mem(.r15, disp: -128)); a.mov(.r9d, Mem(.r14, disp: 127)); a.mov(.r9d, Mem(.r14, disp: 128))
        }
    }

    @Test func indexRegisters() {
        let g = Golden(.b64)
        // REX.X for r8–r15 as index; r12 can be an index (only rsp cannot).
        g.check("mov rax, [rbx+r8*8]\nmov rax, [r9+rcx*4]\nmov rax, [r10+r11*2+16]\nmov rax, [rsp+r12]\nmov rax, [r12+r12*1]\nmov rax, [rbp+r13*8]\nmov rax, [r13+rbp]\nmov r15, [r13+r15*8-0x100]", "4A 8B 04 C3 49 8B 04 89 4B 8B 44 5A 10 4A 8B 04 24 4B 8B 04 24 4A 8B 44 ED 00 49 8B 44 2D 00 4F 8B BC FD 00 FF FF FF") { a in
            a.mov(.rax, Mem(.rbx, index: .r8, scale: 8)); a.mov(.rax, Mem(.r9, index: .rcx, scale: 4))
            a.mov(.rax, Mem(.r10, index: .r11, scale: 2, disp: 16)); a.mov(.rax, Mem(.rsp, index: .r12))
            a.mov(.rax, Mem(.r12, index: .r12)); a.mov(.rax, Mem(.rbp, index: .r13, scale: 8))
            a.mov(.rax, Mem(.r13, index: .rbp)); a.mov(.r15, Mem(.r13, index: .r15, scale: 8, disp: -0x100))
        }
        g.check("lea rax, [r8*4]\nlea rcx, [r9*8+0x10]\nlea rdx, [rsi*2]\nlea rbx, [rdi*1+3]", "4A 8D 04 85 00 00 00 00 4A 8D 0C CD 10 00 00 00 48 8D 14 36 48 8D 5F 03") { a in
            a.lea(.rax, Mem(index: .r8, scale: 4)); a.lea(.rcx, Mem(index: .r9, scale: 8, disp: 0x10))
            a.lea(.rdx, Mem(index: .rsi, scale: 2)); a.lea(.rbx, Mem(index: .rdi, scale: 1, disp: 3))
        }
        // An unscaled rsp index swaps with the base, as nasm does.
        g.check("mov eax, [rsp+rax]", "8B 04 04") { $0.mov(.eax, Mem(.rax, index: .rsp)) }
    }

    @Test func absoluteAddresses() {
        let g = Golden(.b64, origin: 0x10_0000)
        // No base and no index: the SIB form, since mod 00 r/m 101 is RIP-relative.
        g.check("mov eax, [0x1000]\nmov [0x2000], rcx\nmov r8b, [0]\nadd qword [0x10], 1\nmov al, [0x10]", "8B 04 25 00 10 00 00 48 89 0C 25 00 20 00 00 44 8A 04 25 00 00 00 00 48 83 04 25 10 00 00 00 01 8A 04 25 10 00 00 00") { a in
            a.mov(.eax, Mem(disp: 0x1000)); a.mov(Mem(disp: 0x2000), .rcx); a.mov(.r8b, Mem(disp: 0))
            a.add(Mem(disp: 0x10, size: .qword), 1); a.mov(.al, Mem(disp: 0x10))
        }
        g.check("mov eax, [data]\nmov [data], r9\ndata: dq 0", "8B 04 25 0F 00 10 00 4C 89 0C 25 0F 00 10 00 00 00 00 00 00 00 00 00") { a in
            let data = a.newLabel()
            a.mov(.eax, Mem(label: data)); a.mov(Mem(label: data), .r9); a.bind(data); a.dq(0)
        }
        // 2 GiB–4 GiB would sign-extend as a 64-bit address: 32-bit addressing zero-extends.
        g.check("a32 mov ecx, [0xFEE00020]\na32 mov eax, [0x80000000]\na32 mov [0xFFFFFFFF], al", "67 8B 0C 25 20 00 E0 FE 67 A1 00 00 00 80 67 A2 FF FF FF FF") { a in
            a.mov(.ecx, Mem(disp: 0xFEE0_0020)); a.mov(.eax, Mem(disp: 0x8000_0000)); a.mov(Mem(disp: 0xFFFF_FFFF), .al)
        }
    }

    @Test func thirtyTwoBitAddressing() {
        let g = Golden(.b64)
        g.check("mov eax, [ebx]\nmov rax, [esp+4]\nmov r8, [r9d+r10d*2]\nlea eax, [ebp-4]\nmov dword [r13d], 5", "67 8B 03 67 48 8B 44 24 04 67 4F 8B 04 51 67 8D 45 FC 67 41 C7 45 00 05 00 00 00") { a in
            a.mov(.eax, Mem(.ebx)); a.mov(.rax, Mem(.esp, disp: 4)); a.mov(.r8, Mem(.r9d, index: .r10d, scale: 2))
            a.lea(.eax, Mem(.ebp, disp: -4)); a.mov(Mem(.r13d, size: .dword), 5)
        }
    }

    @Test func segmentOverrides() {
        let g = Golden(.b64)
        g.check("mov rax, [fs:0x28]\nmov rcx, [gs:rbx+8]\nmov [gs:r12], r13", "64 48 8B 04 25 28 00 00 00 65 48 8B 4B 08 65 4D 89 2C 24") { a in
            a.mov(.rax, Mem(disp: 0x28, segment: .fs)); a.mov(.rcx, Mem(.rbx, disp: 8, segment: .gs))
            a.mov(Mem(.r12, segment: .gs), .r13)
        }
    }

    @Test func ripRelative() {
        let g = Golden(.b64, origin: 0x40_0000)
        // [rip+n] spelled for nasm as [rel $+length+n]: these instructions are 7 bytes long.
        g.check("mov rax, [rel $+7+16]\nlea rcx, [rel $+7-7]\nmov [rel $+7+0], r8d", "48 8B 05 10 00 00 00 48 8D 0D F9 FF FF FF 44 89 05 00 00 00 00") { a in
            a.mov(.rax, Mem(rip: 16)); a.lea(.rcx, Mem(rip: -7)); a.mov(Mem(rip: 0), .r8d)
        }
        // Forward and backward, with the displacement counted from the end of the instruction,
        // after any immediate.
        g.check("back: dq 7\nmov rax, [rel back]\nlea rsi, [rel fwd]\ncmp qword [rel back], 1\nmov dword [rel fwd+4], 0x12345678\nadd byte [rel back+1], 2\nmov r15, [rel fwd]\nfwd: dq 0", "07 00 00 00 00 00 00 00 48 8B 05 F1 FF FF FF 48 8D 35 20 00 00 00 48 83 3D E2 FF FF FF 01 C7 05 12 00 00 00 78 56 34 12 80 05 D2 FF FF FF 02 4C 8B 3D 00 00 00 00 00 00 00 00 00 00 00 00") { a in
            let back = a.newLabel(), fwd = a.newLabel()
            a.bind(back); a.dq(7)
            a.mov(.rax, Mem(rip: back)); a.lea(.rsi, Mem(rip: fwd))
            a.cmp(Mem(rip: back, size: .qword), 1); a.mov(Mem(rip: fwd, disp: 4, size: .dword), 0x1234_5678)
            a.add(Mem(rip: back, disp: 1, size: .byte), 2); a.mov(.r15, Mem(rip: fwd))
            a.bind(fwd); a.dq(0)
        }
        g.check("here: shl dword [rel here], 3\nbt qword [rel here], 5\nimul eax, [rel here], 1000\nshld [rel here], ecx, 4\npush qword [rel here]\njmp [rel here]\ncall [rel there]\nthere: dq here", "C1 25 F9 FF FF FF 03 48 0F BA 25 F0 FF FF FF 05 69 05 E6 FF FF FF E8 03 00 00 0F A4 0D DE FF FF FF 04 FF 35 D8 FF FF FF FF 25 D2 FF FF FF FF 15 00 00 00 00 00 00 40 00 00 00 00 00") { a in
            let here = a.newLabel(), there = a.newLabel()
            a.bind(here); a.shl(Mem(rip: here, size: .dword), 3); a.bt(Mem(rip: here, size: .qword), 5)
            a.imul(.eax, Mem(rip: here), 1000); a.shld(Mem(rip: here), .ecx, 4)
            a.push(Mem(rip: here)); a.jmp(Mem(rip: here)); a.call(Mem(rip: there))
            a.bind(there); a.dq(here)
        }
        g.check("mov al, [fs:rel data]\ndata: db 1", "64 8A 05 00 00 00 00 01") { a in
            let data = a.newLabel(); a.mov(.al, Mem(rip: data, segment: .fs)); a.bind(data); a.db([1])
        }
    }
}
