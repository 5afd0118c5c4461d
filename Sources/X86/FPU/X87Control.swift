/// The layout of an x87 environment in memory (SDM Vol. 1, Figures 8-9 to 8-12): 14 bytes
/// with a 16-bit operand size, 28 with a 32-bit one; in real-address and virtual-8086 mode
/// the instruction and operand pointers are 20/32-bit linear addresses (selector × 16 +
/// offset) and FOP sits beside the pointer's high bits.
struct X87EnvironmentLayout {
    /// 32-bit operand size.
    let wide: Bool
    let realMode: Bool

    var size: Int { wide ? 28 : 14 }

    /// The stored state: FCW, FSW, tag word, then the pointers.
    struct Image {
        var control: UInt16
        var status: UInt16
        var tags: UInt16
        var instructionOffset: UInt32
        var codeSelector: UInt16
        var opcode: UInt16
        var operandOffset: UInt32
        var operandSelector: UInt16
    }

    func encode(_ image: Image, into buffer: UnsafeMutableRawBufferPointer) {
        func put16(_ index: Int, _ value: UInt16) {
            buffer.storeBytes(of: value, toByteOffset: index * (wide ? 4 : 2), as: UInt16.self)
            // The reserved upper halves of the 32-bit format's words read as ones on hardware.
            if wide { buffer.storeBytes(of: 0xFFFF, toByteOffset: index * 4 + 2, as: UInt16.self) }
        }
        func put32(_ index: Int, _ value: UInt32) {
            buffer.storeBytes(of: value, toByteOffset: index * 4, as: UInt32.self)
        }
        put16(0, image.control)
        put16(1, image.status)
        put16(2, image.tags)
        if realMode {
            let instruction = UInt32(image.codeSelector) << 4 &+ image.instructionOffset
            let operand = UInt32(image.operandSelector) << 4 &+ image.operandOffset
            let opcode = UInt32(image.opcode & 0x7FF)
            put16(3, UInt16(truncatingIfNeeded: instruction))
            if wide {
                put32(4, (instruction >> 16) << 12 | opcode)
                put16(5, UInt16(truncatingIfNeeded: operand))
                put32(6, (operand >> 16) << 12)
            } else {
                put16(4, UInt16(truncatingIfNeeded: (instruction >> 16) << 12 | opcode))
                put16(5, UInt16(truncatingIfNeeded: operand))
                put16(6, UInt16(truncatingIfNeeded: (operand >> 16) << 12))
            }
        } else if wide {
            put32(3, image.instructionOffset)
            put32(4, UInt32(image.codeSelector) | UInt32(image.opcode & 0x7FF) << 16)
            put32(5, image.operandOffset)
            put16(6, image.operandSelector)
        } else {
            put16(3, UInt16(truncatingIfNeeded: image.instructionOffset))
            put16(4, image.codeSelector)
            put16(5, UInt16(truncatingIfNeeded: image.operandOffset))
            put16(6, image.operandSelector)
        }
    }

    /// Reads an image; real-mode linear pointers come back as offsets with selector 0.
    func decode(_ buffer: UnsafeRawBufferPointer) -> Image {
        func get16(_ index: Int) -> UInt16 {
            buffer.loadUnaligned(fromByteOffset: index * (wide ? 4 : 2), as: UInt16.self)
        }
        func get32(_ index: Int) -> UInt32 {
            wide ? buffer.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self) : UInt32(get16(index))
        }
        var image = Image(control: get16(0), status: get16(1), tags: get16(2), instructionOffset: 0, codeSelector: 0,
                          opcode: 0, operandOffset: 0, operandSelector: 0)
        if realMode {
            let high = get32(4)
            let width: UInt32 = wide ? 0xFFFF : 0xF
            image.instructionOffset = UInt32(get16(3)) | (high >> 12 & width) << 16
            image.opcode = UInt16(truncatingIfNeeded: high) & 0x7FF
            image.operandOffset = UInt32(get16(5)) | (get32(6) >> 12 & width) << 16
        } else {
            image.instructionOffset = get32(3)
            image.codeSelector = get16(4)
            image.opcode = wide ? UInt16(truncatingIfNeeded: get32(4) >> 16) & 0x7FF : 0
            image.operandOffset = get32(5)
            image.operandSelector = get16(6)
        }
        return image
    }
}

/// x87 control instructions (SDM Vol. 1, 8.3.11): FLDCW, FNSTCW, FNSTSW, FNCLEX, FNINIT,
/// FLDENV, FNSTENV, FRSTOR, FNSAVE.
extension CPU {
    private func environmentLayout(_ d: Instruction) -> X87EnvironmentLayout {
        X87EnvironmentLayout(wide: d.size != .word, realMode: isRealAddressing)
    }

    private var environmentImage: X87EnvironmentLayout.Image {
        X87EnvironmentLayout.Image(control: fpu.control, status: fpu.status, tags: fpu.tagWord,
                                   instructionOffset: UInt32(truncatingIfNeeded: fpu.lastInstructionOffset), codeSelector: fpu.lastCodeSelector,
                                   opcode: fpu.lastOpcode, operandOffset: UInt32(truncatingIfNeeded: fpu.lastOperandOffset),
                                   operandSelector: fpu.lastOperandSelector)
    }

    private func loadEnvironment(_ image: X87EnvironmentLayout.Image) {
        fpu.loadControl(image.control)
        fpu.status = image.status
        fpu.loadTagWord(image.tags)
        fpu.lastInstructionOffset = UInt64(image.instructionOffset)
        fpu.lastCodeSelector = image.codeSelector
        fpu.lastOpcode = image.opcode
        fpu.lastOperandOffset = UInt64(image.operandOffset)
        fpu.lastOperandSelector = image.operandSelector
    }

    /// FNSTENV (`registers` false) and FNSAVE: the environment, for FNSAVE followed by
    /// ST(0)…ST(7) at 10 bytes each. Afterwards FNSTENV masks all exceptions and FNSAVE
    /// initializes the unit as FNINIT does.
    func x87StoreState(_ d: Instruction, registers: Bool) -> Step {
        let layout = environmentLayout(d)
        let size = layout.size + (registers ? 80 : 0)
        guard let linear = fpuOperandAddress(d, size: size, write: true) else { return .fault }
        let stored = withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            layout.encode(environmentImage, into: buffer)
            if registers {
                for i in 0..<8 {
                    let value = fpu.st(i)
                    buffer.storeBytes(of: value.significand, toByteOffset: layout.size + 10 * i, as: UInt64.self)
                    buffer.storeBytes(of: value.signExponent, toByteOffset: layout.size + 10 * i + 8, as: UInt16.self)
                }
            }
            return storeBytes(linear, from: UnsafeRawBufferPointer(buffer))
        }
        guard stored else { return .fault }
        if registers {
            fpu.initialize()
        } else {
            fpu.control |= FPUException.all
        }
        return .next
    }

    /// FLDENV (`registers` false) and FRSTOR: the whole image is read before anything loads.
    func x87LoadState(_ d: Instruction, registers: Bool) -> Step {
        let layout = environmentLayout(d)
        let size = layout.size + (registers ? 80 : 0)
        guard let linear = fpuOperandAddress(d, size: size, write: false) else { return .fault }
        return withUnsafeTemporaryAllocation(byteCount: size, alignment: 8) { buffer in
            guard loadBytes(linear, into: buffer) else { return .fault }
            let image = UnsafeRawBufferPointer(buffer)
            loadEnvironment(layout.decode(image))
            if registers {
                for i in 0..<8 {
                    let offset = layout.size + 10 * i
                    fpu.registers[fpu.physical(i)] = Extended80(
                        significand: image.loadUnaligned(fromByteOffset: offset, as: UInt64.self),
                        signExponent: image.loadUnaligned(fromByteOffset: offset + 8, as: UInt16.self))
                }
            }
            return .next
        }
    }

    /// FLDCW m16.
    func x87LoadControlWord(_ d: Instruction) -> Step {
        guard let value = read16(d.segment, effectiveAddress(d)) else { return .fault }
        fpu.loadControl(value)
        return .next
    }

    /// FNCLEX: clears the exception flags, SF, ES and B (SDM Vol. 2, FCLEX).
    func x87ClearExceptions() {
        fpu.statusFlags &= ~(FPUException.all | FPUException.stackFault)
    }
}
