/// The 0F AE group: FXSAVE and FXRSTOR with the 512-byte layout (SDM Vol. 2, FXSAVE); the other
/// members — LDMXCSR, STMXCSR, the fences, CLFLUSH — are in SSE/SSEControl.swift.
///
/// Layout: 0 FCW, 2 FSW, 4 abridged FTW, 6 FOP, 8 FIP, 12 FCS, 16 FDP, 20 FDS, 24 MXCSR,
/// 28 MXCSR_MASK, 32 + 16·i ST(i) (10 bytes, 6 reserved), 160 + 16·i XMMi: XMM0–7, or XMM0–15
/// in 64-bit mode. FXSAVE64/FXRSTOR64 (REX.W) hold a 64-bit FIP at 8 and FDP at 16 instead of
/// the offsets and selectors. The SDM leaves it
/// to the implementation whether the XMM registers are saved and restored while CR4.OSFXSR is
/// clear; here they are not (as on the Pentium III, and as QEMU does), so only the first 160
/// bytes are touched then. The rest of the image is neither written nor read.
extension CPU {
    /// Bytes of the image this processor writes and reads: without the XMM registers, with
    /// eight, and with sixteen.
    static let fxsaveLegacyBytes = 160
    static let fxsaveXMMBytes = 288
    static let fxsaveXMMBytes64 = 416
    static let fxsaveSize = 512

    func execFxGroup(_ d: Instruction) -> Step {
        if d.sub > 1 { return execSSEControl(d) }
        guard d.hasMemoryOperand else { return raiseFault(.invalidOpcode) }
        // CR0.EM → #UD, CR0.TS → #NM; no pending-exception check (SDM Vol. 2, FXSAVE/FXRSTOR).
        if cr0 & ControlRegister0.emulation != 0 { return raiseFault(.invalidOpcode) }
        if cr0 & ControlRegister0.taskSwitched != 0 { return raiseFault(.deviceNotAvailable) }
        if (segmentBase(d.segment) &+ effectiveAddress(d)) & 15 != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        let save = d.sub == 0
        guard let address = fpuOperandAddress(d, size: CPU.fxsaveSize, write: save) else { return .fault }
        // 64-bit mode has sixteen XMM registers to save (SDM Vol. 2, FXSAVE, Table 3-56).
        let xmmBytes = executing64 ? CPU.fxsaveXMMBytes64 : CPU.fxsaveXMMBytes
        let used = cr4 & ControlRegister4.osfxsr != 0 ? xmmBytes : CPU.fxsaveLegacyBytes
        let wide = executing64 && d.size == .qword
        return withUnsafeTemporaryAllocation(byteCount: used, alignment: 16) { buffer in
            if save {
                encodeFxsaveImage(into: buffer, widePointers: wide)
                return storeBytes(address, from: UnsafeRawBufferPointer(buffer)) ? .next : .fault
            }
            guard loadBytes(address, into: buffer) else { return .fault }
            return loadFxsaveImage(UnsafeRawBufferPointer(buffer), widePointers: wide)
        }
    }

    /// The x87, MMX and SSE state as FXSAVE stores it in its 32-bit form, with all sixteen
    /// XMM registers (for debuggers): 416 bytes.
    public var fxsaveImage: [UInt8] {
        let size = CPU.fxsaveLegacyBytes + 16 * 16
        return [UInt8](unsafeUninitializedCapacity: size) { buffer, count in
            encodeFxsaveImage(into: UnsafeMutableRawBufferPointer(buffer), widePointers: false)
            count = size
        }
    }

    /// The image; `widePointers` (FXSAVE64, REX.W in 64-bit mode) stores FIP and FDP as 64-bit
    /// offsets in place of the 32-bit offsets and their selectors (SDM Vol. 2, FXSAVE, Table 3-55).
    private func encodeFxsaveImage(into buffer: UnsafeMutableRawBufferPointer, widePointers: Bool) {
        buffer.initializeMemory(as: UInt8.self, repeating: 0)
        buffer.storeBytes(of: fpu.control, toByteOffset: 0, as: UInt16.self)
        buffer.storeBytes(of: fpu.status, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: fpu.occupied, toByteOffset: 4, as: UInt8.self)
        buffer.storeBytes(of: fpu.lastOpcode, toByteOffset: 6, as: UInt16.self)
        if widePointers {
            buffer.storeBytes(of: fpu.lastInstructionOffset, toByteOffset: 8, as: UInt64.self)
            buffer.storeBytes(of: fpu.lastOperandOffset, toByteOffset: 16, as: UInt64.self)
        } else {
            buffer.storeBytes(of: UInt32(truncatingIfNeeded: fpu.lastInstructionOffset), toByteOffset: 8, as: UInt32.self)
            buffer.storeBytes(of: fpu.lastCodeSelector, toByteOffset: 12, as: UInt16.self)
            buffer.storeBytes(of: UInt32(truncatingIfNeeded: fpu.lastOperandOffset), toByteOffset: 16, as: UInt32.self)
            buffer.storeBytes(of: fpu.lastOperandSelector, toByteOffset: 20, as: UInt16.self)
        }
        buffer.storeBytes(of: sse.mxcsr, toByteOffset: 24, as: UInt32.self)
        buffer.storeBytes(of: MXCSR.mask, toByteOffset: 28, as: UInt32.self)
        for i in 0..<8 {
            let value = fpu.st(i)
            buffer.storeBytes(of: value.significand, toByteOffset: 32 + 16 * i, as: UInt64.self)
            buffer.storeBytes(of: value.signExponent, toByteOffset: 40 + 16 * i, as: UInt16.self)
        }
        for i in 0..<(buffer.count - CPU.fxsaveLegacyBytes) / 16 {
            buffer.storeBytes(of: sse.xmm[i], toByteOffset: CPU.fxsaveLegacyBytes + 16 * i, as: UInt128.self)
        }
    }

    /// FXRSTOR: MXCSR bits outside MXCSR_MASK are #GP(0) before anything loads.
    private func loadFxsaveImage(_ image: UnsafeRawBufferPointer, widePointers: Bool) -> Step {
        let mxcsr = image.loadUnaligned(fromByteOffset: 24, as: UInt32.self)
        if mxcsr & ~MXCSR.mask != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        sse.mxcsr = mxcsr
        fpu.loadControl(image.loadUnaligned(fromByteOffset: 0, as: UInt16.self))
        fpu.status = image.loadUnaligned(fromByteOffset: 2, as: UInt16.self)
        fpu.occupied = image.load(fromByteOffset: 4, as: UInt8.self)
        fpu.lastOpcode = image.loadUnaligned(fromByteOffset: 6, as: UInt16.self) & 0x7FF
        if widePointers {
            fpu.lastInstructionOffset = image.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
            fpu.lastOperandOffset = image.loadUnaligned(fromByteOffset: 16, as: UInt64.self)
        } else {
            fpu.lastInstructionOffset = UInt64(image.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            fpu.lastCodeSelector = image.loadUnaligned(fromByteOffset: 12, as: UInt16.self)
            fpu.lastOperandOffset = UInt64(image.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
            fpu.lastOperandSelector = image.loadUnaligned(fromByteOffset: 20, as: UInt16.self)
        }
        for i in 0..<8 {
            fpu.registers[fpu.physical(i)] = Extended80(
                significand: image.loadUnaligned(fromByteOffset: 32 + 16 * i, as: UInt64.self),
                signExponent: image.loadUnaligned(fromByteOffset: 40 + 16 * i, as: UInt16.self))
        }
        for i in 0..<(image.count - CPU.fxsaveLegacyBytes) / 16 {
            sse.xmm[i] = image.loadUnaligned(fromByteOffset: CPU.fxsaveLegacyBytes + 16 * i, as: UInt128.self)
        }
        updateFloatingPointErrorSignal()
        return .next
    }
}
