import Testing
import X86
import X86Asm

/// The 32-bit register-only forms the decoder gives ops of their own (ALU between registers or
/// with an immediate, MOV between registers, INC/DEC r32) must compute exactly what the general
/// forms compute: each case runs the register form and the same operation on a memory operand
/// (the general path) from the same state, and compares the results and the status flags.
@Suite struct RegisterFormTests {
    static let values: [UInt32] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF,
                                   0x8000_0000, 0x8000_0001, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x1234_5678, 0xDEAD_BEEF]
    static let data = 0x3000
    static let statusFlags: UInt32 = 0x8D5

    /// The operation's result and flags through the register form (EAX, flags in ECX) and
    /// through the memory form (the dword at `data`, flags in EDX).
    private func compare(on m: TestMachine, carry: Bool, _ body: (inout Assembler) -> Void) throws
        -> (register: UInt32, memory: UInt32, flags: UInt32, memoryFlags: UInt32) {
        m.cpu.powerOnReset()
        var a = Assembler(bits: .b32, origin: TestMachine.codeOrigin)
        body(&a)
        a.hlt()
        let code = try a.finish()
        m.bus.load(code, at: Int(TestMachine.codeOrigin))
        m.cpu.invalidateCode(physicalAddress: UInt64(TestMachine.codeOrigin), length: code.count)
        for s in [SegmentRegister.ds, .es, .ss] { m.cpu.loadRealModeSegment(s, selector: 0) }
        let cs = m.cpu.segment(.cs)
        m.cpu.setSegment(.cs, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: cs.attributes | 0x4000))
        m.cpu.instructionPointer = UInt64(TestMachine.codeOrigin)
        m.cpu.setRegister(.rsp, UInt64(TestMachine.stackTop))
        m.cpu.eflags = carry ? 0x3 : 0x2
        m.expectCleanHalt(m.run(budget: 100))
        return (m.r32(.rax), m.bus.dword(at: Self.data), m.r32(.rcx) & Self.statusFlags, m.r32(.rdx) & Self.statusFlags)
    }

    /// Sets CF as `carry` says (the first instruction of each half).
    private func setCarry(_ a: inout Assembler, _ carry: Bool) {
        if carry { a.stc() } else { a.clc() }
    }

    @Test(arguments: 0..<8)
    func aluBetweenRegistersMatchesTheMemoryForm(kind: Int) throws {
        let m = TestMachine()
        for x in Self.values { for y in Self.values { for carry in [false, true] {
            for regRm in [false, true] {
                let r = try compare(on: m, carry: carry) { a in
                    a.mov(.eax, Int(x))
                    a.mov(.ebx, Int(y))
                    a.mov(Mem(disp: Self.data, size: .dword), Int(x))
                    setCarry(&a, carry)
                    // op eax, ebx: 01-style (r/m, reg) or 03-style (reg, r/m) encoding.
                    a.db(regRm ? [UInt8(kind << 3 | 3), 0xC3] : [UInt8(kind << 3 | 1), 0xD8])
                    a.pushfd()
                    a.pop(.ecx)
                    setCarry(&a, carry)
                    a.db([UInt8(kind << 3 | 1), 0x1D])         // op [disp32], ebx
                    a.dd(UInt32(Self.data))
                    a.pushfd()
                    a.pop(.edx)
                }
                let expected = kind == 7 ? x : r.memory
                #expect(r.register == expected && r.flags == r.memoryFlags,
                        "kind \(kind) \(regRm ? "03" : "01") \(hex(x)), \(hex(y)), CF \(carry)")
            }
        } } }
    }

    @Test(arguments: 0..<8)
    func aluWithAnImmediateMatchesTheMemoryForm(kind: Int) throws {
        let m = TestMachine()
        for x in Self.values { for y in Self.values { for carry in [false, true] {
            let r = try compare(on: m, carry: carry) { a in
                a.mov(.eax, Int(x))
                a.mov(Mem(disp: Self.data, size: .dword), Int(x))
                setCarry(&a, carry)
                a.db([0x81, UInt8(0xC0 | kind << 3)])           // op eax, imm32 (group 1, register form)
                a.dd(y)
                a.pushfd()
                a.pop(.ecx)
                setCarry(&a, carry)
                a.db([0x81, UInt8(0x05 | kind << 3)])           // op [disp32], imm32
                a.dd(UInt32(Self.data))
                a.dd(y)
                a.pushfd()
                a.pop(.edx)
            }
            let expected = kind == 7 ? x : r.memory
            #expect(r.register == expected && r.flags == r.memoryFlags, "kind \(kind) \(hex(x)), \(hex(y)), CF \(carry)")
        } } }
    }

    @Test(arguments: [true, false])
    func incDecOfARegisterMatchesTheMemoryForm(increment: Bool) throws {
        let m = TestMachine()
        for x in Self.values { for carry in [false, true] {
            let r = try compare(on: m, carry: carry) { a in
                a.mov(.eax, Int(x))
                a.mov(Mem(disp: Self.data, size: .dword), Int(x))
                setCarry(&a, carry)
                a.db([increment ? 0x40 : 0x48])                  // inc/dec eax (one byte)
                a.pushfd()
                a.pop(.ecx)
                setCarry(&a, carry)
                a.db([0xFF, increment ? 0x05 : 0x0D])            // inc/dec dword [disp32]
                a.dd(UInt32(Self.data))
                a.pushfd()
                a.pop(.edx)
            }
            #expect(r.register == r.memory && r.flags == r.memoryFlags, "\(increment ? "inc" : "dec") \(hex(x)) CF \(carry)")
            #expect(r.flags & 1 == (carry ? 1 : 0), "CF is kept")
        } }
    }

    /// MOV r32, r32 in both encodings copies the whole register and zero-extends into the
    /// 64-bit slot, leaving the flags alone.
    @Test(arguments: [[UInt8(0x89), 0xD8], [0x8B, 0xC3]])
    func moveBetweenRegisters(encoding: [UInt8]) throws {
        let m = TestMachine()
        var a = Assembler(bits: .b32, origin: TestMachine.codeOrigin)
        a.db(encoding)                                         // mov eax, ebx
        a.hlt()
        let code = try a.finish()
        m.bus.load(code, at: Int(TestMachine.codeOrigin))
        m.cpu.invalidateCode(physicalAddress: UInt64(TestMachine.codeOrigin), length: code.count)
        let cs = m.cpu.segment(.cs)
        m.cpu.setSegment(.cs, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: cs.attributes | 0x4000))
        m.cpu.instructionPointer = UInt64(TestMachine.codeOrigin)
        m.cpu.setRegister(.rax, 0xFFFF_FFFF_0000_0000)
        m.cpu.setRegister(.rbx, 0x8765_4321)
        m.cpu.eflags = 0x8D7
        m.expectCleanHalt(m.run(budget: 10))
        #expect(m.cpu.register(.rax) == 0x8765_4321)
        #expect(m.cpu.eflags & 0x8D5 == 0x8D5)
    }
}
