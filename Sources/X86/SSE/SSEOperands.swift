/// Operands of SSE instructions: XMM and MMX registers and 2- to 16-byte memory operands.
extension CPU {
    /// Whether the 16-byte memory operand at `offset` is not aligned on a 16-byte boundary
    /// (judged on the linear address, as FXSAVE is).
    private func isMisaligned16(_ d: Instruction, _ offset: UInt64) -> Bool {
        (segmentBase(d.segment) &+ offset) & 15 != 0
    }

    /// Reads the `bytes`-byte memory operand of `d`, zero-extended. A 16-byte operand of an
    /// aligned form must be aligned on 16 bytes, or #GP(0) (SDM Vol. 1, 11.4.1.1 and 11.6.8).
    func readSSEMemory(_ d: Instruction, bytes: Int, aligned: Bool) -> UInt128? {
        guard bytes == 16 else { return readOperand(d, bytes: bytes).map { UInt128($0) } }
        let offset = effectiveAddress(d)
        if aligned && isMisaligned16(d, offset) {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        guard let linear = linearAddress(d.segment, offset, 16) else { return nil }
        if let host = mappedLinear(linear, length: 16, forWrite: false) { return host.loadUnaligned(as: UInt128.self) }
        guard let low = readLinear(linear, as: UInt64.self),
              let high = readLinear(self.linear(linear, plus: 8), as: UInt64.self) else { return nil }
        return UInt128(high) << 64 | UInt128(low)
    }

    /// Writes the low `bytes` bytes of `value` to the memory operand of `d`; a 16-byte store
    /// checks its whole destination before writing.
    func writeSSEMemory(_ d: Instruction, bytes: Int, _ value: UInt128, aligned: Bool) -> Bool {
        guard bytes == 16 else { return writeOperand(d, bytes: bytes, UInt64(truncatingIfNeeded: value)) }
        let offset = effectiveAddress(d)
        if aligned && isMisaligned16(d, offset) {
            raiseFault(.generalProtection, errorCode: 0)
            return false
        }
        guard let linear = linearAddress(d.segment, offset, 16, forWrite: true) else { return false }
        // The TLB maps all 16 bytes for writing: nothing can fault part-way.
        if let host = mappedLinear(linear, length: 16, forWrite: true) {
            host.storeBytes(of: value, as: UInt128.self)
            return true
        }
        guard pagesAreWritable(linear, size: 16) else { return false }
        return writeLinear(linear, value.low64) && writeLinear(self.linear(linear, plus: 8), value.high64)
    }

    /// The xmm/m source of `d`: the whole rm register, or `bytes` of memory zero-extended.
    func readXMMSource(_ d: Instruction, bytes: Int, aligned: Bool) -> UInt128? {
        d.hasMemoryOperand ? readSSEMemory(d, bytes: bytes, aligned: aligned) : sse.xmm[xmmRM(d)]
    }

    /// The mm/m64 source of `d`. MMX registers are MM0–MM7 whatever REX says.
    func readMMXSource(_ d: Instruction) -> UInt64? {
        d.hasMemoryOperand ? readOperand(d, bytes: 8) : fpu.mmx(Int(d.rm >> 3) & 7)
    }

    /// The MMX register of ModRM.reg.
    @inline(__always) func mmxReg(_ d: Instruction) -> Int { Int(d.sub) & 7 }
    /// The MMX register of ModRM.rm (register forms).
    @inline(__always) func mmxRM(_ d: Instruction) -> Int { Int(d.rm >> 3) & 7 }
}

extension UInt128 {
    /// The low and high quadwords.
    @inline(__always) var low64: UInt64 { UInt64(truncatingIfNeeded: self) }
    @inline(__always) var high64: UInt64 { UInt64(truncatingIfNeeded: self >> 64) }
    @inline(__always) init(high: UInt64, low: UInt64) { self = UInt128(high) << 64 | UInt128(low) }
}
