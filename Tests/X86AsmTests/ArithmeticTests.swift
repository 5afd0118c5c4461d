import Testing
import X86Asm

@Suite struct ArithmeticTests {
    @Test func aluForms16() {
        let g = Golden(.b16)
        g.check("add ax, bx", "01 D8") { $0.add(.ax, .bx) }
        g.check("add al, 0xFF", "04 FF") { $0.add(.al, 0xFF) }
        g.check("add ax, 1", "83 C0 01") { $0.add(.ax, 1) }
        g.check("add ax, 0x1234", "05 34 12") { $0.add(.ax, 0x1234) }
        g.check("add ax, 0xFFFF", "83 C0 FF") { $0.add(.ax, 0xFFFF) }
        g.check("add bx, 0x80", "81 C3 80 00") { $0.add(.bx, 0x80) }
        g.check("add bx, -128", "83 C3 80") { $0.add(.bx, -128) }
        g.check("add cl, 3", "80 C1 03") { $0.add(.cl, 3) }
        g.check("add eax, 0x12345678", "66 05 78 56 34 12") { $0.add(.eax, 0x1234_5678) }
        g.check("add [bx+si], dx", "01 10") { $0.add(Mem(.bx, .si), .dx) }
        g.check("add dh, [bp+di+0x7F]", "02 73 7F") { $0.add(.dh, Mem(.bp, .di, disp: 0x7F)) }
        g.check("add word [bx], 5", "83 07 05") { $0.add(Mem(.bx, size: .word), 5) }
        g.check("add byte [di], 200", "80 05 C8") { $0.add(Mem(.di, size: .byte), 200) }
        g.check("add dword [si], 0x10000", "66 81 04 00 00 01 00") { $0.add(Mem(.si, size: .dword), 0x10000) }
        g.check("or ax, bx", "09 D8") { $0.or(.ax, .bx) }
        g.check("or al, 0x20", "0C 20") { $0.or(.al, 0x20) }
        g.check("or [bx], cl", "08 0F") { $0.or(Mem(.bx), .cl) }
        g.check("or dx, [si]", "0B 14") { $0.or(.dx, Mem(.si)) }
        g.check("or word [bx], 0x100", "81 0F 00 01") { $0.or(Mem(.bx, size: .word), 0x100) }
        g.check("adc dx, 0", "83 D2 00") { $0.adc(.dx, 0) }
        g.check("adc ax, cx", "11 C8") { $0.adc(.ax, .cx) }
        g.check("adc [di], ax", "11 05") { $0.adc(Mem(.di), .ax) }
        g.check("adc cx, [di]", "13 0D") { $0.adc(.cx, Mem(.di)) }
        g.check("adc byte [bx], 1", "80 17 01") { $0.adc(Mem(.bx, size: .byte), 1) }
        g.check("sbb ax, 0x1000", "1D 00 10") { $0.sbb(.ax, 0x1000) }
        g.check("sbb bl, bh", "18 FB") { $0.sbb(.bl, .bh) }
        g.check("sbb [bx], ax", "19 07") { $0.sbb(Mem(.bx), .ax) }
        g.check("sbb ax, [bx]", "1B 07") { $0.sbb(.ax, Mem(.bx)) }
        g.check("sbb word [bx], 7", "83 1F 07") { $0.sbb(Mem(.bx, size: .word), 7) }
        g.check("and al, 0x0F", "24 0F") { $0.and(.al, 0x0F) }
        g.check("and si, 0xFFF0", "83 E6 F0") { $0.and(.si, 0xFFF0) }
        g.check("and [bp+2], ax", "21 46 02") { $0.and(Mem(.bp, disp: 2), .ax) }
        g.check("and ax, [bp+2]", "23 46 02") { $0.and(.ax, Mem(.bp, disp: 2)) }
        g.check("and byte [si], 0x7F", "80 24 7F") { $0.and(Mem(.si, size: .byte), 0x7F) }
        g.check("and cx, dx", "21 D1") { $0.and(.cx, .dx) }
        g.check("sub sp, 8", "83 EC 08") { $0.sub(.sp, 8) }
        g.check("sub ax, 0x1234", "2D 34 12") { $0.sub(.ax, 0x1234) }
        g.check("sub ax, bx", "29 D8") { $0.sub(.ax, .bx) }
        g.check("sub [bx], ax", "29 07") { $0.sub(Mem(.bx), .ax) }
        g.check("sub ax, [bx]", "2B 07") { $0.sub(.ax, Mem(.bx)) }
        g.check("sub word [bx], 0x1234", "81 2F 34 12") { $0.sub(Mem(.bx, size: .word), 0x1234) }
        g.check("xor ax, ax", "31 C0") { $0.xor(.ax, .ax) }
        g.check("xor eax, eax", "66 31 C0") { $0.xor(.eax, .eax) }
        g.check("xor al, 0x55", "34 55") { $0.xor(.al, 0x55) }
        g.check("xor [si], bl", "30 1C") { $0.xor(Mem(.si), .bl) }
        g.check("xor bl, [si]", "32 1C") { $0.xor(.bl, Mem(.si)) }
        g.check("xor word [si], 0xFF", "81 34 FF 00") { $0.xor(Mem(.si, size: .word), 0xFF) }
        g.check("cmp al, 'A'", "3C 41") { $0.cmp(.al, 0x41) }
        g.check("cmp ax, 0x8000", "3D 00 80") { $0.cmp(.ax, 0x8000) }
        g.check("cmp cx, 10", "83 F9 0A") { $0.cmp(.cx, 10) }
        g.check("cmp si, di", "39 FE") { $0.cmp(.si, .di) }
        g.check("cmp [bx], ax", "39 07") { $0.cmp(Mem(.bx), .ax) }
        g.check("cmp ax, [bx]", "3B 07") { $0.cmp(.ax, Mem(.bx)) }
        g.check("cmp byte [bx+si], 0", "80 38 00") { $0.cmp(Mem(.bx, .si, size: .byte), 0) }
        g.check("cmp dword [bx], 0", "66 83 3F 00") { $0.cmp(Mem(.bx, size: .dword), 0) }
    }

    @Test func aluForms32() {
        let g = Golden(.b32)
        g.check("add eax, 0x12345678", "05 78 56 34 12") { $0.add(.eax, 0x1234_5678) }
        g.check("add eax, -1", "83 C0 FF") { $0.add(.eax, -1) }
        g.check("add eax, 0xFFFFFFFF", "83 C0 FF") { $0.add(.eax, 0xFFFF_FFFF) }
        g.check("add ax, 0xffff", "66 83 C0 FF") { $0.add(.ax, 0xFFFF) }
        g.check("add al, 0xff", "04 FF") { $0.add(.al, 0xFF) }
        g.check("add bl, 200", "80 C3 C8") { $0.add(.bl, 200) }
        g.check("add ecx, 0x1000", "81 C1 00 10 00 00") { $0.add(.ecx, 0x1000) }
        g.check("add byte [ebx], 5", "80 03 05") { $0.add(Mem(.ebx, size: .byte), 5) }
        g.check("add dword [ebx], 500", "81 03 F4 01 00 00") { $0.add(Mem(.ebx, size: .dword), 500) }
        g.check("add word [ebx], 5", "66 83 03 05") { $0.add(Mem(.ebx, size: .word), 5) }
        g.check("add [esi+eax*4], edx", "01 14 86") { $0.add(Mem(.esi, index: .eax, scale: 4), .edx) }
        g.check("add edx, [esi+eax*4]", "03 14 86") { $0.add(.edx, Mem(.esi, index: .eax, scale: 4)) }
        g.check("or ecx, edx", "09 D1") { $0.or(.ecx, .edx) }
        g.check("or eax, 0x80000000", "0D 00 00 00 80") { $0.or(.eax, 0x8000_0000) }
        g.check("adc edx, 0", "83 D2 00") { $0.adc(.edx, 0) }
        g.check("sbb eax, ebx", "19 D8") { $0.sbb(.eax, .ebx) }
        g.check("and esp, -16", "83 E4 F0") { $0.and(.esp, -16) }
        g.check("and eax, 0xFFFF", "25 FF FF 00 00") { $0.and(.eax, 0xFFFF) }
        g.check("sub esp, 0x100", "81 EC 00 01 00 00") { $0.sub(.esp, 0x100) }
        g.check("sub dword [ebp-4], 1", "83 6D FC 01") { $0.sub(Mem(.ebp, disp: -4, size: .dword), 1) }
        g.check("xor esi, esi", "31 F6") { $0.xor(.esi, .esi) }
        g.check("xor ax, 0x1234", "66 35 34 12") { $0.xor(.ax, 0x1234) }
        g.check("cmp eax, 0x80", "3D 80 00 00 00") { $0.cmp(.eax, 0x80) }
        g.check("cmp ebx, 0x7F", "83 FB 7F") { $0.cmp(.ebx, 0x7F) }
        g.check("cmp [esp], ecx", "39 0C 24") { $0.cmp(Mem(.esp), .ecx) }
        g.check("cmp ecx, [esp]", "3B 0C 24") { $0.cmp(.ecx, Mem(.esp)) }
        g.check("cmp byte [eax], 0", "80 38 00") { $0.cmp(Mem(.eax, size: .byte), 0) }
    }

    @Test func test() {
        let g16 = Golden(.b16)
        g16.check("test al, al", "84 C0") { $0.test(.al, .al) }
        g16.check("test ax, bx", "85 D8") { $0.test(.ax, .bx) }
        g16.check("test ax, [bx]", "85 07") { $0.test(.ax, Mem(.bx)) }
        g16.check("test [bx], ax", "85 07") { $0.test(Mem(.bx), .ax) }
        g16.check("test al, 0x80", "A8 80") { $0.test(.al, 0x80) }
        g16.check("test ax, 1", "A9 01 00") { $0.test(.ax, 1) }
        g16.check("test bx, 1", "F7 C3 01 00") { $0.test(.bx, 1) }
        g16.check("test cl, 4", "F6 C1 04") { $0.test(.cl, 4) }
        g16.check("test word [bx], 0x8000", "F7 07 00 80") { $0.test(Mem(.bx, size: .word), 0x8000) }
        let g32 = Golden(.b32)
        g32.check("test eax, 1", "A9 01 00 00 00") { $0.test(.eax, 1) }
        g32.check("test ebx, 1", "F7 C3 01 00 00 00") { $0.test(.ebx, 1) }
        g32.check("test bl, 1", "F6 C3 01") { $0.test(.bl, 1) }
        g32.check("test byte [ebx], 1", "F6 03 01") { $0.test(Mem(.ebx, size: .byte), 1) }
        g32.check("test ecx, edx", "85 D1") { $0.test(.ecx, .edx) }
        g32.check("test [edi], esi", "85 37") { $0.test(Mem(.edi), .esi) }
    }

    @Test func unary() {
        let g16 = Golden(.b16)
        g16.check("inc ax", "40") { $0.inc(.ax) }
        g16.check("inc di", "47") { $0.inc(.di) }
        g16.check("inc eax", "66 40") { $0.inc(.eax) }
        g16.check("inc al", "FE C0") { $0.inc(.al) }
        g16.check("inc word [bx]", "FF 07") { $0.inc(Mem(.bx, size: .word)) }
        g16.check("inc byte [bx]", "FE 07") { $0.inc(Mem(.bx, size: .byte)) }
        g16.check("dec cx", "49") { $0.dec(.cx) }
        g16.check("dec bh", "FE CF") { $0.dec(.bh) }
        g16.check("dec dword [si]", "66 FF 0C") { $0.dec(Mem(.si, size: .dword)) }
        g16.check("not ax", "F7 D0") { $0.not(.ax) }
        g16.check("not byte [di]", "F6 15") { $0.not(Mem(.di, size: .byte)) }
        g16.check("neg dx", "F7 DA") { $0.neg(.dx) }
        g16.check("neg word [bp+4]", "F7 5E 04") { $0.neg(Mem(.bp, disp: 4, size: .word)) }
        g16.check("mul bx", "F7 E3") { $0.mul(.bx) }
        g16.check("mul cl", "F6 E1") { $0.mul(.cl) }
        g16.check("mul word [si]", "F7 24") { $0.mul(Mem(.si, size: .word)) }
        g16.check("imul cx", "F7 E9") { $0.imul(.cx) }
        g16.check("imul byte [bx]", "F6 2F") { $0.imul(Mem(.bx, size: .byte)) }
        g16.check("div cx", "F7 F1") { $0.div(.cx) }
        g16.check("div ecx", "66 F7 F1") { $0.div(.ecx) }
        g16.check("div byte [bx]", "F6 37") { $0.div(Mem(.bx, size: .byte)) }
        g16.check("idiv bl", "F6 FB") { $0.idiv(.bl) }
        g16.check("idiv word [di]", "F7 3D") { $0.idiv(Mem(.di, size: .word)) }
        let g32 = Golden(.b32)
        g32.check("inc eax", "40") { $0.inc(.eax) }
        g32.check("inc ax", "66 40") { $0.inc(.ax) }
        g32.check("inc al", "FE C0") { $0.inc(.al) }
        g32.check("inc dword [ebx]", "FF 03") { $0.inc(Mem(.ebx, size: .dword)) }
        g32.check("dec esi", "4E") { $0.dec(.esi) }
        g32.check("dec word [ebx]", "66 FF 0B") { $0.dec(Mem(.ebx, size: .word)) }
        g32.check("not edx", "F7 D2") { $0.not(.edx) }
        g32.check("neg eax", "F7 D8") { $0.neg(.eax) }
        g32.check("mul ecx", "F7 E1") { $0.mul(.ecx) }
        g32.check("mul dword [esi]", "F7 26") { $0.mul(Mem(.esi, size: .dword)) }
        g32.check("imul ebx", "F7 EB") { $0.imul(.ebx) }
        g32.check("div ebx", "F7 F3") { $0.div(.ebx) }
        g32.check("idiv dword [ebp+8]", "F7 7D 08") { $0.idiv(Mem(.ebp, disp: 8, size: .dword)) }
    }

    @Test func multiply() {
        let g16 = Golden(.b16)
        g16.check("imul ax, bx", "0F AF C3") { $0.imul(.ax, .bx) }
        g16.check("imul cx, [bx]", "0F AF 0F") { $0.imul(.cx, Mem(.bx)) }
        g16.check("imul ax, bx, 5", "6B C3 05") { $0.imul(.ax, .bx, 5) }
        g16.check("imul ax, bx, 500", "69 C3 F4 01") { $0.imul(.ax, .bx, 500) }
        g16.check("imul dx, [si], -3", "6B 14 FD") { $0.imul(.dx, Mem(.si), -3) }
        g16.check("imul eax, ecx, 0x10000", "66 69 C1 00 00 01 00") { $0.imul(.eax, .ecx, 0x10000) }
        let g32 = Golden(.b32)
        g32.check("imul eax, ebx", "0F AF C3") { $0.imul(.eax, .ebx) }
        g32.check("imul esi, [ebx+4]", "0F AF 73 04") { $0.imul(.esi, Mem(.ebx, disp: 4)) }
        g32.check("imul eax, [ebx], 5", "6B 03 05") { $0.imul(.eax, Mem(.ebx), 5) }
        g32.check("imul ecx, edx, 1000", "69 CA E8 03 00 00") { $0.imul(.ecx, .edx, 1000) }
        g32.check("imul ax, cx, 0x7FFF", "66 69 C1 FF 7F") { $0.imul(.ax, .cx, 0x7FFF) }
    }

    @Test func exchangeAndCompare() {
        let g16 = Golden(.b16)
        g16.check("xadd ax, bx", "0F C1 D8") { $0.xadd(.ax, .bx) }
        g16.check("xadd [bx], cl", "0F C0 0F") { $0.xadd(Mem(.bx), .cl) }
        g16.check("cmpxchg [si], dx", "0F B1 14") { $0.cmpxchg(Mem(.si), .dx) }
        g16.check("cmpxchg bl, cl", "0F B0 CB") { $0.cmpxchg(.bl, .cl) }
        let g32 = Golden(.b32)
        g32.check("xadd [ebx], eax", "0F C1 03") { $0.xadd(Mem(.ebx), .eax) }
        g32.check("xadd ecx, edx", "0F C1 D1") { $0.xadd(.ecx, .edx) }
        g32.check("cmpxchg [ebx], al", "0F B0 03") { $0.cmpxchg(Mem(.ebx), .al) }
        g32.check("cmpxchg ebx, eax", "0F B1 C3") { $0.cmpxchg(.ebx, .eax) }
        g32.check("lock xadd [ebx], eax", "F0 0F C1 03") { $0.lock(); $0.xadd(Mem(.ebx), .eax) }
        g32.check("lock cmpxchg [fs:esi], cx", "F0 64 66 0F B1 0E") { $0.lock(); $0.cmpxchg(Mem(.esi, segment: .fs), .cx) }
        g32.check("lock inc dword [eax]", "F0 FF 00") { $0.lock(); $0.inc(Mem(.eax, size: .dword)) }
    }

    @Test func conversionsAndDecimal() {
        let g16 = Golden(.b16)
        g16.check("cbw", "98") { $0.cbw() }
        g16.check("cwde", "66 98") { $0.cwde() }
        g16.check("cwd", "99") { $0.cwd() }
        g16.check("cdq", "66 99") { $0.cdq() }
        g16.check("daa", "27") { $0.daa() }
        g16.check("das", "2F") { $0.das() }
        g16.check("aaa", "37") { $0.aaa() }
        g16.check("aas", "3F") { $0.aas() }
        g16.check("aam", "D4 0A") { $0.aam() }
        g16.check("aam 16", "D4 10") { $0.aam(16) }
        g16.check("aad", "D5 0A") { $0.aad() }
        g16.check("aad 8", "D5 08") { $0.aad(8) }
        let g32 = Golden(.b32)
        g32.check("cbw", "66 98") { $0.cbw() }
        g32.check("cwde", "98") { $0.cwde() }
        g32.check("cwd", "66 99") { $0.cwd() }
        g32.check("cdq", "99") { $0.cdq() }
        g32.check("daa", "27") { $0.daa() }
        g32.check("aam", "D4 0A") { $0.aam() }
    }
}
