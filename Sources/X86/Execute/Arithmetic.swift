/// One group-1 operation as a type: ALU handlers are generic over it, so each
/// operation gets its own specialized handler with no second dispatch.
protocol AluOperation { static var kind: AluKind { get } }
enum AddOperation: AluOperation { static var kind: AluKind { .add } }
enum OrOperation: AluOperation { static var kind: AluKind { .or } }
enum AdcOperation: AluOperation { static var kind: AluKind { .adc } }
enum SbbOperation: AluOperation { static var kind: AluKind { .sbb } }
enum AndOperation: AluOperation { static var kind: AluKind { .and } }
enum SubOperation: AluOperation { static var kind: AluKind { .sub } }
enum XorOperation: AluOperation { static var kind: AluKind { .xor } }
enum CmpOperation: AluOperation { static var kind: AluKind { .cmp } }

/// ADD…CMP, TEST, INC/DEC, NOT/NEG, and the sign-extension instructions.
extension CPU {
    /// Performs one of the eight group-1 operations and records its flags; returns the result.
    @inline(__always) func alu(_ kind: UInt8, _ dst: UInt64, _ src: UInt64, _ size: OperandSize) -> UInt64 {
        let mask = size.mask
        let result: UInt64
        switch kind {
        case AluKind.add.rawValue:
            result = (dst &+ src) & mask
            setLazyFlags(.add, size, result: result, dst: dst, src: src)
        case AluKind.or.rawValue:
            result = dst | src
            setLogicFlags(size, result: result)
        case AluKind.adc.rawValue:
            let carry: UInt32 = carryFlag ? 1 : 0
            result = (dst &+ src &+ UInt64(carry)) & mask
            flagAux = carry
            setLazyFlags(.adc, size, result: result, dst: dst, src: src)
        case AluKind.sbb.rawValue:
            let borrow: UInt32 = carryFlag ? 1 : 0
            result = (dst &- src &- UInt64(borrow)) & mask
            flagAux = borrow
            setLazyFlags(.sbb, size, result: result, dst: dst, src: src)
        case AluKind.and.rawValue:
            result = dst & src
            setLogicFlags(size, result: result)
        case AluKind.sub.rawValue, AluKind.cmp.rawValue:
            result = (dst &- src) & mask
            setLazyFlags(.sub, size, result: result, dst: dst, src: src)
        default:
            result = dst ^ src
            setLogicFlags(size, result: result)
        }
        return result
    }

    func execAluRmReg<Operation: AluOperation>(_ d: Instruction, _: Operation.Type) -> Step {
        bySize(d, AluRmReg<Operation>())
    }

    func execAluRegRm<Operation: AluOperation>(_ d: Instruction, _: Operation.Type) -> Step {
        bySize(d, AluRegRm<Operation>())
    }

    func execAluRmImm<Operation: AluOperation>(_ d: Instruction, _: Operation.Type) -> Step {
        bySize(d, AluRmImm<Operation>())
    }

    /// `Operation` with the register `reg` as source and r/m as destination, at `Value`'s size.
    @inline(__always) func aluRmReg<Operation: AluOperation, Value: FixedWidthInteger>(
        _ d: Instruction, _: Operation.Type, _: Value.Type) -> Step {
        let kind = Operation.kind.rawValue
        let size = OperandSize.of(Value.self)
        let src = readRegister(d.reg, size)
        let writes = kind != AluKind.cmp.rawValue
        if d.hasMemoryOperand {
            let offset = effectiveAddress(d)
            if writes, let p = mappedForUpdate(d.segment, offset, size) {
                update(p, size) { alu(kind, $0, src, size) }
                return .next
            }
            guard let dst = read(d.segment, offset, size) else { return .fault }
            let result = alu(kind, dst, src, size)
            if writes && !write(d.segment, offset, size, result) { return .fault }
        } else {
            let result = alu(kind, readRegister(d.rm, size), src, size)
            if writes { writeRegister(d.rm, size, result) }
        }
        return .next
    }

    /// `Operation` with r/m as source and the register `reg` as destination, at `Value`'s size.
    @inline(__always) func aluRegRm<Operation: AluOperation, Value: FixedWidthInteger>(
        _ d: Instruction, _: Operation.Type, _: Value.Type) -> Step {
        let kind = Operation.kind.rawValue
        let size = OperandSize.of(Value.self)
        guard let src = readRM(d, size) else { return .fault }
        let result = alu(kind, readRegister(d.reg, size), src, size)
        if kind != AluKind.cmp.rawValue { writeRegister(d.reg, size, result) }
        return .next
    }

    /// `Operation` with the immediate as source and r/m as destination, at `Value`'s size.
    @inline(__always) func aluRmImm<Operation: AluOperation, Value: FixedWidthInteger>(
        _ d: Instruction, _: Operation.Type, _: Value.Type) -> Step {
        let kind = Operation.kind.rawValue
        let size = OperandSize.of(Value.self)
        let writes = kind != AluKind.cmp.rawValue
        if d.hasMemoryOperand {
            let offset = effectiveAddress(d)
            if writes, let p = mappedForUpdate(d.segment, offset, size) {
                update(p, size) { alu(kind, $0, d.immediate, size) }
                return .next
            }
            guard let dst = read(d.segment, offset, size) else { return .fault }
            let result = alu(kind, dst, d.immediate, size)
            if writes && !write(d.segment, offset, size, result) { return .fault }
        } else {
            let result = alu(kind, readRegister(d.rm, size), d.immediate, size)
            if writes { writeRegister(d.rm, size, result) }
        }
        return .next
    }

    /// TEST r/m, reg or imm at any size, out of line (`execute` runs the byte form inline).
    func execTest(_ d: Instruction, immediate: Bool) -> Step {
        switch d.size {
        case .byte: testRm(d, UInt8.self, immediate: immediate)
        case .word: testRm(d, UInt16.self, immediate: immediate)
        case .dword: testRm(d, UInt32.self, immediate: immediate)
        case .qword: testRm(d, UInt64.self, immediate: immediate)
        }
    }

    /// TEST of the r/m operand with the register `reg` or the immediate, at `Value`'s size.
    @inline(__always) func testRm<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type, immediate: Bool) -> Step {
        let size = OperandSize.of(Value.self)
        guard let dst = readRM(d, size) else { return .fault }
        let src = immediate ? d.immediate : readRegister(d.reg, size)
        setLogicFlags(size, result: dst & src)
        return .next
    }

    /// Applies `transform` to the r/m operand in place (read, compute, write back).
    @inline(__always) func modifyRM(_ d: Instruction, _ transform: (UInt64) -> UInt64) -> Step {
        modifyRM(d, d.size, transform)
    }

    /// `modifyRM` at a given operand size.
    @inline(__always) func modifyRM(_ d: Instruction, _ size: OperandSize, _ transform: (UInt64) -> UInt64) -> Step {
        if d.hasMemoryOperand {
            let offset = effectiveAddress(d)
            if let p = mappedForUpdate(d.segment, offset, size) {
                update(p, size, transform)
                return .next
            }
            guard let v = read(d.segment, offset, size) else { return .fault }
            return write(d.segment, offset, size, transform(v)) ? .next : .fault
        }
        writeRegister(d.rm, size, transform(readRegister(d.rm, size)))
        return .next
    }

    /// INC and DEC leave CF as it was.
    func execIncDec(_ d: Instruction, increment: Bool) -> Step {
        increment ? bySize(d, IncrementRm()) : bySize(d, DecrementRm())
    }

    /// INC or DEC of r/m at `Value`'s size.
    @inline(__always) func incDecRm<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type, increment: Bool) -> Step {
        let size = OperandSize.of(Value.self)
        return modifyRM(d, size) { v in
            let result = (increment ? v &+ 1 : v &- 1) & size.mask
            setIncDecFlags(increment ? .inc : .dec, size, result: result)
            return result
        }
    }

    /// `Operation` on the register `rm` with `source`, at `Value`'s size: specialized for each
    /// operation and size, so it decides nothing when it runs.
    @inline(__always) func execAluRegister<Operation: AluOperation, Value: FixedWidthInteger & UnsignedInteger>(
        _ d: Instruction, _: Operation.Type, source: Value) -> Step {
        let size = OperandSize.of(Value.self)
        let result = alu(Operation.kind.rawValue, readRegister(d.rm, size), UInt64(source), size)
        if Operation.kind != .cmp { writeRegister(d.rm, size, result) }
        return .next
    }

    /// The register `reg` as a source operand of `Value`'s size.
    @inline(__always) func registerSource<Value: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, _: Value.Type) -> Value {
        Value(truncatingIfNeeded: readRegister(d.reg, OperandSize.of(Value.self)))
    }

    /// An ALU operation on the register `rm` with `source` (`sub` = the kind), at `Value`'s size.
    @inline(__always) func execAluRegister<Value: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, source: Value) -> Step {
        let size = OperandSize.of(Value.self)
        let result = alu(d.sub, readRegister(d.rm, size), UInt64(source), size)
        if d.sub != AluKind.cmp.rawValue { writeRegister(d.rm, size, result) }
        return .next
    }

    /// TEST of the register `rm` with `source`, at `Value`'s size: the flags of AND, nothing written.
    @inline(__always) func execTestRegister<Value: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, _ source: Value) -> Step {
        let size = OperandSize.of(Value.self)
        let value = readRegister(d.rm, size)
        setLogicFlags(size, result: value & UInt64(source))
        return .next
    }

    /// INC/DEC of the register `rm` at `Value`'s size; CF stays as it was.
    @inline(__always) func execIncDecRegister<Value: FixedWidthInteger>(_ d: Instruction, _: Value.Type, increment: Bool) -> Step {
        let size = OperandSize.of(Value.self)
        let value = readRegister(d.rm, size)
        let result = (increment ? value &+ 1 : value &- 1) & size.mask
        setIncDecFlags(increment ? .inc : .dec, size, result: result)
        writeRegister(d.rm, size, result)
        return .next
    }

    func execNot(_ d: Instruction) -> Step {
        let mask = d.size.mask
        return modifyRM(d) { ~$0 & mask }
    }

    func execNeg(_ d: Instruction) -> Step {
        let size = d.size
        return modifyRM(d) { v in
            let result = (0 &- v) & size.mask
            setLazyFlags(.sub, size, result: result, dst: 0, src: v)
            return result
        }
    }

    /// CBW / CWDE / CDQE (REX.W): sign-extend AL into AX, AX into EAX, or EAX into RAX.
    func execConvertToWider(_ d: Instruction) -> Step {
        switch d.size {
        case .qword: regs[0] = UInt64(bitPattern: Int64(Int32(bitPattern: reg32(.rax))))     // CDQE
        case .dword: setReg32(.rax, UInt32(bitPattern: Int32(Int16(bitPattern: reg16(.rax)))))
        default: setReg16(.rax, UInt16(bitPattern: Int16(Int8(bitPattern: UInt8(truncatingIfNeeded: regs[0])))))
        }
        return .next
    }

    /// CWD / CDQ / CQO (REX.W): fill DX, EDX or RDX with the sign of AX, EAX or RAX.
    func execConvertToDouble(_ d: Instruction) -> Step {
        switch d.size {
        case .qword: regs[2] = Int64(bitPattern: regs[0]) < 0 ? ~0 : 0
        case .dword: setReg32(.rdx, reg32(.rax) & 0x8000_0000 != 0 ? 0xFFFF_FFFF : 0)
        default: setReg16(.rdx, reg16(.rax) & 0x8000 != 0 ? 0xFFFF : 0)
        }
        return .next
    }

    /// XADD: exchange, then add (the destination gets the sum).
    func execXadd(_ d: Instruction) -> Step {
        let size = d.size
        let src = readRegister(d.reg, size)
        if d.hasMemoryOperand {
            let offset = effectiveAddress(d)
            guard let dst = read(d.segment, offset, size) else { return .fault }
            let sum = alu(AluKind.add.rawValue, dst, src, size)
            guard write(d.segment, offset, size, sum) else { return .fault }
            writeRegister(d.reg, size, dst)
        } else {
            let dst = readRegister(d.rm, size)
            let sum = alu(AluKind.add.rawValue, dst, src, size)
            writeRegister(d.reg, size, dst)
            writeRegister(d.rm, size, sum)
        }
        return .next
    }

    /// CMPXCHG: compare the accumulator with the destination; equal → store the source,
    /// else load the accumulator. The destination is always written (SDM Vol. 2, CMPXCHG).
    func execCmpxchg(_ d: Instruction) -> Step {
        let size = d.size
        let accumulator = readRegister(0, size)
        guard let dst = readRM(d, size) else { return .fault }
        _ = alu(AluKind.cmp.rawValue, accumulator, dst, size)
        if accumulator == dst {
            return writeRM(d, size, readRegister(d.reg, size)) ? .next : .fault
        }
        guard writeRM(d, size, dst) else { return .fault }
        writeRegister(0, size, dst)
        return .next
    }

    /// CMPXCHG16B (64-bit mode, REX.W): compare RDX:RAX with a 16-byte aligned m128 (#GP(0)
    /// otherwise); equal → store RCX:RBX and set ZF, else load RDX:RAX. The destination is
    /// written either way (SDM Vol. 2, CMPXCHG8B/CMPXCHG16B).
    func execCmpxchg16b(_ d: Instruction) -> Step {
        let offset = effectiveAddress(d)
        guard let linear = linearAddress(d.segment, offset, 16, forWrite: true) else { return .fault }
        if linear & 15 != 0 { return raiseFault(.generalProtection, errorCode: 0) }
        guard let low = readLinear(linear, as: UInt64.self), let high = readLinear(linear &+ 8, as: UInt64.self) else { return .fault }
        let equal = low == regs[GeneralRegister.rax.rawValue] && high == regs[GeneralRegister.rdx.rawValue]
        let stored = equal ? (regs[GeneralRegister.rbx.rawValue], regs[GeneralRegister.rcx.rawValue]) : (low, high)
        guard writeLinear(linear, stored.0), writeLinear(linear &+ 8, stored.1) else { return .fault }
        if !equal {
            regs[GeneralRegister.rax.rawValue] = low
            regs[GeneralRegister.rdx.rawValue] = high
        }
        setStatusFlags(EFlags.zero, equal ? EFlags.zero : 0)
        return .next
    }

    /// CMPXCHG8B: compare EDX:EAX with m64; equal → store ECX:EBX and set ZF, else load EDX:EAX.
    func execCmpxchg8b(_ d: Instruction) -> Step {
        let offset = effectiveAddress(d)
        guard let value = read64(d.segment, offset) else { return .fault }
        let expected = UInt64(reg32(.rdx)) << 32 | UInt64(reg32(.rax))
        let equal = value == expected
        let stored = equal ? UInt64(reg32(.rcx)) << 32 | UInt64(reg32(.rbx)) : value
        guard write64(d.segment, offset, stored) else { return .fault }
        if !equal {
            setReg32(.rax, UInt32(truncatingIfNeeded: value))
            setReg32(.rdx, UInt32(truncatingIfNeeded: value >> 32))
        }
        setStatusFlags(EFlags.zero, equal ? EFlags.zero : 0)
        return .next
    }
}

/// A handler body generic over the operand size, so that `CPU.bySize` runs a copy specialized
/// for the instruction's size: every size-dependent step (register and memory access widths,
/// masks, flag sizes) is then decided when the handler is compiled, not when it runs.
protocol SizedHandler {
    func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step
}

extension CPU {
    /// Runs `handler` specialized for `d`'s operand size.
    @inline(__always) func bySize<Handler: SizedHandler>(_ d: Instruction, _ handler: Handler) -> Step {
        switch d.size {
        case .byte: handler.run(self, d, UInt8.self)
        case .word: handler.run(self, d, UInt16.self)
        case .dword: handler.run(self, d, UInt32.self)
        case .qword: handler.run(self, d, UInt64.self)
        }
    }
}

struct AluRmReg<Operation: AluOperation>: SizedHandler {
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.aluRmReg(d, Operation.self, Value.self)
    }
}

struct AluRegRm<Operation: AluOperation>: SizedHandler {
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.aluRegRm(d, Operation.self, Value.self)
    }
}

struct AluRmImm<Operation: AluOperation>: SizedHandler {
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.aluRmImm(d, Operation.self, Value.self)
    }
}

struct IncrementRm: SizedHandler {
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.incDecRm(d, Value.self, increment: true)
    }
}

struct DecrementRm: SizedHandler {
    @inline(__always) func run<Value: FixedWidthInteger>(_ cpu: CPU, _ d: Instruction, _: Value.Type) -> Step {
        cpu.incDecRm(d, Value.self, increment: false)
    }
}
