/// The x87 floating-point unit and MMX: escape opcodes D8–DF, WAIT, the MMX
/// opcodes of the 0F map and the 0F AE group (FXSAVE/FXRSTOR).
extension CPU {
    /// x87 escape (D8–DF) without a coprocessor: #NM when CR0.EM or CR0.TS is set,
    /// otherwise the instruction completes without effect, as on a board whose
    /// coprocessor socket is empty. (The x87 unit comes with the protected-mode issue.)
    func execFPUEscape(_ d: Instruction) -> Step {
        if cr0 & (ControlRegister0.emulation | ControlRegister0.taskSwitched) != 0 {
            return raiseFault(.deviceNotAvailable)
        }
        // The memory operand is still addressed, so it is still limit-checked.
        if d.hasMemoryOperand {
            let size = CPU.fpuMemoryOperandSize(escape: UInt8(d.imm), reg: d.sub)
            guard linearAddress(d.segment, effectiveAddress(d), size) != nil else { return .fault }
        }
        return .next
    }

    /// Bytes of an x87 memory operand by escape opcode (D8–DF) and ModRM.reg (SDM Vol. 2, Table A-7 … A-22).
    static func fpuMemoryOperandSize(escape: UInt8, reg: UInt8) -> Int {
        switch (escape, reg) {
        case (0, _), (2, _): 4
        case (1, 0), (1, 2), (1, 3): 4
        case (1, 4), (1, 6): 14         // FLDENV/FNSTENV (16-bit form: 14 bytes)
        case (1, _): 2                  // FLDCW/FNSTCW
        case (3, 5), (3, 7): 10         // FLD/FSTP m80
        case (3, _): 4
        case (4, _): 8
        case (5, 4), (5, 6): 94         // FRSTOR/FNSAVE (16-bit form)
        case (5, 7): 2                  // FNSTSW
        case (5, _): 8
        case (6, _): 2
        case (7, 4), (7, 6): 10         // FBLD/FBSTP
        case (7, 5), (7, 7): 8          // FILD/FISTP m64
        default: 2
        }
    }

    /// WAIT/FWAIT: #NM when CR0.MP and CR0.TS are both set.
    func execWait() -> Step {
        let both = ControlRegister0.monitorCoprocessor | ControlRegister0.taskSwitched
        return cr0 & both == both ? raiseFault(.deviceNotAvailable) : .next
    }

    /// MMX instructions (0F 60–7F, 0F D0–FF; `imm` holds the second opcode byte, `imm2` an
    /// immediate shift count for 0F 71–73).
    func execMMX(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }

    /// 0F AE group: FXSAVE, FXRSTOR, LDMXCSR, STMXCSR, the fences and CLFLUSH (ModRM.reg in `sub`).
    func execFxGroup(_ d: Instruction) -> Step {
        raiseFault(.invalidOpcode)
    }
}
