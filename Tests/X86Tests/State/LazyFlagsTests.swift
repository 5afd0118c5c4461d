import Testing
@testable import X86

/// The lazy flag evaluator at every operand size, 64 bits included: the state holds operands
/// zero-extended to 64 bits, and each size's carry, overflow and sign come from its own width.
@Suite struct LazyFlagsTests {
    private let cpu = CPU(bus: TestBus())

    private func flags<V: FixedWidthInteger & UnsignedInteger>(_ op: FlagOp, _ dst: V, _ src: V, carryIn: Bool = false) -> UInt32 {
        let size = OperandSize.of(V.self)
        let result: V = switch op {
        case .add: dst &+ src
        case .adc: dst &+ src &+ (carryIn ? 1 : 0)
        case .sbb: dst &- src &- (carryIn ? 1 : 0)
        default: dst &- src
        }
        cpu.flagAux = carryIn ? 1 : 0
        cpu.setLazyFlags(op, size, result: result, dst: dst, src: src)
        // The one-pass evaluation and the single-flag accessors must agree.
        let f = cpu.arithmeticFlags()
        #expect((f & EFlags.carry != 0) == cpu.carryFlag)
        #expect((f & EFlags.overflow != 0) == cpu.overflowFlag)
        #expect((f & EFlags.sign != 0) == cpu.signFlag)
        #expect((f & EFlags.zero != 0) == cpu.zeroFlag)
        return f
    }

    @Test func sixtyFourBitAdditionCarriesAndOverflowsAtBit63() {
        #expect(flags(.add, UInt64.max, UInt64(1)) & (EFlags.carry | EFlags.zero) == EFlags.carry | EFlags.zero)
        #expect(flags(.add, UInt64(0x7FFF_FFFF_FFFF_FFFF), UInt64(1)) & (EFlags.overflow | EFlags.sign | EFlags.carry)
                == EFlags.overflow | EFlags.sign)
        // Carrying out of bit 31 is not a carry for a 64-bit add.
        #expect(flags(.add, UInt64(0xFFFF_FFFF), UInt64(1)) & (EFlags.carry | EFlags.overflow | EFlags.sign) == 0)
    }

    @Test func subtractWithBorrowAtEverySize() {
        // dst == src with a borrow in: the result wraps, so CF is set, at every width.
        #expect(flags(.sbb, UInt8(5), UInt8(5), carryIn: true) & EFlags.carry != 0)
        #expect(flags(.sbb, UInt32(5), UInt32(5), carryIn: true) & EFlags.carry != 0)
        #expect(flags(.sbb, UInt64.max, UInt64.max, carryIn: true) & EFlags.carry != 0)
        #expect(flags(.sbb, UInt64(6), UInt64(5), carryIn: true) & (EFlags.carry | EFlags.zero) == EFlags.zero)
        #expect(flags(.sub, UInt64(0), UInt64(1)) & (EFlags.carry | EFlags.sign) == EFlags.carry | EFlags.sign)
    }

    @Test func addWithCarryAtTheTopOfEachWidth() {
        #expect(flags(.adc, UInt16(0xFFFF), UInt16(0), carryIn: true) & (EFlags.carry | EFlags.zero) == EFlags.carry | EFlags.zero)
        #expect(flags(.adc, UInt64.max, UInt64(0), carryIn: true) & (EFlags.carry | EFlags.zero) == EFlags.carry | EFlags.zero)
        #expect(flags(.adc, UInt64(0x7FFF_FFFF_FFFF_FFFE), UInt64(1), carryIn: true) & EFlags.overflow != 0)
    }
}
