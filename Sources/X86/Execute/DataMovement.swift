/// MOV and its relatives: MOVZX/MOVSX, XCHG, LEA, XLAT, CMOVcc, SETcc, BSWAP, LAHF/SAHF, far-pointer loads.
extension CPU {
    @inline(__always) func execMovRmReg(_ d: Instruction) -> Step {
        writeRM(d, d.size, readRegister(d.reg, d.size)) ? .next : .fault
    }

    @inline(__always) func execMovRegRm(_ d: Instruction) -> Step {
        guard let v = readRM(d, d.size) else { return .fault }
        writeRegister(d.reg, d.size, v)
        return .next
    }

    /// MOV to the register at `offset` of a value of `size` (a 32-bit one clears the upper half).
    @inline(__always) func moveToRegister(_ offset: UInt8, _ size: OperandSize, _ value: UInt64) -> Step {
        writeRegister(offset, size, value)
        return .next
    }

    /// MOV reg, [m] at `Value`'s size (the register in `reg`).
    @inline(__always) func execLoadRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        guard let value = read(d.segment, effectiveAddress(d), size) else { return .fault }
        return moveToRegister(d.reg, size, value)
    }

    /// MOV [m], reg at `Value`'s size (the register in `reg`).
    @inline(__always) func execStoreRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        let size = OperandSize.of(Value.self)
        return write(d.segment, effectiveAddress(d), size, readRegister(d.reg, size)) ? .next : .fault
    }

    /// MOV r/m, imm at any size, out of line (`execute` runs the byte, dword and qword forms inline).
    func execMovRmImm(_ d: Instruction) -> Step {
        writeRM(d, d.size, d.immediate) ? .next : .fault
    }

    /// MOV r/m, imm at `Value`'s size.
    @inline(__always) func moveImmediate<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type) -> Step {
        writeRM(d, .of(Value.self), d.immediate) ? .next : .fault
    }

    /// MOV r/m, Sreg: a register destination with a 32-bit operand gets the zero-extended selector.
    func execMovRmSeg(_ d: Instruction) -> Step {
        writeRM(d, d.size, UInt64(segs[Int(d.sub)].selector)) ? .next : .fault
    }

    func execMovSegRm(_ d: Instruction) -> Step {
        guard let v = readRM(d, .word) else { return .fault }
        guard loadSegment(Int(d.sub), selector: UInt16(truncatingIfNeeded: v)) else { return .fault }
        if d.sub == UInt8(SegmentRegister.ss.rawValue) { interruptShadow = true }
        return .exit
    }

    @inline(__always) func execLea(_ d: Instruction) -> Step {
        writeRegister(d.reg, d.size, UInt64(effectiveAddress(d)))
        return .next
    }

    /// MOVZX, MOVSX and MOVSXD of a `Source`-sized register or memory operand into `reg`, at
    /// the operand size.
    @inline(__always)
    func execMovExtend<Source: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, _: Source.Type, signed: Bool) -> Step {
        let source: Source
        if d.hasMemoryOperand {
            guard let linear = linearAddress(d.segment, effectiveAddress(d), MemoryLayout<Source>.size),
                  let value = readLinear(linear, as: Source.self) else { return .fault }
            source = value
        } else {
            source = Source(truncatingIfNeeded: readRegister(d.rm, .of(Source.self)))
        }
        let unused = UInt64(64 - Source.bitWidth)
        let extended = signed ? UInt64(bitPattern: Int64(bitPattern: UInt64(source) << unused) >> Int64(unused)) : UInt64(source)
        writeRegister(d.reg, d.size, extended)
        return .next
    }

    func execXchg(_ d: Instruction) -> Step {
        let size = d.size
        let regValue = readRegister(d.reg, size)
        if d.hasMemoryOperand {
            let offset = effectiveAddress(d)
            guard let memValue = read(d.segment, offset, size) else { return .fault }
            guard write(d.segment, offset, size, regValue) else { return .fault }
            writeRegister(d.reg, size, memValue)
        } else {
            let other = readRegister(d.rm, size)
            writeRegister(d.rm, size, regValue)
            writeRegister(d.reg, size, other)
        }
        return .next
    }

    /// XLAT: AL = [seg:(E)BX + AL].
    func execXlat(_ d: Instruction) -> Step {
        let offset = wrappedOffset(regs[GeneralRegister.rbx.rawValue] &+ UInt64(UInt8(truncatingIfNeeded: regs[0])), d)
        guard let v = read8(d.segment, offset) else { return .fault }
        writeRegister(0, .byte, UInt64(v))
        return .next
    }

    /// The moffs operand of MOV AL/rAX to and from memory (64 bits wide with 64-bit addressing).
    private func memoryOffset(_ d: Instruction) -> UInt64 {
        d.pointer.pointee.addressSize64 ? UInt64(d.imm) << 32 | UInt64(d.disp) : UInt64(d.disp)
    }

    func execMovAccMoffs(_ d: Instruction) -> Step {
        guard let v = read(d.segment, memoryOffset(d), d.size) else { return .fault }
        writeRegister(0, d.size, v)
        return .next
    }

    func execMovMoffsAcc(_ d: Instruction) -> Step {
        write(d.segment, memoryOffset(d), d.size, readRegister(0, d.size)) ? .next : .fault
    }

    /// CMOVcc: the source is read (and may fault) whether or not the move happens;
    /// a false condition with a 32-bit operand still zero-extends in 64-bit mode only.
    func execCmov(_ d: Instruction) -> Step {
        guard let v = readRM(d, d.size) else { return .fault }
        if condition(UInt8(d.imm)) { writeRegister(d.reg, d.size, v) } else { zeroExtendUnchanged(d.reg, d.size) }
        return .next
    }

    func execSetcc(_ d: Instruction) -> Step {
        writeRM(d, .byte, condition(UInt8(d.imm)) ? 1 : 0) ? .next : .fault
    }

    /// BSWAP: a 32-bit swap unless the operand is 64-bit (the 16-bit form is undefined; it
    /// swaps the 32-bit register here).
    func execBswap(_ d: Instruction) -> Step {
        let size: OperandSize = d.size == .qword ? .qword : .dword
        let value = readRegister(d.reg, size)
        writeRegister(d.reg, size, size == .qword ? value.byteSwapped : UInt64(UInt32(truncatingIfNeeded: value).byteSwapped))
        return .next
    }

    /// LAHF: AH = SF:ZF:0:AF:0:PF:1:CF.
    func execLahf() -> Step {
        let flags = eflags & (EFlags.arithmetic & 0xFF) | EFlags.reserved1
        rawRegs.storeBytes(of: UInt8(truncatingIfNeeded: flags), toByteOffset: 1, as: UInt8.self)
        return .next
    }

    /// SAHF: SF, ZF, AF, PF, CF from AH.
    func execSahf() -> Step {
        let ah = UInt32(rawRegs.load(fromByteOffset: 1, as: UInt8.self))
        setStatusFlags(EFlags.carry | EFlags.parity | EFlags.auxiliary | EFlags.zero | EFlags.sign, ah)
        return .next
    }

    /// LDS/LES/LSS/LFS/LGS: offset then selector from memory (`imm2` is the segment).
    func execLoadFarPointer(_ d: Instruction) -> Step {
        let offset = effectiveAddress(d)
        let size = d.size
        guard let pointerOffset = read(d.segment, offset, size) else { return .fault }
        let selectorAt = wrappedOffset(offset &+ UInt64(size.bytes), d)
        guard let selector = read16(d.segment, selectorAt) else { return .fault }
        guard loadSegment(Int(d.imm2), selector: selector) else { return .fault }
        writeRegister(d.reg, size, pointerOffset)
        return .exit
    }
}
