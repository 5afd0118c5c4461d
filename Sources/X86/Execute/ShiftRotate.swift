/// SHL, SHR or SAR as a type, so that the register handler is specialized for each.
protocol ShiftOperation { static var kind: ShiftKind { get } }
enum ShiftLeftOperation: ShiftOperation { static var kind: ShiftKind { .shl } }
enum ShiftRightOperation: ShiftOperation { static var kind: ShiftKind { .shr } }
enum ShiftRightArithmeticOperation: ShiftOperation { static var kind: ShiftKind { .sar } }

/// ROL, ROR, RCL, RCR, SHL/SAL, SHR, SAR, SHLD and SHRD (SDM Vol. 2, SAL/SAR/SHL/SHR, RCL/RCR/ROL/ROR).
///
/// The count is masked to 5 bits (6 for 64-bit operands); a masked count of 0 changes no flag. OF is
/// architecturally defined for a count of 1 only; for larger counts this CPU gives
/// the value of the last single-bit step, as the hardware-captured vectors show.
extension CPU {
    @inline(__always) private func bit(_ condition: Bool, _ flag: UInt32) -> UInt32 { condition ? flag : 0 }

    /// The shift count the hardware uses: 6 bits for 64-bit operands, 5 bits otherwise.
    @inline(__always) func maskedShiftCount(_ raw: UInt32, _ size: OperandSize) -> UInt32 {
        raw & (size == .qword ? 0x3F : 0x1F)
    }

    func shiftRotate(_ kind: UInt8, _ value: UInt64, count rawCount: UInt32, _ size: OperandSize) -> UInt64 {
        let count = maskedShiftCount(rawCount, size)
        if count == 0 { return value }
        let bits = size.bits
        let mask = size.mask
        let sign = size.signBit
        switch kind {
        case ShiftKind.rol.rawValue: return rotateLeft(value, count: count, size)
        case ShiftKind.ror.rawValue: return rotateRight(value, count: count, size)
        case ShiftKind.rcl.rawValue:
            // Through CF: a rotation of the (bits + 1)-bit value CF:operand.
            let c = UInt128(count % (bits + 1))
            let width = UInt128(bits) + 1
            let wide = UInt128(carryFlag ? 1 : 0) << UInt128(bits) | UInt128(value)
            let rotated = c == 0 ? wide : ((wide << c) | (wide >> (width - c))) & ((1 << width) - 1)
            let result = UInt64(truncatingIfNeeded: rotated) & mask
            let cf = rotated >> UInt128(bits) & 1 != 0
            setStatusFlags(EFlags.carry | EFlags.overflow,
                           bit(cf, EFlags.carry) | bit((result & sign != 0) != cf, EFlags.overflow))
            return result
        case ShiftKind.rcr.rawValue:
            let c = UInt128(count % (bits + 1))
            let width = UInt128(bits) + 1
            let wide = UInt128(carryFlag ? 1 : 0) << UInt128(bits) | UInt128(value)
            let rotated = c == 0 ? wide : ((wide >> c) | (wide << (width - c))) & ((1 << width) - 1)
            let result = UInt64(truncatingIfNeeded: rotated) & mask
            let cf = rotated >> UInt128(bits) & 1 != 0
            let msb = result & sign != 0
            let next = result & (sign >> 1) != 0
            setStatusFlags(EFlags.carry | EFlags.overflow, bit(cf, EFlags.carry) | bit(msb != next, EFlags.overflow))
            return result
        case ShiftKind.shl.rawValue, ShiftKind.sal.rawValue: return shiftLeft(value, count: count, size)
        case ShiftKind.shr.rawValue: return shiftRightLogical(value, count: count, size)
        default: return shiftRightArithmetic(value, count: count, size)
        }
    }

    /// ROL by a masked, non-zero count: CF and OF change, the other flags stay.
    @inline(__always) private func rotateLeft(_ value: UInt64, count: UInt32, _ size: OperandSize) -> UInt64 {
        let c = UInt64(count % size.bits)
        let result = c == 0 ? value : ((value << c) | (value >> (UInt64(size.bits) - c))) & size.mask
        let cf = result & 1 != 0
        setStatusFlags(EFlags.carry | EFlags.overflow,
                       bit(cf, EFlags.carry) | bit((result & size.signBit != 0) != cf, EFlags.overflow))
        return result
    }

    /// ROR by a masked, non-zero count: CF and OF change, the other flags stay.
    @inline(__always) private func rotateRight(_ value: UInt64, count: UInt32, _ size: OperandSize) -> UInt64 {
        let c = UInt64(count % size.bits)
        let result = c == 0 ? value : ((value >> c) | (value << (UInt64(size.bits) - c))) & size.mask
        let msb = result & size.signBit != 0
        let next = result & (size.signBit >> 1) != 0
        setStatusFlags(EFlags.carry | EFlags.overflow, bit(msb, EFlags.carry) | bit(msb != next, EFlags.overflow))
        return result
    }

    /// SHL/SAL by a masked, non-zero count, flags included.
    @inline(__always) private func shiftLeft(_ value: UInt64, count: UInt32, _ size: OperandSize) -> UInt64 {
        let result = (value << UInt64(count)) & size.mask
        // CF is the last bit shifted out: bit (bits - count) of the operand.
        let cf = count <= size.bits && (value >> UInt64(size.bits - count)) & 1 != 0
        setFlagsWithAux(size, result: result,
                        aux: bit(cf, EFlags.carry) | bit((result & size.signBit != 0) != cf, EFlags.overflow) | EFlags.auxiliary)
        return result
    }

    /// SHR by a masked, non-zero count, flags included.
    @inline(__always) private func shiftRightLogical(_ value: UInt64, count: UInt32, _ size: OperandSize) -> UInt64 {
        let result = value >> UInt64(count)
        let cf = (value >> UInt64(count - 1)) & 1 != 0
        // OF is the sign of the last single-bit step's input: only a count of 1 can set it.
        setFlagsWithAux(size, result: result,
                        aux: bit(cf, EFlags.carry) | bit(count == 1 && value & size.signBit != 0, EFlags.overflow) | EFlags.auxiliary)
        return result
    }

    /// SAR by a masked, non-zero count, flags included.
    @inline(__always) private func shiftRightArithmetic(_ value: UInt64, count: UInt32, _ size: OperandSize) -> UInt64 {
        // Sign-extend from the operand's top bit to 64 bits, then shift (counts above the width
        // of 8- and 16-bit operands fill with the sign, as hardware does).
        let unused = UInt64(64 - size.bits)
        let signed = Int64(bitPattern: value << unused) >> Int64(unused)
        let result = UInt64(bitPattern: signed >> Int64(count)) & size.mask
        let cf = (signed >> Int64(count - 1)) & 1 != 0
        setFlagsWithAux(size, result: result, aux: bit(cf, EFlags.carry) | EFlags.auxiliary)
        return result
    }

    /// `Operation` on the register `rm` at `Value`'s size by the immediate count, which the
    /// decoder has masked and found not 0 (`Decoder.specializeHotForms`): specialized for each
    /// operation and size, so it decides nothing when it runs.
    @inline(__always) func execShiftRegister<Operation: ShiftOperation, Value: FixedWidthInteger>(
        _ d: Instruction, _: Operation.Type, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        let value = readRegister(d.rm, size)
        let result = switch Operation.kind {
        case .shr: shiftRightLogical(value, count: d.imm, size)
        case .sar: shiftRightArithmetic(value, count: d.imm, size)
        default: shiftLeft(value, count: d.imm, size)
        }
        writeRegister(d.rm, size, result)
        return .next
    }

    /// ROL or ROR (`sub`) of the register `rm` at `Value`'s size by the immediate count, which
    /// the decoder has masked and found not 0 (`Decoder.specializeHotForms`).
    @inline(__always) func execRotateRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        let value = readRegister(d.rm, size)
        let result = d.sub == ShiftKind.rol.rawValue ? rotateLeft(value, count: d.imm, size) : rotateRight(value, count: d.imm, size)
        writeRegister(d.rm, size, result)
        return .next
    }

    func execShift(_ d: Instruction, count: UInt32) -> Step {
        let size = d.size
        let kind = d.sub
        return modifyRM(d) { shiftRotate(kind, $0, count: count, size) }
    }

    /// SHLD/SHRD: shift the destination, filling from the source register.
    func execDoubleShift(_ d: Instruction, left: Bool, count rawCount: UInt32) -> Step {
        let size = d.size
        let count = UInt64(maskedShiftCount(rawCount, size))
        if count == 0 {
            if !d.hasMemoryOperand { zeroExtendUnchanged(d.rm, size) }
            return .next
        }
        let bits = UInt64(size.bits)
        let src = readRegister(d.reg, size)
        return modifyRM(d) { value in
            let dst = value
            let result: UInt64
            let cf: Bool
            if count <= bits {
                if left {
                    result = ((dst << count) | (src >> (bits - count))) & size.mask
                    cf = (dst >> (bits - count)) & 1 != 0
                } else {
                    result = ((dst >> count) | (src << (bits - count))) & size.mask
                    cf = (dst >> (count - 1)) & 1 != 0
                }
            } else {
                // 16-bit operands with counts 17–31 (undefined): shift through dst:src:dst, as hardware does.
                let wide = (dst << (2 * bits)) | (src << bits) | dst
                let shift = left ? 3 * bits - count : count
                result = (wide >> (left ? 2 * bits - count : count)) & size.mask
                cf = (wide >> (left ? shift : count - 1)) & 1 != 0
            }
            let overflow = (result ^ value) & size.signBit != 0
            setFlagsWithAux(size, result: result,
                            aux: bit(cf, EFlags.carry) | bit(overflow, EFlags.overflow) | EFlags.auxiliary)
            return result
        }
    }
}
