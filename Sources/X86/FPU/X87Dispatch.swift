/// The escape opcodes D8–DF by form (SDM Vol. 2, Appendix A.4, Tables ). Only
/// encodings `X87Encoding.kind` accepts arrive here.
extension CPU {
    /// Memory forms, by escape byte and ModR/M.reg.
    func executeX87Memory(_ d: Instruction) -> Step {
        switch (UInt8(truncatingIfNeeded: d.imm), d.sub) {
        case (0, _): return x87ArithmeticMemory(d, .single)
        case (2, _): return x87ArithmeticMemory(d, .int32)
        case (4, _): return x87ArithmeticMemory(d, .double)
        case (6, _): return x87ArithmeticMemory(d, .int16)
        case (1, 0): return x87LoadBinary(d, .single)
        case (5, 0): return x87LoadBinary(d, .double)
        case (3, 5): return x87LoadTenBytes(d, packedBCD: false)
        case (7, 4): return x87LoadTenBytes(d, packedBCD: true)
        case (7, 0): return x87LoadInteger(d, .int16)
        case (3, 0): return x87LoadInteger(d, .int32)
        case (7, 5): return x87LoadInteger(d, .int64)
        case (1, 2), (1, 3): return x87StoreBinary(d, .single, pop: d.sub == 3)
        case (5, 2), (5, 3): return x87StoreBinary(d, .double, pop: d.sub == 3)
        case (7, 2), (7, 3): return x87StoreInteger(d, .int16, pop: d.sub == 3)
        case (3, 2), (3, 3): return x87StoreInteger(d, .int32, pop: d.sub == 3)
        case (7, 7): return x87StoreInteger(d, .int64, pop: true)
        case (3, 7): return x87StoreTenBytes(d, packedBCD: false)
        case (7, 6): return x87StoreTenBytes(d, packedBCD: true)
        case (1, 4): return x87LoadState(d, registers: false)
        case (5, 4): return x87LoadState(d, registers: true)
        case (1, 6): return x87StoreState(d, registers: false)
        case (5, 6): return x87StoreState(d, registers: true)
        case (1, 5): return x87LoadControlWord(d)
        case (1, 7): return write(d.segment, effectiveAddress(d), .word, UInt64(fpu.control)) ? .next : .fault
        default: return write(d.segment, effectiveAddress(d), .word, UInt64(fpu.status)) ? .next : .fault  // DD /7 FNSTSW
        }
    }

    /// Register forms, by escape byte, ModR/M.reg and ModR/M.rm (`i`).
    func executeX87Register(_ d: Instruction, _ i: Int) -> Step {
        let escape = UInt8(truncatingIfNeeded: d.imm)
        let reg = d.sub
        switch (escape, reg) {
        case (0, 2), (0, 3), (4, 2), (4, 3), (6, 2):                     // FCOM, FCOMP (and aliases)
            x87Compare(with: operand(i), quiet: false, pops: reg == 2 && escape != 6 ? 0 : 1, setEFlags: false)
        case (6, 3): x87Compare(with: operand(1), quiet: false, pops: 2, setEFlags: false)    // FCOMPP
        case (5, 4), (5, 5): x87Compare(with: operand(i), quiet: true, pops: Int(reg) - 4, setEFlags: false)
        case (2, 5): x87Compare(with: operand(1), quiet: true, pops: 2, setEFlags: false)     // FUCOMPP
        case (3, 5), (3, 6), (7, 5), (7, 6):                             // FUCOMI FCOMI FUCOMIP FCOMIP
            x87Compare(with: operand(i), quiet: reg == 5, pops: escape == 7 ? 1 : 0, setEFlags: true)
        case (0, _): x87ArithmeticRegister(reg, i, destination: 0, pop: false)
        case (4, _): x87ArithmeticRegister(reg, i, destination: i, pop: false)
        case (6, _): x87ArithmeticRegister(reg, i, destination: i, pop: true)
        case (1, 0): x87LoadRegister(i)
        case (1, 1), (5, 1), (7, 1): x87Exchange(i)
        case (1, 2): break                                                // FNOP
        case (3, 4):                                                      // DB E0–E4
            switch i {
            case 2: x87ClearExceptions()                                  // FNCLEX
            case 3: fpu.initialize()                                      // FNINIT
            default: break                                                // FNENI FNDISI FNSETPM: no-ops since the 387
            }
        case (5, 2): x87StoreRegister(i, pop: false)
        case (1, 3), (5, 3), (7, 2), (7, 3): x87StoreRegister(i, pop: true)
        case (2, _): x87ConditionalMove(negated: false, reg, i)
        case (3, _): x87ConditionalMove(negated: true, reg, i)
        case (5, 0): fpu.free(i)                                          // FFREE
        case (7, 0):                                                      // FFREEP
            fpu.free(i)
            fpu.pop()
        case (7, 4): setReg16(.rax, fpu.status)                          // FNSTSW AX
        case (1, 4): executeX87Group4(i)
        case (1, 5): x87LoadConstant(i)
        default: executeX87Group6And7(UInt8(reg & 1) << 3 | UInt8(i))
        }
        return .next
    }

    /// D9 E0–E5: FCHS, FABS, FTST, FXAM.
    private func executeX87Group4(_ i: Int) {
        switch i {
        case 0: x87SignOperation(absolute: false)
        case 1: x87SignOperation(absolute: true)
        case 4: x87Compare(with: fpu.isEmpty(0) ? nil : .positiveZero, quiet: false, pops: 0, setEFlags: false)
        default: x87Examine()
        }
    }

    /// D9 F0–FF by the low four bits of the ModR/M byte.
    private func executeX87Group6And7(_ low: UInt8) {
        switch low {
        case 0x0: x87Exp2MinusOne()
        case 0x1: x87Binary(Transcendental.yLog2X)
        case 0x2: x87TrigonometricPair(tangent: true)
        case 0x3: x87Binary(Transcendental.arctangent)
        case 0x4: x87Extract()
        case 0x5: x87PartialRemainder(nearest: true)
        case 0x6:                                                         // FDECSTP
            fpu.top = (fpu.top &- 1) & 7
            fpu.setConditionCodes(c1: false)
        case 0x7:                                                         // FINCSTP
            fpu.top = (fpu.top &+ 1) & 7
            fpu.setConditionCodes(c1: false)
        case 0x8: x87PartialRemainder(nearest: false)
        case 0x9: x87Binary(Transcendental.yLog2XPlusOne)
        case 0xA: x87Unary(squareRoot: true)
        case 0xB: x87TrigonometricPair(tangent: false)
        case 0xC: x87Unary(squareRoot: false)
        case 0xD: x87Scale()
        case 0xE: x87Trigonometric(.sine)
        default: x87Trigonometric(.cosine)
        }
    }
}
