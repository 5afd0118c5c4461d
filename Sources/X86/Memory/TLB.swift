/// One entry of the software TLB for data (four-way set-associative, see `ways`): a linear page
/// mapped to host memory.
///
/// Tags hold the linear page base, or `TLBEntry.invalid`; each tag grants one kind of
/// access without a page walk. A page holding decoded code gets a code-write tag instead of a
/// write tag, so stores to it take the slow path, which looks at the bytes the store covers
/// before it (without a walk); a page that is not yet dirty gets no write tag either, so the
/// first store sets D. Instruction fetches have a TLB of their own (`CodeTLBEntry`).
struct TLBEntry {
    /// Entries per way and privilege half.
    static let count = 256
    /// The data TLB is four-way set-associative, its ways in order of use; the fast paths read
    /// the first two. Way k of an entry lies `k * wayStride` after it. A fill moves the older
    /// ways down one (the last is dropped); a hit in a later way (found before any walk) moves
    /// that entry to the first, so a few pages that share a slot (rows of matrices, a buffer
    /// and its copy) do not evict each other.
    static let ways = 4
    static let wayStride = 2 * count
    /// Entries in all ways of both halves.
    static let storageCount = ways * wayStride
    static let invalid: UInt64 = 1   // never equal to a page-aligned address

    var readTag: UInt64 = TLBEntry.invalid
    var writeTag: UInt64 = TLBEntry.invalid
    /// Writes are allowed but the page holds decoded code: the store's bytes must be checked.
    var codeWriteTag: UInt64 = TLBEntry.invalid
    /// Host address of the linear page's first byte, minus the linear page base.
    var addend: Int = 0
    var physicalPage: UInt64 = 0
    /// Mapped by a global page (CR4.PGE): a CR3 load keeps it.
    var global = false
    /// A 4 KiB piece of a 4 MiB or 2 MiB page.
    var large = false

    /// The entry for a linear page. Folding in bits above the index keeps pages a multiple of
    /// 1 MiB apart (a copy between two buffers, say) from evicting each other on every access.
    @inline(__always) static func slot(_ linear: UInt64) -> Int {
        Int(truncatingIfNeeded: (linear >> 12) ^ (linear >> 20)) & (count - 1)
    }
    @inline(__always) static func pageBase(_ linear: UInt64) -> UInt64 { linear & ~0xFFF }

    /// Whether the entry maps the linear page at `base` for some kind of data access.
    func maps(_ base: UInt64) -> Bool { readTag == base || writeTag == base || codeWriteTag == base }
}

/// One entry of the code TLB: a linear page instructions are fetched from, mapped to host
/// memory. Indexed as the data TLB is; the block lookup reads `tag` and `physicalPage`.
struct CodeTLBEntry {
    var tag: UInt64 = TLBEntry.invalid
    /// Host address of the linear page's first byte, minus the linear page base.
    var addend: Int = 0
    var physicalPage: UInt64 = 0
    /// The slot table of the physical page's decoded code, once it has some (`CodePage.slots`),
    /// so the block lookup goes from the linear address to the block in two loads. Cleared
    /// when the page's decoded code is dropped.
    var slots: UnsafeMutablePointer<Int32>?
    var global = false
    var large = false
}

extension CPU {
    /// Forgets cached translations: all of them, or (a CR3 load with CR4.PGE set) all but global ones
    /// (SDM Vol. 3A, 4.10.4.1).
    public func flushTLB() {
        flushTLB(keepingGlobal: false)
    }

    func flushTLB(keepingGlobal: Bool) {
        for i in 0..<TLBEntry.storageCount where !(keepingGlobal && tlbStorage[i].global) {
            tlbStorage[i] = TLBEntry()
        }
        for i in 0..<2 * TLBEntry.count where !(keepingGlobal && codeTLBStorage[i].global) {
            codeTLBStorage[i] = CodeTLBEntry()
        }
        // Host pointers are valid only until the owner's flush (`Bus.memoryPage`), so forget them too.
        if !keepingGlobal {
            tlbHoldsLargePages = false
            for i in 0..<CPU.pagingStructureCacheSize { pagingStructureCache[i] = (.max, nil) }
        }
    }

    /// INVLPG: drops the translation of the page holding `linear`, global or not, for both
    /// privilege levels. For a large page that is every 4 KiB piece of it the TLB holds: all
    /// large-page pieces in the surrounding 4 MiB go (covering 4 MiB and 2 MiB pages), or with
    /// 4-level paging, whose 1 GiB pages are wider, every large-page piece.
    func invalidateTLBEntry(_ linear: UInt64) {
        let slot = TLBEntry.slot(linear)
        for half in [0, TLBEntry.count] {
            for way in 0..<TLBEntry.ways { tlbStorage[way * TLBEntry.wayStride + half + slot] = TLBEntry() }
            codeTLBStorage[half + slot] = CodeTLBEntry()
        }
        guard tlbHoldsLargePages else { return }
        let regionMask: UInt64 = longModeActive ? 0 : ~0x3F_FFFF
        let region = linear & regionMask
        for i in 0..<TLBEntry.storageCount {
            let data = tlbStorage[i]
            if data.large && (data.readTag & regionMask == region || data.codeWriteTag & regionMask == region) {
                tlbStorage[i] = TLBEntry()
            }
        }
        for i in 0..<2 * TLBEntry.count where codeTLBStorage[i].large && codeTLBStorage[i].tag & regionMask == region {
            codeTLBStorage[i] = CodeTLBEntry()
        }
    }

    /// Turns the write permission of every entry that maps `physicalPage` (which now holds
    /// decoded code) into a code-write permission.
    func revokeWrites(toPhysicalPage physicalPage: UInt64) {
        for i in 0..<TLBEntry.storageCount where tlbStorage[i].physicalPage == physicalPage {
            if tlbStorage[i].writeTag != TLBEntry.invalid { tlbStorage[i].codeWriteTag = tlbStorage[i].writeTag }
            tlbStorage[i].writeTag = TLBEntry.invalid
        }
    }

    /// Finds `linear`'s page in a later way of its slot and moves it to the first, the ways
    /// before it moving down one (so the ways stay in order of use, and the two pages used
    /// last are where the fast paths look); `false` when no way holds it.
    @inline(__always) func promoteFromLaterWay(_ linear: UInt64) -> Bool {
        let first = tlb + TLBEntry.slot(linear)
        let base = TLBEntry.pageBase(linear)
        for way in 1..<TLBEntry.ways {
            let entry = first + way * TLBEntry.wayStride
            if entry.pointee.maps(base) {
                let promoted = entry.pointee
                for later in stride(from: way, to: 0, by: -1) {
                    first[later * TLBEntry.wayStride] = first[(later - 1) * TLBEntry.wayStride]
                }
                first.pointee = promoted
                return true
            }
        }
        return false
    }

    /// Makes room in the first way of `entry`'s slot for a new page: the older ways move down one.
    func shiftWays(_ entry: UnsafeMutablePointer<TLBEntry>) {
        for way in stride(from: TLBEntry.ways - 1, to: 0, by: -1) {
            entry[way * TLBEntry.wayStride] = entry[(way - 1) * TLBEntry.wayStride]
        }
    }

    /// The TLB half that serves accesses at the current privilege level: user-mode
    /// (CPL 3) accesses have their own entries, so a supervisor-only page never reaches
    /// them through the fast path.
    @inline(__always) var isUserTLB: Bool { tlb != tlbStorage }

    /// Sets the current privilege level, switching the TLB half with it.
    @inline(__always) func setPrivilegeLevel(_ level: UInt8) {
        cpl = level
        tlb = level == 3 ? tlbStorage + TLBEntry.count : tlbStorage
        codeTLB = level == 3 ? codeTLBStorage + TLBEntry.count : codeTLBStorage
    }

    /// Runs `body` with supervisor-mode accesses, as the processor makes them to
    /// descriptor tables, the TSS and the IDT whatever the CPL (SDM Vol. 3A, 4.6).
    @inline(__always) func asSupervisor<T>(_ body: () -> T) -> T {
        let saved = tlb
        tlb = tlbStorage
        defer { tlb = saved }
        return body()
    }

    /// Sets the A20 gate (chipset input A20M#): while off, physical address bit 20 is forced to 0.
    public func setA20(enabled: Bool) {
        let mask: UInt64 = enabled ? ~0 : ~(1 << 20)
        guard mask != a20Mask else { return }
        a20Mask = mask
        flushTLB()
    }
}
