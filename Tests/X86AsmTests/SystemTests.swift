import Testing
import X86Asm

@Suite struct SystemTests {
    @Test func ports() {
        let g16 = Golden(.b16)
        g16.check("in al, 0x60", "E4 60") { $0.in(.al, 0x60) }
        g16.check("in ax, 0x40", "E5 40") { $0.in(.ax, 0x40) }
        g16.check("in eax, 0xFF", "66 E5 FF") { $0.in(.eax, 0xFF) }
        g16.check("in al, dx", "EC") { $0.in(.al, .dx) }
        g16.check("in ax, dx", "ED") { $0.in(.ax, .dx) }
        g16.check("in eax, dx", "66 ED") { $0.in(.eax, .dx) }
        g16.check("out 0x80, al", "E6 80") { $0.out(0x80, .al) }
        g16.check("out 0x70, ax", "E7 70") { $0.out(0x70, .ax) }
        g16.check("out 0x20, eax", "66 E7 20") { $0.out(0x20, .eax) }
        g16.check("out dx, al", "EE") { $0.out(.dx, .al) }
        g16.check("out dx, ax", "EF") { $0.out(.dx, .ax) }
        g16.check("out dx, eax", "66 EF") { $0.out(.dx, .eax) }
        let g32 = Golden(.b32)
        g32.check("in al, 0x60", "E4 60") { $0.in(.al, 0x60) }
        g32.check("in ax, dx", "66 ED") { $0.in(.ax, .dx) }
        g32.check("in eax, dx", "ED") { $0.in(.eax, .dx) }
        g32.check("out 0xE9, al", "E6 E9") { $0.out(0xE9, .al) }
        g32.check("out dx, ax", "66 EF") { $0.out(.dx, .ax) }
        g32.check("out 0x92, eax", "E7 92") { $0.out(0x92, .eax) }
    }

    @Test func noOperand() {
        let g16 = Golden(.b16)
        g16.check("cli\nsti\ncld\nstd\nclc\nstc\ncmc\nhlt\nnop", "FA FB FC FD F8 F9 F5 F4 90") { a in
            a.cli(); a.sti(); a.cld(); a.std(); a.clc(); a.stc(); a.cmc(); a.hlt(); a.nop()
        }
        g16.check("cpuid\nrdtsc\nrdmsr\nwrmsr\nwbinvd\ninvd\nud2\nclts", "0F A2 0F 31 0F 32 0F 30 0F 09 0F 08 0F 0B 0F 06") { a in
            a.cpuid(); a.rdtsc(); a.rdmsr(); a.wrmsr(); a.wbinvd(); a.invd(); a.ud2(); a.clts()
        }
        g16.check("lahf\nsahf\nxlatb", "9F 9E D7") { a in a.lahf(); a.sahf(); a.xlat() }
        let g32 = Golden(.b32)
        g32.check("cli\nsti\ncld\nstd\nclc\nstc\ncmc\nhlt\nnop", "FA FB FC FD F8 F9 F5 F4 90") { a in
            a.cli(); a.sti(); a.cld(); a.std(); a.clc(); a.stc(); a.cmc(); a.hlt(); a.nop()
        }
        g32.check("cpuid\nrdtsc\nrdmsr\nwrmsr\nwbinvd\ninvd\nud2\nclts", "0F A2 0F 31 0F 32 0F 30 0F 09 0F 08 0F 0B 0F 06") { a in
            a.cpuid(); a.rdtsc(); a.rdmsr(); a.wrmsr(); a.wbinvd(); a.invd(); a.ud2(); a.clts()
        }
        g32.check("lahf\nsahf\nxlatb", "9F 9E D7") { a in a.lahf(); a.sahf(); a.xlat() }
    }

    @Test func descriptorTables16() {
        let g = Golden(.b16)
        g.check("lgdt [bx]", "0F 01 17") { $0.lgdt(Mem(.bx)) }
        g.check("lgdt [ebx]", "67 0F 01 13") { $0.lgdt(Mem(.ebx)) }
        g.check("o32 lgdt [bx]", "66 0F 01 17") { $0.lgdt(Mem(.bx, size: .dword)) }
        g.check("lidt [cs:0x100]", "2E 0F 01 1E 00 01") { $0.lidt(Mem(disp: 0x100, segment: .cs)) }
        g.check("sgdt [bx]", "0F 01 07") { $0.sgdt(Mem(.bx)) }
        g.check("sidt [bp+si]", "0F 01 0A") { $0.sidt(Mem(.bp, .si)) }
        g.check("lmsw ax", "0F 01 F0") { $0.lmsw(.ax) }
        g.check("lmsw [bx]", "0F 01 37") { $0.lmsw(Mem(.bx)) }
        g.check("smsw ax", "0F 01 E0") { $0.smsw(.ax) }
        g.check("smsw eax", "66 0F 01 E0") { $0.smsw(.eax) }
        g.check("smsw [bx]", "0F 01 27") { $0.smsw(Mem(.bx)) }
        g.check("ltr ax", "0F 00 D8") { $0.ltr(.ax) }
        g.check("ltr [bx]", "0F 00 1F") { $0.ltr(Mem(.bx)) }
        g.check("lldt dx", "0F 00 D2") { $0.lldt(.dx) }
        g.check("lldt [si]", "0F 00 14") { $0.lldt(Mem(.si)) }
    }

    @Test func descriptorTables32() {
        let g = Golden(.b32)
        g.check("lgdt [ebx]", "0F 01 13") { $0.lgdt(Mem(.ebx)) }
        g.check("lidt [0x1000]", "0F 01 1D 00 10 00 00") { $0.lidt(Mem(disp: 0x1000)) }
        g.check("sgdt [esp]", "0F 01 04 24") { $0.sgdt(Mem(.esp)) }
        g.check("sidt [esp+4]", "0F 01 4C 24 04") { $0.sidt(Mem(.esp, disp: 4)) }
        g.check("o16 lidt [eax]", "66 0F 01 18") { $0.lidt(Mem(.eax, size: .word)) }
        g.check("lmsw ax", "0F 01 F0") { $0.lmsw(.ax) }
        g.check("lmsw [ebx]", "0F 01 33") { $0.lmsw(Mem(.ebx)) }
        g.check("smsw eax", "0F 01 E0") { $0.smsw(.eax) }
        g.check("smsw ax", "66 0F 01 E0") { $0.smsw(.ax) }
        g.check("smsw [ebx]", "0F 01 23") { $0.smsw(Mem(.ebx)) }
        g.check("ltr ax", "0F 00 D8") { $0.ltr(.ax) }
        g.check("ltr [eax]", "0F 00 18") { $0.ltr(Mem(.eax)) }
        g.check("lldt [ebx]", "0F 00 13") { $0.lldt(Mem(.ebx)) }
        g.check("lldt cx", "0F 00 D1") { $0.lldt(.cx) }
    }

    @Test func lockPrefix() {
        let g16 = Golden(.b16)
        g16.check("lock add [bx], ax", "F0 01 07") { $0.lock(); $0.add(Mem(.bx), .ax) }
        g16.check("lock add dword [fs:esi], eax", "F0 64 66 67 01 06") { $0.lock(); $0.add(Mem(.esi, size: .dword, segment: .fs), .eax) }
        g16.check("lock bts word [bx], 1", "F0 0F BA 2F 01") { $0.lock(); $0.bts(Mem(.bx, size: .word), 1) }
        let g32 = Golden(.b32)
        g32.check("lock xchg [eax], ecx", "F0 87 08") { $0.lock(); $0.xchg(Mem(.eax), .ecx) }
        g32.check("lock dec dword [ebx]", "F0 FF 0B") { $0.lock(); $0.dec(Mem(.ebx, size: .dword)) }
        g32.check("lock or word [es:bx], 1", "F0 26 66 67 83 0F 01") { $0.lock(); $0.or(Mem(.bx, size: .word, segment: .es), 1) }
    }
}
