import Testing
import X86
import X86Asm

/// The 16- and 32-bit register-only forms the decoder gives ops of their own (ALU between
/// registers or with an immediate, MOV between registers, INC/DEC) must compute exactly what the
/// general forms compute: each case runs the register form and the same operation on a memory
/// operand (the general path) from the same state, and compares results and status flags.
@Suite struct RegisterFormTests {
    static let values: [UInt32] = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFF_FFFF,
                                   0x8000_0000, 0x8000_0001, 0xFFFF_FFFE, 0xFFFF_FFFF, 0x1234_5678, 0xDEAD_BEEF]
    static let data = 0x3000
    static let statusFlags: UInt32 = 0x8D5

    /// The operand width a case runs with: the code segment's default size.
    enum Width: CaseIterable, CustomTestStringConvertible {
        case bits16, bits32
        var testDescription: String { self == .bits16 ? "16-bit" : "32-bit" }
        var mask: UInt32 { self == .bits16 ? 0xFFFF : 0xFFFF_FFFF }
        /// ModRM for `[disp]` with `reg`, and the displacement's bytes.
        func memoryOperand(reg: Int) -> [UInt8] {
            switch self {
            case .bits16: [UInt8(reg << 3 | 6), UInt8(RegisterFormTests.data & 0xFF), UInt8(RegisterFormTests.data >> 8)]
            case .bits32: [UInt8(reg << 3 | 5)] + (0..<4).map { UInt8(truncatingIfNeeded: RegisterFormTests.data >> (8 * $0)) }
            }
        }
        /// An immediate operand of the width.
        func immediate(_ value: UInt32) -> [UInt8] {
            (0..<(self == .bits16 ? 2 : 4)).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
        }
    }

    /// Runs `bytes` (then HLT) from CS:7C00 with CS's default size `width`, EAX = x, EBX = y,
    /// the dword at `data` = x and CF = `carry`; returns EAX, the dword, and the flags the code
    /// left in ECX and EDX (PUSHF/POP CX: the low halves).
    private func run(_ m: TestMachine, _ width: Width, x: UInt32, y: UInt32, carry: Bool, _ bytes: [UInt8]) throws
        -> (register: UInt32, memory: UInt32, flags: UInt32, memoryFlags: UInt32) {
        m.cpu.powerOnReset()
        m.load(bytes + [0xF4])
        m.bus.setDword(x, at: Self.data)
        let cs = m.cpu.segment(.cs)
        m.cpu.setSegment(.cs, SegmentCache(selector: 0, base: 0, limit: width == .bits32 ? 0xFFFF_FFFF : 0xFFFF,
                                           attributes: width == .bits32 ? cs.attributes | 0x4000 : cs.attributes))
        m.cpu.setRegister(.rax, UInt64(x))
        m.cpu.setRegister(.rbx, UInt64(y))
        m.cpu.eflags = carry ? 0x3 : 0x2
        m.expectCleanHalt(m.run(budget: 100))
        return (m.r32(.rax) & width.mask, m.bus.dword(at: Self.data) & width.mask,
                m.r32(.rcx) & Self.statusFlags, m.r32(.rdx) & Self.statusFlags)
    }

    /// CF as given, the register form, PUSHF/POP CX, CF again, the memory form, PUSHF/POP DX.
    private func pair(carry: Bool, register: [UInt8], memory: [UInt8]) -> [UInt8] {
        let setCarry: UInt8 = carry ? 0xF9 : 0xF8
        return [setCarry] + register + [0x9C, 0x59, setCarry] + memory + [0x9C, 0x5A]
    }

    @Test(arguments: Width.allCases, 0..<8)
    func aluBetweenRegistersMatchesTheMemoryForm(width: Width, kind: Int) throws {
        let m = TestMachine()
        for x in Self.values { for y in Self.values { for carry in [false, true] { for regRm in [false, true] {
            // op ax/eax, bx/ebx: 01-style (r/m, reg) or 03-style (reg, r/m); then op [data], bx/ebx.
            let register: [UInt8] = regRm ? [UInt8(kind << 3 | 3), 0xC3] : [UInt8(kind << 3 | 1), 0xD8]
            let r = try run(m, width, x: x, y: y, carry: carry,
                            pair(carry: carry, register: register, memory: [UInt8(kind << 3 | 1)] + width.memoryOperand(reg: 3)))
            let expected = kind == 7 ? x & width.mask : r.memory
            #expect(r.register == expected && r.flags == r.memoryFlags,
                    "\(width.testDescription) kind \(kind) \(regRm ? "03" : "01") \(hex(x)), \(hex(y)), CF \(carry)")
        } } } }
    }

    @Test(arguments: Width.allCases, 0..<8)
    func aluWithAnImmediateMatchesTheMemoryForm(width: Width, kind: Int) throws {
        let m = TestMachine()
        for x in Self.values { for y in Self.values { for carry in [false, true] {
            // op ax/eax, imm (81 /k, register form); then op [data], imm.
            let r = try run(m, width, x: x, y: y, carry: carry,
                            pair(carry: carry, register: [0x81, UInt8(0xC0 | kind << 3)] + width.immediate(y),
                                 memory: [0x81] + width.memoryOperand(reg: kind) + width.immediate(y)))
            let expected = kind == 7 ? x & width.mask : r.memory
            #expect(r.register == expected && r.flags == r.memoryFlags,
                    "\(width.testDescription) kind \(kind) \(hex(x)), \(hex(y)), CF \(carry)")
        } } }
    }

    @Test(arguments: Width.allCases)
    func testOfARegisterMatchesTheMemoryForm(width: Width) throws {
        let m = TestMachine()
        for x in Self.values { for y in Self.values { for immediate in [false, true] {
            // test ax/eax, bx/ebx (85 D8) or test ax/eax, imm (F7 C0); then the same on [data].
            let register: [UInt8] = immediate ? [0xF7, 0xC0] + width.immediate(y) : [0x85, 0xD8]
            let memory: [UInt8] = immediate ? [0xF7] + width.memoryOperand(reg: 0) + width.immediate(y)
                : [0x85] + width.memoryOperand(reg: 3)
            let r = try run(m, width, x: x, y: y, carry: true, pair(carry: true, register: register, memory: memory))
            #expect(r.register == x & width.mask && r.memory == x & width.mask && r.flags == r.memoryFlags,
                    "\(width.testDescription) test \(hex(x)), \(hex(y)) \(immediate ? "imm" : "reg")")
        } } }
    }

    @Test(arguments: Width.allCases, [true, false])
    func incDecOfARegisterMatchesTheMemoryForm(width: Width, increment: Bool) throws {
        let m = TestMachine()
        for x in Self.values { for carry in [false, true] { for oneByte in [true, false] {
            // inc/dec ax/eax (40h/48h, or FF /0 /1 in register form); then inc/dec [data].
            let register: [UInt8] = oneByte ? [increment ? 0x40 : 0x48] : [0xFF, increment ? 0xC0 : 0xC8]
            let r = try run(m, width, x: x, y: 0, carry: carry,
                            pair(carry: carry, register: register, memory: [0xFF] + width.memoryOperand(reg: increment ? 0 : 1)))
            #expect(r.register == r.memory && r.flags == r.memoryFlags,
                    "\(width.testDescription) \(increment ? "inc" : "dec") \(hex(x)) CF \(carry)")
            #expect(r.flags & 1 == (carry ? 1 : 0), "CF is kept")
        } } }
    }

    @Test(arguments: Width.allCases, [4, 5, 6, 7])
    func shiftOfARegisterByAnImmediateMatchesTheMemoryForm(width: Width, kind: Int) throws {
        let m = TestMachine()
        for x in Self.values { for count in [0, 1, 2, 7, 15, 16, 17, 31, 32, 33] { for carry in [false, true] {
            // shl/sal/shr/sar ax/eax, count (C1 /k ib, or D1 /k for 1); then the same on [data].
            let register: [UInt8] = count == 1 ? [0xD1, UInt8(0xC0 | kind << 3)] : [0xC1, UInt8(0xC0 | kind << 3), UInt8(count)]
            let memory: [UInt8] = count == 1 ? [0xD1] + width.memoryOperand(reg: kind)
                : [0xC1] + width.memoryOperand(reg: kind) + [UInt8(count)]
            let r = try run(m, width, x: x, y: 0, carry: carry, pair(carry: carry, register: register, memory: memory))
            #expect(r.register == r.memory && r.flags == r.memoryFlags,
                    "\(width.testDescription) kind \(kind) \(hex(x)) by \(count), CF \(carry)")
        } } }
    }

    /// MOV of an immediate to a register (B8+r, and C7 /0 in register form), and between a
    /// register and memory both ways (89/8B with a memory operand), at both widths.
    @Test(arguments: Width.allCases)
    func moveOfAnImmediateAndBetweenARegisterAndMemory(width: Width) throws {
        let m = TestMachine()
        let y: UInt32 = 0x8765_4321
        // mov ax/eax, imm; mov [data], ax/eax; mov cx/ecx, imm (C7 /0); mov dx/edx, [data].
        let code = [0xB8] + width.immediate(y) + [0x89] + width.memoryOperand(reg: 0)
            + [0xC7, 0xC1] + width.immediate(~y) + [0x8B] + width.memoryOperand(reg: 2)
        _ = try run(m, width, x: 0xAAAA_5555, y: 0, carry: false, code)
        let high: UInt64 = width == .bits32 ? 0 : 0xAAAA_0000
        #expect(m.cpu.register(.rax) == high | UInt64(y & width.mask))
        #expect(m.bus.dword(at: Self.data) == (width == .bits32 ? y : 0xAAAA_0000 | y & 0xFFFF), "a 16-bit store writes two bytes")
        #expect(m.r32(.rcx) & width.mask == ~y & width.mask)
        #expect(m.r32(.rdx) & width.mask == y & width.mask)
    }

    /// MOVZX r32, byte [m] zero-extends the byte into the whole register, as the register-source
    /// form (the general path) does with the same byte.
    @Test func zeroExtendingByteLoad() throws {
        let m = TestMachine()
        for byte: UInt32 in [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF] {
            // movzx eax, byte [data]; movzx ecx, bl (BL = the byte).
            _ = try run(m, .bits32, x: 0xFFFF_FF00 | byte, y: 0xAAAA_AA00 | byte, carry: false,
                        [0x0F, 0xB6] + Width.bits32.memoryOperand(reg: 0) + [0x0F, 0xB6, 0xCB])
            #expect(m.cpu.register(.rax) == UInt64(byte))
            #expect(m.cpu.register(.rcx) == UInt64(byte))
        }
    }

    /// Byte forms with high-byte registers: MOV AH, [m] and MOV [m], BH touch only their byte,
    /// and TEST AH, BL sets the flags TEST [m], BL sets for the same byte.
    @Test func byteLoadsStoresAndTestReachHighByteRegisters() throws {
        let m = TestMachine()
        for byte: UInt32 in [0x00, 0x01, 0x7F, 0x80, 0xFF] {
            // mov ah, [data]; mov [data+1], bh; test ah, bl; pushf/pop cx; test [data], bl; pushf/pop dx.
            let code: [UInt8] = [0x8A, 0x26, 0x00, 0x30, 0x88, 0x3E, 0x01, 0x30,
                                 0x84, 0xDC, 0x9C, 0x59, 0x84, 0x1E, 0x00, 0x30, 0x9C, 0x5A]
            let r = try run(m, .bits16, x: 0x1234_5600 | byte, y: 0x0000_A500 | (byte ^ 0x5A), carry: false, code)
            #expect(m.cpu.register(.rax) == UInt64(0x1234_0000 | byte << 8 | byte), "only AH changed")
            #expect(m.bus.dword(at: Self.data) == 0x1234_A500 | byte, "only the second byte changed")
            #expect(r.flags == r.memoryFlags)
        }
    }

    /// MOV between registers in both encodings copies the operand: a 32-bit one zero-extends
    /// into the 64-bit slot, a 16-bit one keeps the register's upper bits; flags stay.
    @Test(arguments: Width.allCases, [[UInt8(0x89), 0xD8], [0x8B, 0xC3]])
    func moveBetweenRegisters(width: Width, encoding: [UInt8]) throws {
        let m = TestMachine()
        _ = try run(m, width, x: 0xAAAA_5555, y: 0x8765_4321, carry: true, [0xB8] + width.immediate(0) + encoding)
        let expected: UInt64 = width == .bits32 ? 0x8765_4321 : 0xAAAA_4321
        #expect(m.cpu.register(.rax) == expected)
        #expect(m.cpu.eflags & 1 == 1)
    }
}
