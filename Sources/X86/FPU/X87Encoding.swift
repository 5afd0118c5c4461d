/// Which D8–DF encodings exist and how each treats pending exceptions and the last-instruction
/// pointers (SDM Vol. 2, Appendix A.4 "Escape opcode instructions"; Vol. 1, 8.3.11 and 8.6).
enum X87Encoding {
    enum Kind: Equatable {
        /// FNINIT, FNCLEX, FNSTSW, FNSTCW, FNSTENV, FNSAVE (and the 8087's FNENI, FNDISI,
        /// FNSETPM, which execute as no-ops): never check for a pending exception.
        case noWait
        /// FLDCW, FLDENV, FRSTOR: wait, but leave FIP/FCS/FOP/FDP/FDS alone.
        case waitingControl
        /// Everything else: wait, then record the instruction and operand pointers.
        case waiting
    }

    /// The kind of an escape instruction, or `nil` for an undefined encoding (#UD). The
    /// register-form aliases real processors execute (FSTP1 D9 D8+i, FCOM2 DC D0+i,
    /// FCOMP3 DC D8+i, FXCH4 DD C8+i, FCOMP5 DE D0+i, FXCH7 DF C8+i, FSTP8 DF D0+i,
    /// FSTP9 DF D8+i) are defined; FISTTP (SSE3) is not.
    static func kind(escape: UInt8, reg: UInt8, rm: Int, memory: Bool) -> Kind? {
        if memory {
            switch (escape, reg) {
            case (1, 1), (3, 1), (3, 4), (3, 6), (5, 1), (5, 5), (7, 1): return nil
            case (1, 6), (1, 7), (5, 6), (5, 7): return .noWait
            case (1, 4), (1, 5), (5, 4): return .waitingControl
            default: return .waiting
            }
        }
        switch (escape, reg) {
        case (1, 2): return rm == 0 ? .waiting : nil                      // FNOP
        case (1, 4): return 0b0011_0011 >> rm & 1 != 0 ? .waiting : nil  // FCHS FABS FTST FXAM
        case (1, 5): return rm != 7 ? .waiting : nil                      // constants
        case (2, 4), (2, 6), (2, 7), (5, 6), (5, 7), (7, 7): return nil
        case (2, 5): return rm == 1 ? .waiting : nil                      // FUCOMPP
        case (3, 4): return rm <= 4 ? .noWait : nil                        // FNENI FNDISI FNCLEX FNINIT FNSETPM
        case (3, 7): return nil
        case (6, 3): return rm == 1 ? .waiting : nil                      // FCOMPP
        case (7, 4): return rm == 0 ? .noWait : nil                       // FNSTSW AX
        default: return .waiting
        }
    }
}
