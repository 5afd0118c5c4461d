/// BT, BTS, BTR, BTC, BSF and BSR.
extension CPU {
    /// Applies a bit-test operation (`kind`: 0 BT, 1 BTS, 2 BTR, 3 BTC) and returns the new value.
    @inline(__always) private func bitTest(_ kind: UInt32, _ value: UInt32, bit: UInt32) -> UInt32 {
        let mask: UInt32 = 1 << bit
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
            let result = bitTest(kind, readRegister(d.rm, size), bit: offset & (size.bits - 1))
            if kind != 0 { writeRegister(d.rm, size, result) }
            return .next
        }
        let signedOffset = size == .dword ? Int64(Int32(bitPattern: offset)) : Int64(Int16(truncatingIfNeeded: offset))
        let byteDisplacement = (signedOffset >> Int64(size == .dword ? 5 : 4)) * Int64(size.bytes)
        var address = effectiveAddress(d) &+ UInt32(truncatingIfNeeded: byteDisplacement)
        if !d.addressSize32 { address &= 0xFFFF }
        return bitTestMemory(d, address: address, kind: kind, bit: offset & (size.bits - 1))
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

    private func bitTestMemory(_ d: Instruction, address: UInt32, kind: UInt32, bit: UInt32) -> Step {
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
        let index = forward ? UInt32(value.trailingZeroBitCount) : UInt32(31 - value.leadingZeroBitCount)
        writeRegister(d.reg, size, index)
        setFlagsWithAux(size, result: UInt32(1), aux: 0)
        return .next
    }
}
