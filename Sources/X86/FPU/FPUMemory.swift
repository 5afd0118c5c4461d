/// Memory operands of the x87, MMX and FXSAVE instructions. Multi-part stores (80-bit
/// values, environments, save images) check the whole operand first: the segment limit
/// for every byte and the translation of every page it touches, so a store either faults
/// before writing anything or completes.
extension CPU {
    /// The linear address of the `size`-byte memory operand of `d`, or `nil` with a fault
    /// pending. For a write the segment must be writable and every page of the operand is
    /// translated for writing first.
    func fpuOperandAddress(_ d: Instruction, size: Int, write: Bool) -> UInt64? {
        guard write else { return linearAddress(d.segment, effectiveAddress(d), size) }
        return writableLinearAddress(d.segment, effectiveAddress(d), size: size)
    }

    /// The linear address of `size` bytes at `seg`:`offset` checked for a write: the segment
    /// limit and type, and every page translated for writing; `nil` with the fault pending.
    func writableLinearAddress(_ seg: UInt8, _ offset: UInt64, size: Int) -> UInt64? {
        guard let linear = linearAddress(seg, offset, size, forWrite: true), pagesAreWritable(linear, size: size) else {
            return nil
        }
        return linear
    }

    /// Whether every page of the `size` bytes at `linear` translates for writing (wrapping at
    /// 4 GiB outside 64-bit mode); `false` with #PF pending.
    func pagesAreWritable(_ linear: UInt64, size: Int) -> Bool {
        var page = linear & ~0xFFF
        let last = linear &+ UInt64(size - 1)
        while page <= last {
            guard translate(self.linear(max(page, linear), plus: 0), .write) != nil else { return false }
            page &+= 0x1000
        }
        return true
    }

    /// Reads `count` bytes at a checked linear address into `buffer`.
    func loadBytes(_ linear: UInt64, into buffer: UnsafeMutableRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= buffer.count {
            guard let value = readLinear(self.linear(linear, plus: i), as: UInt64.self) else { return false }
            buffer.storeBytes(of: value, toByteOffset: i, as: UInt64.self)
            i += 8
        }
        while i < buffer.count {
            guard let value = readLinear(self.linear(linear, plus: i), as: UInt8.self) else { return false }
            buffer[i] = value
            i += 1
        }
        return true
    }

    /// Writes `buffer` at a checked linear address.
    func storeBytes(_ linear: UInt64, from buffer: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i + 8 <= buffer.count {
            guard writeLinear(self.linear(linear, plus: i), buffer.loadUnaligned(fromByteOffset: i, as: UInt64.self)) else { return false }
            i += 8
        }
        while i < buffer.count {
            guard writeLinear(self.linear(linear, plus: i), buffer[i]) else { return false }
            i += 1
        }
        return true
    }

    /// Reads an 80-bit value (FLD m80, FBLD).
    func readExtended(_ d: Instruction) -> Extended80? {
        guard let linear = fpuOperandAddress(d, size: 10, write: false),
              let significand = readLinear(linear, as: UInt64.self),
              let signExponent = readLinear(self.linear(linear, plus: 8), as: UInt16.self) else { return nil }
        return Extended80(significand: significand, signExponent: signExponent)
    }

    /// Writes an 80-bit value (FSTP m80, FBSTP).
    func writeExtended(_ d: Instruction, _ value: Extended80) -> Bool {
        guard let linear = fpuOperandAddress(d, size: 10, write: true) else { return false }
        return writeLinear(linear, value.significand) && writeLinear(self.linear(linear, plus: 8), value.signExponent)
    }

    /// Reads a 2-, 4- or 8-byte operand, zero-extended.
    func readOperand(_ d: Instruction, bytes: Int) -> UInt64? {
        let offset = effectiveAddress(d)
        switch bytes {
        case 2: return read16(d.segment, offset).map(UInt64.init)
        case 4: return read32(d.segment, offset).map(UInt64.init)
        default: return read64(d.segment, offset)
        }
    }

    /// Writes the low 2, 4 or 8 bytes of `value`.
    func writeOperand(_ d: Instruction, bytes: Int, _ value: UInt64) -> Bool {
        let offset = effectiveAddress(d)
        switch bytes {
        case 2: return write(d.segment, offset, .word, value)
        case 4: return write(d.segment, offset, .dword, value)
        default: return write64(d.segment, offset, value)
        }
    }
}
