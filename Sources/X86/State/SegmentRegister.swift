/// The six segment registers, numbered as the instruction encoding numbers them.
public enum SegmentRegister: Int, CaseIterable, Sendable {
    case es, cs, ss, ds, fs, gs

    /// The data segment registers, in the order task switches and returns to outer levels load them.
    static let dataSegments: [SegmentRegister] = [.es, .ds, .fs, .gs]
}

/// The hidden part of a segment register: what the CPU loaded from a descriptor
/// (or, in real mode, derived from the selector). Access checks use only this cache,
/// which is why "unreal mode" works: real-mode loads change only selector and base.
public struct SegmentCache: Sendable, Equatable {
    public var selector: UInt16
    public var base: UInt64
    /// Byte-granular limit (granularity already applied).
    public var limit: UInt32
    /// Access rights in the VMX layout: type (3:0), S (4), DPL (6:5), P (7), AVL (12), L (13), D/B (14),
    /// G (15), and bit 16 "unusable" (a null selector loaded in protected mode).
    public var attributes: UInt32
    /// Lowest and highest offsets a read (and a write) may touch, precomputed from limit,
    /// expand-down, B and the type, so each access checks two compares: a segment that
    /// cannot be read (execute-only code, unusable) or written (code, read-only data) gets
    /// an empty range, lowest > highest.
    var readLowest: UInt32
    var readHighest: UInt32
    var writeLowest: UInt32
    var writeHighest: UInt32

    public init(selector: UInt16, base: UInt64, limit: UInt32, attributes: UInt32) {
        self.selector = selector
        self.base = base
        self.limit = limit
        self.attributes = attributes
        readLowest = 0
        readHighest = limit
        writeLowest = 0
        writeHighest = limit
        recomputeBounds()
    }

    /// A real-mode (or virtual-8086) segment: base = selector × 16, keeping limit, D/B, G and DPL
    /// as they are ("unreal mode"). The register becomes a present, read/write data segment,
    /// whatever protected mode left in it (a null selector, a code segment), as real mode has no
    /// type checks.
    mutating func loadRealMode(_ selector: UInt16) {
        self.selector = selector
        self.base = UInt64(selector) << 4
        let usable = (attributes & ~(SegmentCache.unusable | 0x9F)) | 0x93
        if usable != attributes {
            attributes = usable
            recomputeBounds()
        }
    }

    /// Derives the read and write ranges. In real and virtual-8086 mode the type is not checked
    /// (a real-mode program may write through CS), only the limit.
    @inline(__always)
    mutating func recomputeBounds(realMode: Bool = false) {
        var lowest: UInt32 = 0
        var highest = limit
        if isExpandDownData {
            lowest = limit &+ 1
            highest = defaultSize32 ? 0xFFFF_FFFF : 0xFFFF
            if lowest == 0 && limit != 0 { lowest = 1; highest = 0 }   // expand-down, limit FFFFFFFF: nothing valid
        }
        let readable = realMode || (isUsable && (!isCode || attributes & 0x2 != 0))
        let writable = realMode || (isUsable && !isCode && attributes & 0x2 != 0)
        (readLowest, readHighest) = readable ? (lowest, highest) : (1, 0)
        (writeLowest, writeHighest) = writable ? (lowest, highest) : (1, 0)
    }

    public var defaultSize32: Bool { attributes & 0x4000 != 0 }
    /// The L bit of a code segment: 64-bit code while IA-32e mode is active (SDM Vol. 3A, 5.2.1).
    public var isLongMode: Bool { attributes & 0x2000 != 0 }
    /// What decoding code from this segment depends on: the limit and the default size (whether
    /// it is 64-bit code the CPU adds, `CPU.codeKey`).
    @inline(__always) var decodeKey: UInt64 { UInt64(limit) | UInt64(attributes & 0x4000) << 32 }
    var isUsable: Bool { attributes & SegmentCache.unusable == 0 }
    /// Code segment (S = 1, type bit 3 set); meaningful only for S = 1 descriptors.
    var isCode: Bool { attributes & 0x18 == 0x18 }
    var isExpandDownData: Bool { attributes & 0x1C == 0x14 }
    var isConformingCode: Bool { attributes & 0x1C == 0x1C }
    var descriptorPrivilegeLevel: UInt8 { UInt8((attributes >> 5) & 3) }

    /// Attributes of a present, accessed, read/write data segment (type 3, S=1, P=1).
    static let realModeData: UInt32 = 0x93
    /// Attributes of a present, accessed, readable code segment (type 11, S=1, P=1).
    static let realModeCode: UInt32 = 0x9B
    /// LDTR after reset: present LDT (type 2).
    static let initialLDT: UInt32 = 0x82
    /// TR after reset: present busy 32-bit TSS (type 11).
    static let initialTaskRegister: UInt32 = 0x8B
    /// Attribute bit marking a segment register loaded with a null selector.
    static let unusable: UInt32 = 1 << 16
}
