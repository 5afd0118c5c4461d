/// The SSE registers (SDM Vol. 1, 10.2): sixteen 128-bit XMM registers and MXCSR.
///
/// `init()` is the state after power-up or RESET (SDM Vol. 3A, Table 10-1, "XMM0–XMM15: 0H",
/// "MXCSR: 1F80H"); INIT leaves both unchanged (same table), so only `powerOnReset` replaces
/// this state. Legacy encodings reach XMM0–XMM7; the register numbers come from the decoded
/// ModRM fields (`CPU.xmmReg`, `CPU.xmmRM`), so REX.R and REX.B reach XMM8–XMM15 unchanged.
struct SSEState {
    var xmm = InlineArray<16, UInt128>(repeating: 0)
    var mxcsr: UInt32 = MXCSR.initial
}

/// The bits of MXCSR (SDM Vol. 1, 10.2.3, Figure 10-3). The six exception flags (bits 5–0) and
/// their masks (bits 12–7) are in the order of `FPUException`'s bits.
enum MXCSR {
    static let initial: UInt32 = 0x1F80
    /// MXCSR_MASK as FXSAVE stores it: every defined bit, DAZ included (SDM Vol. 1, 11.6.6);
    /// LDMXCSR and FXRSTOR raise #GP(0) for any other bit set.
    static let mask: UInt32 = 0xFFFF
    static let flags: UInt32 = 0x3F
    static let denormalsAreZero: UInt32 = 1 << 6
    static let maskShift: UInt32 = 7
    static let roundingShift: UInt32 = 13
    static let flushToZero: UInt32 = 1 << 15
}

/// The mandatory prefix that selects among an opcode's SSE forms (SDM Vol. 2, 2.1.2): when F2 or
/// F3 is present, 66 only changes the operand size; the last of F2 and F3 counts.
enum SIMDPrefix: UInt8 {
    case none = 0
    case operandSize = 1    // 66
    case repeatZ = 2        // F3
    case repeatNZ = 3       // F2
}

extension CPU {
    /// The XMM register of ModRM.reg (with REX.R once the decoder provides it).
    @inline(__always) func xmmReg(_ d: Instruction) -> Int { Int(d.reg >> 3) }
    /// The XMM register of ModRM.rm in a register form (with REX.B once the decoder provides it).
    @inline(__always) func xmmRM(_ d: Instruction) -> Int { Int(d.rm >> 3) }

    /// An XMM register by number, for owners, debuggers and tests.
    public func xmmRegister(_ i: Int) -> UInt128 { sse.xmm[i] }
    public func setXMMRegister(_ i: Int, _ value: UInt128) { sse.xmm[i] = value }
    /// MXCSR.
    public var mxcsr: UInt32 { sse.mxcsr }
}
