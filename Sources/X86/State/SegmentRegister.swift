/// The six segment registers, numbered as the instruction encoding numbers them.
public enum SegmentRegister: Int, CaseIterable, Sendable {
    case es, cs, ss, ds, fs, gs
}

/// The hidden part of a segment register: what the CPU loaded from a descriptor
/// (or, in real mode, derived from the selector). Access checks use only this cache,
/// which is why "unreal mode" works: real-mode loads change only selector and base.
public struct SegmentCache: Sendable, Equatable {
    public var selector: UInt16
    public var base: UInt64
    /// Byte-granular limit (granularity already applied).
    public var limit: UInt32
    /// Access rights in the VMX layout: type (3:0), S (4), DPL (6:5), P (7), AVL (12), L (13), D/B (14), G (15).
    public var attributes: UInt16
    /// Lowest and highest valid offsets, precomputed from limit, expand-down and B, so
    /// the per-access check is two compares.
    var lowestOffset: UInt32
    var highestOffset: UInt32

    public init(selector: UInt16, base: UInt64, limit: UInt32, attributes: UInt16) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.attributes = attributes
        self.lowestOffset = 0
        self.highestOffset = limit
        recomputeBounds()
    }

    /// A real-mode segment: base = selector × 16, keeping limit and attributes as they are.
    mutating func loadRealMode(_ selector: UInt16) {
        self.selector = selector
        self.base = UInt64(selector) << 4
    }

    mutating func recomputeBounds() {
        let isData = attributes & 0x18 == 0x10
        let expandDown = isData && attributes & 0x4 != 0
        if expandDown {
            lowestOffset = limit &+ 1
            highestOffset = attributes & 0x4000 != 0 ? 0xFFFF_FFFF : 0xFFFF
        } else {
            lowestOffset = 0
            highestOffset = limit
        }
    }

    public var defaultSize32: Bool { attributes & 0x4000 != 0 }

    /// Attributes of a present, accessed, read/write data segment (type 3, S=1, P=1).
    static let realModeData: UInt16 = 0x93
    /// Attributes of a present, accessed, readable code segment (type 11, S=1, P=1).
    static let realModeCode: UInt16 = 0x9B
}
