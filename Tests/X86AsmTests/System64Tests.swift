import Testing
import X86Asm

// 64-bit code: golden bytes from nasm 2.16.01 (`nasm -f bin`, after `bits 64` and the
// Golden's `org`), filled in and re-checked by Tools/check-x86asm-golden.py.

@Suite struct System64Tests {
    @Test func branches() {
        let g = Golden(.b64, origin: 0x40_0000)
        g.check("back: nop\njmp back\njmp near fwd\njne back\nje near fwd\ncall fwd\ncall back\nfwd: ret", "90 EB FD E9 12 00 00 00 75 F6 0F 84 0A 00 00 00 E8 05 00 00 00 E8 E6 FF FF FF C3") { a in
            let back = a.newLabel(), fwd = a.newLabel()
            a.bind(back); a.nop(); a.jmp(back); a.jmp(fwd); a.jcc(.ne, back); a.jcc(.e, fwd)
            a.call(fwd); a.call(back); a.bind(fwd); a.ret()
        }
        g.check("top: loop top\njrcxz top\njecxz top\nloopne top", "E2 FE E3 FC 67 E3 F9 E0 F7") { a in
            let top = a.newLabel(); a.bind(top); a.loop(top); a.jrcxz(top); a.jecxz(top); a.loopne(top)
        }
        // Near indirect targets are 64-bit and need no REX.W.
        g.check("jmp rax\ncall r8\njmp qword [rax]\ncall [r9+8]\njmp [rel tbl]\ncall qword [rsp]\ntbl: dq 0", "FF E0 41 FF D0 FF 20 41 FF 51 08 FF 25 03 00 00 00 FF 14 24 00 00 00 00 00 00 00 00") { a in
            let table = a.newLabel()
            a.jmp(.rax); a.call(.r8); a.jmp(Mem(.rax, size: .qword)); a.call(Mem(.r9, disp: 8)); a.jmp(Mem(rip: table))
            a.call(Mem(.rsp, size: .qword)); a.bind(table); a.dq(0)
        }
        // Far through memory: m16:64 (REX.W) by default, as nasm; m16:32 and m16:16 on request.
        g.check("jmp far [rax]\njmp far dword [rax]\ncall far [rbx]\ncall far word [r8]\njmp far qword [r12]", "48 FF 28 FF 28 48 FF 1B 66 41 FF 18 49 FF 2C 24") { a in
            a.jmpFar(Mem(.rax)); a.jmpFar(Mem(.rax, size: .dword)); a.callFar(Mem(.rbx)); a.callFar(Mem(.r8, size: .word))
            a.jmpFar(Mem(.r12, size: .qword))
        }
        g.check("ret\nret 8\nretf\nretfq\nretfq 16\niret\niretd\niretq\niretw\nint 0x80\nint3\nenter 32, 0\nleave", "C3 C2 08 00 CB 48 CB 48 CA 10 00 CF CF 48 CF 66 CF CD 80 CC C8 20 00 00 C9") { a in
            a.ret(); a.ret(8); a.retf(); a.retf(size: .qword); a.retf(size: .qword, 16)
            a.iret(); a.iretd(); a.iretq(); a.iretw(); a.int(0x80); a.int3(); a.enter(32, 0); a.leave()
        }
    }

    @Test func strings() {
        let g = Golden(.b64)
        g.check("movsq\nrep movsq\nstosq\nrep stosq\nlodsq\nscasq\nrepne scasq\ncmpsq\nrepe cmpsq\nmovsb\nrep stosd\nlodsb\nrep movsw", "48 A5 F3 48 A5 48 AB F3 48 AB 48 AD 48 AF F2 48 AF 48 A7 F3 48 A7 A4 F3 AB AC F3 66 A5") { a in
            a.movsq(); a.movsq(.rep); a.stosq(); a.stosq(.rep); a.lodsq(); a.scasq(); a.scasq(.repne)
            a.cmpsq(); a.cmpsq(.repe); a.movsb(); a.stosd(.rep); a.lodsb(); a.movsw(.rep)
        }
    }

    @Test func systemInstructions() {
        let g = Golden(.b64, origin: 0x1000)
        g.check("syscall\nsysret\no64 sysret\nswapgs\nrdtscp\nrdtsc\nrdmsr\nwrmsr\ncpuid\nhlt\ncli\nsti\nlahf\nsahf\nxlatb\nwbinvd\nclts", "0F 05 0F 07 48 0F 07 0F 01 F8 0F 01 F9 0F 31 0F 32 0F 30 0F A2 F4 FA FB 9F 9E D7 0F 09 0F 06") { a in
            a.syscall(); a.sysret(); a.sysretq(); a.swapgs(); a.rdtscp(); a.rdtsc(); a.rdmsr(); a.wrmsr()
            a.cpuid(); a.hlt(); a.cli(); a.sti(); a.lahf(); a.sahf(); a.xlat(); a.wbinvd(); a.clts()
        }
        g.check("sysenter\nsysexit\no64 sysexit", "0F 34 0F 35 48 0F 35") { a in
            a.sysenter(); a.sysexit(); a.sysexitq()
        }
        // The descriptor-table registers take 10-byte operands, with no prefix.
        g.check("lgdt [rax]\nlidt [rel idtr]\nsgdt [r8]\nsidt [rsp+8]\nidtr: dw 0\ndq 0", "0F 01 10 0F 01 1D 09 00 00 00 41 0F 01 00 0F 01 4C 24 08 00 00 00 00 00 00 00 00 00 00") { a in
            let idtr = a.newLabel()
            a.lgdt(Mem(.rax)); a.lidt(Mem(rip: idtr)); a.sgdt(Mem(.r8)); a.sidt(Mem(.rsp, disp: 8))
            a.bind(idtr); a.dw(0); a.dq(0)
        }
        // nasm leaves out sldt's REX.W (it keeps str's): spelled out with db.
        g.check("ltr ax\nlldt r8w\nstr rax\ndb 0x48\nsldt eax\nsmsw rax\nlar rax, cx\nlsl r8, [rax]\nverr r9w\ninvlpg [rax]\ninvlpg [r15+8]", "0F 00 D8 41 0F 00 D0 48 0F 00 C8 48 0F 00 C0 48 0F 01 E0 48 0F 02 C1 4C 0F 03 00 41 0F 00 E1 0F 01 38 41 0F 01 7F 08") { a in
            a.ltr(.ax); a.lldt(.r8w); a.str(.rax); a.sldt(.rax); a.smsw(.rax); a.lar(.rax, .cx); a.lsl(.r8, Mem(.rax))
            a.verr(.r9w); a.invlpg(Mem(.rax)); a.invlpg(Mem(.r15, disp: 8))
        }
        g.check("in al, dx\nout 0x80, al\nin eax, 0x60\nout dx, ax", "EC E6 80 E5 60 66 EF") { a in
            a.in(.al, .dx); a.out(0x80, .al); a.in(.eax, 0x60); a.out(.dx, .ax)
        }
        g.check("fld qword [rax]\nfstp tword [r8]\nfninit\nfxsave [rsp]\nfxrstor [r9]", "DD 00 41 DB 38 DB E3 0F AE 04 24 41 0F AE 09") { a in
            a.x87(.fld64, Mem(.rax)); a.x87(.fstp80, Mem(.r8)); a.fninit(); a.fxsave(Mem(.rsp)); a.fxsave(Mem(.r9), restore: true)
        }
    }

    @Test func longModeSwitch() {
        // A whole guest from 32-bit protected mode: PAE, EFER.LME, paging, a far jump into a
        // 64-bit code segment, then 64-bit code with a RIP-relative store and a 16-byte IDT gate.
        let g = Golden(.b32, origin: 0x10_0000)
        g.check("mov eax, cr4\nor eax, 0x20\nmov cr4, eax\nmov eax, 0x2000\nmov cr3, eax\nmov ecx, 0xC0000080\nrdmsr\nor eax, 0x100\nwrmsr\nmov eax, cr0\nor eax, 0x80000000\nmov cr0, eax\nlgdt [gdtr]\njmp 0x08:long64\nbits 64\nlong64: mov rsp, 0x90000\nlidt [rel idtr]\nmov rax, 0x123456789\nmov [rel result], rax\nhlt\nhandler: iretq\nalign 8, db 0\ngdt: dq 0\ndq 0x00AF9A000000FFFF\ngdtr: dw 15\ndq gdt\nidtr: dw 15\ndq idt\nidt: dw (handler-$$+0x100000) & 0xFFFF, 8\ndb 0, 0x8E\ndw (handler-$$+0x100000) >> 16\ndd 0, 0\nresult: dq 0", "0F 20 E0 83 C8 20 0F 22 E0 B8 00 20 00 00 0F 22 D8 B9 80 00 00 C0 0F 32 0D 00 01 00 00 0F 30 0F 20 C0 0D 00 00 00 80 0F 22 C0 0F 01 15 68 00 10 00 EA 38 00 10 00 08 00 BC 00 00 09 00 0F 01 1D 2E 00 00 00 48 B8 89 67 45 23 01 00 00 00 48 89 05 37 00 00 00 F4 48 CF 00 00 00 00 00 00 00 00 FF FF 00 00 00 9A AF 00 0F 00 58 00 10 00 00 00 00 00 0F 00 7C 00 10 00 00 00 00 00 56 00 08 00 00 8E 10 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00") { a in
            let long64 = a.newLabel(), handler = a.newLabel(), gdt = a.newLabel(), gdtr = a.newLabel()
            let idtr = a.newLabel(), idt = a.newLabel(), result = a.newLabel()
            a.mov(.eax, .cr4); a.or(.eax, 0x20); a.mov(.cr4, .eax)
            a.mov(.eax, 0x2000); a.mov(.cr3, .eax)
            a.mov(.ecx, 0xC000_0080); a.rdmsr(); a.or(.eax, 0x100); a.wrmsr()
            a.mov(.eax, .cr0); a.or(.eax, Int(bitPattern: 0x8000_0000)); a.mov(.cr0, .eax)
            a.lgdt(Mem(label: gdtr))
            a.jmpFar(segment: 0x08, long64)
            a.bits(.b64)
            a.bind(long64)
            a.mov(.rsp, 0x90000)
            a.lidt(Mem(rip: idtr))
            a.mov(.rax, 0x1_2345_6789)
            a.mov(Mem(rip: result), .rax)
            a.hlt()
            a.bind(handler); a.iretq()
            a.align(8)
            a.bind(gdt); a.dq(0); a.longModeCodeDescriptor()
            a.bind(gdtr); a.dw(15); a.dq(gdt)
            a.bind(idtr); a.dw(15); a.dq(idt)
            a.bind(idt); a.gateDescriptor64(handler: handler, selector: 8)
            a.bind(result); a.dq(0)
        }
    }

    @Test func descriptors() {
        let g = Golden(.b64, origin: 0x10_0000)
        g.check("dq 0x00AF9A000000FFFF\ndq 0x00AFFA000000FFFF\ndq 0x123456789ABCDEF0, -1", "FF FF 00 00 00 9A AF 00 FF FF 00 00 00 FA AF 00 F0 DE BC 9A 78 56 34 12 FF FF FF FF FF FF FF FF") { a in
            a.longModeCodeDescriptor(); a.longModeCodeDescriptor(dpl: 3); a.dq(0x1234_5678_9ABC_DEF0); a.dq(UInt64.max)
        }
        // A 64-bit interrupt gate with IST 1, a DPL-3 trap gate, and one to a label.
        g.check("dw 0xDEF0, 8\ndb 1, 0x8E\ndw 0x9ABC\ndd 0x12345678, 0\ndw 0x5678, 0x10\ndb 0, 0xEF\ndw 0x1234\ndd 0, 0\ndw (handler-$$+0x100000) & 0xFFFF, 8\ndb 7, 0x8E\ndw (handler-$$+0x100000) >> 16\ndd 0, 0\nhandler: iretq", "F0 DE 08 00 01 8E BC 9A 78 56 34 12 00 00 00 00 78 56 10 00 00 EF 34 12 00 00 00 00 00 00 00 00 30 00 08 00 07 8E 10 00 00 00 00 00 00 00 00 00 48 CF") { a in
            let handler = a.newLabel()
            a.gateDescriptor64(offset: 0x1234_5678_9ABC_DEF0, selector: 8, ist: 1)
            a.gateDescriptor64(offset: 0x1234_5678, selector: 0x10, type: 0xF, dpl: 3)
            a.gateDescriptor64(handler: handler, selector: 8, ist: 7)
            a.bind(handler); a.iretq()
        }
        // 64-bit TSS descriptors: at a constant base and at a label.
        g.check("dw 0x67, 0xDEF0\ndb 0xBC, 0x89, 0x00, 0x9A\ndd 0x12345678, 0\ndw 0x2067, (tss-$$+0x100000) & 0xFFFF\ndb ((tss-$$+0x100000) >> 16) & 0xFF, 0x8B, 0x00, (tss-$$+0x100000) >> 24\ndd 0, 0\ntss: times 0x68 db 0", "67 00 F0 DE BC 89 00 9A 78 56 34 12 00 00 00 00 67 20 20 00 10 8B 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00") { a in
            let tss = a.newLabel()
            a.systemDescriptor64(base: 0x1234_5678_9ABC_DEF0, limit: 0x67)
            a.systemDescriptor64(base: tss, limit: 0x2067, type: 0xB)
            a.bind(tss); a.db(Array(repeating: 0, count: 0x68))
        }
    }
}
