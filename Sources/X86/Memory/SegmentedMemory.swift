/// Segment:offset accesses with the limit check every access makes (SDM Vol. 3A, 5.3).
extension CPU {
    /// The linear address of `offset` in segment `seg`, or `nil` with #GP(0) (#SS(0) for SS) pending
    /// when any byte lies outside the segment's limit or the segment cannot be read (or, with
    /// `forWrite`, written: it must be writable data).
    @inline(__always) func linearAddress(_ seg: UInt8, _ offset: UInt64, _ size: Int, forWrite: Bool = false) -> UInt64? {
        if executing64 { return linearAddress64(seg, offset, size) }
        let s = segs + Int(seg)
        let last = offset &+ UInt64(size &- 1)
        let lowest = forWrite ? s.pointee.writeLowest : s.pointee.readLowest
        let highest = forWrite ? s.pointee.writeHighest : s.pointee.readHighest
        if offset < UInt64(lowest) || last > UInt64(highest) {
            raiseSegmentFault(seg)
            return nil
        }
        return (s.pointee.base &+ offset) & 0xFFFF_FFFF
    }

    /// 64-bit mode: no limit or type checks, and only FS and GS have a base; every byte must be
    /// canonical, else #GP(0), or #SS(0) for a stack reference (SDM Vol. 3A, 3.3.7.1 and 5.3.1).
    @inline(__always) func linearAddress64(_ seg: UInt8, _ offset: UInt64, _ size: Int) -> UInt64? {
        let linear = segmentBase(seg) &+ offset
        guard isCanonical(linear) && isCanonical(linear &+ UInt64(size &- 1)) else {
            raiseNonCanonicalFault(seg)
            return nil
        }
        return linear
    }

    @inline(never) private func raiseNonCanonicalFault(_ seg: UInt8) {
        raiseFault(seg == UInt8(SegmentRegister.ss.rawValue) ? .stackFault : .generalProtection, errorCode: 0)
    }

    /// The base a data access through `seg` adds: in 64-bit mode only FS and GS have one.
    @inline(__always) func segmentBase(_ seg: UInt8) -> UInt64 {
        executing64 && seg < UInt8(SegmentRegister.fs.rawValue) ? 0 : segs[Int(seg)].base
    }

    /// `offset` bytes past the linear address `linear`: linear addresses wrap at 4 GiB outside
    /// 64-bit mode and are 64 bits wide in it.
    @inline(__always) func linear(_ linear: UInt64, plus offset: Int) -> UInt64 {
        (linear &+ UInt64(bitPattern: Int64(offset))) & (executing64 ? ~0 : 0xFFFF_FFFF)
    }

    /// Bits 63:47 all equal: a 48-bit linear address in canonical form.
    @inline(__always) func isCanonical(_ linear: UInt64) -> Bool {
        UInt64(bitPattern: Int64(bitPattern: linear << 16) >> 16) == linear
    }

    @inline(never) func raiseSegmentFault(_ seg: UInt8) {
        let stack = seg == UInt8(SegmentRegister.ss.rawValue) && segs[Int(seg)].isUsable
        raiseFault(stack ? .stackFault : .generalProtection, errorCode: 0)
    }

    @inline(__always) func read8(_ seg: UInt8, _ offset: UInt64) -> UInt8? {
        guard let linear = linearAddress(seg, offset, 1) else { return nil }
        return readLinear(linear, as: UInt8.self)
    }
    @inline(__always) func read16(_ seg: UInt8, _ offset: UInt64) -> UInt16? {
        guard let linear = linearAddress(seg, offset, 2) else { return nil }
        return readLinear(linear, as: UInt16.self)
    }
    @inline(__always) func read32(_ seg: UInt8, _ offset: UInt64) -> UInt32? {
        guard let linear = linearAddress(seg, offset, 4) else { return nil }
        return readLinear(linear, as: UInt32.self)
    }
    @inline(__always) func read64(_ seg: UInt8, _ offset: UInt64) -> UInt64? {
        guard let linear = linearAddress(seg, offset, 8) else { return nil }
        return readLinear(linear, as: UInt64.self)
    }

    /// Reads an operand of `size`, zero-extended to 64 bits.
    @inline(__always) func read(_ seg: UInt8, _ offset: UInt64, _ size: OperandSize) -> UInt64? {
        switch size {
        case .byte: read8(seg, offset).map { UInt64($0) }
        case .word: read16(seg, offset).map { UInt64($0) }
        case .dword: read32(seg, offset).map { UInt64($0) }
        case .qword: read64(seg, offset)
        }
    }

    /// Writes the low `size` bits of `value`.
    @inline(__always) func write(_ seg: UInt8, _ offset: UInt64, _ size: OperandSize, _ value: UInt64) -> Bool {
        guard let linear = linearAddress(seg, offset, size.bytes, forWrite: true) else { return false }
        switch size {
        case .byte: return writeLinear(linear, UInt8(truncatingIfNeeded: value))
        case .word: return writeLinear(linear, UInt16(truncatingIfNeeded: value))
        case .dword: return writeLinear(linear, UInt32(truncatingIfNeeded: value))
        case .qword: return writeLinear(linear, value)
        }
    }

    /// The host bytes of a read-modify-write operand when one look settles both accesses: the
    /// segment allows the write (a writable data segment is readable too) and the TLB maps the
    /// page for writing. `nil` otherwise, with nothing raised: the caller then reads and writes
    /// separately, so faults come in the order the SDM gives them.
    @inline(__always) func mappedForUpdate(_ seg: UInt8, _ offset: UInt64, _ size: OperandSize) -> UnsafeMutableRawPointer? {
        if executing64 {
            // Within one page the TLB maps, the first byte being canonical makes the last one so.
            let linear = segmentBase(seg) &+ offset
            return isCanonical(linear) ? mappedLinear(linear, length: size.bytes, forWrite: true) : nil
        }
        let s = segs + Int(seg)
        let last = offset &+ UInt64(size.bytes &- 1)
        guard offset >= UInt64(s.pointee.writeLowest) && last <= UInt64(s.pointee.writeHighest) else { return nil }
        return mappedLinear((s.pointee.base &+ offset) & 0xFFFF_FFFF, length: size.bytes, forWrite: true)
    }

    /// Replaces the operand at `p` with `transform` of it.
    @inline(__always) func update(_ p: UnsafeMutableRawPointer, _ size: OperandSize, _ transform: (UInt64) -> UInt64) {
        switch size {
        case .byte: p.storeBytes(of: UInt8(truncatingIfNeeded: transform(UInt64(p.load(as: UInt8.self)))), as: UInt8.self)
        case .word:
            p.storeBytes(of: UInt16(truncatingIfNeeded: transform(UInt64(p.loadUnaligned(as: UInt16.self)))), as: UInt16.self)
        case .dword:
            p.storeBytes(of: UInt32(truncatingIfNeeded: transform(UInt64(p.loadUnaligned(as: UInt32.self)))), as: UInt32.self)
        case .qword: p.storeBytes(of: transform(p.loadUnaligned(as: UInt64.self)), as: UInt64.self)
        }
    }

    @inline(__always) func write64(_ seg: UInt8, _ offset: UInt64, _ value: UInt64) -> Bool {
        guard let linear = linearAddress(seg, offset, 8, forWrite: true) else { return false }
        return writeLinear(linear, value)
    }

    /// Fetches one instruction byte at CS:offset (checked against the CS limit, whatever the
    /// segment's readability), for the decoder.
    func fetchCodeByte(_ offset: UInt64) -> UInt8? {
        if executing64 {
            // 64-bit mode: no CS limit; the address must be canonical.
            if !isCanonical(offset) {
                raiseFault(.generalProtection, errorCode: 0)
                return nil
            }
            return fetchLinear(offset)
        }
        let cs = segs[SegmentRegister.cs.rawValue]
        if offset > UInt64(cs.limit) {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        return fetchLinear((cs.base &+ offset) & 0xFFFF_FFFF)
    }

    // MARK: Operands of decoded instructions

    /// The memory operand's offset: base + index << scale + displacement, wrapped to the address size.
    /// (The displacement is sign-extended, which matters only when the sum is wider than 32 bits.)
    @inline(__always) func effectiveAddress(_ d: Instruction) -> UInt64 {
        let sum = regs[Int(d.base)] &+ (regs[Int(d.index)] &<< UInt64(d.scale))
            &+ UInt64(bitPattern: Int64(Int32(bitPattern: d.disp)))
        return wrappedOffset(sum, d)
    }

    /// An offset computed for `d` (an operand's next part, a table entry), wrapped to its address size.
    @inline(__always) func wrappedOffset(_ offset: UInt64, _ d: Instruction) -> UInt64 {
        offset & d.addressMask
    }

    /// Reads the ModRM.rm operand (register or memory).
    @inline(__always) func readRM(_ d: Instruction, _ size: OperandSize) -> UInt64? {
        if d.hasMemoryOperand {
            return read(d.segment, effectiveAddress(d), size)
        }
        return readRegister(d.rm, size)
    }

    /// Writes the ModRM.rm operand (register or memory).
    @inline(__always) func writeRM(_ d: Instruction, _ size: OperandSize, _ value: UInt64) -> Bool {
        if d.hasMemoryOperand {
            return write(d.segment, effectiveAddress(d), size, value)
        }
        writeRegister(d.rm, size, value)
        return true
    }
}
