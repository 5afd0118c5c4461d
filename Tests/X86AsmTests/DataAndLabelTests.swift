import Testing
import X86Asm

@Suite struct DataAndLabelTests {
    @Test func data() {
        let g = Golden(.b16, origin: 0x100)
        g.check("db 1, 2, 0xFF\ndw 0x1234\ndd 0xDEADBEEF\ndb 'Hello, world', 13, 10", "01 02 FF 34 12 EF BE AD DE 48 65 6C 6C 6F 2C 20 77 6F 72 6C 64 0D 0A") { a in
            a.db([1, 2, 0xFF]); a.dw(0x1234); a.dd(0xDEAD_BEEF); a.ascii("Hello, world"); a.db([13, 10])
        }
        g.check("db 1\nalign 4, db 0\ndb 2\nalign 16, db 0x90\nalign 16, db 0x90\ndb 3", "01 00 00 00 02 90 90 90 90 90 90 90 90 90 90 90 03") { a in
            a.db([1]); a.align(4); a.db([2]); a.align(16, fill: 0x90); a.align(16, fill: 0x90); a.db([3])
        }
        g.check("nop\ntimes 0x20-($-$$) db 0xFF\nhlt", "90 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF F4") { a in
            a.nop(); a.fill(to: 0x120, byte: 0xFF); a.hlt()
        }
        g.check("nop\ntimes 0x1-($-$$) db 0\nhlt", "90 F4") { a in
            a.nop(); a.fill(to: 0x101); a.hlt()
        }
    }

    @Test func labelValues() {
        let g16 = Golden(.b16, origin: 0x7C00)
        g16.check("mov si, msg\nmov eax, msg\npush msg\npush dword msg\ndw msg, msg+3\ndd msg\nmsg: db 'ok'", "BE 1A 7C 66 B8 1A 7C 00 00 68 1A 7C 66 68 1A 7C 00 00 1A 7C 1D 7C 1A 7C 00 00 6F 6B") { a in
            let msg = a.newLabel()
            a.mov(.si, msg); a.mov(.eax, msg); a.push(msg); a.push(msg, size: .dword)
            a.dw(msg); a.dw(msg, plus: 3); a.dd(msg)
            a.bind(msg); a.ascii("ok")
        }
        let g32 = Golden(.b32, origin: 0x100000)
        g32.check("vec: dd handler, handler+4\nmov ebx, vec\npush vec\npush word vec\nhandler: iret", "16 00 10 00 1A 00 10 00 BB 00 00 10 00 68 00 00 10 00 66 68 00 00 CF") { a in
            let vec = a.newLabel(), handler = a.newLabel()
            a.bind(vec); a.dd(handler); a.dd(handler, plus: 4)
            a.mov(.ebx, vec); a.push(vec); a.push(vec, size: .word)
            a.bind(handler); a.iret()
        }
    }

    @Test func sixteenBitReferencesTakeTheSegmentOffset() {
        // Code at physical 0xF0000 run as F000:xxxx sees its labels at their offsets.
        let g = Golden(.b16, origin: 0xF0000)
        g.check("mov si, msg - 0xF0000\nmov al, [cs:msg - 0xF0000]\ndw msg - 0xF0000\njmp near msg\nmsg: db 0", "BE 0C 00 2E A0 0C 00 0C 00 E9 00 00 00") { a in
            let msg = a.newLabel()
            a.mov(.si, msg); a.mov(.al, Mem(label: msg, segment: .cs)); a.dw(msg); a.jmp(msg)
            a.bind(msg); a.db([0])
        }
    }

    @Test func romImage() {
        // A 256-byte ROM ending at 0x10000 with a reset vector at 0xFFF0, as a BIOS is laid out.
        let g = Golden(.b16, origin: 0xFF00)
        g.check("start: cli\nxor ax, ax\nmov ds, ax\nhlt\njmp start\ntimes 0xF0-($-$$) db 0xFF\njmp 0xF000:start\ntimes 0x100-($-$$) db 0xFF", "FA 31 C0 8E D8 F4 EB F8 FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF FF EA 00 FF 00 F0 FF FF FF FF FF FF FF FF FF FF FF") { a in
            let start = a.newLabel("start")
            a.bind(start)
            a.cli(); a.xor(.ax, .ax); a.mov(.ds, .ax); a.hlt(); a.jmp(start)
            a.fill(to: 0xFFF0, byte: 0xFF)
            a.jmpFar(segment: 0xF000, start)
            a.fill(to: 0x1_0000, byte: 0xFF)
        }
    }

    @Test func protectedModeSwitch() {
        // A whole guest: load a GDT, enter protected mode, print to the text screen, halt.
        let g = Golden(.b16, origin: 0x7C00)
        g.check("cli\nxor ax, ax\nmov ds, ax\nlgdt [gdtr]\nmov eax, cr0\nor al, 1\nmov cr0, eax\njmp dword 0x08:pm\nbits 32\npm: mov ax, 0x10\nmov ds, ax\nmov es, ax\nmov ss, ax\nmov esp, 0x90000\nmov esi, msg\nmov edi, 0xB8000\nprint: lodsb\ntest al, al\njz near done\nmov ah, 0x07\nstosw\njmp print\ndone: hlt\njmp done\nalign 8, db 0\ngdt: dd 0, 0\ndd 0x0000FFFF, 0x00CF9A00\ndd 0x0000FFFF, 0x00CF9200\ngdtr: dw 23\ndd gdt\nmsg: db 'PM', 0", "FA 31 C0 8E D8 0F 01 16 60 7C 0F 20 C0 0C 01 0F 22 C0 66 EA 1A 7C 00 00 08 00 66 B8 10 00 8E D8 8E C0 8E D0 BC 00 00 09 00 BE 66 7C 00 00 BF 00 80 0B 00 AC 84 C0 0F 84 06 00 00 00 B4 07 66 AB EB F1 F4 EB FD 00 00 00 00 00 00 00 00 00 00 00 FF FF 00 00 00 9A CF 00 FF FF 00 00 00 92 CF 00 17 00 48 7C 00 00 50 4D 00") { a in
            let pm = a.newLabel(), print = a.newLabel(), done = a.newLabel()
            let gdt = a.newLabel(), gdtr = a.newLabel(), msg = a.newLabel()
            a.cli()
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)
            a.lgdt(Mem(label: gdtr))
            a.mov(.eax, .cr0)
            a.or(.al, 1)
            a.mov(.cr0, .eax)
            a.jmpFar(segment: 0x08, pm, size: .dword)
            a.bits(.b32)
            a.bind(pm)
            a.mov(.ax, 0x10)
            for segment in [SegReg.ds, .es, .ss] { a.mov(segment, .ax) }
            a.mov(.esp, 0x90000)
            a.mov(.esi, msg)
            a.mov(.edi, 0xB8000)
            a.bind(print)
            a.lodsb()
            a.test(.al, .al)
            a.jcc(.z, done)
            a.mov(.ah, 0x07)
            a.stosw()
            a.jmp(print)
            a.bind(done)
            a.hlt()
            a.jmp(done)
            a.align(8)
            a.bind(gdt)
            for value: UInt32 in [0, 0, 0x0000_FFFF, 0x00CF_9A00, 0x0000_FFFF, 0x00CF_9200] { a.dd(value) }
            a.bind(gdtr)
            a.dw(23)
            a.dd(gdt)
            a.bind(msg)
            a.ascii("PM")
            a.db([0])
        }
    }

    @Test func positionsAndAddresses() throws {
        var a = Assembler(bits: .b16, origin: 0x7C00)
        let early = a.newLabel(), late = a.newLabel("late")
        #expect(a.position == 0x7C00)
        #expect(a.address(of: early) == nil)
        a.bind(early)
        a.jmp(late)
        #expect(a.position == 0x7C03)
        #expect(a.bytes == [0xE9, 0x00, 0x00])
        a.bits(.b32)
        #expect(a.bits == .b32)
        a.mov(.eax, 1)
        a.bind(late)
        #expect(a.address(of: early) == 0x7C00)
        #expect(a.address(of: late) == 0x7C08)
        #expect(late.description == "late")
        #expect(try a.finish() == [0xE9, 0x05, 0x00, 0xB8, 0x01, 0x00, 0x00, 0x00])
        #expect(a.bytes == [0xE9, 0x05, 0x00, 0xB8, 0x01, 0x00, 0x00, 0x00])
    }

    @Test func forwardAndBackwardReferencesToOneLabel() {
        let g = Golden(.b32)
        g.check("jmp near mid\ncall mid\nmid: nop\njmp mid\njz mid\ncall mid\nloop mid", "E9 05 00 00 00 E8 00 00 00 00 90 EB FD 74 FB E8 F6 FF FF FF E2 F4") { a in
            let mid = a.newLabel()
            a.jmp(mid); a.call(mid)
            a.bind(mid); a.nop()
            a.jmp(mid); a.jcc(.z, mid); a.call(mid); a.loop(mid)
        }
    }
}

@Suite struct ErrorTests {
    @Test func unboundLabel() {
        var a = Assembler()
        let bound = a.newLabel(), missing = a.newLabel("missing")
        a.bind(bound)
        a.jmp(bound)
        a.call(missing)
        #expect(throws: AssemblerError.unboundLabel(missing)) { try a.finish() }
    }

    @Test func unboundLabelInData() {
        var a = Assembler(bits: .b32)
        let missing = a.newLabel()
        a.dd(missing)
        #expect(throws: AssemblerError.unboundLabel(missing)) { try a.finish() }
    }

    @Test func shortJumpForwardOutOfRange() {
        var a = Assembler()
        let far = a.newLabel()
        a.jmpShort(far)
        a.emit(Array(repeating: 0x90, count: 128))
        a.bind(far)
        #expect(throws: AssemblerError.jumpOutOfRange(far, displacement: 128)) { try a.finish() }
    }

    @Test func shortJumpBackwardOutOfRange() {
        var a = Assembler(bits: .b32)
        let back = a.newLabel()
        a.bind(back)
        a.emit(Array(repeating: 0x90, count: 127))
        a.jccShort(.ne, back)
        #expect(throws: AssemblerError.jumpOutOfRange(back, displacement: -129)) { try a.finish() }
    }

    @Test func loopOutOfRange() {
        var a = Assembler()
        let top = a.newLabel()
        a.bind(top)
        a.emit(Array(repeating: 0x90, count: 200))
        a.loop(top)
        #expect(throws: AssemblerError.jumpOutOfRange(top, displacement: -202)) { try a.finish() }
    }

    @Test func fillTargetPassed() {
        var a = Assembler(origin: 0xFFF0)
        a.emit(Array(repeating: 0x90, count: 0x20))
        a.fill(to: 0x1_0000)
        #expect(throws: AssemblerError.fillTargetPassed(target: 0x1_0000, position: 0x1_0010)) { try a.finish() }
    }
}

@Suite struct MisuseTests {
    @Test func invalidSixteenBitAddress() async {
        await #expect(processExitsWith: .failure) { _ = Mem(.ax) }
    }

    @Test func espIndex() async {
        await #expect(processExitsWith: .failure) { _ = Mem(.eax, index: .esp, scale: 2) }
    }

    @Test func immediateTooWide() async {
        await #expect(processExitsWith: .failure) {
            var a = Assembler()
            a.mov(.al, 0x100)
        }
    }

    @Test func ambiguousMemorySize() async {
        await #expect(processExitsWith: .failure) {
            var a = Assembler()
            a.inc(Mem(.bx))
        }
    }

    @Test func mismatchedMemorySize() async {
        await #expect(processExitsWith: .failure) {
            var a = Assembler()
            a.mov(Mem(.bx, size: .byte), .ax)
        }
    }

    @Test func labelBoundTwice() async {
        await #expect(processExitsWith: .failure) {
            var a = Assembler()
            let label = a.newLabel()
            a.bind(label)
            a.bind(label)
        }
    }
}
