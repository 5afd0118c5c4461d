import Testing
import X86Asm

@Suite struct MoveTests {
    @Test func mov16() {
        let g = Golden(.b16)
        g.check("mov ax, bx", "89 D8") { $0.mov(.ax, .bx) }
        g.check("mov eax, ebx", "66 89 D8") { $0.mov(.eax, .ebx) }
        g.check("mov cl, ah", "88 E1") { $0.mov(.cl, .ah) }
        g.check("mov ax, [bx+si+4]", "8B 40 04") { $0.mov(.ax, Mem(.bx, .si, disp: 4)) }
        g.check("mov [bp+di-2], cx", "89 4B FE") { $0.mov(Mem(.bp, .di, disp: -2), .cx) }
        g.check("mov dl, [si]", "8A 14") { $0.mov(.dl, Mem(.si)) }
        g.check("mov [di+0x1234], bh", "88 BD 34 12") { $0.mov(Mem(.di, disp: 0x1234), .bh) }
        g.check("mov ax, 0x1234", "B8 34 12") { $0.mov(.ax, 0x1234) }
        g.check("mov ax, -1", "B8 FF FF") { $0.mov(.ax, -1) }
        g.check("mov bh, 0x80", "B7 80") { $0.mov(.bh, 0x80) }
        g.check("mov edi, 0x12345678", "66 BF 78 56 34 12") { $0.mov(.edi, 0x1234_5678) }
        g.check("mov word [bx], 0x1234", "C7 07 34 12") { $0.mov(Mem(.bx, size: .word), 0x1234) }
        g.check("mov byte [bp+si+8], 0xFF", "C6 42 08 FF") { $0.mov(Mem(.bp, .si, disp: 8, size: .byte), 0xFF) }
        g.check("mov dword [di], 0x89ABCDEF", "66 C7 05 EF CD AB 89") { $0.mov(Mem(.di, size: .dword), 0x89AB_CDEF) }
        g.check("mov ax, [0x1234]", "A1 34 12") { $0.mov(.ax, Mem(disp: 0x1234)) }
        g.check("mov [0x40], al", "A2 40 00") { $0.mov(Mem(disp: 0x40), .al) }
        g.check("mov eax, [0x1234]", "66 A1 34 12") { $0.mov(.eax, Mem(disp: 0x1234)) }
        g.check("mov bx, [0x1234]", "8B 1E 34 12") { $0.mov(.bx, Mem(disp: 0x1234)) }
        g.check("mov al, [es:0x12]", "26 A0 12 00") { $0.mov(.al, Mem(disp: 0x12, segment: .es)) }
        g.check("mov ds, ax", "8E D8") { $0.mov(.ds, .ax) }
        g.check("mov ss, eax", "8E D0") { $0.mov(.ss, .eax) }
        g.check("mov es, [bx]", "8E 07") { $0.mov(.es, Mem(.bx)) }
        g.check("mov ax, cs", "8C C8") { $0.mov(.ax, .cs) }
        g.check("mov eax, ds", "66 8C D8") { $0.mov(.eax, .ds) }
        g.check("mov [bx+si], es", "8C 00") { $0.mov(Mem(.bx, .si), .es) }
        g.check("mov fs, dx", "8E E2") { $0.mov(.fs, .dx) }
        g.check("mov gs, [bp]", "8E 6E 00") { $0.mov(.gs, Mem(.bp)) }
        g.check("mov eax, cr0", "0F 20 C0") { $0.mov(.eax, .cr0) }
        g.check("mov cr0, eax", "0F 22 C0") { $0.mov(.cr0, .eax) }
        g.check("mov cr3, ebx", "0F 22 DB") { $0.mov(.cr3, .ebx) }
    }

    @Test func mov32() {
        let g = Golden(.b32)
        g.check("mov eax, ebx", "89 D8") { $0.mov(.eax, .ebx) }
        g.check("mov ax, bx", "66 89 D8") { $0.mov(.ax, .bx) }
        g.check("mov al, dh", "88 F0") { $0.mov(.al, .dh) }
        g.check("mov ebx, [eax]", "8B 18") { $0.mov(.ebx, Mem(.eax)) }
        g.check("mov [eax], ebx", "89 18") { $0.mov(Mem(.eax), .ebx) }
        g.check("mov eax, 0", "B8 00 00 00 00") { $0.mov(.eax, 0) }
        g.check("mov al, 5", "B0 05") { $0.mov(.al, 5) }
        g.check("mov si, 0xBEEF", "66 BE EF BE") { $0.mov(.si, 0xBEEF) }
        g.check("mov byte [ebx], 5", "C6 03 05") { $0.mov(Mem(.ebx, size: .byte), 5) }
        g.check("mov word [ebx+4], 5", "66 C7 43 04 05 00") { $0.mov(Mem(.ebx, disp: 4, size: .word), 5) }
        g.check("mov dword [ebx], -2", "C7 03 FE FF FF FF") { $0.mov(Mem(.ebx, size: .dword), -2) }
        g.check("mov [0x1000], eax", "A3 00 10 00 00") { $0.mov(Mem(disp: 0x1000), .eax) }
        g.check("mov [0x1000], ax", "66 A3 00 10 00 00") { $0.mov(Mem(disp: 0x1000), .ax) }
        g.check("mov [fs:0x1000], al", "64 A2 00 10 00 00") { $0.mov(Mem(disp: 0x1000, segment: .fs), .al) }
        g.check("mov ecx, [0xFFFF0000]", "8B 0D 00 00 FF FF") { $0.mov(.ecx, Mem(disp: 0xFFFF_0000)) }
        g.check("mov ax, [bx+si]", "66 67 8B 00") { $0.mov(.ax, Mem(.bx, .si)) }
        g.check("mov ds, ax", "8E D8") { $0.mov(.ds, .ax) }
        g.check("mov ds, eax", "8E D8") { $0.mov(.ds, .eax) }
        g.check("mov ax, ds", "66 8C D8") { $0.mov(.ax, .ds) }
        g.check("mov eax, ss", "8C D0") { $0.mov(.eax, .ss) }
        g.check("mov [ebx], ds", "8C 1B") { $0.mov(Mem(.ebx), .ds) }
        g.check("mov ds, [ebx]", "8E 1B") { $0.mov(.ds, Mem(.ebx)) }
        g.check("mov eax, cr0", "0F 20 C0") { $0.mov(.eax, .cr0) }
        g.check("mov edx, cr2", "0F 20 D2") { $0.mov(.edx, .cr2) }
        g.check("mov cr3, ebx", "0F 22 DB") { $0.mov(.cr3, .ebx) }
        g.check("mov cr4, eax", "0F 22 E0") { $0.mov(.cr4, .eax) }
        g.check("mov esi, cr4", "0F 20 E6") { $0.mov(.esi, .cr4) }
    }

    @Test func extendAndLea() {
        let g16 = Golden(.b16)
        g16.check("movzx ax, al", "0F B6 C0") { $0.movzx(.ax, .al) }
        g16.check("movzx eax, bx", "66 0F B7 C3") { $0.movzx(.eax, .bx) }
        g16.check("movzx cx, byte [bx]", "0F B6 0F") { $0.movzx(.cx, Mem(.bx, size: .byte)) }
        g16.check("movsx eax, byte [bx]", "66 0F BE 07") { $0.movsx(.eax, Mem(.bx, size: .byte)) }
        g16.check("movsx dx, cl", "0F BE D1") { $0.movsx(.dx, .cl) }
        g16.check("lea ax, [bx+si+3]", "8D 40 03") { $0.lea(.ax, Mem(.bx, .si, disp: 3)) }
        g16.check("lea si, [bp-0x100]", "8D B6 00 FF") { $0.lea(.si, Mem(.bp, disp: -0x100)) }
        g16.check("lea eax, [ebx+ecx*8]", "66 67 8D 04 CB") { $0.lea(.eax, Mem(.ebx, index: .ecx, scale: 8)) }
        let g32 = Golden(.b32)
        g32.check("movzx eax, word [ebx]", "0F B7 03") { $0.movzx(.eax, Mem(.ebx, size: .word)) }
        g32.check("movzx eax, dl", "0F B6 C2") { $0.movzx(.eax, .dl) }
        g32.check("movzx ax, dl", "66 0F B6 C2") { $0.movzx(.ax, .dl) }
        g32.check("movsx eax, bx", "0F BF C3") { $0.movsx(.eax, .bx) }
        g32.check("movsx ecx, byte [esi+1]", "0F BE 4E 01") { $0.movsx(.ecx, Mem(.esi, disp: 1, size: .byte)) }
        g32.check("lea esi, [esi*2+4]", "8D 74 36 04") { $0.lea(.esi, Mem(index: .esi, scale: 2, disp: 4)) }
        g32.check("lea eax, [ebx+ecx*4-8]", "8D 44 8B F8") { $0.lea(.eax, Mem(.ebx, index: .ecx, scale: 4, disp: -8)) }
        g32.check("lea ax, [bx]", "66 67 8D 07") { $0.lea(.ax, Mem(.bx)) }
    }

    @Test func xchg() {
        let g16 = Golden(.b16)
        g16.check("xchg ax, bx", "93") { $0.xchg(.ax, .bx) }
        g16.check("xchg cx, ax", "91") { $0.xchg(.cx, .ax) }
        g16.check("xchg ax, ax", "90") { $0.xchg(.ax, .ax) }
        g16.check("xchg eax, ebx", "66 93") { $0.xchg(.eax, .ebx) }
        g16.check("xchg cl, bl", "86 CB") { $0.xchg(.cl, .bl) }
        g16.check("xchg al, ah", "86 C4") { $0.xchg(.al, .ah) }
        g16.check("xchg cx, dx", "87 CA") { $0.xchg(.cx, .dx) }
        g16.check("xchg cx, [bx]", "87 0F") { $0.xchg(.cx, Mem(.bx)) }
        g16.check("xchg [bx], al", "86 07") { $0.xchg(Mem(.bx), .al) }
        let g32 = Golden(.b32)
        g32.check("xchg eax, ecx", "91") { $0.xchg(.eax, .ecx) }
        g32.check("xchg eax, eax", "90") { $0.xchg(.eax, .eax) }
        g32.check("xchg ax, ax", "66 90") { $0.xchg(.ax, .ax) }
        g32.check("xchg esi, edi", "87 F7") { $0.xchg(.esi, .edi) }
        g32.check("xchg [esp+4], ebx", "87 5C 24 04") { $0.xchg(Mem(.esp, disp: 4), .ebx) }
    }

    @Test func stack16() {
        let g = Golden(.b16)
        g.check("push ax", "50") { $0.push(.ax) }
        g.check("push edi", "66 57") { $0.push(.edi) }
        g.check("pop bp", "5D") { $0.pop(.bp) }
        g.check("pop ecx", "66 59") { $0.pop(.ecx) }
        g.check("push es", "06") { $0.push(.es) }
        g.check("push cs", "0E") { $0.push(.cs) }
        g.check("push ss", "16") { $0.push(.ss) }
        g.check("push ds", "1E") { $0.push(.ds) }
        g.check("push fs", "0F A0") { $0.push(.fs) }
        g.check("push gs", "0F A8") { $0.push(.gs) }
        g.check("pop es", "07") { $0.pop(.es) }
        g.check("pop ss", "17") { $0.pop(.ss) }
        g.check("pop ds", "1F") { $0.pop(.ds) }
        g.check("pop fs", "0F A1") { $0.pop(.fs) }
        g.check("pop gs", "0F A9") { $0.pop(.gs) }
        g.check("push 5", "6A 05") { $0.push(5) }
        g.check("push 0x1234", "68 34 12") { $0.push(0x1234) }
        g.check("push word 0x80", "68 80 00") { $0.push(0x80) }
        g.check("push word 0xFFFF", "6A FF") { $0.push(0xFFFF) }
        g.check("push dword 5", "66 6A 05") { $0.push(5, size: .dword) }
        g.check("push dword 0x12345678", "66 68 78 56 34 12") { $0.push(0x1234_5678, size: .dword) }
        g.check("push word [bx]", "FF 37") { $0.push(Mem(.bx)) }
        g.check("push dword [bx]", "66 FF 37") { $0.push(Mem(.bx, size: .dword)) }
        g.check("pop word [bp+2]", "8F 46 02") { $0.pop(Mem(.bp, disp: 2)) }
        g.check("pusha", "60") { $0.pusha() }
        g.check("popa", "61") { $0.popa() }
        g.check("pushad", "66 60") { $0.pushad() }
        g.check("popad", "66 61") { $0.popad() }
        g.check("pushf", "9C") { $0.pushf() }
        g.check("popf", "9D") { $0.popf() }
        g.check("pushfd", "66 9C") { $0.pushfd() }
        g.check("popfd", "66 9D") { $0.popfd() }
    }

    @Test func stack32() {
        let g = Golden(.b32)
        g.check("push eax", "50") { $0.push(.eax) }
        g.check("push ax", "66 50") { $0.push(.ax) }
        g.check("pop edi", "5F") { $0.pop(.edi) }
        g.check("push es", "06") { $0.push(.es) }
        g.check("pop gs", "0F A9") { $0.pop(.gs) }
        g.check("push 5", "6A 05") { $0.push(5) }
        g.check("push -1", "6A FF") { $0.push(-1) }
        g.check("push 0x12345678", "68 78 56 34 12") { $0.push(0x1234_5678) }
        g.check("push word 5", "66 6A 05") { $0.push(5, size: .word) }
        g.check("push dword [ebx]", "FF 33") { $0.push(Mem(.ebx)) }
        g.check("push word [ebx]", "66 FF 33") { $0.push(Mem(.ebx, size: .word)) }
        g.check("pop dword [ebx]", "8F 03") { $0.pop(Mem(.ebx)) }
        g.check("pusha", "60") { $0.pusha() }
        g.check("popad", "61") { $0.popad() }
        g.check("pushf", "9C") { $0.pushf() }
        g.check("popfd", "9D") { $0.popfd() }
    }
}
