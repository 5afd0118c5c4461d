/// Descriptor-table entries as data (SDM Vol. 3A, 3.4.5 and 6.11), for guests that build
/// their own GDT, IDT and TSS.
extension Assembler {
    /// An 8-byte code, data or system segment descriptor. `access` is the type/S/DPL/P byte;
    /// `flags` the high nibble (G, D/B, L, AVL).
    public mutating func segmentDescriptor(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) {
        dw(UInt16(truncatingIfNeeded: limit))
        dw(UInt16(truncatingIfNeeded: base))
        db([UInt8(truncatingIfNeeded: base >> 16), access,
            UInt8(truncatingIfNeeded: limit >> 16) & 0xF | (flags & 0xF) << 4, UInt8(truncatingIfNeeded: base >> 24)])
    }

    /// An 8-byte gate (call, interrupt, trap or task gate) whose target offset is `label`,
    /// which must lie below 64 KiB. `type` is the gate type (5 task, 0xC call, 0xE interrupt, 0xF trap).
    public mutating func gateDescriptor(selector: UInt16, target label: Label?, type: UInt8, privilegeLevel: UInt8 = 0,
                                        present: Bool = true) {
        if let label { dw(label) } else { dw(0) }
        dw(selector)
        db([0, (present ? 0x80 : 0) | (privilegeLevel & 3) << 5 | type & 0xF])
        dw(0)
    }
}
