/// DAA, DAS, AAA, AAS, AAM, AAD and SALC (SDM Vol. 2 pseudocode).
extension CPU {
    private var al: UInt8 {
        get { UInt8(truncatingIfNeeded: regs[0]) }
        set { rawRegs.storeBytes(of: newValue, toByteOffset: 0, as: UInt8.self) }
    }
    private var ah: UInt8 {
        get { UInt8(truncatingIfNeeded: regs[0] >> 8) }
        set { rawRegs.storeBytes(of: newValue, toByteOffset: 1, as: UInt8.self) }
    }

    /// Sets SF, ZF, PF from AL and CF, AF as given; OF is cleared.
    private func setDecimalFlags(carry: Bool, auxiliary: Bool) {
        var aux: UInt32 = 0
        if carry { aux |= EFlags.carry }
        if auxiliary { aux |= EFlags.auxiliary }
        setFlagsWithAux(.byte, result: UInt32(al), aux: aux)
    }

    func execDaa() -> Step {
        let oldAL = al
        let oldCF = carryFlag
        var carry = false
        var auxiliary = false
        if oldAL & 0x0F > 9 || auxiliaryFlag {
            carry = oldCF || oldAL > 0xF9
            al = oldAL &+ 6
            auxiliary = true
        }
        if oldAL > 0x99 || oldCF {
            al = al &+ 0x60
            carry = true
        }
        setDecimalFlags(carry: carry, auxiliary: auxiliary)
        return .next
    }

    func execDas() -> Step {
        let oldAL = al
        let oldCF = carryFlag
        var carry = false
        var auxiliary = false
        if oldAL & 0x0F > 9 || auxiliaryFlag {
            carry = oldCF || oldAL < 6
            al = oldAL &- 6
            auxiliary = true
        }
        if oldAL > 0x99 || oldCF {
            al = al &- 0x60
            carry = true
        }
        setDecimalFlags(carry: carry, auxiliary: auxiliary)
        return .next
    }

    func execAaa() -> Step {
        let adjust = al & 0x0F > 9 || auxiliaryFlag
        if adjust {
            setReg16(.rax, reg16(.rax) &+ 0x106)
        }
        al &= 0x0F
        setDecimalFlags(carry: adjust, auxiliary: adjust)
        return .next
    }

    func execAas() -> Step {
        let adjust = al & 0x0F > 9 || auxiliaryFlag
        if adjust {
            setReg16(.rax, reg16(.rax) &- 6)
            ah = ah &- 1
        }
        al &= 0x0F
        setDecimalFlags(carry: adjust, auxiliary: adjust)
        return .next
    }

    /// AAM imm8: AH = AL / imm8, AL = AL mod imm8; #DE when imm8 is 0.
    func execAam(_ d: Instruction) -> Step {
        let base = UInt8(truncatingIfNeeded: d.imm)
        if base == 0 { return raiseFault(.divideError) }
        let value = al
        ah = value / base
        al = value % base
        setLogicFlags(.byte, result: UInt32(al))
        return .next
    }

    /// AAD imm8: AL = AL + AH × imm8 (low byte), AH = 0.
    func execAad(_ d: Instruction) -> Step {
        let product = UInt32(ah) &* (d.imm & 0xFF)
        let dst = UInt32(al)
        _ = alu(AluKind.add.rawValue, UInt64(dst), UInt64(product & 0xFF), .byte)
        setReg16(.rax, UInt16((dst &+ product) & 0xFF))
        return .next
    }

    /// SALC (undocumented D6): AL = CF ? FFh : 00h.
    func execSalc() -> Step {
        al = carryFlag ? 0xFF : 0
        return .next
    }
}
