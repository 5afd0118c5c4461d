extension CPU {
    /// The full EFLAGS value, materializing the lazily kept status flags.
    public var eflags: UInt32 {
        get { (eflagsStored & ~EFlags.arithmetic) | arithmeticFlags() }
        set { setEFlags(newValue) }
    }

    /// Stores all of EFLAGS (status flags included) and drops the lazy state.
    @inline(__always) func setEFlags(_ value: UInt32) {
        eflagsStored = (value & EFlags.writable) | EFlags.reserved1
        flagOp = .stored
    }

    // The lazy state holds operands of any size zero-extended to 64 bits (results truncated
    // to the operand size), so one evaluation serves 8-, 16-, 32- and 64-bit operations.

    /// Records the operands of a flag-setting operation; flags are derived when read.
    @inline(__always) func setLazyFlags<Value: FixedWidthInteger & UnsignedInteger>(
        _ op: FlagOp, _ size: OperandSize, result: Value, dst: Value, src: Value) {
        flagOp = op
        flagSize = size
        flagResult = UInt64(result)
        flagDst = UInt64(dst)
        flagSrc = UInt64(src)
    }

    /// The flags of AND, OR, XOR and TEST: SF, ZF and PF from `result`, the others clear.
    @inline(__always) func setLogicFlags<Value: FixedWidthInteger & UnsignedInteger>(_ size: OperandSize, result: Value) {
        flagOp = .logic
        flagSize = size
        flagResult = UInt64(result)
    }

    /// The flags of INC and DEC: all but CF from `result` (`.inc` and `.dec` read neither
    /// operand), CF as it was. When the lazy state is already an INC's or DEC's, `flagAux`
    /// holds that CF, so only other states need it worked out.
    @inline(__always) func setIncDecFlags(_ op: FlagOp, _ size: OperandSize, result: UInt64) {
        if flagOp != .inc && flagOp != .dec { flagAux = carryFlag ? 1 : 0 }
        flagOp = op
        flagSize = size
        flagResult = result
    }

    /// SF, ZF and PF from `result`; CF, OF and AF given (shifts, multiplies).
    @inline(__always) func setFlagsWithAux<Value: FixedWidthInteger & UnsignedInteger>(_ size: OperandSize, result: Value, aux: UInt32) {
        flagOp = .resultWithAux
        flagSize = size
        flagResult = UInt64(result)
        flagAux = aux
    }

    /// Replaces only some status flags, keeping the others' current values.
    @inline(__always) func setStatusFlags(_ mask: UInt32, _ values: UInt32) {
        let current = arithmeticFlags()
        eflagsStored = (eflagsStored & ~EFlags.arithmetic) | (current & ~mask) | (values & mask)
        flagOp = .stored
    }

    @inline(__always) var carryFlag: Bool {
        switch flagOp {
        case .stored: eflagsStored & EFlags.carry != 0
        case .add: flagResult < flagDst
        case .adc: flagResult < flagDst || (flagAux != 0 && flagResult == flagDst)
        case .sub: flagDst < flagSrc
        case .sbb: flagDst < flagSrc || (flagAux != 0 && flagDst == flagSrc)
        case .logic: false
        case .inc, .dec: flagAux != 0
        case .resultWithAux: flagAux & EFlags.carry != 0
        }
    }

    @inline(__always) var zeroFlag: Bool {
        flagOp == .stored ? eflagsStored & EFlags.zero != 0 : flagResult == 0
    }

    @inline(__always) var signFlag: Bool {
        flagOp == .stored ? eflagsStored & EFlags.sign != 0 : flagResult & flagSize.signBit != 0
    }

    @inline(__always) var overflowFlag: Bool {
        let sign = flagSize.signBit
        switch flagOp {
        case .stored: return eflagsStored & EFlags.overflow != 0
        case .add, .adc: return (flagDst ^ flagResult) & (flagSrc ^ flagResult) & sign != 0
        case .sub, .sbb: return (flagDst ^ flagSrc) & (flagDst ^ flagResult) & sign != 0
        case .logic: return false
        case .inc: return flagResult == sign
        case .dec: return flagResult == sign &- 1
        case .resultWithAux: return flagAux & EFlags.overflow != 0
        }
    }

    @inline(__always) var parityFlag: Bool {
        flagOp == .stored ? eflagsStored & EFlags.parity != 0 : evenParity(UInt32(truncatingIfNeeded: flagResult))
    }

    @inline(__always) var auxiliaryFlag: Bool {
        switch flagOp {
        case .stored: eflagsStored & EFlags.auxiliary != 0
        case .add, .adc, .sub, .sbb: (flagDst ^ flagSrc ^ flagResult) & 0x10 != 0
        case .logic: false
        case .inc: flagResult & 0xF == 0
        case .dec: flagResult & 0xF == 0xF
        case .resultWithAux: flagAux & EFlags.auxiliary != 0
        }
    }

    /// The six status flags as EFLAGS bits, derived in one pass over the lazy state.
    func arithmeticFlags() -> UInt32 {
        let sign = flagSize.signBit
        let result = flagResult
        var f: UInt32
        switch flagOp {
        case .stored:
            return eflagsStored & EFlags.arithmetic
        case .add, .adc:
            let carry = result < flagDst || (flagOp == .adc && flagAux != 0 && result == flagDst)
            f = (carry ? EFlags.carry : 0) | (UInt32(truncatingIfNeeded: flagDst ^ flagSrc ^ result) & EFlags.auxiliary)
            if (flagDst ^ result) & (flagSrc ^ result) & sign != 0 { f |= EFlags.overflow }
        case .sub, .sbb:
            let borrow = flagDst < flagSrc || (flagOp == .sbb && flagAux != 0 && flagDst == flagSrc)
            f = (borrow ? EFlags.carry : 0) | (UInt32(truncatingIfNeeded: flagDst ^ flagSrc ^ result) & EFlags.auxiliary)
            if (flagDst ^ flagSrc) & (flagDst ^ result) & sign != 0 { f |= EFlags.overflow }
        case .logic:
            f = 0
        case .inc:
            f = (flagAux != 0 ? EFlags.carry : 0) | (result & 0xF == 0 ? EFlags.auxiliary : 0)
                | (result == sign ? EFlags.overflow : 0)
        case .dec:
            f = (flagAux != 0 ? EFlags.carry : 0) | (result & 0xF == 0xF ? EFlags.auxiliary : 0)
                | (result == sign &- 1 ? EFlags.overflow : 0)
        case .resultWithAux:
            f = flagAux & (EFlags.carry | EFlags.overflow | EFlags.auxiliary)
        }
        if result == 0 { f |= EFlags.zero }
        if result & sign != 0 { f |= EFlags.sign }
        if evenParity(UInt32(truncatingIfNeeded: result)) { f |= EFlags.parity }
        return f
    }

    /// Evaluates a condition code (the low four bits of Jcc/SETcc/CMOVcc opcodes).
    @inline(__always) func condition(_ cc: UInt8) -> Bool {
        let result: Bool
        switch cc >> 1 {
        case 0: result = overflowFlag
        case 1: result = carryFlag
        case 2: result = zeroFlag
        case 3: result = carryFlag || zeroFlag
        case 4: result = signFlag
        case 5: result = parityFlag
        case 6: result = signFlag != overflowFlag
        default: result = zeroFlag || signFlag != overflowFlag
        }
        return result != (cc & 1 != 0)
    }

    @inline(__always) var interruptFlag: Bool { eflagsStored & EFlags.interrupt != 0 }
    @inline(__always) var directionFlag: Bool { eflagsStored & EFlags.direction != 0 }
}
