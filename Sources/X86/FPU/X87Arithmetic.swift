/// The formats of x87 memory operands used as arithmetic sources.
enum X87MemoryFormat {
    case single, double, int16, int32, int64

    var bytes: Int {
        switch self {
        case .int16: 2
        case .single, .int32: 4
        case .double, .int64: 8
        }
    }
}

/// x87 basic arithmetic and comparisons (SDM Vol. 1, 8.3.5–8.3.7): FADD, FSUB, FSUBR, FMUL,
/// FDIV, FDIVR and their P and I forms, FCOM/FUCOM/FICOM/FTST and FCOMI/FUCOMI, the unary
/// operations on ST(0), FSCALE, FXTRACT and FPREM/FPREM1.
extension CPU {
    // MARK: Stack faults and results

    /// Stack underflow: IE and SF, C1 = 0 (SDM Vol. 1, 8.5.1.1). Returns whether the
    /// exception is masked, in which case the caller writes the real indefinite.
    func stackUnderflow() -> Bool {
        fpu.statusFlags |= FPUException.invalid | FPUException.stackFault
        fpu.setConditionCodes(c1: false)
        return fpu.control & FPUException.invalid != 0
    }

    /// Stack overflow on a push into a non-empty register: IE and SF, C1 = 1.
    func stackOverflow() -> Bool {
        fpu.statusFlags |= FPUException.invalid | FPUException.stackFault
        fpu.setConditionCodes(c1: true)
        return fpu.control & FPUException.invalid != 0
    }

    /// Whether a push would overflow: the register below ST(0) is in use.
    var pushOverflows: Bool { !fpu.isEmpty(7) }

    /// Records an operation's flags and, unless an unmasked exception withheld the result,
    /// writes it to ST(i) with C1 telling whether it was rounded up, then pops when asked.
    func commit(_ result: FloatResult, to i: Int, pop: Bool = false) {
        fpu.statusFlags |= result.flags
        guard let value = result.value else { return }
        fpu.setST(i, value)
        fpu.setConditionCodes(c1: result.roundedUp)
        if pop { fpu.pop() }
    }

    /// The indefinite into ST(i) after a masked stack underflow (then the pop), nothing when unmasked.
    func underflowResult(to i: Int, pop: Bool = false) {
        guard stackUnderflow() else { return }
        fpu.setST(i, .indefinite)
        if pop { fpu.pop() }
    }

    /// Reads a memory source operand exactly: floating-point values keep a signaling NaN
    /// signaling and report whether they were denormal; integers are always exact.
    func readX87Source(_ d: Instruction, _ format: X87MemoryFormat) -> (value: Extended80, denormal: Bool)? {
        guard let bits = readOperand(d, bytes: format.bytes) else { return nil }
        switch format {
        case .single, .double:
            return ExtendedConversions.fromBinary(bits, format: format == .single ? .single : .double)
        case .int16: return (ExtendedConversions.fromInteger(Int64(Int16(truncatingIfNeeded: bits))), false)
        case .int32: return (ExtendedConversions.fromInteger(Int64(Int32(truncatingIfNeeded: bits))), false)
        case .int64: return (ExtendedConversions.fromInteger(Int64(bitPattern: bits)), false)
        }
    }

    // MARK: FADD FMUL FSUB FSUBR FDIV FDIVR

    /// The operation ModR/M.reg selects, with `a` = ST(0) and `b` the other operand: 0 add,
    /// 1 multiply, 4 a − b, 5 b − a, 6 a / b, 7 b / a. (In the DC and DE register forms the
    /// mnemonics swap — DC E8+i is FSUB ST(i), ST(0) — but the operation by reg stays.)
    static func x87Arithmetic(_ reg: UInt8, _ a: Extended80, _ b: Extended80, _ environment: FloatEnvironment) -> FloatResult {
        switch reg {
        case 0: ExtendedArithmetic.add(a, b, environment)
        case 1: ExtendedArithmetic.multiply(a, b, environment)
        case 4: ExtendedArithmetic.subtract(a, b, environment)
        case 5: ExtendedArithmetic.subtract(b, a, environment)
        case 6: ExtendedArithmetic.divide(a, b, environment)
        default: ExtendedArithmetic.divide(b, a, environment)
        }
    }

    /// D8, DC, DE register forms: ST(0) with ST(i) into `destination` (ST(0) or ST(i)).
    func x87ArithmeticRegister(_ reg: UInt8, _ i: Int, destination: Int, pop: Bool) {
        guard !fpu.isEmpty(0), !fpu.isEmpty(i) else { return underflowResult(to: destination, pop: pop) }
        let result = CPU.x87Arithmetic(reg, fpu.st(0), fpu.st(i), fpu.environment(precisionControl: true))
        commit(result, to: destination, pop: pop)
    }

    /// D8, DA, DC, DE memory forms: FADD … FDIVR, FCOM and FCOMP with a memory operand.
    func x87ArithmeticMemory(_ d: Instruction, _ format: X87MemoryFormat) -> Step {
        guard let (source, denormal) = readX87Source(d, format) else { return .fault }
        if d.sub == 2 || d.sub == 3 {
            x87Compare(with: source, denormalSource: denormal, quiet: false, pops: Int(d.sub) - 2, setEFlags: false)
            return .next
        }
        guard !fpu.isEmpty(0) else {
            underflowResult(to: 0)
            return .next
        }
        var environment = fpu.environment(precisionControl: true)
        environment.denormalSource = denormal
        commit(CPU.x87Arithmetic(d.sub, fpu.st(0), source, environment), to: 0)
        return .next
    }

    // MARK: Comparisons

    /// FCOM family: compares ST(0) with `b` (`nil`: an empty register) and sets C3 C2 C0 or,
    /// for FCOMI/FUCOMI, ZF PF CF: greater 000, less 001, equal 100, unordered 111
    /// (SDM Vol. 2, FCOM and FCOMI). The ordered forms raise IE for any NaN, the unordered
    /// ones (`quiet`) only for SNaNs; an unmasked IE or DE leaves codes and stack alone.
    func x87Compare(with b: Extended80?, denormalSource: Bool = false, quiet: Bool, pops: Int, setEFlags: Bool) {
        let ordering: ExtendedArithmetic.Ordering
        if let b, !fpu.isEmpty(0) {
            let a = fpu.st(0)
            var flags: UInt16 = 0
            if a.isUnsupported || b.isUnsupported || a.isSignalingNaN || b.isSignalingNaN
                || (!quiet && (a.isNaN || b.isNaN)) {
                flags = FPUException.invalid
            } else if a.isDenormal || b.isDenormal || denormalSource {
                flags = FPUException.denormal
            }
            fpu.statusFlags |= flags
            fpu.setConditionCodes(c1: false)
            if flags & ~fpu.control != 0 { return }
            ordering = ExtendedArithmetic.compare(a, b)
        } else {
            guard stackUnderflow() else { return }
            ordering = .unordered
        }
        let (greater, less, equal) = (ordering == .greater, ordering == .less, ordering == .equal)
        if setEFlags {
            let value = (less || ordering == .unordered ? EFlags.carry : 0)
                | (equal || ordering == .unordered ? EFlags.zero : 0)
                | (ordering == .unordered ? EFlags.parity : 0)
            setStatusFlags(EFlags.arithmetic, value)
        } else {
            fpu.setConditionCodes(c0: !greater && !equal, c2: ordering == .unordered, c3: !greater && !less)
        }
        for _ in 0..<pops { fpu.pop() }
    }

    /// The other operand of a register-form comparison: ST(i), or `nil` when it is empty.
    func operand(_ i: Int) -> Extended80? { fpu.isEmpty(i) ? nil : fpu.st(i) }

    // MARK: Operations on ST(0)

    /// FCHS, FABS: sign-bit operations that raise nothing but a stack underflow; C1 = 0.
    func x87SignOperation(absolute: Bool) {
        guard !fpu.isEmpty(0) else { return underflowResult(to: 0) }
        let a = fpu.st(0)
        fpu.setST(0, absolute ? a.magnitude : a.negated)
        fpu.setConditionCodes(c1: false)
    }

    /// FXAM: classifies ST(0), empty or not, into C3 C2 C0; C1 is its sign (SDM Vol. 2, FXAM).
    func x87Examine() {
        let a = fpu.st(0)
        let (c3, c2, c0): (Bool, Bool, Bool)
        if fpu.isEmpty(0) {
            (c3, c2, c0) = (true, false, true)
        } else {
            switch a.kind {
            case .unnormal, .pseudoInfinity, .pseudoNaN: (c3, c2, c0) = (false, false, false)
            case .quietNaN, .signalingNaN: (c3, c2, c0) = (false, false, true)
            case .normal: (c3, c2, c0) = (false, true, false)
            case .infinity: (c3, c2, c0) = (false, true, true)
            case .zero: (c3, c2, c0) = (true, false, false)
            case .denormal, .pseudoDenormal: (c3, c2, c0) = (true, true, false)
            }
        }
        fpu.setConditionCodes(c0: c0, c1: a.sign, c2: c2, c3: c3)
    }

    /// FSQRT (obeys precision control) and FRNDINT on ST(0).
    func x87Unary(squareRoot: Bool) {
        guard !fpu.isEmpty(0) else { return underflowResult(to: 0) }
        let a = fpu.st(0)
        let result = squareRoot
            ? ExtendedArithmetic.squareRoot(a, fpu.environment(precisionControl: true))
            : ExtendedArithmetic.roundToIntegral(a, fpu.environment(precisionControl: false))
        commit(result, to: 0)
    }

    /// FSCALE: ST(0) × 2^trunc(ST(1)).
    func x87Scale() {
        guard !fpu.isEmpty(0), !fpu.isEmpty(1) else { return underflowResult(to: 0) }
        commit(ExtendedArithmetic.scale(fpu.st(0), by: fpu.st(1), fpu.environment(precisionControl: false)), to: 0)
    }

    /// FPREM, FPREM1: ST(0) ← partial remainder of ST(0) / ST(1); C2 set while incomplete,
    /// else C0 C3 C1 the quotient's bits 2, 1, 0 (SDM Vol. 2, FPREM).
    func x87PartialRemainder(nearest: Bool) {
        guard !fpu.isEmpty(0), !fpu.isEmpty(1) else { return underflowResult(to: 0) }
        let remainder = ExtendedArithmetic.remainder(fpu.st(0), fpu.st(1), nearest: nearest,
                                                     fpu.environment(precisionControl: false))
        fpu.statusFlags |= remainder.result.flags
        guard let value = remainder.result.value else { return }
        fpu.setST(0, value)
        let q = remainder.quotientBits
        if remainder.complete {
            fpu.setConditionCodes(c0: q & 4 != 0, c1: q & 1 != 0, c2: false, c3: q & 2 != 0)
        } else {
            fpu.setConditionCodes(c0: false, c1: false, c2: true, c3: false)
        }
    }

    /// FXTRACT: ST(0) ← exponent, then push the significand (exponent 0): afterwards ST(0)
    /// is the significand and ST(1) the unbiased exponent. ±0 divides by zero (ST(1) = −∞).
    func x87Extract() {
        guard !fpu.isEmpty(0) else {
            guard stackUnderflow() else { return }
            fpu.setST(0, .indefinite)
            return fpu.push(.indefinite)
        }
        guard !pushOverflows else {
            guard stackOverflow() else { return }
            fpu.setST(0, .indefinite)
            return fpu.push(.indefinite)
        }
        let a = fpu.st(0)
        let environment = fpu.environment(precisionControl: false)
        let exponent: FloatResult
        let significand: Extended80
        if let result = ExtendedArithmetic.screen(a, environment) {
            (exponent, significand) = (result, result.value ?? a)
        } else if a.isZero {
            (exponent, significand) = (FloatResult.divideByZero(sign: true, environment), a)
        } else if a.isInfinity {
            (exponent, significand) = (FloatResult(value: .infinity(sign: false)), a)
        } else {
            let (flags, stop) = ExtendedArithmetic.denormalCheck(a, environment: environment)
            let x = a.unpacked
            exponent = stop ?? FloatResult(value: ExtendedConversions.fromInteger(Int64(x.exponent)), flags: flags)
            significand = Extended80(sign: x.sign, biasedExponent: 0x3FFF, significand: x.significand)
        }
        fpu.statusFlags |= exponent.flags
        guard let value = exponent.value else { return }
        fpu.setST(0, value)
        fpu.push(significand)
    }
}
