/// Segment register loads. In real mode (and virtual-8086 mode) a load sets the
/// selector and base = selector × 16 and keeps the cached limit and attributes,
/// which is what makes "unreal mode" possible (SDM Vol. 3A, 20.1.1).
extension CPU {
    /// The current privilege level: 0 in real mode, CS.RPL in protected mode, 3 in virtual-8086 mode.
    var currentPrivilegeLevel: UInt8 {
        if !isProtectedMode { return 0 }
        if eflagsStored & EFlags.virtual8086 != 0 { return 3 }
        return UInt8(segs[SegmentRegister.cs.rawValue].selector & 3)
    }

    @inline(__always) var isRealAddressing: Bool {
        !isProtectedMode || eflagsStored & EFlags.virtual8086 != 0
    }

    /// Loads a data or stack segment register; `false` with an exception pending on failure.
    func loadSegment(_ index: Int, selector: UInt16) -> Bool {
        if isRealAddressing {
            segs[index].loadRealMode(selector)
            return true
        }
        return loadProtectedModeSegment(index, selector: selector)
    }

    /// Loads CS and EIP for a far transfer; `false` with an exception pending on failure.
    func loadCodeSegment(selector: UInt16, offset: UInt32) -> Bool {
        if isRealAddressing {
            if offset > segs[SegmentRegister.cs.rawValue].highestOffset {
                raiseFault(.generalProtection, errorCode: 0)
                return false
            }
            segs[SegmentRegister.cs.rawValue].loadRealMode(selector)
            rip = UInt64(offset)
            return true
        }
        return loadProtectedModeCodeSegment(selector: selector, offset: offset)
    }

    /// Protected-mode descriptor loads arrive with the protected-mode issue; until then
    /// any load in protected mode raises #GP(selector).
    private func loadProtectedModeSegment(_ index: Int, selector: UInt16) -> Bool {
        raiseFault(.generalProtection, errorCode: UInt32(selector & 0xFFFC))
        return false
    }

    private func loadProtectedModeCodeSegment(selector: UInt16, offset: UInt32) -> Bool {
        raiseFault(.generalProtection, errorCode: UInt32(selector & 0xFFFC))
        return false
    }
}
