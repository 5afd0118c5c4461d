/// A stack being built by a far CALL through a gate or an event delivery: it may belong to
/// a privilege level the processor is switching to, so it carries its own segment cache
/// and nothing is committed until every push has succeeded.
struct StackFrame {
    var segment: SegmentCache
    /// The full ESP; with a 16-bit stack segment only its low half moves.
    var pointer: UInt32
    /// The error code of the #SS a push outside the segment raises.
    let faultCode: UInt32
}

extension CPU {
    /// The current stack, whose overflow is #SS(0).
    var currentStackFrame: StackFrame {
        StackFrame(segment: segs[SegmentRegister.ss.rawValue], pointer: reg32(.rsp), faultCode: 0)
    }

    /// Pushes onto `frame`; `false` with #SS (or #PF) pending when the push does not fit.
    @inline(__always)
    func push(_ value: UInt32, _ size: OperandSize, onto frame: inout StackFrame) -> Bool {
        let is32 = frame.segment.defaultSize32
        let moved = frame.pointer &- UInt32(size.bytes)
        let offset = is32 ? moved : moved & 0xFFFF
        let last = UInt64(offset) &+ UInt64(size.bytes - 1)
        if offset < frame.segment.writeLowest || last > UInt64(frame.segment.writeHighest) {
            raiseFault(.stackFault, errorCode: frame.faultCode)
            return false
        }
        let linear = (frame.segment.base &+ UInt64(offset)) & 0xFFFF_FFFF
        let written = size == .dword ? writeLinear(linear, value) : writeLinear(linear, UInt16(truncatingIfNeeded: value))
        guard written else { return false }
        frame.pointer = is32 ? offset : (frame.pointer & 0xFFFF_0000) | offset
        return true
    }

    /// Makes `frame` the current stack.
    @inline(__always)
    func commitStack(_ frame: StackFrame) {
        segs[SegmentRegister.ss.rawValue] = frame.segment
        setReg32(.rsp, frame.pointer)
    }

    /// The stack pointer for privilege level `level` from the current TSS (SDM Vol. 3A, 7.2.1):
    /// #TS(TSS selector) when the TSS is too short to hold it.
    func stackFromTSS(level: UInt8, external: UInt32) -> (selector: UInt16, pointer: UInt32)? {
        let is32 = taskRegister.attributes & 0x8 != 0
        let offset = is32 ? 4 + UInt32(level) * 8 : 2 + UInt32(level) * 4
        let span: UInt32 = is32 ? 5 : 3
        if offset &+ span > taskRegister.limit {
            raiseFault(.invalidTSS, errorCode: taskRegister.selector.errorCode | external)
            return nil
        }
        let address = (taskRegister.base &+ UInt64(offset)) & 0xFFFF_FFFF
        return asSupervisor {
            if is32 {
                guard let pointer = readLinear(address, as: UInt32.self),
                      let selector = readLinear(address &+ 4, as: UInt16.self) else { return nil }
                return (selector, pointer)
            }
            guard let pointer = readLinear(address, as: UInt16.self),
                  let selector = readLinear(address &+ 2, as: UInt16.self) else { return nil }
            return (selector, UInt32(pointer))
        }
    }
}
