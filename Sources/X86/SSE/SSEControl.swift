/// The SSE members of the 0F AE group besides FXSAVE/FXRSTOR (FXSave.swift): LDMXCSR (/2),
/// STMXCSR (/3), LFENCE (/5), MFENCE (/6), SFENCE (/7, register form) and CLFLUSH (/7, memory
/// form). /4 and the other forms are later extensions (XSAVE…): #UD.
extension CPU {
    func execSSEControl(_ d: Instruction) -> Step {
        switch (d.sub, d.hasMemoryOperand) {
        case (2, true), (3, true):
            // SDM Vol. 2, LDMXCSR/STMXCSR: #UD if CR0.EM or not CR4.OSFXSR, #NM if CR0.TS.
            if cr0 & ControlRegister0.emulation != 0 || cr4 & ControlRegister4.osfxsr == 0 {
                return raiseFault(.invalidOpcode)
            }
            if cr0 & ControlRegister0.taskSwitched != 0 { return raiseFault(.deviceNotAvailable) }
            if d.sub == 3 { return write(d.segment, effectiveAddress(d), .dword, UInt64(sse.mxcsr)) ? .next : .fault }
            guard let value = read32(d.segment, effectiveAddress(d)) else { return .fault }
            // Reserved bits set: #GP(0), MXCSR unchanged.
            if value & ~MXCSR.mask != 0 { return raiseFault(.generalProtection, errorCode: 0) }
            sse.mxcsr = value
            return .next
        case (5, false), (6, false), (7, false):
            // The fences order memory accesses; this processor performs them in program order.
            return .next
        case (7, true):
            // CLFLUSH: there are no caches to write back, but the access is checked as a byte
            // read (SDM Vol. 2, CLFLUSH: segment limit, page faults).
            return read8(d.segment, effectiveAddress(d)) == nil ? .fault : .next
        default:
            return raiseFault(.invalidOpcode)
        }
    }
}
