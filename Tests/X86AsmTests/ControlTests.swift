import Testing
import X86Asm

@Suite struct ControlTests {
    @Test func jumpsToLabels16() {
        let g = Golden(.b16, origin: 0x7C00)
        g.check("back: nop\njmp back", "90 EB FD") { a in
            let back = a.newLabel(); a.bind(back); a.nop(); a.jmp(back)
        }
        g.check("jmp near fwd\nnop\nfwd: hlt", "E9 01 00 90 F4") { a in
            let fwd = a.newLabel(); a.jmp(fwd); a.nop(); a.bind(fwd); a.hlt()
        }
        g.check("jmp short fwd\nnop\nfwd: hlt", "EB 01 90 F4") { a in
            let fwd = a.newLabel(); a.jmpShort(fwd); a.nop(); a.bind(fwd); a.hlt()
        }
        g.check("back: times 200 nop\njmp back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 E9 35 FF") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 200)); a.jmp(back)
        }
        g.check("back: times 126 nop\njmp back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 EB 80") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 126)); a.jmp(back)
        }
        g.check("back: times 127 nop\njmp back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 E9 7E FF") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 127)); a.jmp(back)
        }
        g.check("jmp short fwd\ntimes 127 nop\nfwd: hlt", "EB 7F 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 F4") { a in
            let fwd = a.newLabel(); a.jmpShort(fwd); a.emit(Array(repeating: 0x90, count: 127)); a.bind(fwd); a.hlt()
        }
        g.check("top: dec cx\njnz top", "49 75 FD") { a in
            let top = a.newLabel(); a.bind(top); a.dec(.cx); a.jcc(.nz, top)
        }
        g.check("je near done\ninc ax\ndone: ret", "0F 84 01 00 40 C3") { a in
            let done = a.newLabel(); a.jcc(.e, done); a.inc(.ax); a.bind(done); a.ret()
        }
        g.check("jc short done\ninc ax\ndone: ret", "72 01 40 C3") { a in
            let done = a.newLabel(); a.jccShort(.c, done); a.inc(.ax); a.bind(done); a.ret()
        }
        g.check("back: times 300 nop\njl back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 0F 8C D0 FE") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 300)); a.jcc(.l, back)
        }
        g.check("call fn\nhlt\nfn: ret", "E8 01 00 F4 C3") { a in
            let fn = a.newLabel(); a.call(fn); a.hlt(); a.bind(fn); a.ret()
        }
        g.check("fn: ret\ncall fn", "C3 E8 FC FF") { a in
            let fn = a.newLabel(); a.bind(fn); a.ret(); a.call(fn)
        }
        g.check("top: loop top\nloope top\nloopne top\njcxz top\njecxz top", "E2 FE E1 FC E0 FA E3 F8 67 E3 F5") { a in
            let top = a.newLabel(); a.bind(top)
            a.loop(top); a.loope(top); a.loopne(top); a.jcxz(top); a.jecxz(top)
        }
        g.check("jcxz done\nloop done\ndone:", "E3 02 E2 00") { a in
            let done = a.newLabel(); a.jcxz(done); a.loop(done); a.bind(done)
        }
    }

    @Test func jumpsToLabels32() {
        let g = Golden(.b32, origin: 0x100000)
        g.check("back: nop\njmp back", "90 EB FD") { a in
            let back = a.newLabel(); a.bind(back); a.nop(); a.jmp(back)
        }
        g.check("jmp near fwd\nnop\nfwd: hlt", "E9 01 00 00 00 90 F4") { a in
            let fwd = a.newLabel(); a.jmp(fwd); a.nop(); a.bind(fwd); a.hlt()
        }
        g.check("back: times 200 nop\njmp back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 E9 33 FF FF FF") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 200)); a.jmp(back)
        }
        g.check("jge near fwd\nnop\nfwd: hlt", "0F 8D 01 00 00 00 90 F4") { a in
            let fwd = a.newLabel(); a.jcc(.ge, fwd); a.nop(); a.bind(fwd); a.hlt()
        }
        g.check("jns short fwd\nnop\nfwd: hlt", "79 01 90 F4") { a in
            let fwd = a.newLabel(); a.jccShort(.ns, fwd); a.nop(); a.bind(fwd); a.hlt()
        }
        g.check("back: times 1000 nop\njbe back", "90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 90 0F 86 12 FC FF FF") { a in
            let back = a.newLabel(); a.bind(back); a.emit(Array(repeating: 0x90, count: 1000)); a.jcc(.be, back)
        }
        g.check("call fn\nfn: ret", "E8 00 00 00 00 C3") { a in
            let fn = a.newLabel(); a.call(fn); a.bind(fn); a.ret()
        }
        g.check("top: loop top\njecxz top\njcxz top", "E2 FE E3 FC 67 E3 F9") { a in
            let top = a.newLabel(); a.bind(top); a.loop(top); a.jecxz(top); a.jcxz(top)
        }
    }

    @Test func everyConditionalJump() {
        let g = Golden(.b16)
        g.check("t: jo t\njno t\njb t\njae t\nje t\njne t\njbe t\nja t\njs t\njns t\njp t\njnp t\njl t\njge t\njle t\njg t", "70 FE 71 FC 72 FA 73 F8 74 F6 75 F4 76 F2 77 F0 78 EE 79 EC 7A EA 7B E8 7C E6 7D E4 7E E2 7F E0") { a in
            let t = a.newLabel(); a.bind(t)
            for condition in Condition.allCases { a.jcc(condition, t) }
        }
        g.check("jo near t\njno near t\njb near t\njae near t\nje near t\njne near t\njbe near t\nja near t\njs near t\njns near t\njp near t\njnp near t\njl near t\njge near t\njle near t\njg near t\nt:", "0F 80 3C 00 0F 81 38 00 0F 82 34 00 0F 83 30 00 0F 84 2C 00 0F 85 28 00 0F 86 24 00 0F 87 20 00 0F 88 1C 00 0F 89 18 00 0F 8A 14 00 0F 8B 10 00 0F 8C 0C 00 0F 8D 08 00 0F 8E 04 00 0F 8F 00 00") { a in
            let t = a.newLabel()
            for condition in Condition.allCases { a.jcc(condition, t) }
            a.bind(t)
        }
    }

    @Test func indirectAndFar16() {
        let g = Golden(.b16)
        g.check("jmp ax", "FF E0") { $0.jmp(.ax) }
        g.check("jmp eax", "66 FF E0") { $0.jmp(.eax) }
        g.check("jmp [bx]", "FF 27") { $0.jmp(Mem(.bx)) }
        g.check("jmp [bx+si+2]", "FF 60 02") { $0.jmp(Mem(.bx, .si, disp: 2)) }
        g.check("call si", "FF D6") { $0.call(.si) }
        g.check("call [bp+4]", "FF 56 04") { $0.call(Mem(.bp, disp: 4)) }
        g.check("call dword [bx]", "66 FF 17") { $0.call(Mem(.bx, size: .dword)) }
        g.check("jmp far [bx]", "FF 2F") { $0.jmpFar(Mem(.bx)) }
        g.check("jmp dword far [bx]", "66 FF 2F") { $0.jmpFar(Mem(.bx, size: .dword)) }
        g.check("call far [bx]", "FF 1F") { $0.callFar(Mem(.bx)) }
        g.check("call far [es:0x40]", "26 FF 1E 40 00") { $0.callFar(Mem(disp: 0x40, segment: .es)) }
        g.check("jmp 0xf000:0xfff0", "EA F0 FF 00 F0") { $0.jmpFar(segment: 0xF000, offset: 0xFFF0) }
        g.check("jmp dword 0x8:0x1000", "66 EA 00 10 00 00 08 00") { $0.jmpFar(segment: 0x8, offset: 0x1000, size: .dword) }
        g.check("call 0x8:0x1000", "9A 00 10 08 00") { $0.callFar(segment: 0x8, offset: 0x1000) }
        g.check("call dword 0x10:0x12345678", "66 9A 78 56 34 12 10 00") { $0.callFar(segment: 0x10, offset: 0x1234_5678, size: .dword) }
    }

    @Test func indirectAndFar32() {
        let g = Golden(.b32)
        g.check("jmp ebx", "FF E3") { $0.jmp(.ebx) }
        g.check("jmp [ebx]", "FF 23") { $0.jmp(Mem(.ebx)) }
        g.check("jmp word [bx]", "66 67 FF 27") { $0.jmp(Mem(.bx, size: .word)) }
        g.check("call eax", "FF D0") { $0.call(.eax) }
        g.check("call [ebx]", "FF 13") { $0.call(Mem(.ebx)) }
        g.check("call [eax*4+0x1000]", "FF 14 85 00 10 00 00") { $0.call(Mem(index: .eax, scale: 4, disp: 0x1000)) }
        g.check("jmp far [eax]", "FF 28") { $0.jmpFar(Mem(.eax)) }
        g.check("call far [esp]", "FF 1C 24") { $0.callFar(Mem(.esp)) }
        g.check("jmp word far [eax]", "66 FF 28") { $0.jmpFar(Mem(.eax, size: .word)) }
        g.check("jmp 0x8:0x100000", "EA 00 00 10 00 08 00") { $0.jmpFar(segment: 0x8, offset: 0x10_0000) }
        g.check("jmp word 0x18:0x1234", "66 EA 34 12 18 00") { $0.jmpFar(segment: 0x18, offset: 0x1234, size: .word) }
        g.check("call 0x8:0x100000", "9A 00 00 10 00 08 00") { $0.callFar(segment: 0x8, offset: 0x10_0000) }
    }

    @Test func farJumpToLabel() {
        // The classic switch to protected mode: a 16-bit far jump with a 32-bit offset.
        let g = Golden(.b16, origin: 0x8000)
        g.check("jmp dword 0x08:pm\nbits 32\npm: mov eax, 0x10\njmp 0x08:pm\ncall 0x08:pm", "66 EA 08 80 00 00 08 00 B8 10 00 00 00 EA 08 80 00 00 08 00 9A 08 80 00 00 08 00") { a in
            let pm = a.newLabel()
            a.jmpFar(segment: 0x08, pm, size: .dword)
            a.bits(.b32)
            a.bind(pm)
            a.mov(.eax, 0x10)
            a.jmpFar(segment: 0x08, pm)
            a.callFar(segment: 0x08, pm)
        }
        g.check("jmp 0x0000:start\nstart: nop", "EA 05 80 00 00 90") { a in
            let start = a.newLabel(); a.jmpFar(segment: 0, start); a.bind(start); a.nop()
        }
    }

    @Test func returnsAndInterrupts() {
        let g16 = Golden(.b16)
        g16.check("ret", "C3") { $0.ret() }
        g16.check("ret 4", "C2 04 00") { $0.ret(4) }
        g16.check("ret 0", "C2 00 00") { $0.ret(0) }
        g16.check("retf", "CB") { $0.retf() }
        g16.check("retf 0x10", "CA 10 00") { $0.retf(0x10) }
        g16.check("int 0x10", "CD 10") { $0.int(0x10) }
        g16.check("int 3", "CD 03") { $0.int(3) }
        g16.check("int3", "CC") { $0.int3() }
        g16.check("into", "CE") { $0.into() }
        g16.check("iret", "CF") { $0.iret() }
        g16.check("iretd", "66 CF") { $0.iretd() }
        g16.check("enter 8, 0", "C8 08 00 00") { $0.enter(8, 0) }
        g16.check("leave", "C9") { $0.leave() }
        g16.check("bound ax, [bx]", "62 07") { $0.bound(.ax, Mem(.bx)) }
        g16.check("bound eax, [ebx]", "66 67 62 03") { $0.bound(.eax, Mem(.ebx)) }
        let g32 = Golden(.b32)
        g32.check("ret", "C3") { $0.ret() }
        g32.check("ret 8", "C2 08 00") { $0.ret(8) }
        g32.check("retf", "CB") { $0.retf() }
        g32.check("iret", "CF") { $0.iret() }
        g32.check("iretd", "CF") { $0.iretd() }
        g32.check("enter 0x100, 1", "C8 00 01 01") { $0.enter(0x100, 1) }
        g32.check("leave", "C9") { $0.leave() }
        g32.check("bound esi, [ebp-8]", "62 75 F8") { $0.bound(.esi, Mem(.ebp, disp: -8)) }
        g32.check("int 0x80", "CD 80") { $0.int(0x80) }
    }
}
