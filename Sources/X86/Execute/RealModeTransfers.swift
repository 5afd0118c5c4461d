/// Fast paths for the far transfers of real-address mode: INT n, IRET, far CALL and RETF.
///
/// Each applies only when everything the instruction touches is settled by one look: the
/// vector table entry and the stack frame lie inside their limits (SP not wrapping) and in one
/// page the data TLB maps for the access (not a page with decoded code, for a push, nor one a
/// data breakpoint watches), and the new IP is inside CS's limit. Then the instruction is done
/// on host memory and leaves exactly the state the general path would; anything else returns
/// `nil` before changing any state, and the general path raises what it must.
extension CPU {
    private static let ssIndex = UInt8(SegmentRegister.ss.rawValue)

    /// The host bytes of the `bytes` bytes a push of that many makes below SS:SP, when SP does
    /// not wrap and they lie inside SS and in one page the TLB maps for writing.
    @inline(__always) func mappedPushFrame(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let sp = stackPointer
        guard sp >= UInt64(bytes) else { return nil }
        return mappedOperand(CPU.ssIndex, sp &- UInt64(bytes), bytes, forWrite: true)
    }

    /// The host bytes of the `bytes` bytes a pop of that many reads at SS:SP, when SP does not
    /// wrap and they lie inside SS and in one page the TLB maps for reading.
    @inline(__always) func mappedPopFrame(_ bytes: Int) -> UnsafeMutableRawPointer? {
        let sp = stackPointer
        guard sp &+ UInt64(bytes) <= stackAddressMask &+ 1 else { return nil }
        return mappedOperand(CPU.ssIndex, sp, bytes, forWrite: false)
    }

    /// INT n (and INT3) with CR0.PE = 0: push FLAGS, CS, IP; clear IF, TF, AC and RF; jump
    /// through the 4-byte vector (`deliverRealMode`). `rip` is the next instruction's.
    @inline(__always) func realModeSoftwareInterrupt(vector: UInt8) -> Step? {
        guard cr0 & ControlRegister0.protectionEnable == 0 else { return nil }
        let entry = UInt32(vector) &* 4
        guard entry &+ 3 <= idtr.limit,
              let table = mappedLinear((idtr.base &+ UInt64(entry)) & 0xFFFF_FFFF, length: 4, forWrite: false),
              let frame = mappedPushFrame(6) else { return nil }
        if hasObserver, let observer { observer.cpu(self, delivers: vector, source: .software, errorCode: nil) }
        let cs = segs + SegmentRegister.cs.rawValue
        frame.storeBytes(of: UInt16(truncatingIfNeeded: rip), as: UInt16.self)
        frame.storeBytes(of: cs.pointee.selector, toByteOffset: 2, as: UInt16.self)
        frame.storeBytes(of: UInt16(truncatingIfNeeded: eflags), toByteOffset: 4, as: UInt16.self)
        setStackPointer(stackPointer &- 6)
        eflagsStored &= ~(EFlags.interrupt | EFlags.trap | EFlags.alignmentCheck | EFlags.resume)
        cs.pointee.loadRealMode(table.loadUnaligned(fromByteOffset: 2, as: UInt16.self))
        rip = UInt64(table.loadUnaligned(as: UInt16.self))
        return .exit
    }

    /// IRET with CR0.PE = 0: pop IP, CS and FLAGS at the operand size (`execIret`).
    @inline(__always) func realModeInterruptReturn(_ size: OperandSize) -> Step? {
        guard cr0 & ControlRegister0.protectionEnable == 0 else { return nil }
        let bytes = size.bytes
        guard let frame = mappedPopFrame(3 * bytes) else { return nil }
        let offset = UInt32(truncatingIfNeeded: loadOperand(frame, size))
        guard offset <= segs[SegmentRegister.cs.rawValue].limit else { return nil }
        let selector = UInt16(truncatingIfNeeded: loadOperand(frame + bytes, size))
        let flags = UInt32(truncatingIfNeeded: loadOperand(frame + 2 * bytes, size))
        segs[SegmentRegister.cs.rawValue].loadRealMode(selector)
        rip = UInt64(offset)
        setStackPointer(stackPointer &+ UInt64(3 * bytes))
        writeFlagsFromStack(flags, size, level: cpl)
        return .exit
    }

    /// CALL far in real-address or virtual-8086 mode: push CS and IP at the operand size, then
    /// jump (`farCall`).
    @inline(__always) func realModeFarCall(selector: UInt16, offset: UInt32, size: OperandSize) -> Step? {
        let bytes = size.bytes
        let cs = segs + SegmentRegister.cs.rawValue
        guard offset <= cs.pointee.limit, let frame = mappedPushFrame(2 * bytes) else { return nil }
        storeOperand(frame, size, rip)
        storeOperand(frame + bytes, size, UInt64(cs.pointee.selector))
        setStackPointer(stackPointer &- UInt64(2 * bytes))
        cs.pointee.loadRealMode(selector)
        rip = UInt64(offset)
        return .exit
    }

    /// RETF in real-address or virtual-8086 mode: pop IP and CS at the operand size, then
    /// release `release` bytes (`execRetFar`).
    @inline(__always) func realModeFarReturn(_ size: OperandSize, release: UInt32) -> Step? {
        let bytes = size.bytes
        guard let frame = mappedPopFrame(2 * bytes) else { return nil }
        let offset = UInt32(truncatingIfNeeded: loadOperand(frame, size))
        let cs = segs + SegmentRegister.cs.rawValue
        guard offset <= cs.pointee.limit else { return nil }
        cs.pointee.loadRealMode(UInt16(truncatingIfNeeded: loadOperand(frame + bytes, size)))
        rip = UInt64(offset)
        setStackPointer(stackOffset(stackPointer, adding: 2 * bytes + Int(release)))
        return .exit
    }
}
