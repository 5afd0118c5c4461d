/// An 8-byte segment or gate descriptor as it sits in the GDT, LDT or IDT (SDM Vol. 3A, 3.4.5, 5.8.3, 6.11).
struct Descriptor {
    let low: UInt32
    let high: UInt32

    init(_ raw: UInt64) {
        low = UInt32(truncatingIfNeeded: raw)
        high = UInt32(truncatingIfNeeded: raw >> 32)
    }

    /// System-descriptor and gate types (S = 0).
    enum SystemType: UInt8 {
        case availableTSS16 = 1, ldt = 2, busyTSS16 = 3, callGate16 = 4, taskGate = 5
        case interruptGate16 = 6, trapGate16 = 7
        case availableTSS32 = 9, busyTSS32 = 11, callGate32 = 12, interruptGate32 = 14, trapGate32 = 15
    }

    @inline(__always) var type: UInt8 { UInt8((high >> 8) & 0xF) }
    /// S: a code or data segment rather than a system descriptor or gate.
    @inline(__always) var isSegment: Bool { high & (1 << 12) != 0 }
    @inline(__always) var privilegeLevel: UInt8 { UInt8((high >> 13) & 3) }
    @inline(__always) var isPresent: Bool { high & (1 << 15) != 0 }
    @inline(__always) var systemType: SystemType? { isSegment ? nil : SystemType(rawValue: type) }

    @inline(__always) var isCode: Bool { isSegment && type & 0x8 != 0 }
    /// 64-bit code in IA-32e mode: L set, D clear (SDM Vol. 3A, 5.2.1).
    var isLongModeCode: Bool { isCode && attributes & 0x6000 == 0x2000 }
    @inline(__always) var isData: Bool { isSegment && type & 0x8 == 0 }
    @inline(__always) var isConformingCode: Bool { isCode && type & 0x4 != 0 }
    @inline(__always) var isReadableCode: Bool { isCode && type & 0x2 != 0 }
    @inline(__always) var isWritableData: Bool { isData && type & 0x2 != 0 }
    @inline(__always) var isAccessed: Bool { type & 0x1 != 0 }

    @inline(__always) var base: UInt32 { (low >> 16) | ((high & 0xFF) << 16) | (high & 0xFF00_0000) }
    /// The limit in bytes: the 20-bit field, scaled by 4 KiB when G is set.
    @inline(__always) var limit: UInt32 {
        let raw = (low & 0xFFFF) | (high & 0xF_0000)
        return high & (1 << 23) != 0 ? raw << 12 | 0xFFF : raw
    }
    /// Access rights in the VMX layout used by `SegmentCache.attributes`.
    @inline(__always) var attributes: UInt32 { (high >> 8) & 0xF0FF }

    /// Code that runs at privilege level `level` when control reaches it with no privilege
    /// change: conforming code of that or a more privileged level, non-conforming code of exactly it.
    @inline(__always) func runs(atLevel level: UInt8) -> Bool {
        isConformingCode ? privilegeLevel <= level : privilegeLevel == level
    }

    /// Whether a data segment register may be loaded with this descriptor through a selector of
    /// RPL `rpl` at CPL `level`: conforming code always; data and other code when DPL ≥ both.
    @inline(__always) func isAccessible(requestedLevel rpl: UInt8, atLevel level: UInt8) -> Bool {
        isConformingCode || (rpl <= privilegeLevel && level <= privilegeLevel)
    }

    /// The segment cache a segment register holds after loading this descriptor.
    @inline(__always)
    func cache(selector: UInt16) -> SegmentCache {
        SegmentCache(selector: selector, base: UInt64(base), limit: limit, attributes: attributes)
    }

    /// Whether `cache` already is what loading this descriptor with `selector` would make it.
    @inline(__always)
    func isCached(in cache: SegmentCache, selector: UInt16) -> Bool {
        cache.selector == selector && cache.attributes == attributes && cache.base == UInt64(base) && cache.limit == limit
    }

    // MARK: Gates

    @inline(__always) var gateSelector: UInt16 { UInt16(truncatingIfNeeded: low >> 16) }
    @inline(__always) var gateOffset: UInt32 { (low & 0xFFFF) | (high & 0xFFFF_0000) }
    /// Call gates: how many stack parameters an inter-privilege call copies.
    @inline(__always) var gateParameterCount: Int { Int(high & 0x1F) }
    /// The 386 gate types (C, E, F) push 32-bit values; the 286 ones 16-bit values.
    @inline(__always) var isGate32: Bool { type & 0x8 != 0 }
}

/// A selector's parts (SDM Vol. 3A, 3.4.2).
extension UInt16 {
    @inline(__always) var requestedPrivilegeLevel: UInt8 { UInt8(self & 3) }
    @inline(__always) var isNullSelector: Bool { self & 0xFFFC == 0 }
    @inline(__always) var selectsLDT: Bool { self & 4 != 0 }
    /// The selector as an error code: index and TI, without RPL.
    @inline(__always) var errorCode: UInt32 { UInt32(self & 0xFFFC) }
}
