/// MUL, IMUL (one-, two- and three-operand), DIV and IDIV.
extension CPU {
    /// Writes a double-width product or the quotient/remainder pair to AX, DX:AX or EDX:EAX.
    private func writeAccumulatorPair(_ size: OperandSize, low: UInt32, high: UInt32) {
        switch size {
        case .byte: setReg16(.rax, UInt16(truncatingIfNeeded: high << 8 | low & 0xFF))
        case .word: setReg16(.rax, UInt16(truncatingIfNeeded: low)); setReg16(.rdx, UInt16(truncatingIfNeeded: high))
        default: setReg32(.rax, low); setReg32(.rdx, high)
        }
    }

    /// The dividend of DIV/IDIV: AX, DX:AX or EDX:EAX.
    private func dividend(_ size: OperandSize) -> UInt64 {
        switch size {
        case .byte: UInt64(reg16(.rax))
        case .word: UInt64(reg16(.rdx)) << 16 | UInt64(reg16(.rax))
        default: UInt64(reg32(.rdx)) << 32 | UInt64(reg32(.rax))
        }
    }

    private func signExtend(_ v: UInt32, _ size: OperandSize) -> Int64 {
        switch size {
        case .byte: Int64(Int8(truncatingIfNeeded: v))
        case .word: Int64(Int16(truncatingIfNeeded: v))
        default: Int64(Int32(truncatingIfNeeded: v))
        }
    }

    /// CF and OF set together: the product did not fit the destination.
    private func setMultiplyFlags(_ size: OperandSize, result: UInt32, overflow: Bool) {
        setFlagsWithAux(size, result: result, aux: overflow ? EFlags.carry | EFlags.overflow : 0)
    }

    func execMul(_ d: Instruction) -> Step {
        let size = d.size
        guard let src = readRM(d, size) else { return .fault }
        let product = UInt64(readRegister(0, size)) &* UInt64(src)
        let bits = UInt64(size.bits)
        let low = UInt32(truncatingIfNeeded: product) & size.mask
        let high = UInt32(truncatingIfNeeded: product >> bits) & size.mask
        writeAccumulatorPair(size, low: low, high: high)
        setMultiplyFlags(size, result: low, overflow: high != 0)
        return .next
    }

    func execImulOneOperand(_ d: Instruction) -> Step {
        let size = d.size
        guard let src = readRM(d, size) else { return .fault }
        let product = signExtend(readRegister(0, size), size) &* signExtend(src, size)
        let bits = Int64(size.bits)
        let low = UInt32(truncatingIfNeeded: product) & size.mask
        let high = UInt32(truncatingIfNeeded: product >> bits) & size.mask
        writeAccumulatorPair(size, low: low, high: high)
        setMultiplyFlags(size, result: low, overflow: product != signExtend(low, size))
        return .next
    }

    /// IMUL r, r/m and IMUL r, r/m, imm: truncated signed product.
    func execImulTruncating(_ d: Instruction, immediate: Bool) -> Step {
        let size = d.size
        guard let src = readRM(d, size) else { return .fault }
        let other = immediate ? d.imm : readRegister(d.reg, size)
        let product = signExtend(src, size) &* signExtend(other & size.mask, size)
        let low = UInt32(truncatingIfNeeded: product) & size.mask
        writeRegister(d.reg, size, low)
        setMultiplyFlags(size, result: low, overflow: product != signExtend(low, size))
        return .next
    }

    /// DIV: #DE for a zero divisor or a quotient that does not fit.
    func execDiv(_ d: Instruction) -> Step {
        let size = d.size
        guard let divisor = readRM(d, size) else { return .fault }
        if divisor == 0 { return raiseFault(.divideError) }
        let n = dividend(size)
        let quotient = n / UInt64(divisor)
        if quotient > UInt64(size.mask) { return raiseFault(.divideError) }
        let remainder = n % UInt64(divisor)
        writeAccumulatorPair(size, low: UInt32(quotient), high: UInt32(remainder))
        return .next
    }

    /// IDIV: quotient truncated toward zero; #DE when it does not fit the signed range.
    func execIdiv(_ d: Instruction) -> Step {
        let size = d.size
        guard let rawDivisor = readRM(d, size) else { return .fault }
        let divisor = signExtend(rawDivisor, size)
        if divisor == 0 { return raiseFault(.divideError) }
        let bits = Int(size.bits)
        let n: Int64
        if size == .dword {
            n = Int64(bitPattern: dividend(size))
        } else {
            n = Int64(Int32(truncatingIfNeeded: dividend(size) << (32 - 2 * bits)) >> (32 - 2 * bits))
        }
        // Int64.min / -1 traps in Swift; it cannot fit any destination anyway.
        if n == .min && divisor == -1 { return raiseFault(.divideError) }
        let quotient = n / divisor
        let limit = Int64(1) << (bits - 1)
        if quotient >= limit || quotient < -limit { return raiseFault(.divideError) }
        let remainder = n % divisor
        writeAccumulatorPair(size, low: UInt32(truncatingIfNeeded: quotient) & size.mask,
                             high: UInt32(truncatingIfNeeded: remainder) & size.mask)
        return .next
    }
}
