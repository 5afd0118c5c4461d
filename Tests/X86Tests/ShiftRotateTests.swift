import Testing
import X86
import X86Asm

/// Shifts and rotates with known results (SDM Vol. 2: SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR,
/// SHLD, SHRD). OF is checked only where the SDM defines it (a count of 1).
@Suite struct ShiftRotateTests {
    private let cf = EFlags.carry, of = EFlags.overflow

    private func run(_ build: (inout Assembler) -> Void) throws -> (value: UInt32, cf: Bool, of: Bool, m: TestMachine) {
        let m = try runSnippet(build)
        return (m.r32(.rax), m.flag(cf), m.flag(of), m)
    }

    @Test func shlByOne() throws {
        let r = try run { a in a.mov(.al, 0x81); a.shl(.al, 1) }
        #expect(r.value & 0xFF == 0x02 && r.cf && r.of)
    }

    @Test func shrByOne() throws {
        let r = try run { a in a.mov(.al, 0x81); a.shr(.al, 1) }
        #expect(r.value & 0xFF == 0x40 && r.cf && r.of, "OF = the operand's old sign")
    }

    @Test func sarByOne() throws {
        let r = try run { a in a.mov(.al, 0x81); a.sar(.al, 1) }
        #expect(r.value & 0xFF == 0xC0 && r.cf && !r.of)
    }

    @Test func sarKeepsTheSign() throws {
        let r = try run { a in a.mov(.ax, 0x8421); a.sar(.ax, 4) }
        #expect(r.value & 0xFFFF == 0xF842 && !r.cf)
    }

    @Test func shrDoubleword() throws {
        let r = try run { a in a.mov(.eax, 0x8000_0001); a.shr(.eax, 31) }
        #expect(r.value == 1 && !r.cf)
    }

    @Test func countIsMaskedToFiveBits() throws {
        let r = try run { a in a.mov(.ax, 1); a.mov(.cl, 33); a.shl(.ax, .cl) }
        #expect(r.value & 0xFFFF == 2)
    }

    @Test func zeroCountChangesNoFlag() throws {
        let r = try run { a in
            a.mov(.ax, 0x8000)
            a.stc()
            a.mov(.cl, 32)                   // masks to 0
            a.shl(.ax, .cl)
        }
        #expect(r.value & 0xFFFF == 0x8000 && r.cf)
    }

    @Test func rolByOne() throws {
        let r = try run { a in a.mov(.al, 0x81); a.rol(.al, 1) }
        #expect(r.value & 0xFF == 0x03 && r.cf && r.of)
    }

    @Test func rorByOne() throws {
        let r = try run { a in a.mov(.al, 0x81); a.ror(.al, 1) }
        #expect(r.value & 0xFF == 0xC0 && r.cf && !r.of)
    }

    @Test func rolWordByFour() throws {
        let r = try run { a in a.mov(.ax, 0x1234); a.rol(.ax, 4) }
        #expect(r.value & 0xFFFF == 0x2341 && r.cf)
    }

    // MARK: Rotates through CF: an (n+1)-bit rotation

    @Test func rclByOneShiftsCarryIn() throws {
        let r = try run { a in a.stc(); a.mov(.al, 0x80); a.rcl(.al, 1) }
        #expect(r.value & 0xFF == 0x01 && r.cf && r.of)
    }

    @Test func rcrByOneShiftsCarryIn() throws {
        let r = try run { a in a.clc(); a.mov(.al, 0x01); a.rcr(.al, 1) }
        #expect(r.value & 0xFF == 0x00 && r.cf && !r.of)
    }

    @Test func rclByNineIsAFullByteRotation() throws {
        let r = try run { a in a.stc(); a.mov(.al, 0x5A); a.mov(.cl, 9); a.rcl(.al, .cl) }
        #expect(r.value & 0xFF == 0x5A && r.cf)
    }

    @Test func rclWordByFour() throws {
        let r = try run { a in a.stc(); a.mov(.ax, 0x1234); a.rcl(.ax, 4) }
        #expect(r.value & 0xFFFF == 0x2348 && r.cf)
    }

    @Test func rcrWordByFour() throws {
        let r = try run { a in a.clc(); a.mov(.ax, 0x1234); a.rcr(.ax, 4) }
        #expect(r.value & 0xFFFF == 0x8123 && !r.cf)
    }

    @Test func rcrWordBySeventeenIsAFullRotation() throws {
        let r = try run { a in a.stc(); a.mov(.ax, 0x1234); a.mov(.cl, 17); a.rcr(.ax, .cl) }
        #expect(r.value & 0xFFFF == 0x1234 && r.cf)
    }

    @Test func rclDoubleword() throws {
        let r = try run { a in a.clc(); a.mov(.eax, 0x8000_0000); a.rcl(.eax, 1) }
        #expect(r.value == 0 && r.cf)
    }

    // MARK: Double-precision shifts

    @Test func shldWord() throws {
        let r = try run { a in a.mov(.ax, 0x1234); a.mov(.bx, 0xABCD); a.shld(.ax, .bx, 4) }
        #expect(r.value & 0xFFFF == 0x234A && r.cf)
    }

    @Test func shrdWord() throws {
        let r = try run { a in a.mov(.ax, 0x1234); a.mov(.bx, 0xABCD); a.shrd(.ax, .bx, 4) }
        #expect(r.value & 0xFFFF == 0xD123 && !r.cf)
    }

    @Test func shldDoublewordByCL() throws {
        let r = try run { a in
            a.mov(.eax, 0x1122_3344)
            a.mov(.edx, 0xAABB_CCDD)
            a.mov(.cl, 8)
            a.shld(.eax, .edx, .cl)
        }
        #expect(r.value == 0x2233_44AA && r.cf)
    }

    @Test func shrdDoublewordMemory() throws {
        let r = try run { a in
            a.mov(Mem(disp: TestMachine.data, size: .dword), 0x1122_3344)
            a.mov(.edx, 0xAABB_CCDD)
            a.shrd(Mem(disp: TestMachine.data), .edx, 8)
        }
        #expect(r.m.bus.dword(at: TestMachine.data) == 0xDD11_2233 && !r.cf)
    }
}
