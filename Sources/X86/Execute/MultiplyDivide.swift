/// MUL, IMUL (one-, two- and three-operand), DIV and IDIV, at every operand size.
extension CPU {
    /// Writes a double-width product or the quotient/remainder pair to AX, DX:AX, EDX:EAX or RDX:RAX.
    private func writeAccumulatorPair(_ size: OperandSize, low: UInt64, high: UInt64) {
        switch size {
        case .byte: setReg16(.rax, UInt16(truncatingIfNeeded: high << 8 | low & 0xFF))
        case .word: setReg16(.rax, UInt16(truncatingIfNeeded: low)); setReg16(.rdx, UInt16(truncatingIfNeeded: high))
        case .dword: setReg32(.rax, UInt32(truncatingIfNeeded: low)); setReg32(.rdx, UInt32(truncatingIfNeeded: high))
        case .qword: regs[GeneralRegister.rax.rawValue] = low; regs[GeneralRegister.rdx.rawValue] = high
        }
    }

    /// The dividend of DIV/IDIV: AX, DX:AX, EDX:EAX or RDX:RAX.
    private func dividend(_ size: OperandSize) -> UInt128 {
        switch size {
        case .byte: UInt128(reg16(.rax))
        case .word: UInt128(reg16(.rdx)) << 16 | UInt128(reg16(.rax))
        case .dword: UInt128(reg32(.rdx)) << 32 | UInt128(reg32(.rax))
        case .qword: UInt128(regs[GeneralRegister.rdx.rawValue]) << 64 | UInt128(regs[GeneralRegister.rax.rawValue])
        }
    }

    @inline(__always) private func signExtend(_ v: UInt64, _ size: OperandSize) -> Int64 {
        switch size {
        case .byte: Int64(Int8(truncatingIfNeeded: v))
        case .word: Int64(Int16(truncatingIfNeeded: v))
        case .dword: Int64(Int32(truncatingIfNeeded: v))
        case .qword: Int64(bitPattern: v)
        }
    }

    /// CF and OF set together: the product did not fit the destination.
    @inline(__always) private func setMultiplyFlags(_ size: OperandSize, result: UInt64, overflow: Bool) {
        setFlagsWithAux(size, result: result, aux: overflow ? EFlags.carry | EFlags.overflow : 0)
    }

    func execMul(_ d: Instruction) -> Step {
        let size = d.size
        guard let src = readRM(d, size) else { return .fault }
        let product = UInt128(readRegister(0, size)) &* UInt128(src)
        let low = UInt64(truncatingIfNeeded: product) & size.mask
        let high = UInt64(truncatingIfNeeded: product >> UInt128(size.bits)) & size.mask
        writeAccumulatorPair(size, low: low, high: high)
        setMultiplyFlags(size, result: low, overflow: high != 0)
        return .next
    }

    func execImulOneOperand(_ d: Instruction) -> Step {
        let size = d.size
        guard let src = readRM(d, size) else { return .fault }
        let product = Int128(signExtend(readRegister(0, size), size)) &* Int128(signExtend(src, size))
        let low = UInt64(truncatingIfNeeded: product) & size.mask
        let high = UInt64(truncatingIfNeeded: product >> Int128(size.bits)) & size.mask
        writeAccumulatorPair(size, low: low, high: high)
        setMultiplyFlags(size, result: low, overflow: product != Int128(signExtend(low, size)))
        return .next
    }

    /// IMUL r, r/m and IMUL r, r/m, imm: truncated signed product.
    func execImulTruncating(_ d: Instruction, immediate: Bool) -> Step {
        bySize(d, ImulTruncating(immediate: immediate))
    }

    /// IMUL r, r/m (`immediate` false) or IMUL r, r/m, imm at `Value`'s size.
    @inline(__always) func imulTruncating<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type, immediate: Bool) -> Step {
        let size = OperandSize.of(Value.self)
        guard let src = readRM(d, size) else { return .fault }
        let other = immediate ? d.immediate : readRegister(d.reg, size)
        // Operands of up to 32 bits cannot overflow an Int64 product; 64-bit ones report it.
        let (product, overflowed) = signExtend(src, size).multipliedReportingOverflow(by: signExtend(other & size.mask, size))
        let low = UInt64(bitPattern: product) & size.mask
        writeRegister(d.reg, size, low)
        setMultiplyFlags(size, result: low, overflow: overflowed || product != signExtend(low, size))
        return .next
    }

    /// DIV: #DE for a zero divisor or a quotient that does not fit.
    func execDiv(_ d: Instruction) -> Step {
        let size = d.size
        guard let divisor = readRM(d, size) else { return .fault }
        if divisor == 0 { return raiseFault(.divideError) }
        let (quotient, remainder) = dividend(size).quotientAndRemainder(dividingBy: UInt128(divisor))
        if quotient > UInt128(size.mask) { return raiseFault(.divideError) }
        writeAccumulatorPair(size, low: UInt64(truncatingIfNeeded: quotient), high: UInt64(truncatingIfNeeded: remainder))
        return .next
    }

    /// IDIV: quotient truncated toward zero; #DE when it does not fit the signed range.
    func execIdiv(_ d: Instruction) -> Step {
        let size = d.size
        guard let rawDivisor = readRM(d, size) else { return .fault }
        let divisor = Int128(signExtend(rawDivisor, size))
        if divisor == 0 { return raiseFault(.divideError) }
        // The dividend is twice the operand size: sign-extend it from there to 128 bits.
        let shift = 128 - 2 * Int(size.bits)
        let n = Int128(bitPattern: dividend(size) << UInt128(shift)) >> Int128(shift)
        // Int128.min / -1 traps in Swift; it cannot fit any destination anyway.
        if n == .min && divisor == -1 { return raiseFault(.divideError) }
        let (quotient, remainder) = n.quotientAndRemainder(dividingBy: divisor)
        let limit = Int128(1) << Int128(size.bits - 1)
        if quotient >= limit || quotient < -limit { return raiseFault(.divideError) }
        writeAccumulatorPair(size, low: UInt64(truncatingIfNeeded: quotient) & size.mask,
                             high: UInt64(truncatingIfNeeded: remainder) & size.mask)
        return .next
    }
}

struct ImulTruncating: SizedHandler {
    let immediate: Bool
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.imulTruncating(d, Value.self, immediate: immediate)
    }
}
