import Testing
import X86Asm

@Suite struct ProtectionTests {
    @Test func descriptorInstructions() {
        let g32 = Golden(.b32)
        g32.check("sldt ax\nsldt eax\nsldt [ebx]", "66 0F 00 C0 0F 00 C0 0F 00 03") { a in
            a.sldt(.ax); a.sldt(.eax); a.sldt(Mem(.ebx))
        }
        g32.check("str cx\nstr ecx\nstr [0x100]", "66 0F 00 C9 0F 00 C9 0F 00 0D 00 01 00 00") { a in
            a.str(.cx); a.str(.ecx); a.str(Mem(disp: 0x100))
        }
        g32.check("verr ax\nverw dx\nverr [esi]\nverw [edi+4]", "0F 00 E0 0F 00 EA 0F 00 26 0F 00 6F 04") { a in
            a.verr(.ax); a.verw(.dx); a.verr(Mem(.esi)); a.verw(Mem(.edi, disp: 4))
        }
        g32.check("lar eax, bx\nlar ax, bx\nlar ecx, [esi]", "0F 02 C3 66 0F 02 C3 0F 02 0E") { a in
            a.lar(.eax, .bx); a.lar(.ax, .bx); a.lar(.ecx, Mem(.esi))
        }
        g32.check("lsl eax, bx\nlsl dx, cx\nlsl edi, [ebp+8]", "0F 03 C3 66 0F 03 D1 0F 03 7D 08") { a in
            a.lsl(.eax, .bx); a.lsl(.dx, .cx); a.lsl(.edi, Mem(.ebp, disp: 8))
        }
        g32.check("arpl ax, bx\narpl [esi], cx", "63 D8 63 0E") { a in
            a.arpl(.ax, .bx); a.arpl(Mem(.esi), .cx)
        }
        let g16 = Golden(.b16)
        g16.check("arpl ax, bx\nsldt ax\nstr eax", "63 D8 0F 00 C0 66 0F 00 C8") { a in
            a.arpl(.ax, .bx); a.sldt(.ax); a.str(.eax)
        }
    }

    @Test func descriptorsAndTheSwitchToProtectedMode() {
        let g16 = Golden(.b16)
        g16.check("""
            lgdt [0x100]\nmov eax, cr0\nor eax, 1\nmov cr0, eax\njmp dword 0x08:flat\nbits 32\nflat:\n\
            mov ax, 0x10\nmov ds, ax\nmov es, ax\nmov fs, ax\nmov gs, ax\nmov ss, ax
            """, "0F 01 16 00 01 0F 20 C0 66 83 C8 01 0F 22 C0 66 EA 17 00 00 00 08 00 66 B8 10 00 8E D8 8E C0 8E E0 8E E8 8E D0") { a in
            a.enterProtectedMode(gdtr: Mem(disp: 0x100), codeSelector: 0x08, dataSelector: 0x10)
        }
        g16.check("dq 0x12CA9A345678BCDE\ndw 0, 0x38\ndb 0, 0x85\ndw 0\ndw 0, 0x08\ndb 0, 0x0E\ndw 0",
                  "DE BC 78 56 34 9A CA 12 00 00 38 00 00 85 00 00 00 00 08 00 00 0E 00 00") { a in
            a.segmentDescriptor(base: 0x1234_5678, limit: 0xABCDE, access: 0x9A, flags: 0xC)
            a.gateDescriptor(selector: 0x38, type: 0x5)
            a.gateDescriptor(selector: 0x08, type: 0xE, present: false)
        }
    }

    @Test func pagingAndFastCalls() {
        let g32 = Golden(.b32)
        g32.check("invlpg [eax]\ninvlpg [0x400000]", "0F 01 38 0F 01 3D 00 00 40 00") { a in
            a.invlpg(Mem(.eax)); a.invlpg(Mem(disp: 0x40_0000))
        }
        g32.check("sysenter\nsysexit", "0F 34 0F 35") { a in a.sysenter(); a.sysexit() }
        g32.check("mov dr0, eax\nmov dr7, ebx\nmov ecx, dr6", "0F 23 C0 0F 23 FB 0F 21 F1") { a in
            a.mov(.dr0, .eax); a.mov(.dr7, .ebx); a.mov(.ecx, .dr6)
        }
    }

    @Test func sizedReturns() {
        let g32 = Golden(.b32)
        g32.check("iretw\niretd\nretf\no16 retf\no16 retf 4\npushfw\npopfw", "66 CF CF CB 66 CB 66 CA 04 00 66 9C 66 9D") { a in
            a.iretw(); a.iretd(); a.retf(); a.retf(size: .word); a.retf(size: .word, 4); a.pushfw(); a.popfw()
        }
        let g16 = Golden(.b16)
        g16.check("o32 retf\niretd", "66 CB 66 CF") { a in a.retf(size: .dword); a.iretd() }
    }
}
