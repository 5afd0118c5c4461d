import Testing
import X86Asm

@Suite struct AddressingTests {
    @Test func modes16() {
        let g = Golden(.b16)
        // Each of the eight r/m forms with no, 8-bit and 16-bit displacement.
        g.check("mov ax, [bx+si]\nmov ax, [bx+di]\nmov ax, [bp+si]\nmov ax, [bp+di]\nmov ax, [si]\nmov ax, [di]\nmov ax, [bp]\nmov ax, [bx]", "8B 00 8B 01 8B 02 8B 03 8B 04 8B 05 8B 46 00 8B 07") { a in
            for m in [Mem(.bx, .si), Mem(.bx, .di), Mem(.bp, .si), Mem(.bp, .di), Mem(.si), Mem(.di), Mem(.bp), Mem(.bx)] {
                a.mov(.ax, m)
            }
        }
        g.check("mov cx, [bx+si+1]\nmov cx, [bx+di-1]\nmov cx, [bp+si+127]\nmov cx, [bp+di-128]\nmov cx, [si+2]\nmov cx, [di+3]\nmov cx, [bp+4]\nmov cx, [bx+5]", "8B 48 01 8B 49 FF 8B 4A 7F 8B 4B 80 8B 4C 02 8B 4D 03 8B 4E 04 8B 4F 05") { a in
            for m in [Mem(.bx, .si, disp: 1), Mem(.bx, .di, disp: -1), Mem(.bp, .si, disp: 127), Mem(.bp, .di, disp: -128),
                      Mem(.si, disp: 2), Mem(.di, disp: 3), Mem(.bp, disp: 4), Mem(.bx, disp: 5)] {
                a.mov(.cx, m)
            }
        }
        g.check("mov dl, [bx+si+128]\nmov dl, [bx+di-129]\nmov dl, [bp+si+0x1234]\nmov dl, [bp+di+0x7FFF]\nmov dl, [si-0x8000]\nmov dl, [di+0x100]\nmov dl, [bp+0x200]\nmov dl, [bx+0xFF00]", "8A 90 80 00 8A 91 7F FF 8A 92 34 12 8A 93 FF 7F 8A 94 00 80 8A 95 00 01 8A 96 00 02 8A 97 00 FF") { a in
            for m in [Mem(.bx, .si, disp: 128), Mem(.bx, .di, disp: -129), Mem(.bp, .si, disp: 0x1234), Mem(.bp, .di, disp: 0x7FFF),
                      Mem(.si, disp: -0x8000), Mem(.di, disp: 0x100), Mem(.bp, disp: 0x200), Mem(.bx, disp: 0xFF00)] {
                a.mov(.dl, m)
            }
        }
        g.check("mov si, [si+bx]", "8B 30") { $0.mov(.si, Mem(.si, .bx)) }
        g.check("mov si, [di+bp+6]", "8B 73 06") { $0.mov(.si, Mem(.di, .bp, disp: 6)) }
        g.check("mov bx, [0x1234]", "8B 1E 34 12") { $0.mov(.bx, Mem(disp: 0x1234)) }
        g.check("inc word [0]", "FF 06 00 00") { $0.inc(Mem(disp: 0, size: .word)) }
    }

    @Test func segmentOverrides() {
        let g16 = Golden(.b16)
        g16.check("mov ax, [es:bx]\nmov ax, [cs:bx]\nmov ax, [ss:bx]\nmov ax, [ds:bx]\nmov ax, [fs:bx]\nmov ax, [gs:bx]", "26 8B 07 2E 8B 07 36 8B 07 3E 8B 07 64 8B 07 65 8B 07") { a in
            for segment in SegReg.allCases { a.mov(.ax, Mem(.bx, segment: segment)) }
        }
        g16.check("mov ax, [ss:bp]", "36 8B 46 00") { $0.mov(.ax, Mem(.bp, segment: .ss)) }
        g16.check("mov word [es:di+2], 0", "26 C7 45 02 00 00") { $0.mov(Mem(.di, disp: 2, size: .word, segment: .es), 0) }
        g16.check("mov [gs:0x10], eax", "65 66 A3 10 00") { $0.mov(Mem(disp: 0x10, segment: .gs), .eax) }
        let g32 = Golden(.b32)
        g32.check("mov eax, [fs:0]", "64 A1 00 00 00 00") { $0.mov(.eax, Mem(disp: 0, segment: .fs)) }
        g32.check("mov ebx, [gs:esi+eax*2]", "65 8B 1C 46") { $0.mov(.ebx, Mem(.esi, index: .eax, scale: 2, segment: .gs)) }
        g32.check("add [es:ebx], cl", "26 00 0B") { $0.add(Mem(.ebx, segment: .es), .cl) }
    }

    @Test func modes32() {
        let g = Golden(.b32)
        g.check("mov eax, [eax]\nmov eax, [ecx]\nmov eax, [edx]\nmov eax, [ebx]\nmov eax, [esp]\nmov eax, [ebp]\nmov eax, [esi]\nmov eax, [edi]", "8B 00 8B 01 8B 02 8B 03 8B 04 24 8B 45 00 8B 06 8B 07") { a in
            for base in [Reg32.eax, .ecx, .edx, .ebx, .esp, .ebp, .esi, .edi] { a.mov(.eax, Mem(base)) }
        }
        g.check("mov eax, [eax+8]\nmov eax, [ecx-8]\nmov eax, [edx+127]\nmov eax, [ebx-128]\nmov eax, [esp+8]\nmov eax, [ebp-8]\nmov eax, [esi+1]\nmov eax, [edi+2]", "8B 40 08 8B 41 F8 8B 42 7F 8B 43 80 8B 44 24 08 8B 45 F8 8B 46 01 8B 47 02") { a in
            let bases = [Reg32.eax, .ecx, .edx, .ebx, .esp, .ebp, .esi, .edi]
            for (base, disp) in zip(bases, [8, -8, 127, -128, 8, -8, 1, 2]) { a.mov(.eax, Mem(base, disp: disp)) }
        }
        g.check("mov al, [ebx+128]\nmov al, [esp+0x1000]\nmov al, [ebp-0x1000]\nmov al, [esi+0x12345678]", "8A 83 80 00 00 00 8A 84 24 00 10 00 00 8A 85 00 F0 FF FF 8A 86 78 56 34 12") { a in
            a.mov(.al, Mem(.ebx, disp: 128)); a.mov(.al, Mem(.esp, disp: 0x1000))
            a.mov(.al, Mem(.ebp, disp: -0x1000)); a.mov(.al, Mem(.esi, disp: 0x1234_5678))
        }
        g.check("mov eax, [ebp+esi*4+0x100]", "8B 84 B5 00 01 00 00") { $0.mov(.eax, Mem(.ebp, index: .esi, scale: 4, disp: 0x100)) }
        g.check("mov eax, [ebp+esi*4]", "8B 44 B5 00") { $0.mov(.eax, Mem(.ebp, index: .esi, scale: 4)) }
        g.check("mov eax, [ebp+esi]", "8B 44 35 00") { $0.mov(.eax, Mem(.ebp, index: .esi)) }
        g.check("mov eax, [esi+ebp]", "8B 04 2E") { $0.mov(.eax, Mem(.esi, index: .ebp)) }
        g.check("mov eax, [esp+ecx*2]", "8B 04 4C") { $0.mov(.eax, Mem(.esp, index: .ecx, scale: 2)) }
        g.check("mov eax, [eax+esp]", "8B 04 04") { $0.mov(.eax, Mem(.eax, index: .esp)) }
        g.check("mov eax, [ebx+edi*8-4]", "8B 44 FB FC") { $0.mov(.eax, Mem(.ebx, index: .edi, scale: 8, disp: -4)) }
        g.check("mov eax, [ecx+edx*1+0x10000]", "8B 84 11 00 00 01 00") { $0.mov(.eax, Mem(.ecx, index: .edx, disp: 0x10000)) }
        g.check("mov eax, [esi*4]", "8B 04 B5 00 00 00 00") { $0.mov(.eax, Mem(index: .esi, scale: 4)) }
        g.check("mov eax, [esi*8+8]", "8B 04 F5 08 00 00 00") { $0.mov(.eax, Mem(index: .esi, scale: 8, disp: 8)) }
        g.check("mov eax, [ebx*2]", "8B 04 1B") { $0.mov(.eax, Mem(index: .ebx, scale: 2)) }
        g.check("mov eax, [ebx*1+4]", "8B 43 04") { $0.mov(.eax, Mem(index: .ebx, scale: 1, disp: 4)) }
        g.check("mov eax, [ebp*2]", "8B 44 2D 00") { $0.mov(.eax, Mem(index: .ebp, scale: 2)) }
        g.check("mov eax, [0x1000]", "A1 00 10 00 00") { $0.mov(.eax, Mem(disp: 0x1000)) }
        g.check("mov edx, [0x1000]", "8B 15 00 10 00 00") { $0.mov(.edx, Mem(disp: 0x1000)) }
        g.check("mov edx, [-4]", "8B 15 FC FF FF FF") { $0.mov(.edx, Mem(disp: -4)) }
    }

    @Test func sizePrefixes() {
        // Operand-size 0x66 and address-size 0x67 in both directions, and their order
        // after a segment override.
        let g16 = Golden(.b16)
        g16.check("mov eax, [ebx]", "66 67 8B 03") { $0.mov(.eax, Mem(.ebx)) }
        g16.check("mov ax, [ebx*2]", "67 8B 04 1B") { $0.mov(.ax, Mem(index: .ebx, scale: 2)) }
        g16.check("mov ax, [esp]", "67 8B 04 24") { $0.mov(.ax, Mem(.esp)) }
        g16.check("mov ax, [ebp]", "67 8B 45 00") { $0.mov(.ax, Mem(.ebp)) }
        g16.check("mov ax, [ebp+esi]", "67 8B 44 35 00") { $0.mov(.ax, Mem(.ebp, index: .esi)) }
        g16.check("mov dword [es:ebx], 1", "26 66 67 C7 03 01 00 00 00") { $0.mov(Mem(.ebx, size: .dword, segment: .es), 1) }
        g16.check("mov al, [dword 0xB8000]", "67 A0 00 80 0B 00") { $0.mov(.al, Mem(disp: 0xB8000)) }
        g16.check("mov [dword 0x100000], eax", "66 67 A3 00 00 10 00") { $0.mov(Mem(disp: 0x10_0000), .eax) }
        g16.check("inc word [dword 0x10000]", "67 FF 05 00 00 01 00") { $0.inc(Mem(disp: 0x10000, size: .word)) }
        g16.check("mov bx, [dword -0x8001]", "67 8B 1D FF 7F FF FF") { $0.mov(.bx, Mem(disp: -0x8001)) }
        g16.check("mov al, [ebp+esi*4+0x100]", "67 8A 84 B5 00 01 00 00") { $0.mov(.al, Mem(.ebp, index: .esi, scale: 4, disp: 0x100)) }
        let g32 = Golden(.b32)
        g32.check("mov ax, [bx+si]", "66 67 8B 00") { $0.mov(.ax, Mem(.bx, .si)) }
        g32.check("mov eax, [bp]", "67 8B 46 00") { $0.mov(.eax, Mem(.bp)) }
        g32.check("mov al, [bx]", "67 8A 07") { $0.mov(.al, Mem(.bx)) }
        g32.check("mov word [ss:bp+di+0x100], 0x1234", "36 66 67 C7 83 00 01 34 12") { $0.mov(Mem(.bp, .di, disp: 0x100, size: .word, segment: .ss), 0x1234) }
        g32.check("lea ax, [bx]", "66 67 8D 07") { $0.lea(.ax, Mem(.bx)) }
    }

    @Test func labelDisplacements() {
        let g16 = Golden(.b16, origin: 0x7C00)
        g16.check("mov al, [msg]\nmov si, [msg+2]\nmov bl, [bx+msg]\nmov ax, [bp+msg]\nmov cx, [cs:msg]\nmsg: db 'hi!', 0", "A0 14 7C 8B 36 16 7C 8A 9F 14 7C 8B 86 14 7C 2E 8B 0E 14 7C 68 69 21 00") { a in
            let msg = a.newLabel("msg")
            a.mov(.al, Mem(label: msg))
            a.mov(.si, Mem(disp: 2, label: msg))
            a.mov(.bl, Mem(.bx, label: msg))
            a.mov(.ax, Mem(.bp, label: msg))
            a.mov(.cx, Mem(label: msg, segment: .cs))
            a.bind(msg); a.ascii("hi!"); a.db([0])
        }
        g16.check("mov eax, [ebx+tbl]\nmov [tbl], ax\ntbl: dw 1", "66 67 8B 83 0B 7C 00 00 A3 0B 7C 01 00") { a in
            let tbl = a.newLabel()
            a.mov(.eax, Mem(.ebx, label: tbl)); a.mov(Mem(label: tbl), .ax)
            a.bind(tbl); a.dw(1)
        }
        let g32 = Golden(.b32, origin: 0x100000)
        g32.check("mov eax, [counter]\ninc dword [counter]\nmov ebx, [esi*4+table]\nmov cl, [ebp+table+1]\ncounter: dd 0\ntable: dd 1", "A1 18 00 10 00 FF 05 18 00 10 00 8B 1C B5 1C 00 10 00 8A 8D 1D 00 10 00 00 00 00 00 01 00 00 00") { a in
            let counter = a.newLabel(), table = a.newLabel()
            a.mov(.eax, Mem(label: counter))
            a.inc(Mem(label: counter, size: .dword))
            a.mov(.ebx, Mem(index: .esi, scale: 4, label: table))
            a.mov(.cl, Mem(.ebp, disp: 1, label: table))
            a.bind(counter); a.dd(0)
            a.bind(table); a.dd(1)
        }
    }
}
