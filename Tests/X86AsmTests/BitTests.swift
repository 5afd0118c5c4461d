import Testing
import X86Asm

@Suite struct BitTests {
    @Test func shifts16() {
        let g = Golden(.b16)
        g.check("shl ax, 1", "D1 E0") { $0.shl(.ax, 1) }
        g.check("shl ax, 4", "C1 E0 04") { $0.shl(.ax, 4) }
        g.check("shl ax, cl", "D3 E0") { $0.shl(.ax, .cl) }
        g.check("shl byte [bx], 1", "D0 27") { $0.shl(Mem(.bx, size: .byte), 1) }
        g.check("shr dx, 1", "D1 EA") { $0.shr(.dx, 1) }
        g.check("shr al, 3", "C0 E8 03") { $0.shr(.al, 3) }
        g.check("shr word [si], cl", "D3 2C") { $0.shr(Mem(.si, size: .word), .cl) }
        g.check("sar bx, 15", "C1 FB 0F") { $0.sar(.bx, 15) }
        g.check("sar eax, cl", "66 D3 F8") { $0.sar(.eax, .cl) }
        g.check("sar word [bx], 2", "C1 3F 02") { $0.sar(Mem(.bx, size: .word), 2) }
        g.check("rol ax, 8", "C1 C0 08") { $0.rol(.ax, 8) }
        g.check("rol bl, cl", "D2 C3") { $0.rol(.bl, .cl) }
        g.check("rol word [di], 1", "D1 05") { $0.rol(Mem(.di, size: .word), 1) }
        g.check("ror cx, 1", "D1 C9") { $0.ror(.cx, 1) }
        g.check("ror byte [bx], cl", "D2 0F") { $0.ror(Mem(.bx, size: .byte), .cl) }
        g.check("rcl dx, 1", "D1 D2") { $0.rcl(.dx, 1) }
        g.check("rcl word [bx], 3", "C1 17 03") { $0.rcl(Mem(.bx, size: .word), 3) }
        g.check("rcr ax, cl", "D3 D8") { $0.rcr(.ax, .cl) }
        g.check("rcr byte [bx], 1", "D0 1F") { $0.rcr(Mem(.bx, size: .byte), 1) }
    }

    @Test func shifts32() {
        let g = Golden(.b32)
        g.check("shl eax, 1", "D1 E0") { $0.shl(.eax, 1) }
        g.check("shl dword [ebx], 1", "D1 23") { $0.shl(Mem(.ebx, size: .dword), 1) }
        g.check("shr ecx, 12", "C1 E9 0C") { $0.shr(.ecx, 12) }
        g.check("sar ax, cl", "66 D3 F8") { $0.sar(.ax, .cl) }
        g.check("rol edx, 16", "C1 C2 10") { $0.rol(.edx, 16) }
        g.check("ror dword [esp+4], cl", "D3 4C 24 04") { $0.ror(Mem(.esp, disp: 4, size: .dword), .cl) }
        g.check("rcl eax, 1", "D1 D0") { $0.rcl(.eax, 1) }
        g.check("rcr bl, 2", "C0 DB 02") { $0.rcr(.bl, 2) }
    }

    @Test func doubleShifts() {
        let g16 = Golden(.b16)
        g16.check("shld ax, bx, 4", "0F A4 D8 04") { $0.shld(.ax, .bx, 4) }
        g16.check("shrd ax, dx, cl", "0F AD D0") { $0.shrd(.ax, .dx, .cl) }
        g16.check("shld [bx], cx, 1", "0F A4 0F 01") { $0.shld(Mem(.bx), .cx, 1) }
        g16.check("shrd eax, edx, 8", "66 0F AC D0 08") { $0.shrd(.eax, .edx, 8) }
        let g32 = Golden(.b32)
        g32.check("shld eax, ebx, 4", "0F A4 D8 04") { $0.shld(.eax, .ebx, 4) }
        g32.check("shld eax, ebx, cl", "0F A5 D8") { $0.shld(.eax, .ebx, .cl) }
        g32.check("shrd [ebx], eax, cl", "0F AD 03") { $0.shrd(Mem(.ebx), .eax, .cl) }
        g32.check("shrd [ebx], eax, 3", "0F AC 03 03") { $0.shrd(Mem(.ebx), .eax, 3) }
        g32.check("shld [ebx], eax, 1", "0F A4 03 01") { $0.shld(Mem(.ebx), .eax, 1) }
    }

    @Test func bitTests() {
        let g16 = Golden(.b16)
        g16.check("bt ax, bx", "0F A3 D8") { $0.bt(.ax, .bx) }
        g16.check("bt ax, 3", "0F BA E0 03") { $0.bt(.ax, 3) }
        g16.check("bt [bx], ax", "0F A3 07") { $0.bt(Mem(.bx), .ax) }
        g16.check("bt word [bx], 15", "0F BA 27 0F") { $0.bt(Mem(.bx, size: .word), 15) }
        g16.check("bts cx, dx", "0F AB D1") { $0.bts(.cx, .dx) }
        g16.check("btr eax, 31", "66 0F BA F0 1F") { $0.btr(.eax, 31) }
        g16.check("btc word [si], 1", "0F BA 3C 01") { $0.btc(Mem(.si, size: .word), 1) }
        g16.check("bsf ax, bx", "0F BC C3") { $0.bsf(.ax, .bx) }
        g16.check("bsr cx, [bx]", "0F BD 0F") { $0.bsr(.cx, Mem(.bx)) }
        g16.check("bswap eax", "66 0F C8") { $0.bswap(.eax) }
        let g32 = Golden(.b32)
        g32.check("bt eax, 3", "0F BA E0 03") { $0.bt(.eax, 3) }
        g32.check("bt eax, ebx", "0F A3 D8") { $0.bt(.eax, .ebx) }
        g32.check("bt dword [ebx], 7", "0F BA 23 07") { $0.bt(Mem(.ebx, size: .dword), 7) }
        g32.check("bts dword [ebx], 3", "0F BA 2B 03") { $0.bts(Mem(.ebx, size: .dword), 3) }
        g32.check("bts [ebx], eax", "0F AB 03") { $0.bts(Mem(.ebx), .eax) }
        g32.check("bts edx, 0", "0F BA EA 00") { $0.bts(.edx, 0) }
        g32.check("btr [ebx], ecx", "0F B3 0B") { $0.btr(Mem(.ebx), .ecx) }
        g32.check("btr dword [ebx], 2", "0F BA 33 02") { $0.btr(Mem(.ebx, size: .dword), 2) }
        g32.check("btr esi, edi", "0F B3 FE") { $0.btr(.esi, .edi) }
        g32.check("btc eax, ecx", "0F BB C8") { $0.btc(.eax, .ecx) }
        g32.check("btc [esi], eax", "0F BB 06") { $0.btc(Mem(.esi), .eax) }
        g32.check("btc eax, 5", "0F BA F8 05") { $0.btc(.eax, 5) }
        g32.check("bsf eax, ebx", "0F BC C3") { $0.bsf(.eax, .ebx) }
        g32.check("bsf edx, [esi]", "0F BC 16") { $0.bsf(.edx, Mem(.esi)) }
        g32.check("bsr eax, ecx", "0F BD C1") { $0.bsr(.eax, .ecx) }
        g32.check("bswap eax", "0F C8") { $0.bswap(.eax) }
        g32.check("bswap edi", "0F CF") { $0.bswap(.edi) }
    }

    @Test func conditionalSetAndMove() {
        let g16 = Golden(.b16)
        g16.check("setz al", "0F 94 C0") { $0.setcc(.z, .al) }
        g16.check("setnz byte [bx]", "0F 95 07") { $0.setcc(.nz, Mem(.bx)) }
        g16.check("seto bh", "0F 90 C7") { $0.setcc(.o, .bh) }
        g16.check("cmovz ax, bx", "0F 44 C3") { $0.cmovcc(.z, .ax, .bx) }
        g16.check("cmovl cx, [si]", "0F 4C 0C") { $0.cmovcc(.l, .cx, Mem(.si)) }
        g16.check("cmovg eax, ebx", "66 0F 4F C3") { $0.cmovcc(.g, .eax, .ebx) }
        let g32 = Golden(.b32)
        g32.check("setc cl", "0F 92 C1") { $0.setcc(.c, .cl) }
        g32.check("setge byte [eax+1]", "0F 9D 40 01") { $0.setcc(.ge, Mem(.eax, disp: 1)) }
        g32.check("cmovnc eax, ebx", "0F 43 C3") { $0.cmovcc(.nc, .eax, .ebx) }
        g32.check("cmova edx, [esp+8]", "0F 47 54 24 08") { $0.cmovcc(.a, .edx, Mem(.esp, disp: 8)) }
        g32.check("cmovbe ax, cx", "66 0F 46 C1") { $0.cmovcc(.be, .ax, .cx) }
    }

    @Test func everyCondition() {
        let names = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
        let g = Golden(.b32)
        g.check("seto al\nsetno al\nsetb al\nsetae al\nsete al\nsetne al\nsetbe al\nseta al\nsets al\nsetns al\nsetp al\nsetnp al\nsetl al\nsetge al\nsetle al\nsetg al", "0F 90 C0 0F 91 C0 0F 92 C0 0F 93 C0 0F 94 C0 0F 95 C0 0F 96 C0 0F 97 C0 0F 98 C0 0F 99 C0 0F 9A C0 0F 9B C0 0F 9C C0 0F 9D C0 0F 9E C0 0F 9F C0") { a in
            for condition in Condition.allCases { a.setcc(condition, .al) }
        }
        g.check("cmovo eax, ecx\ncmovno eax, ecx\ncmovb eax, ecx\ncmovae eax, ecx\ncmove eax, ecx\ncmovne eax, ecx\ncmovbe eax, ecx\ncmova eax, ecx\ncmovs eax, ecx\ncmovns eax, ecx\ncmovp eax, ecx\ncmovnp eax, ecx\ncmovl eax, ecx\ncmovge eax, ecx\ncmovle eax, ecx\ncmovg eax, ecx", "0F 40 C1 0F 41 C1 0F 42 C1 0F 43 C1 0F 44 C1 0F 45 C1 0F 46 C1 0F 47 C1 0F 48 C1 0F 49 C1 0F 4A C1 0F 4B C1 0F 4C C1 0F 4D C1 0F 4E C1 0F 4F C1") { a in
            for condition in Condition.allCases { a.cmovcc(condition, .eax, .ecx) }
        }
        #expect(Condition.allCases.map { "\($0)" } == names)
        #expect(Condition.allCases.allSatisfy { $0.negated.negated == $0 && $0.negated != $0 })
        #expect(Condition.z.negated == .nz)
        #expect(Condition.l.negated == .ge)
    }
}
