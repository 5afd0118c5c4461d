import Testing
@testable import X86

/// The integer core at the 64-bit operand size, through the same functions 8- to 32-bit
/// instructions use: ALU, shifts and rotates (6-bit counts), with their flags.
@Suite struct WideOperandTests {
    private let cpu = CPU(bus: TestBus())

    private var carry: Bool { cpu.carryFlag }
    private var overflow: Bool { cpu.overflowFlag }

    @Test func aluAtSixtyFourBits() {
        #expect(cpu.alu(AluKind.add.rawValue, 0xFFFF_FFFF, 1, .qword) == 0x1_0000_0000)
        #expect(!carry && !overflow, "no carry out of bit 31 at 64 bits")
        #expect(cpu.alu(AluKind.add.rawValue, .max, 2, .qword) == 1)
        #expect(carry && !overflow)
        #expect(cpu.alu(AluKind.sub.rawValue, 0, 1, .qword) == .max)
        #expect(carry && cpu.signFlag)
        #expect(cpu.alu(AluKind.xor.rawValue, 0x8000_0000_0000_0000, 0x8000_0000_0000_0000, .qword) == 0)
        #expect(cpu.zeroFlag && !carry)
    }

    @Test func shiftsUseSixCountBitsAtSixtyFourBits() {
        // SHL by 63 keeps only bit 0 (moved to bit 63); CF is bit 1, the last bit shifted out.
        #expect(cpu.shiftRotate(ShiftKind.shl.rawValue, 0b11, count: 63, .qword) == 0x8000_0000_0000_0000)
        #expect(carry)
        // A count of 64 masks to 0: nothing changes.
        #expect(cpu.shiftRotate(ShiftKind.shl.rawValue, 0x1234, count: 64, .qword) == 0x1234)
        // At 32 bits the same count 33 masks to 1.
        #expect(cpu.shiftRotate(ShiftKind.shl.rawValue, 0x8000_0001, count: 33, .dword) == 2)
        #expect(carry)
        #expect(cpu.shiftRotate(ShiftKind.sar.rawValue, 0x8000_0000_0000_0000, count: 63, .qword) == .max)
        #expect(cpu.shiftRotate(ShiftKind.shr.rawValue, 0x8000_0000_0000_0000, count: 63, .qword) == 1)
    }

    @Test func rotatesAtSixtyFourBits() {
        #expect(cpu.shiftRotate(ShiftKind.rol.rawValue, 0x8000_0000_0000_0001, count: 1, .qword) == 3)
        #expect(carry)
        #expect(cpu.shiftRotate(ShiftKind.ror.rawValue, 1, count: 1, .qword) == 0x8000_0000_0000_0000)
        #expect(carry)
        // RCL through CF: 65-bit rotation.
        cpu.setEFlags(EFlags.reserved1 | EFlags.carry)
        #expect(cpu.shiftRotate(ShiftKind.rcl.rawValue, 0x8000_0000_0000_0000, count: 1, .qword) == 1)
        #expect(carry, "bit 63 went to CF, the old CF to bit 0")
    }
}
