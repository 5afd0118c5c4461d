/// Decoded blocks, kept per physical page.
///
/// A block is a run of `DecodedInstruction` records in one pool, always followed
/// by a synthetic `.endBlock` record. Each code page has a table of
/// 4096 slots mapping a byte offset to the pool index of the block that starts
/// there. Writing a code page drops its table; a full pool drops everything.
struct CodeCache {
    static let poolCapacity = 1 << 18
    static let maximumBlockLength = 64
    static let noBlock: Int32 = -1

    let pool: UnsafeMutablePointer<DecodedInstruction>
    var used = 0
    private var pages: [UInt64: UnsafeMutablePointer<Int32>] = [:]
    private var spareTables: [UnsafeMutablePointer<Int32>] = []
    /// What decoding depended on besides the bytes (CS default size and limit); a change drops everything.
    var decodeKey: UInt64 = .max
    /// Scratch space for an instruction that is not cached (it crosses a page, or runs from MMIO).
    let scratch: UnsafeMutablePointer<DecodedInstruction>
    /// One bit per physical page below 4 GiB: set while the page holds decoded code, so the
    /// check every TLB fill and store-to-code makes is a bit test rather than a hash lookup.
    let codePageBits: UnsafeMutablePointer<UInt64>
    static let bitmapPages: UInt64 = 1 << 20

    init() {
        pool = .allocate(capacity: CodeCache.poolCapacity)
        pool.initialize(repeating: DecodedInstruction(), count: CodeCache.poolCapacity)
        scratch = .allocate(capacity: 2)
        scratch.initialize(repeating: DecodedInstruction(), count: 2)
        codePageBits = .allocate(capacity: Int(CodeCache.bitmapPages / 64))
        codePageBits.initialize(repeating: 0, count: Int(CodeCache.bitmapPages / 64))
    }

    func deallocate() {
        pool.deallocate()
        scratch.deallocate()
        codePageBits.deallocate()
        for table in pages.values { table.deallocate() }
        for table in spareTables { table.deallocate() }
    }

    func containsPage(_ physicalPage: UInt64) -> Bool {
        pages[physicalPage] != nil
    }

    private func setCodePageBit(_ physicalPage: UInt64, _ on: Bool) {
        guard physicalPage < CodeCache.bitmapPages else { return }
        let bit: UInt64 = 1 << (physicalPage & 63)
        if on { codePageBits[Int(physicalPage >> 6)] |= bit } else { codePageBits[Int(physicalPage >> 6)] &= ~bit }
    }

    /// The slot table for a page, if the page holds decoded code.
    func table(_ physicalPage: UInt64) -> UnsafeMutablePointer<Int32>? {
        pages[physicalPage]
    }

    /// Creates the (empty) slot table of a page that is about to get its first block.
    mutating func createTable(_ physicalPage: UInt64) -> UnsafeMutablePointer<Int32> {
        let table = spareTables.popLast() ?? .allocate(capacity: 4096)
        table.initialize(repeating: CodeCache.noBlock, count: 4096)
        pages[physicalPage] = table
        setCodePageBit(physicalPage, true)
        return table
    }

    /// Drops a page's blocks (its bytes changed). Their records become block ends, so a
    /// block that is executing when its own page is written stops after the writing
    /// instruction, and the following bytes are decoded afresh.
    mutating func removePage(_ physicalPage: UInt64) {
        guard let table = pages.removeValue(forKey: physicalPage) else { return }
        setCodePageBit(physicalPage, false)
        for slot in 0..<4096 where table[slot] >= 0 {
            var record = pool + Int(table[slot])
            // Only the op changes: the instruction executing now may still read its other
            // fields, and a poisoned record keeps its length so the run loop can undo the
            // EIP advance it made before dispatching it.
            while record.pointee.op != .endBlock {
                record.pointee.op = .endBlock
                record += 1
            }
        }
        spareTables.append(table)
    }

    /// Drops every block.
    mutating func removeAll() {
        for page in pages.keys { setCodePageBit(page, false) }
        spareTables.append(contentsOf: pages.values)
        pages.removeAll(keepingCapacity: true)
        used = 0
    }

    var hasRoomForBlock: Bool { used + CodeCache.maximumBlockLength + 1 <= CodeCache.poolCapacity }
}

extension Op {
    /// Whether decoding stops after this instruction: it transfers control, may change
    /// how the following bytes decode or execute, or must let pending interrupts in.
    var endsBlock: Bool {
        switch self {
        case .jmpRel, .jcc, .jmpRm, .jmpFar, .jmpFarMem, .callRel, .callRm, .callFar, .callFarMem,
             .retNear, .retFar, .loop, .loopz, .loopnz, .jcxz, .int, .int3, .into, .int1, .iret, .hlt,
             .bound, .invalid, .endBlock, .sti, .popf, .movSegRm, .popSeg, .loadFarPointer,
             .inImm, .inDX, .outImm, .outDX, .ins, .outs, .descriptorTable, .systemSegment,
             .movToCR, .movToDR, .clts, .wrmsr, .cacheControl, .sysenter, .sysexit:
            true
        default:
            false
        }
    }
}

extension DecodedInstruction {
    /// Whether this instruction must begin a block because it depends on the retired-
    /// instruction count, which the run loop brings up to date only at block boundaries:
    /// it reads or sets the time-stamp counter, or it is a REP string instruction whose
    /// repetitions must fit the run's remaining budget.
    var startsBlock: Bool {
        switch op {
        case .rdtsc, .rdmsr, .wrmsr: true
        case .movs, .cmps, .stos, .lods, .scas, .ins, .outs: hasRepeat
        default: false
        }
    }
}

extension CPU {
    /// Whether a physical page holds decoded code (a write to it must invalidate that first).
    @inline(__always) func holdsDecodedCode(_ physicalPage: UInt64) -> Bool {
        if physicalPage < CodeCache.bitmapPages {
            return codePageBits[Int(physicalPage >> 6)] & (1 << (physicalPage & 63)) != 0
        }
        return codeCache.containsPage(physicalPage)
    }

    /// Drops decoded code of a physical page whose bytes changed (ending the current
    /// block if it lies there).
    func invalidateCode(physicalPage: UInt64) {
        codeCache.removePage(physicalPage)
        forgetLastCodePage()
    }

    /// Drops all decoded code (after a mode change that alters decoding, or when the pool is full).
    public func flushDecodedCode() {
        codeCache.removeAll()
        forgetLastCodePage()
    }

    private func forgetLastCodePage() {
        lastCodePage = .max
        lastCodeTable = nil
    }

    /// The slot table of a code page, remembered so that staying on one page costs no hashing.
    @inline(__always) func codeTable(_ physicalPage: UInt64) -> UnsafeMutablePointer<Int32>? {
        if physicalPage == lastCodePage { return lastCodeTable }
        return lookUpCodeTable(physicalPage)
    }

    @inline(never) private func lookUpCodeTable(_ physicalPage: UInt64) -> UnsafeMutablePointer<Int32>? {
        guard let table = codeCache.table(physicalPage) else { return nil }
        lastCodePage = physicalPage
        lastCodeTable = table
        return table
    }

    /// The key of everything besides memory that decoding depends on.
    @inline(__always) var currentDecodeKey: UInt64 {
        let cs = segs[SegmentRegister.cs.rawValue]
        return UInt64(cs.limit) | (cs.defaultSize32 ? 1 << 32 : 0)
    }

    /// The block starting at CS:EIP: found in the cache, or decoded now.
    /// `nil` means fetching the first instruction faulted (the exception is pending).
    @inline(__always) func blockAtInstructionPointer() -> UnsafeMutablePointer<DecodedInstruction>? {
        let linear = (segs[SegmentRegister.cs.rawValue].base &+ rip) & 0xFFFF_FFFF
        let entry = tlb + TLBEntry.slot(linear)
        if entry.pointee.fetchTag == TLBEntry.pageBase(linear),
           let table = codeTable(entry.pointee.physicalPage) {
            let index = table[Int(linear & 0xFFF)]
            if index >= 0 { return codePool + Int(index) }
        }
        return decodeBlock(linear)
    }

    @inline(never)
    func decodeBlock(_ linear: UInt64) -> UnsafeMutablePointer<DecodedInstruction>? {
        let key = currentDecodeKey
        if key != codeCache.decodeKey {
            flushDecodedCode()
            codeCache.decodeKey = key
        }
        guard let (page, physical) = hostPage(linear, .execute) else { return nil }
        let physicalPage = physical >> 12
        let pageOffset = Int(linear & 0xFFF)
        let defaultSize32 = segs[SegmentRegister.cs.rawValue].defaultSize32
        let ipMask: UInt32 = defaultSize32 ? 0xFFFF_FFFF : 0xFFFF

        var decoder = Decoder(cpu: self, offset: UInt32(truncatingIfNeeded: rip), defaultSize32: defaultSize32)
        guard let first = decoder.decode() else { return nil }
        if page == nil || pageOffset + Int(first.length) > 4096 {
            // Not cacheable: run it from scratch space, decoded again next time.
            codeCache.scratch[0] = first
            codeCache.scratch[1] = DecodedInstruction()
            return codeCache.scratch
        }
        if !codeCache.hasRoomForBlock { flushDecodedCode() }
        let table: UnsafeMutablePointer<Int32>
        if let existing = codeTable(physicalPage) {
            table = existing
        } else {
            table = codeCache.createTable(physicalPage)
            revokeWrites(toPhysicalPage: physicalPage)
        }
        let start = codeCache.used
        var instruction = first
        var offsetInPage = pageOffset
        var eip = UInt32(truncatingIfNeeded: rip)
        for count in 1...CodeCache.maximumBlockLength {
            codeCache.pool[codeCache.used] = instruction
            codeCache.used += 1
            if instruction.op.endsBlock { break }
            offsetInPage += Int(instruction.length)
            eip = (eip &+ UInt32(instruction.length)) & ipMask
            if offsetInPage >= 4096 || count == CodeCache.maximumBlockLength { break }
            var next = Decoder(cpu: self, offset: eip, defaultSize32: defaultSize32)
            // A fault here is not raised: the block simply ends before the instruction,
            // which faults for real if execution reaches it.
            guard let decoded = next.decode(), offsetInPage + Int(decoded.length) <= 4096,
                  !decoded.startsBlock else { break }
            instruction = decoded
        }
        // Every block ends with the synthetic record, so an instruction that ends a
        // block but completes without a transfer (REP with CX = 0, Jcc not taken) stops here too.
        codeCache.pool[codeCache.used] = DecodedInstruction()
        codeCache.used += 1
        table[pageOffset] = Int32(start)
        return codeCache.pool + start
    }
}
