/// MOVS, CMPS, STOS, LODS, SCAS, INS and OUTS, with REP/REPE/REPNE.
///
/// A repeated instruction runs at most `stringChunk` iterations per execution (fewer when
/// the run's budget is nearly used up) and then restarts itself, so interrupts are taken
/// between iterations as on hardware. Every iteration counts as a retired instruction, so
/// virtual time follows the work done; REP instructions begin their decoded block, so the
/// run loop's budget is exact when they start.
/// One string instruction as a type: `execString` is generic over it, so each
/// instruction gets its own specialized handler with no dispatch per iteration.
protocol StringInstruction { static var op: Op { get } }
enum MovsInstruction: StringInstruction { static var op: Op { .movs } }
enum CmpsInstruction: StringInstruction { static var op: Op { .cmps } }
enum StosInstruction: StringInstruction { static var op: Op { .stos } }
enum LodsInstruction: StringInstruction { static var op: Op { .lods } }
enum ScasInstruction: StringInstruction { static var op: Op { .scas } }
enum InsInstruction: StringInstruction { static var op: Op { .ins } }
enum OutsInstruction: StringInstruction { static var op: Op { .outs } }

extension CPU {
    static let stringChunk = 4096
    private static let es = UInt8(SegmentRegister.es.rawValue)
    private static let rsi = RegisterFile.byteOffset(UInt8(GeneralRegister.rsi.rawValue))
    private static let rdi = RegisterFile.byteOffset(UInt8(GeneralRegister.rdi.rawValue))
    static let rcx = RegisterFile.byteOffset(UInt8(GeneralRegister.rcx.rawValue))

    func execString<Kind: StringInstruction>(_ d: Instruction, _: Kind.Type) -> Step {
        let op = Kind.op
        let addressSize = d.addressSize
        let repeats = d.hasRepeat
        if (op == .ins || op == .outs) && !ioPermitted(port: reg16(.rdx), size: d.size.bytes) {
            return .fault
        }
        let delta: UInt64 = directionFlag ? 0 &- UInt64(d.size.bytes) : UInt64(d.size.bytes)
        if !repeats {
            guard stringIteration(d, Kind.self, addressSize, delta) else { return .fault }
            return op == .ins || op == .outs ? .exit : .next
        }
        var remaining = readRegister(CPU.rcx, addressSize)
        if remaining == 0 { return .next }
        var iterations = 0
        var step = Step.next
        let chunk = min(CPU.stringChunk, max(1, repeatBudget))
        while remaining != 0 && iterations < chunk {
            // The fast path may not exceed what is left of the chunk (an exact run budget).
            if op == .movs || op == .stos,
               let done = fastRepeat(d, addressSize, Int(min(remaining, UInt64(chunk - iterations))), delta) {
                iterations += done
                remaining &-= UInt64(done)
                writeRegister(CPU.rcx, addressSize, remaining)
                continue
            }
            guard stringIteration(d, Kind.self, addressSize, delta) else { step = .fault; break }
            iterations += 1
            remaining = (remaining &- 1) & addressSize.mask
            writeRegister(CPU.rcx, addressSize, remaining)
            // REPE stops on ZF = 0, REPNE on ZF = 1.
            if (op == .cmps || op == .scas) && stoppedOnCondition(d) { break }
        }
        if iterations > 1 { instructionsRetired &+= UInt64(iterations - 1) }
        if step == .fault { return .fault }
        if remaining != 0 && iterations >= chunk && !((op == .cmps || op == .scas) && stoppedOnCondition(d)) {
            rewindInstructionPointer(by: d.length)   // resume the repetition after pending events
            // An event taken between iterations pushes RF = 1 (SDM Vol. 3A, 17.3.1.1); the run
            // loop clears RF again as the repetition resumes.
            eflagsStored |= EFlags.resume
            return .exit
        }
        return op == .ins || op == .outs ? .exit : .next
    }

    private func stoppedOnCondition(_ d: Instruction) -> Bool {
        let zf = zeroFlag
        return d.attributes & DecodedInstruction.Attributes.repeatZ != 0 ? !zf : zf
    }

    /// One iteration; `false` with an exception pending (registers are then as before the iteration).
    @inline(__always)
    private func stringIteration<Kind: StringInstruction>(_ d: Instruction, _: Kind.Type,
                                                          _ addressSize: OperandSize, _ delta: UInt64) -> Bool {
        let size = d.size
        let si = readRegister(CPU.rsi, addressSize)
        let di = readRegister(CPU.rdi, addressSize)
        switch Kind.op {
        case .movs:
            guard let v = read(d.segment, si, size), write(CPU.es, di, size, v) else { return false }
            writeRegister(CPU.rsi, addressSize, (si &+ delta) & addressSize.mask)
            writeRegister(CPU.rdi, addressSize, (di &+ delta) & addressSize.mask)
        case .cmps:
            guard let a = read(d.segment, si, size), let b = read(CPU.es, di, size) else { return false }
            _ = alu(AluKind.cmp.rawValue, a, b, size)
            writeRegister(CPU.rsi, addressSize, (si &+ delta) & addressSize.mask)
            writeRegister(CPU.rdi, addressSize, (di &+ delta) & addressSize.mask)
        case .stos:
            guard write(CPU.es, di, size, readRegister(0, size)) else { return false }
            writeRegister(CPU.rdi, addressSize, (di &+ delta) & addressSize.mask)
        case .lods:
            guard let v = read(d.segment, si, size) else { return false }
            writeRegister(0, size, v)
            writeRegister(CPU.rsi, addressSize, (si &+ delta) & addressSize.mask)
        case .scas:
            guard let b = read(CPU.es, di, size) else { return false }
            _ = alu(AluKind.cmp.rawValue, readRegister(0, size), b, size)
            writeRegister(CPU.rdi, addressSize, (di &+ delta) & addressSize.mask)
        case .ins:
            guard linearAddress(CPU.es, di, size.bytes, forWrite: true) != nil else { return false }
            noteIOAccess(reg16(.rdx), size: size.bytes)
            let v = UInt64(bus.readPort(reg16(.rdx), size: size.bytes))
            guard write(CPU.es, di, size, v) else { return false }
            writeRegister(CPU.rdi, addressSize, (di &+ delta) & addressSize.mask)
        default: // outs
            guard let v = read(d.segment, si, size) else { return false }
            noteIOAccess(reg16(.rdx), size: size.bytes)
            bus.writePort(reg16(.rdx), size: size.bytes, value: UInt32(truncatingIfNeeded: v))
            writeRegister(CPU.rsi, addressSize, (si &+ delta) & addressSize.mask)
        }
        return true
    }

    /// REP MOVS / REP STOS going forward within pages the TLB maps to host memory:
    /// copies element by element on host pointers (keeping x86's overlap semantics).
    /// Returns the number of iterations done, or `nil` to take the general path.
    private func fastRepeat(_ d: Instruction, _ addressSize: OperandSize,
                            _ remaining: Int, _ delta: UInt64) -> Int? {
        let elementSize = d.size.bytes
        guard delta == UInt64(elementSize) else { return nil }
        let di = readRegister(CPU.rdi, addressSize)
        // `remaining` is already within the chunk and the run's budget.
        var count = remaining
        guard let dstLinear = forwardRunStart(CPU.es, di, addressSize, elementSize, count: &count, forWrite: true),
              let dst = mappedLinear(dstLinear, length: elementSize, forWrite: true) else { return nil }
        count = min(count, (4096 - Int(dstLinear & 0xFFF)) / elementSize)

        if d.op == .stos {
            let value = readRegister(0, d.size)
            switch d.size {
            case .byte: dst.initializeMemory(as: UInt8.self, repeating: UInt8(truncatingIfNeeded: value), count: count)
            case .word: for i in 0..<count { dst.storeBytes(of: UInt16(truncatingIfNeeded: value), toByteOffset: i * 2, as: UInt16.self) }
            case .dword: for i in 0..<count { dst.storeBytes(of: UInt32(truncatingIfNeeded: value), toByteOffset: i * 4, as: UInt32.self) }
            case .qword: for i in 0..<count { dst.storeBytes(of: value, toByteOffset: i * 8, as: UInt64.self) }
            }
            writeRegister(CPU.rdi, addressSize, (di &+ UInt64(count * elementSize)) & addressSize.mask)
            return count
        }
        let si = readRegister(CPU.rsi, addressSize)
        guard let srcLinear = forwardRunStart(d.segment, si, addressSize, elementSize, count: &count, forWrite: false),
              let source = mappedLinear(srcLinear, length: elementSize, forWrite: false) else { return nil }
        count = min(count, (4096 - Int(srcLinear & 0xFFF)) / elementSize)
        let bytes = count * elementSize
        // Element by element, forward: overlapping moves replicate exactly as the hardware's do.
        switch d.size {
        case .byte:
            for i in 0..<count { dst.storeBytes(of: source.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
        case .word:
            for i in 0..<count { dst.storeBytes(of: source.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self), toByteOffset: i * 2, as: UInt16.self) }
        case .dword:
            for i in 0..<count { dst.storeBytes(of: source.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self), toByteOffset: i * 4, as: UInt32.self) }
        case .qword:
            for i in 0..<count { dst.storeBytes(of: source.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self), toByteOffset: i * 8, as: UInt64.self) }
        }
        writeRegister(CPU.rsi, addressSize, (si &+ UInt64(bytes)) & addressSize.mask)
        writeRegister(CPU.rdi, addressSize, (di &+ UInt64(bytes)) & addressSize.mask)
        return count
    }

    /// The linear address of a forward run of elements at `seg`:`offset`, with `count` cut to
    /// what the offset's wrap (at 64 KiB or 4 GiB) and, outside 64-bit mode, the segment's
    /// limit allow; `nil` when not even the first element fits, or its address is not
    /// canonical: the general path then raises what it must. In 64-bit mode only FS and GS add
    /// a base and linear addresses are 64 bits wide.
    @inline(__always)
    private func forwardRunStart(_ seg: UInt8, _ offset: UInt64, _ addressSize: OperandSize, _ elementSize: Int,
                                 count: inout Int, forWrite: Bool) -> UInt64? {
        if addressSize != .qword {
            let offsetEnd: UInt64 = addressSize == .word ? 0x1_0000 : 0x1_0000_0000
            count = min(count, Int((offsetEnd &- offset) / UInt64(elementSize)))
        }
        if executing64 {
            let linear = segmentBase(seg) &+ offset
            return count > 0 && isCanonical(linear) ? linear : nil
        }
        let s = segs[Int(seg)]
        let highest = UInt64(forWrite ? s.writeHighest : s.readHighest)
        guard offset >= UInt64(forWrite ? s.writeLowest : s.readLowest), offset < highest + 1 else { return nil }
        count = min(count, Int((highest + 1 - offset) / UInt64(elementSize)))
        return count > 0 ? (s.base &+ offset) & 0xFFFF_FFFF : nil
    }
}

/// Single (unrepeated) MOVS, CMPS, STOS, LODS and SCAS: when every operand lies in one page the
/// data TLB maps and inside its segment, the instruction is done on host memory with no other
/// look; anything else (a limit or wrap, a page crossing, a TLB miss, a page with decoded code
/// or a watched one, a non-canonical address) takes the general path, which raises what it must.
extension CPU {
    /// Runs a string instruction from the block (`execute`): a repeated one, which needs EIP,
    /// goes to `executeAtInstructionPointer` unless `repeatWithinPage` settles it.
    @inline(never)
    func execStringOnce(_ d: Instruction) -> Step {
        switch d.size {
        case .byte: stringOnce(d, UInt8.self)
        case .word: stringOnce(d, UInt16.self)
        case .dword: stringOnce(d, UInt32.self)
        case .qword: stringOnce(d, UInt64.self)
        }
    }

    /// `execStringOnce` for elements of `Element`'s size.
    @inline(__always)
    private func stringOnce<Element: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, _: Element.Type) -> Step {
        if d.hasRepeat {
            if (d.op == .movs || d.op == .stos), let step = repeatWithinPage(d, Element.self) { return step }
            return executeAtInstructionPointer(d)
        }
        let size = OperandSize.of(Element.self)
        let bytes = MemoryLayout<Element>.size
        let addressSize = d.addressSize
        let addressMask = addressSize.mask
        let delta: UInt64 = directionFlag ? 0 &- UInt64(bytes) : UInt64(bytes)
        switch d.op {
        case .lods:
            let si = readRegister(CPU.rsiOffset, addressSize)
            guard let source = mappedOperand(d.segment, si, bytes, forWrite: false) else { break }
            writeRegister(0, size, UInt64(source.loadUnaligned(as: Element.self)))
            writeRegister(CPU.rsiOffset, addressSize, (si &+ delta) & addressMask)
            return .next
        case .stos:
            let di = readRegister(CPU.rdiOffset, addressSize)
            guard let destination = mappedOperand(CPU.esIndex, di, bytes, forWrite: true) else { break }
            destination.storeBytes(of: Element(truncatingIfNeeded: readRegister(0, size)), as: Element.self)
            writeRegister(CPU.rdiOffset, addressSize, (di &+ delta) & addressMask)
            return .next
        case .movs:
            let si = readRegister(CPU.rsiOffset, addressSize)
            let di = readRegister(CPU.rdiOffset, addressSize)
            guard let source = mappedOperand(d.segment, si, bytes, forWrite: false),
                  let destination = mappedOperand(CPU.esIndex, di, bytes, forWrite: true) else { break }
            destination.storeBytes(of: source.loadUnaligned(as: Element.self), as: Element.self)
            writeRegister(CPU.rsiOffset, addressSize, (si &+ delta) & addressMask)
            writeRegister(CPU.rdiOffset, addressSize, (di &+ delta) & addressMask)
            return .next
        case .scas:
            let di = readRegister(CPU.rdiOffset, addressSize)
            guard let operand = mappedOperand(CPU.esIndex, di, bytes, forWrite: false) else { break }
            _ = alu(AluKind.cmp.rawValue, readRegister(0, size), UInt64(operand.loadUnaligned(as: Element.self)), size)
            writeRegister(CPU.rdiOffset, addressSize, (di &+ delta) & addressMask)
            return .next
        case .cmps:
            let si = readRegister(CPU.rsiOffset, addressSize)
            let di = readRegister(CPU.rdiOffset, addressSize)
            guard let first = mappedOperand(d.segment, si, bytes, forWrite: false),
                  let second = mappedOperand(CPU.esIndex, di, bytes, forWrite: false) else { break }
            _ = alu(AluKind.cmp.rawValue, UInt64(first.loadUnaligned(as: Element.self)),
                    UInt64(second.loadUnaligned(as: Element.self)), size)
            writeRegister(CPU.rsiOffset, addressSize, (si &+ delta) & addressMask)
            writeRegister(CPU.rdiOffset, addressSize, (di &+ delta) & addressMask)
            return .next
        default:
            break
        }
        return executeAtInstructionPointer(d)
    }

    /// REP MOVS or REP STOS whose whole run fits what one execution may do (`execString`'s
    /// chunk) and whose elements, in either direction, lie in one page of each operand that the
    /// data TLB maps, inside the segments' limits, the offsets not wrapping. `nil` otherwise.
    @inline(__always)
    private func repeatWithinPage<Element: FixedWidthInteger & UnsignedInteger>(_ d: Instruction, _: Element.Type) -> Step? {
        let size = OperandSize.of(Element.self)
        let bytes = MemoryLayout<Element>.size
        let addressSize = d.addressSize
        let count = readRegister(CPU.rcx, addressSize)
        guard count != 0, count <= UInt64(min(CPU.stringChunk, max(1, repeatBudget))) else { return nil }
        let span = count &* UInt64(bytes)
        let backward = directionFlag
        // The lowest offset of each run: the start going forward, the last element going back.
        let di = readRegister(CPU.rdiOffset, addressSize)
        let back = span &- UInt64(bytes)
        guard backward ? di >= back : di <= addressSize.mask &- back,
              let destination = mappedOperand(CPU.esIndex, backward ? di &- back : di, Int(span), forWrite: true)
        else { return nil }
        let elements = Int(count)
        if d.op == .stos {
            let value = Element(truncatingIfNeeded: readRegister(0, size))
            for i in 0..<elements { destination.storeBytes(of: value, toByteOffset: i &* bytes, as: Element.self) }
        } else {
            let si = readRegister(CPU.rsiOffset, addressSize)
            guard backward ? si >= back : si <= addressSize.mask &- back,
                  let source = mappedOperand(d.segment, backward ? si &- back : si, Int(span), forWrite: false)
            else { return nil }
            // Element by element in the instruction's order: overlapping moves replicate as the hardware's do.
            if backward {
                for i in stride(from: elements - 1, through: 0, by: -1) {
                    destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i &* bytes, as: Element.self),
                                           toByteOffset: i &* bytes, as: Element.self)
                }
            } else {
                for i in 0..<elements {
                    destination.storeBytes(of: source.loadUnaligned(fromByteOffset: i &* bytes, as: Element.self),
                                           toByteOffset: i &* bytes, as: Element.self)
                }
            }
            writeRegister(CPU.rsiOffset, addressSize, (backward ? si &- span : si &+ span) & addressSize.mask)
        }
        writeRegister(CPU.rdiOffset, addressSize, (backward ? di &- span : di &+ span) & addressSize.mask)
        writeRegister(CPU.rcx, addressSize, 0)
        instructionsRetired &+= count &- 1
        return .next
    }

    static let esIndex = UInt8(SegmentRegister.es.rawValue)
    static let rsiOffset = RegisterFile.byteOffset(UInt8(GeneralRegister.rsi.rawValue))
    static let rdiOffset = RegisterFile.byteOffset(UInt8(GeneralRegister.rdi.rawValue))

    /// The host bytes of a `bytes`-byte operand at `seg`:`offset` when one look settles the
    /// access: inside the segment's limits for the access (or canonical, in 64-bit mode) and in
    /// one page the data TLB maps for it. `nil` otherwise, with nothing raised.
    @inline(__always)
    func mappedOperand(_ seg: UInt8, _ offset: UInt64, _ bytes: Int, forWrite: Bool) -> UnsafeMutableRawPointer? {
        if executing64 {
            // Within one page the TLB maps, the first byte being canonical makes the last one so.
            let linear = segmentBase(seg) &+ offset
            return isCanonical(linear) ? mappedLinear(linear, length: bytes, forWrite: forWrite) : nil
        }
        let s = segs + Int(seg)
        let last = offset &+ UInt64(bytes &- 1)
        let lowest = forWrite ? s.pointee.writeLowest : s.pointee.readLowest
        let highest = forWrite ? s.pointee.writeHighest : s.pointee.readHighest
        guard offset >= UInt64(lowest) && last <= UInt64(highest) else { return nil }
        return mappedLinear((s.pointee.base &+ offset) & 0xFFFF_FFFF, length: bytes, forWrite: forWrite)
    }

    @inline(__always) func loadOperand(_ p: UnsafeMutableRawPointer, _ size: OperandSize) -> UInt64 {
        switch size {
        case .byte: UInt64(p.load(as: UInt8.self))
        case .word: UInt64(p.loadUnaligned(as: UInt16.self))
        case .dword: UInt64(p.loadUnaligned(as: UInt32.self))
        case .qword: p.loadUnaligned(as: UInt64.self)
        }
    }

    @inline(__always) func storeOperand(_ p: UnsafeMutableRawPointer, _ size: OperandSize, _ value: UInt64) {
        switch size {
        case .byte: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case .word: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case .dword: p.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        case .qword: p.storeBytes(of: value, as: UInt64.self)
        }
    }
}
