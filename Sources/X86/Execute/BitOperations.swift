/// BT, BTS, BTR, BTC, BSF and BSR.
extension CPU {
    /// Applies a bit-test operation (`kind`: 0 BT, 1 BTS, 2 BTR, 3 BTC) and returns the new value.
    @inline(__always) private func bitTest(_ kind: UInt32, _ value: UInt64, bit: UInt32) -> UInt64 {
        let mask: UInt64 = 1 << UInt64(bit)
        setStatusFlags(EFlags.carry, value & mask != 0 ? EFlags.carry : 0)
        switch kind {
        case 1: return value | mask
        case 2: return value & ~mask
        case 3: return value ^ mask
        default: return value
        }
    }

    /// BT* r/m, reg. With a memory operand the register is a signed bit offset that may
    /// reach outside the addressed word (SDM Vol. 2, BT: "bit string" addressing).
    func execBitTestRegister(_ d: Instruction) -> Step {
        let size = d.size
        let offset = readRegister(d.reg, size)
        let kind = d.imm
        if !d.hasMemoryOperand {
            let result = bitTest(kind, readRegister(d.rm, size), bit: UInt32(truncatingIfNeeded: offset) & (size.bits - 1))
            if kind != 0 { writeRegister(d.rm, size, result) }
            return .next
        }
        let signedOffset: Int64 = switch size {
        case .qword: Int64(bitPattern: offset)
        case .dword: Int64(Int32(truncatingIfNeeded: offset))
        default: Int64(Int16(truncatingIfNeeded: offset))
        }
        let byteDisplacement = (signedOffset >> Int64(size.bits.trailingZeroBitCount)) * Int64(size.bytes)
        let address = wrappedOffset(effectiveAddress(d) &+ UInt64(bitPattern: byteDisplacement), d)
        return bitTestMemory(d, address: address, kind: kind, bit: UInt32(truncatingIfNeeded: offset) & (size.bits - 1))
    }

    /// BT* r/m, imm8: the bit offset is taken modulo the operand size.
    func execBitTestImmediate(_ d: Instruction) -> Step {
        let size = d.size
        let bit = UInt32(d.imm2) & (size.bits - 1)
        if !d.hasMemoryOperand {
            let result = bitTest(d.imm, readRegister(d.rm, size), bit: bit)
            if d.imm != 0 { writeRegister(d.rm, size, result) }
            return .next
        }
        return bitTestMemory(d, address: effectiveAddress(d), kind: d.imm, bit: bit)
    }

    private func bitTestMemory(_ d: Instruction, address: UInt64, kind: UInt32, bit: UInt32) -> Step {
        guard let value = read(d.segment, address, d.size) else { return .fault }
        let result = bitTest(kind, value, bit: bit)
        if kind != 0 && !write(d.segment, address, d.size, result) { return .fault }
        return .next
    }

    /// BSF/BSR: ZF set and the destination unchanged when the source is zero.
    func execBitScan(_ d: Instruction, forward: Bool) -> Step {
        let size = d.size
        guard let value = readRM(d, size) else { return .fault }
        if value == 0 {
            setFlagsWithAux(size, result: UInt32(0), aux: 0)
            return .next
        }
        // The value is zero-extended to 64 bits whatever the operand size.
        let index = UInt64(forward ? value.trailingZeroBitCount : 63 - value.leadingZeroBitCount)
        writeRegister(d.reg, size, index)
        setFlagsWithAux(size, result: UInt32(1), aux: 0)
        return .next
    }
}
