/// One entry of the direct-mapped software TLB: a linear page mapped to host memory.
///
/// Tags hold the linear page base, or `TLBEntry.invalid`. A page holding decoded
/// code gets no write tag, so stores to it take the slow path, which invalidates
/// the decoded instructions first.
struct TLBEntry {
    static let count = 256
    static let invalid: UInt64 = 1   // never equal to a page-aligned address

    var readTag: UInt64 = TLBEntry.invalid
    var writeTag: UInt64 = TLBEntry.invalid
    /// Host address of the linear page's first byte, minus the linear page base.
    var addend: Int = 0
    var physicalPage: UInt64 = 0

    @inline(__always) static func slot(_ linear: UInt64) -> Int { Int(truncatingIfNeeded: linear >> 12) & (count - 1) }
    @inline(__always) static func pageBase(_ linear: UInt64) -> UInt64 { linear & ~0xFFF }
}

extension CPU {
    /// Forgets every cached translation (CR3 load, A20 change, a remapped bus page).
    public func flushTLB() {
        for i in 0..<TLBEntry.count { tlb[i] = TLBEntry() }
    }

    /// Removes the write permission of every entry that maps `physicalPage`.
    func revokeWrites(toPhysicalPage physicalPage: UInt64) {
        for i in 0..<TLBEntry.count where tlb[i].physicalPage == physicalPage {
            tlb[i].writeTag = TLBEntry.invalid
        }
    }

    /// Sets the A20 gate (chipset input A20M#): while off, physical address bit 20 is forced to 0.
    public func setA20(enabled: Bool) {
        let mask: UInt64 = enabled ? ~0 : ~(1 << 20)
        guard mask != a20Mask else { return }
        a20Mask = mask
        flushTLB()
    }
}
