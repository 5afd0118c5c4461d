/// x87 data transfer (SDM Vol. 1, 8.3.3–8.3.4, 8.3.8): FLD, FILD, FBLD, the constants,
/// FST/FSTP, FIST/FISTP, FBSTP, FXCH, FCMOVcc, and the stack-management instructions.
extension CPU {
    // MARK: Pushes

    /// Pushes a load's result after the stack-overflow check (a masked overflow pushes the
    /// real indefinite); an unmasked exception pushes nothing.
    func x87Push(_ result: FloatResult) {
        guard !pushOverflows else {
            if stackOverflow() { fpu.push(.indefinite) }
            return
        }
        fpu.statusFlags |= result.flags
        guard let value = result.value else { return }
        fpu.push(value)
        fpu.setConditionCodes(c1: result.roundedUp)
    }

    /// FLD m32/m64: exact; an SNaN raises IE and is pushed quiet, a denormal raises DE.
    func x87LoadBinary(_ d: Instruction, _ format: X87MemoryFormat) -> Step {
        guard let bits = readOperand(d, bytes: format.bytes) else { return .fault }
        let (value, denormal) = ExtendedConversions.fromBinary(bits, format: format == .single ? .single : .double)
        let flags = value.isSignalingNaN ? FPUException.invalid : denormal ? FPUException.denormal : 0
        x87Push(FloatResult(value: flags & ~fpu.control != 0 ? nil : value.isSignalingNaN ? value.quieted : value,
                            flags: flags))
        return .next
    }

    /// FILD m16/m32/m64: exact.
    func x87LoadInteger(_ d: Instruction, _ format: X87MemoryFormat) -> Step {
        guard let (value, _) = readX87Source(d, format) else { return .fault }
        x87Push(FloatResult(value: value))
        return .next
    }

    /// FLD m80 (the bits as they are, no exceptions) and FBLD.
    func x87LoadTenBytes(_ d: Instruction, packedBCD: Bool) -> Step {
        guard let raw = readExtended(d) else { return .fault }
        x87Push(FloatResult(value: packedBCD
            ? ExtendedConversions.fromPackedBCD(low: raw.significand, high: raw.signExponent) : raw))
        return .next
    }

    /// FLD ST(i): pushes a copy (read before the push).
    func x87LoadRegister(_ i: Int) {
        guard let value = operand(i) else {
            guard stackUnderflow() else { return }
            return x87Push(FloatResult(value: .indefinite))
        }
        x87Push(FloatResult(value: value))
    }

    /// FLD1, FLDL2T, FLDL2E, FLDPI, FLDLG2, FLDLN2, FLDZ (D9 E8…EE). The constants are
    /// rounded by the rounding control from more precise values, so their last bit depends
    /// on RC (SDM Vol. 1, 8.3.8); no precision exception is raised.
    func x87LoadConstant(_ index: Int) {
        let constant: WideFloat = switch index {
        case 0: .one
        case 1: Transcendental.log2Of10
        case 2: Transcendental.log2e
        case 3: Transcendental.pi
        case 4: Transcendental.log10Of2
        case 5: Transcendental.ln2
        default: .zero
        }
        let exact = index == 0 || index == 6
        let value = constant.rounded(fpu.environment(precisionControl: false), exact: exact).value ?? .indefinite
        x87Push(FloatResult(value: value))
    }

    // MARK: Stores

    /// Writes a store's converted value (2, 4, 8 or 10 bytes) before any x87 state changes,
    /// then records the flags, C1 and the pop. A conversion without bits (unmasked
    /// exception) writes nothing and does not pop.
    func x87Store(_ d: Instruction, bytes: Int, _ conversion: MemoryConversion<Extended80>, pop: Bool) -> Step {
        if let bits = conversion.bits {
            let written = bytes == 10 ? writeExtended(d, bits) : writeOperand(d, bytes: bytes, bits.significand)
            guard written else { return .fault }
        }
        fpu.statusFlags |= conversion.flags
        fpu.setConditionCodes(c1: conversion.roundedUp)
        if conversion.bits != nil && pop { fpu.pop() }
        return .next
    }

    /// The store of an empty ST(0): a stack underflow that stores `indefinite` when masked.
    private func underflowStore(_ indefinite: Extended80) -> MemoryConversion<Extended80> {
        let masked = fpu.control & FPUException.invalid != 0
        return MemoryConversion(bits: masked ? indefinite : nil, flags: FPUException.invalid | FPUException.stackFault)
    }

    /// FST/FSTP m32/m64.
    func x87StoreBinary(_ d: Instruction, _ format: X87MemoryFormat, pop: Bool) -> Step {
        let floatFormat: FloatFormat = format == .single ? .single : .double
        let conversion: MemoryConversion<Extended80>
        if fpu.isEmpty(0) {
            conversion = underflowStore(Extended80(significand: format == .single ? 0xFFC0_0000 : 0xFFF8_0000_0000_0000,
                                                   signExponent: 0))
        } else {
            let binary = ExtendedConversions.toBinary(fpu.st(0), format: floatFormat, fpu.environment(precisionControl: false))
            conversion = MemoryConversion(bits: binary.bits.map { Extended80(significand: $0, signExponent: 0) },
                                          flags: binary.flags, roundedUp: binary.roundedUp)
        }
        return x87Store(d, bytes: format.bytes, conversion, pop: pop)
    }

    /// FIST/FISTP m16/m32, FISTP m64: an invalid conversion stores the integer indefinite when masked.
    func x87StoreInteger(_ d: Instruction, _ format: X87MemoryFormat, pop: Bool) -> Step {
        let bits = 8 * format.bytes
        let indefinite = Extended80(significand: ExtendedConversions.integerIndefinite(bits: bits), signExponent: 0)
        let conversion: MemoryConversion<Extended80>
        if fpu.isEmpty(0) {
            conversion = underflowStore(indefinite)
        } else {
            let integer = ExtendedConversions.toInteger(fpu.st(0), bits: bits, fpu.environment(precisionControl: false))
            let masked = fpu.control & FPUException.invalid != 0
            let stored = integer.bits.map { Extended80(significand: UInt64(bitPattern: $0), signExponent: 0) }
            conversion = MemoryConversion(bits: stored ?? (masked ? indefinite : nil), flags: integer.flags,
                                          roundedUp: integer.roundedUp)
        }
        return x87Store(d, bytes: format.bytes, conversion, pop: pop)
    }

    /// FSTP m80 (the register's bits) and FBSTP (rounded to an integer, as packed BCD).
    func x87StoreTenBytes(_ d: Instruction, packedBCD: Bool) -> Step {
        let indefinite = packedBCD
            ? Extended80(significand: ExtendedConversions.bcdIndefinite.low, signExponent: ExtendedConversions.bcdIndefinite.high)
            : Extended80.indefinite
        let conversion: MemoryConversion<Extended80>
        if fpu.isEmpty(0) {
            conversion = underflowStore(indefinite)
        } else if packedBCD {
            let bcd = ExtendedConversions.toPackedBCD(fpu.st(0), fpu.environment(precisionControl: false))
            let masked = fpu.control & FPUException.invalid != 0
            let stored = bcd.bits.map { Extended80(significand: $0.low, signExponent: $0.high) }
            conversion = MemoryConversion(bits: stored ?? (masked ? indefinite : nil), flags: bcd.flags, roundedUp: bcd.roundedUp)
        } else {
            conversion = MemoryConversion(bits: fpu.st(0), flags: 0)
        }
        return x87Store(d, bytes: 10, conversion, pop: true)
    }

    /// FST/FSTP ST(i): copies ST(0) as it is; C1 = 0.
    func x87StoreRegister(_ i: Int, pop: Bool) {
        guard let value = operand(0) else { return underflowResult(to: i, pop: pop) }
        fpu.setST(i, value)
        fpu.setConditionCodes(c1: false)
        if pop { fpu.pop() }
    }

    // MARK: Register exchange and conditional move

    /// FXCH ST(i); after a masked underflow the empty operands hold the indefinite first.
    func x87Exchange(_ i: Int) {
        if fpu.isEmpty(0) || fpu.isEmpty(i) {
            guard stackUnderflow() else { return }
            if fpu.isEmpty(0) { fpu.setST(0, .indefinite) }
            if fpu.isEmpty(i) { fpu.setST(i, .indefinite) }
        }
        let st0 = fpu.st(0)
        fpu.setST(0, fpu.st(i))
        fpu.setST(i, st0)
        fpu.setConditionCodes(c1: false)
    }

    /// FCMOVcc ST(0), ST(i) (DA C0–DF: B, E, BE, U; DB C0–DF: NB, NE, NBE, NU).
    func x87ConditionalMove(negated: Bool, _ reg: UInt8, _ i: Int) {
        guard !fpu.isEmpty(0), !fpu.isEmpty(i) else { return underflowResult(to: 0) }
        // B, E, BE, P as Jcc condition codes; the odd code is the negation.
        let code: UInt8 = switch reg & 3 {
        case 0: 2
        case 1: 4
        case 2: 6
        default: 10
        }
        if condition(code | (negated ? 1 : 0)) { fpu.setST(0, fpu.st(i)) }
        fpu.setConditionCodes(c1: false)
    }
}
