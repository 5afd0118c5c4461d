/// The floating-point instructions of SSE and SSE2 on registers and memory: one generic body
/// for the packed single (PS), packed double (PD), scalar single (SS) and scalar double (SD)
/// forms. Packed memory operands are 16 aligned bytes; scalar ones are one lane, unaligned.
/// A scalar result replaces lane 0 only.
extension CPU {
    /// The second operand of a floating-point instruction.
    private func floatSource(_ d: Instruction, _ f: LaneFormat, scalar: Bool) -> UInt128? {
        readXMMSource(d, bytes: scalar ? f.width / 8 : 16, aligned: !scalar)
    }

    /// Applies `lane` to the destination and the source lane by lane and stores the result
    /// unless an unmasked exception stops the instruction.
    @inline(__always)
    private func execLanes(_ d: Instruction, _ f: LaneFormat, scalar: Bool,
                           _ lane: (UInt64, UInt64) -> LaneResult) -> Step {
        guard let b = floatSource(d, f, scalar: scalar) else { return .fault }
        let reg = xmmReg(d)
        let (value, flags) = Lanes.map(sse.xmm[reg], b, f, count: scalar ? 1 : 128 / f.width, lane)
        if let stop = commitSIMDFlags(flags) { return stop }
        sse.xmm[reg] = value
        return .next
    }

    /// ADD, SUB, MUL, DIV, SQRT, MIN, MAX (PS/PD/SS/SD).
    func execArithmetic(_ d: Instruction, _ op: SSEArithmetic.Operation, _ f: LaneFormat, scalar: Bool) -> Step {
        let env = simdEnvironment
        return execLanes(d, f, scalar: scalar) { a, b in SSEArithmetic.lane(op, a, b, f, env) }
    }

    /// CMPPS/CMPPD/CMPSS/CMPSD with the predicate in the imm8.
    func execCompare(_ d: Instruction, _ f: LaneFormat, scalar: Bool) -> Step {
        let env = simdEnvironment
        let predicate = UInt8(truncatingIfNeeded: d.imm2)
        return execLanes(d, f, scalar: scalar) { a, b in SSEArithmetic.compareLane(predicate: predicate, a, b, f, env) }
    }

    /// RCPPS/RCPSS and RSQRTPS/RSQRTSS.
    func execApproximation(_ d: Instruction, squareRoot: Bool, scalar: Bool) -> Step {
        execLanes(d, .single, scalar: scalar) { _, b in
            LaneResult(bits: UInt64(SSEArithmetic.approximateReciprocal(UInt32(truncatingIfNeeded: b), squareRoot: squareRoot)))
        }
    }

    /// COMISS/COMISD (`signaling`: a QNaN is invalid too) and UCOMISS/UCOMISD: ZF, PF, CF
    /// = 111 unordered, 000 greater, 001 less, 100 equal; OF, SF and AF cleared.
    func execCompareFlags(_ d: Instruction, _ f: LaneFormat, signaling: Bool) -> Step {
        guard let b = floatSource(d, f, scalar: true) else { return .fault }
        let a = sse.xmm[xmmReg(d)]
        let (ordering, flags) = SSEArithmetic.order(Lanes.get(a, 0, f), Lanes.get(b, 0, f), f, simdEnvironment,
                                                    signalingOnQuietNaN: signaling)
        if let stop = commitSIMDFlags(flags) { return stop }
        let status: UInt32 = switch ordering {
        case .unordered: EFlags.zero | EFlags.parity | EFlags.carry
        case .greater: 0
        case .less: EFlags.carry
        case .equal: EFlags.zero
        }
        setStatusFlags(EFlags.arithmetic, status)
        return .next
    }

    // MARK: Conversions

    /// Where a conversion's result goes.
    private enum ConversionTarget {
        /// The low lanes of the destination XMM register; the rest keeps its value.
        case xmmMerged
        /// The destination XMM register, zero-extended.
        case xmmZeroExtended
        case mmx
        case general
    }

    /// Where a conversion's operand comes from.
    private enum ConversionSource {
        /// xmm/m with that many bytes of memory (16 must be aligned).
        case xmm(bytes: Int)
        case mmx
        case general
    }

    /// 0F 2A, 2C, 2D, 5A, 5B, E6: the CVT instructions, by opcode and prefix.
    func execConversion(_ d: Instruction, _ opcode: UInt8, _ prefix: SIMDPrefix) -> Step {
        typealias K = SSEConversions.Kind
        let single = prefix == .none || prefix == .repeatZ
        let scalarFloat: K = prefix == .repeatZ ? .single : .double
        // REX.W: a 64-bit general-register source or destination (SDM Vol. 2A, CVTSI2SS …).
        let integer: K = d.imm & Decoder.simdRexW != 0 ? .int64 : .int32
        switch (opcode, prefix) {
        case (0x2A, .none), (0x2A, .operandSize):                          // CVTPI2PS, CVTPI2PD
            return convert(d, from: .int32, to: single ? .single : .double, count: 2, .mmx, single ? .xmmMerged : .xmmZeroExtended)
        case (0x2A, _):                                                     // CVTSI2SS, CVTSI2SD
            return convert(d, from: integer, to: scalarFloat, count: 1, .general, .xmmMerged)
        case (0x2C, .none), (0x2D, .none):                                  // CVTTPS2PI, CVTPS2PI
            return convert(d, from: .single, to: .int32, count: 2, .xmm(bytes: 8), .mmx, truncate: opcode == 0x2C)
        case (0x2C, .operandSize), (0x2D, .operandSize):                    // CVTTPD2PI, CVTPD2PI
            return convert(d, from: .double, to: .int32, count: 2, .xmm(bytes: 16), .mmx, truncate: opcode == 0x2C)
        case (0x2C, _), (0x2D, _):                                          // CVT(T)SS2SI, CVT(T)SD2SI
            return convert(d, from: scalarFloat, to: integer, count: 1, .xmm(bytes: scalarFloat.width / 8), .general,
                           truncate: opcode == 0x2C)
        case (0x5A, .none):                                                 // CVTPS2PD
            return convert(d, from: .single, to: .double, count: 2, .xmm(bytes: 8), .xmmZeroExtended)
        case (0x5A, .operandSize):                                          // CVTPD2PS
            return convert(d, from: .double, to: .single, count: 2, .xmm(bytes: 16), .xmmZeroExtended)
        case (0x5A, .repeatZ):                                              // CVTSS2SD
            return convert(d, from: .single, to: .double, count: 1, .xmm(bytes: 4), .xmmMerged)
        case (0x5A, _):                                                     // CVTSD2SS
            return convert(d, from: .double, to: .single, count: 1, .xmm(bytes: 8), .xmmMerged)
        case (0x5B, .none):                                                 // CVTDQ2PS
            return convert(d, from: .int32, to: .single, count: 4, .xmm(bytes: 16), .xmmZeroExtended)
        case (0x5B, _):                                                     // CVTPS2DQ, CVTTPS2DQ
            return convert(d, from: .single, to: .int32, count: 4, .xmm(bytes: 16), .xmmZeroExtended,
                           truncate: prefix == .repeatZ)
        case (_, .repeatZ):                                                 // CVTDQ2PD
            return convert(d, from: .int32, to: .double, count: 2, .xmm(bytes: 8), .xmmZeroExtended)
        default:                                                            // CVTTPD2DQ (66), CVTPD2DQ (F2)
            return convert(d, from: .double, to: .int32, count: 2, .xmm(bytes: 16), .xmmZeroExtended,
                           truncate: prefix == .operandSize)
        }
    }

    private func convert(_ d: Instruction, from: SSEConversions.Kind, to: SSEConversions.Kind, count: Int,
                         _ source: ConversionSource, _ target: ConversionTarget, truncate: Bool = false) -> Step {
        let operand: UInt128?
        switch source {
        case .xmm(let bytes): operand = readXMMSource(d, bytes: bytes, aligned: true)
        case .mmx: operand = readMMXSource(d).map { UInt128($0) }
        case .general: operand = readRM(d, from == .int64 ? .qword : .dword).map { UInt128($0) }
        }
        guard let operand else { return .fault }
        let (value, flags) = SSEConversions.lanes(operand, count: count, from: from, to: to, truncate: truncate, simdEnvironment)
        if let stop = commitSIMDFlags(flags) { return stop }
        switch target {
        case .xmmMerged:
            let reg = xmmReg(d)
            let mask = (UInt128(1) << UInt128(count * to.width)) - 1
            sse.xmm[reg] = sse.xmm[reg] & ~mask | value
        case .xmmZeroExtended: sse.xmm[xmmReg(d)] = value
        case .mmx: fpu.setMMX(mmxReg(d), UInt64(truncatingIfNeeded: value))
        case .general: writeRegister(d.reg, to == .int64 ? .qword : .dword, UInt64(truncatingIfNeeded: value) & to.laneMask)
        }
        return .next
    }
}
