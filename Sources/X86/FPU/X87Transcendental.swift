/// x87 transcendental instructions (SDM Vol. 1, 8.3.9–8.3.10): FSIN, FCOS, FSINCOS, FPTAN,
/// FPATAN, F2XM1, FYL2X, FYL2XP1. None obeys precision control.
extension CPU {
    /// FSIN, FCOS: ST(0) ← f(ST(0)); an operand beyond ±2^63 sets C2 and stays.
    func x87Trigonometric(_ function: Transcendental.Trigonometric) {
        guard !fpu.isEmpty(0) else { return underflowResult(to: 0) }
        let x = fpu.st(0)
        if Transcendental.isOutOfTrigonometricRange(x) { return fpu.setConditionCodes(c2: true) }
        fpu.setConditionCodes(c2: false)
        commit(Transcendental.trigonometric(function, x, fpu.environment(precisionControl: false)), to: 0)
    }

    /// FSINCOS (ST(0) ← sin, push cos) and FPTAN (ST(0) ← tan, push 1.0).
    func x87TrigonometricPair(tangent: Bool) {
        guard !fpu.isEmpty(0), !pushOverflows else {
            guard fpu.isEmpty(0) ? stackUnderflow() : stackOverflow() else { return }
            fpu.setST(0, .indefinite)
            return fpu.push(.indefinite)
        }
        let x = fpu.st(0)
        if Transcendental.isOutOfTrigonometricRange(x) { return fpu.setConditionCodes(c2: true) }
        let environment = fpu.environment(precisionControl: false)
        let first = Transcendental.trigonometric(tangent ? .tangent : .sine, x, environment)
        var second = tangent ? FloatResult(value: .one) : Transcendental.trigonometric(.cosine, x, environment)
        if x.isNaN || x.isUnsupported || x.isInfinity { second = first }
        fpu.statusFlags |= first.flags | second.flags
        guard let value = first.value, let pushed = second.value else { return }
        // C1 reports the rounding of the tangent, or of the cosine.
        fpu.setConditionCodes(c1: tangent ? first.roundedUp : second.roundedUp, c2: false)
        fpu.setST(0, value)
        fpu.push(pushed)
    }

    /// FPATAN, FYL2X, FYL2XP1: ST(1) ← f(ST(1), ST(0)), then pop.
    func x87Binary(_ function: (Extended80, Extended80, FloatEnvironment) -> FloatResult) {
        guard !fpu.isEmpty(0), !fpu.isEmpty(1) else { return underflowResult(to: 1, pop: true) }
        commit(function(fpu.st(1), fpu.st(0), fpu.environment(precisionControl: false)), to: 1, pop: true)
    }

    /// F2XM1: ST(0) ← 2^ST(0) − 1.
    func x87Exp2MinusOne() {
        guard !fpu.isEmpty(0) else { return underflowResult(to: 0) }
        commit(Transcendental.exp2MinusOne(fpu.st(0), fpu.environment(precisionControl: false)), to: 0)
    }
}
