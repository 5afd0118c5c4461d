/// Decoded blocks, kept per physical page.
///
/// A block is a run of `DecodedInstruction` records in one pool, always followed by a
/// synthetic `.endBlock` record. Each physical page that holds decoded code has a `CodePage`:
/// a table of 4096 slots mapping a byte offset to the pool index of the block that starts
/// there, a bitmap of the bytes its decoded instructions cover, and the list of its blocks,
/// threaded through their end records. A block is decoded once and reused until a store
/// overlaps bytes it covers (stores elsewhere on the page, such as a stack that shares the
/// page, leave it alone); then the page's blocks are dropped. A full pool drops everything.
struct CodeCache {
    static let poolCapacity = 1 << 18
    static let maximumBlockLength = 64
    static let noBlock: Int32 = -1
    /// Entries of the direct-mapped cache of recently used code pages.
    static let recentPageCount = 64

    let pool: UnsafeMutablePointer<DecodedInstruction>
    var used = 0
    private var pages: [UInt64: UnsafeMutablePointer<CodePage>] = [:]
    private var sparePages: [UnsafeMutablePointer<CodePage>] = []
    /// Recently used code pages, by physical page number modulo `recentPageCount`, so that
    /// filling the code TLB and checking stores to code pages rarely hash.
    let recentPages: UnsafeMutablePointer<RecentCodePage>
    /// Scratch space for an instruction that is not cached (it crosses a page, or runs from MMIO).
    let scratch: UnsafeMutablePointer<DecodedInstruction>
    /// Physical pages below 4 GiB, which `CodeCoherence` keeps a bit for.
    static let bitmapPages: UInt64 = 1 << 20

    init() {
        pool = .allocate(capacity: CodeCache.poolCapacity)
        pool.initialize(repeating: DecodedInstruction(), count: CodeCache.poolCapacity)
        scratch = .allocate(capacity: 2)
        scratch.initialize(repeating: DecodedInstruction(), count: 2)
        recentPages = .allocate(capacity: CodeCache.recentPageCount)
        recentPages.initialize(repeating: RecentCodePage(), count: CodeCache.recentPageCount)
    }

    func deallocate() {
        pool.deallocate()
        scratch.deallocate()
        recentPages.deallocate()
        for page in Array(pages.values) + sparePages { CodePage.deallocate(page) }
    }

    var pageCount: Int { pages.count }

    func containsPage(_ physicalPage: UInt64) -> Bool {
        pages[physicalPage] != nil
    }

    /// The decoded code of a physical page, if it holds any.
    func page(_ physicalPage: UInt64) -> UnsafeMutablePointer<CodePage>? {
        let recent = recentPages + Int(physicalPage % UInt64(CodeCache.recentPageCount))
        if recent.pointee.physicalPage == physicalPage { return recent.pointee.page }
        guard let page = pages[physicalPage] else { return nil }
        recent.pointee = RecentCodePage(physicalPage: physicalPage, page: page)
        return page
    }

    /// The (empty) decoded code of a page that is about to get its first block.
    mutating func createPage(_ physicalPage: UInt64) -> UnsafeMutablePointer<CodePage> {
        let page = sparePages.popLast() ?? CodePage.allocate()
        page.pointee.physicalPage = physicalPage
        pages[physicalPage] = page
        return page
    }

    /// Adds a block of `count` records at `start` (its end record follows, resuming at
    /// `resumeOffset` from the block's start), decoded for the code segment with
    /// `codeSegmentKey`, to a page. Every record lies on that page, where the block starts at
    /// `pageOffset` (a followed transfer's target is on the same page).
    mutating func addBlock(at start: Int, count: Int, pageOffset: Int, resumeOffset: Int16,
                           to page: UnsafeMutablePointer<CodePage>, codeSegmentKey: UInt64) {
        for record in start..<start + count {
            let length = Int(pool[record].length)
            page.pointee.cover(pageOffset + Int(pool[record].endOffset) - length, count: length)
        }
        pool[start].codeSegmentKey = codeSegmentKey
        var end = DecodedInstruction()
        end.endOffset = resumeOffset
        end.imm = UInt32(bitPattern: page.pointee.newestBlock)
        end.disp = UInt32(pageOffset)
        pool[start + count] = end
        page.pointee.newestBlock = Int32(start)
        page.pointee.slots[pageOffset] = Int32(start)
        used = start + count + 1
    }

    /// Drops a page's blocks (bytes they cover changed). Their records become block ends, so a
    /// block that is executing when its own page is written stops after the writing
    /// instruction, and the following bytes are decoded afresh.
    mutating func removePage(_ physicalPage: UInt64) {
        guard let page = pages.removeValue(forKey: physicalPage) else { return }
        let recent = recentPages + Int(physicalPage % UInt64(CodeCache.recentPageCount))
        if recent.pointee.physicalPage == physicalPage { recent.pointee = RecentCodePage() }
        poisonBlocks(of: page)
        sparePages.append(page)
    }

    /// Turns every record of the page's blocks into a block end and empties the page's table.
    private func poisonBlocks(of page: UnsafeMutablePointer<CodePage>) {
        var start = page.pointee.newestBlock
        while start != CodeCache.noBlock {
            var record = pool + Int(start)
            // Only the op changes: the instruction executing now may still read its other
            // fields, and a poisoned record keeps its length so the run loop can undo the
            // EIP advance it made before dispatching it.
            while record.pointee.op != .endBlock {
                record.pointee.op = .endBlock
                record += 1
            }
            page.pointee.slots[Int(record.pointee.disp)] = CodeCache.noBlock
            start = Int32(bitPattern: record.pointee.imm)
        }
        page.pointee.clear()
    }

    /// Drops every block; returns the pages that held some.
    mutating func removeAll() -> [UInt64] {
        let removed = Array(pages.keys)
        for page in pages.values {
            poisonBlocks(of: page)
            sparePages.append(page)
        }
        pages.removeAll(keepingCapacity: true)
        recentPages.update(repeating: RecentCodePage(), count: CodeCache.recentPageCount)
        used = 0
        return removed
    }

    var hasRoomForBlock: Bool { used + CodeCache.maximumBlockLength + 1 <= CodeCache.poolCapacity }
}

/// The decoded code of one physical page.
struct CodePage {
    var physicalPage: UInt64 = .max
    /// For each byte offset, the pool index of the block that starts there, or `noBlock`.
    let slots: UnsafeMutablePointer<Int32>
    /// One bit per byte that a decoded instruction covers.
    let coverage: UnsafeMutablePointer<UInt64>
    /// The pool index of the page's newest block; each block's end record links to the one before.
    var newestBlock = CodeCache.noBlock

    static func allocate() -> UnsafeMutablePointer<CodePage> {
        let slots = UnsafeMutablePointer<Int32>.allocate(capacity: 4096)
        slots.initialize(repeating: CodeCache.noBlock, count: 4096)
        let coverage = UnsafeMutablePointer<UInt64>.allocate(capacity: 64)
        coverage.initialize(repeating: 0, count: 64)
        let page = UnsafeMutablePointer<CodePage>.allocate(capacity: 1)
        page.initialize(to: CodePage(slots: slots, coverage: coverage))
        return page
    }

    static func deallocate(_ page: UnsafeMutablePointer<CodePage>) {
        page.pointee.slots.deallocate()
        page.pointee.coverage.deallocate()
        page.deallocate()
    }

    /// Marks `count` bytes from `offset` as holding decoded code.
    mutating func cover(_ offset: Int, count: Int) {
        for byte in offset..<offset + count { coverage[byte >> 6] |= 1 << UInt64(byte & 63) }
    }

    /// Whether any of `count` bytes from `offset` (within the page) holds decoded code.
    func covers(_ offset: Int, count: Int) -> Bool {
        let last = offset + count - 1
        let firstWord = offset >> 6, lastWord = last >> 6
        for word in firstWord...lastWord {
            var bits = coverage[word]
            if word == firstWord { bits &= UInt64.max << UInt64(offset & 63) }
            if word == lastWord { bits &= UInt64.max >> UInt64(63 - (last & 63)) }
            if bits != 0 { return true }
        }
        return false
    }

    mutating func clear() {
        coverage.update(repeating: 0, count: 64)
        newestBlock = CodeCache.noBlock
        physicalPage = .max
    }
}

/// An entry of `CodeCache.recentPages`.
struct RecentCodePage {
    var physicalPage: UInt64 = .max
    var page: UnsafeMutablePointer<CodePage>?
}

extension Op {
    /// Whether decoding stops after this instruction: it transfers control, may change
    /// how the following bytes decode or execute, or must let pending interrupts in.
    var endsBlock: Bool {
        switch self {
        case .jmpRel, .jmpRm, .jmpFar, .jmpFarMem, .callRel, .callRm, .callFar, .callFarMem,
             .retNear, .retFar, .loop, .loopz, .loopnz, .jcxz, .int, .int3, .into, .int1, .iret, .hlt,
             .bound, .invalid, .endBlock, .sti, .popf, .movSegRm, .popSeg, .loadFarPointer,
             .inImm, .inDX, .outImm, .outDX, .ins, .outs, .descriptorTable, .systemSegment,
             .movToCR, .movToDR, .clts, .wrmsr, .cacheControl, .sysenter, .sysexit, .syscall, .sysret:
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
    /// Whether a physical page holds decoded code of any processor of this one's coherence
    /// domain (a write to it must invalidate that first).
    @inline(__always) func holdsDecodedCode(_ physicalPage: UInt64) -> Bool {
        if physicalPage < CodeCache.bitmapPages {
            return codePageBits[Int(physicalPage >> 6)] & (1 << (physicalPage & 63)) != 0
        }
        return codeCoherence.holdsCode(physicalPage)
    }

    /// Drops this processor's decoded code of a physical page whose bytes changed (ending the
    /// current block if it lies there).
    func invalidateCode(physicalPage: UInt64) {
        codeCache.removePage(physicalPage)
        codeCoherence.pageLostCode(physicalPage, by: self)
        for i in 0..<2 * TLBEntry.count where codeTLBStorage[i].physicalPage == physicalPage {
            codeTLBStorage[i].slots = nil
        }
    }

    /// Drops the decoded code of a page, in every processor of the coherence domain, where a
    /// write of `count` bytes at `offset` in it overlaps some; a write beside the decoded
    /// instructions (a stack sharing the page) changes nothing.
    func invalidateCode(physicalPage: UInt64, writtenAt offset: Int, count: Int) {
        guard holdsDecodedCode(physicalPage) else { return }
        for member in codeCoherence.members {
            member.cpu.invalidateOwnCode(physicalPage: physicalPage, writtenAt: offset, count: count)
        }
    }

    private func invalidateOwnCode(physicalPage: UInt64, writtenAt offset: Int, count: Int) {
        guard let page = codeCache.page(physicalPage), page.pointee.covers(offset, count: count) else { return }
        invalidateCode(physicalPage: physicalPage)
    }

    /// How much decoded code the cache holds: pages with blocks, and pool records in use.
    public var decodedCodeSize: (pages: Int, records: Int) { (codeCache.pageCount, codeCache.used) }

    /// Drops all decoded code (after a mode change that alters decoding, or when the pool is full).
    public func flushDecodedCode() {
        for physicalPage in codeCache.removeAll() { codeCoherence.pageLostCode(physicalPage, by: self) }
        for i in 0..<2 * TLBEntry.count { codeTLBStorage[i].slots = nil }
    }

    /// Whether a block decoded before can run with CS as it is now: besides the bytes, decoding
    /// depends only on CS's default size and limit (an instruction past the limit ends the
    /// block), so a block decoded for another code segment is decoded again.
    @inline(__always) func fitsCodeSegment(_ block: UnsafeMutablePointer<DecodedInstruction>) -> Bool {
        block.pointee.codeSegmentKey == codeKey
    }

    /// What code decoded now depends on besides its bytes: CS's limit and default size, and
    /// whether it is 64-bit code.
    @inline(__always) var codeKey: UInt64 {
        segs[SegmentRegister.cs.rawValue].decodeKey | (executing64 ? 1 << 48 : 0)
    }

    /// The linear address of CS:RIP (RIP itself in 64-bit mode, where CS has no base).
    @inline(__always) var codeLinearAddress: UInt64 {
        executing64 ? rip : (segs[SegmentRegister.cs.rawValue].base &+ rip) & 0xFFFF_FFFF
    }

    /// The block starting at CS:EIP: found in the cache, or decoded now. The lookup goes through
    /// the code TLB only (its entry holds the page's slot table), so data accesses never make
    /// it miss.
    /// `nil` means fetching the first instruction faulted (the exception is pending).
    @inline(__always) func blockAtInstructionPointer() -> UnsafeMutablePointer<DecodedInstruction>? {
        let linear = codeLinearAddress
        let entry = codeTLB + TLBEntry.slot(linear)
        if entry.pointee.tag == TLBEntry.pageBase(linear), let slots = entry.pointee.slots {
            let index = slots[Int(linear & 0xFFF)]
            if index >= 0 && fitsCodeSegment(codePool + Int(index)) { return codePool + Int(index) }
        }
        return decodeBlock(linear)
    }

    /// The linear address of CS:`offset`.
    @inline(__always) func codeLinearAddress(of offset: UInt64) -> UInt64 {
        executing64 ? offset : (segs[SegmentRegister.cs.rawValue].base &+ offset) & 0xFFFF_FFFF
    }

    /// Where a block being decoded goes on after `instruction`, if it is a near transfer that
    /// decoding follows: a JMP or CALL with a relative target, or a backward Jcc (a loop's branch,
    /// usually taken), whose target is a valid branch target on the page where the block starts
    /// at `blockLinear`. Staying on that page keeps the block's bytes covered by that page's
    /// invalidation, and its translation is the one the block was found through.
    func followedTarget(_ instruction: DecodedInstruction, nextInstructionPointer next: UInt64,
                        blockLinear: UInt64) -> UInt64? {
        let displacement = UInt64(bitPattern: Int64(Int32(bitPattern: instruction.imm)))
        switch instruction.op {
        case .jmpRel, .callRel: break
        case .jcc, .jccZero, .jccCarry: if Int32(bitPattern: instruction.imm) >= 0 { return nil }
        default: return nil
        }
        let target = (next &+ displacement) & instruction.size.mask
        guard isBranchTarget(target),
              codeLinearAddress(of: target) & ~0xFFF == blockLinear & ~0xFFF,
              abs(Int64(bitPattern: target &- rip)) < 0x2000 else { return nil }
        return target
    }

    @inline(never)
    func decodeBlock(_ linear: UInt64) -> UnsafeMutablePointer<DecodedInstruction>? {
        if executing64 && !isCanonical(linear) {
            raiseFault(.generalProtection, errorCode: 0)
            return nil
        }
        guard let (hostPage, physical) = hostPage(linear, .execute) else { return nil }
        let physicalPage = physical >> 12
        let pageOffset = Int(linear & 0xFFF)
        // A block decoded before (the lookup missed only because its translation was not cached).
        if hostPage != nil, let page = codeCache.page(physicalPage), page.pointee.slots[pageOffset] >= 0 {
            let block = codePool + Int(page.pointee.slots[pageOffset])
            if fitsCodeSegment(block) { return block }
        }
        let defaultSize32 = segs[SegmentRegister.cs.rawValue].defaultSize32
        let ipMask: UInt64 = executing64 ? ~0 : defaultSize32 ? 0xFFFF_FFFF : 0xFFFF

        var decoder = Decoder(cpu: self, offset: rip, defaultSize32: defaultSize32, longMode: executing64)
        guard var first = decoder.decode() else { return nil }
        first.endOffset = Int16(first.length)
        _ = first.relocateInstructionPointerOperand()
        if hostPage == nil || pageOffset + Int(first.length) > 4096 {
            // Not cacheable: run it from scratch space, decoded again next time.
            codeCache.scratch[0] = first
            codeCache.scratch[1] = DecodedInstruction()
            codeCache.scratch[1].endOffset = first.endOffset
            return codeCache.scratch
        }
        if !codeCache.hasRoomForBlock { flushDecodedCode() }
        let page: UnsafeMutablePointer<CodePage>
        if let existing = codeCache.page(physicalPage) {
            page = existing
        } else {
            page = codeCache.createPage(physicalPage)
            codeCoherence.pageGainedCode(physicalPage)
        }
        let entry = codeTLB + TLBEntry.slot(linear)
        if entry.pointee.tag == TLBEntry.pageBase(linear) { entry.pointee.slots = page.pointee.slots }
        let start = codeCache.used
        var count = 0
        var instruction = first
        // Where `instruction` starts: its page offset and EIP.
        var offsetInPage = pageOffset
        var eip = rip
        // Where the instruction after the last record starts, from the block's start.
        var resume: Int64 = 0
        // A forward Jcc decoded in this block (its record) and its target: when a later record
        // starts there, the Jcc goes on to that record when taken instead of leaving the block.
        var forward: (record: Int, target: UInt64)? = nil
        while true {
            if let (record, target) = forward, eip == target {
                let jcc = codeCache.pool + start + record
                jcc.pointee.op = switch jcc.pointee.op {
                case .jccZero: .jccZeroSkip
                case .jccCarry: .jccCarrySkip
                default: .jccSkip
                }
                jcc.pointee.imm2 = UInt16(count - record)
                forward = nil
            }
            let nextEIP = (eip &+ UInt64(instruction.length)) & ipMask
            if forward == nil, instruction.op == .jcc || instruction.op == .jccZero || instruction.op == .jccCarry,
               Int32(bitPattern: instruction.imm) >= 0 {
                forward = (count, (nextEIP &+ UInt64(instruction.imm)) & instruction.size.mask)
            }
            if let target = followedTarget(instruction, nextInstructionPointer: nextEIP, blockLinear: linear) {
                // Decoding goes on at the target: the block runs across the transfer.
                instruction.op = switch instruction.op {
                case .jmpRel: .jmpFollowed
                case .callRel: .callFollowed
                case .jccZero: .jccZeroFollowed
                case .jccCarry: .jccCarryFollowed
                default: .jccFollowed
                }
                codeCache.pool[start + count] = instruction
                count += 1
                resume = Int64(bitPattern: target &- rip)
                eip = target
                offsetInPage = Int(truncatingIfNeeded: codeLinearAddress(of: target) & 0xFFF)
            } else {
                codeCache.pool[start + count] = instruction
                count += 1
                resume = Int64(instruction.endOffset)
                if instruction.op.endsBlock { break }
                offsetInPage += Int(instruction.length)
                eip = nextEIP
                if offsetInPage >= 4096 { break }
            }
            if count == CodeCache.maximumBlockLength { break }
            var next = Decoder(cpu: self, offset: eip, defaultSize32: defaultSize32, longMode: executing64)
            // A fault here is not raised: the block simply ends before the instruction,
            // which faults for real if execution reaches it.
            guard var decoded = next.decode(), offsetInPage + Int(decoded.length) <= 4096,
                  !decoded.startsBlock else { break }
            decoded.endOffset = Int16(truncatingIfNeeded: resume + Int64(decoded.length))
            guard decoded.relocateInstructionPointerOperand() else { break }
            instruction = decoded
        }
        // Every block ends with the synthetic record, so an instruction that ends a
        // block but completes without a transfer (REP with CX = 0, LOOP not taken) stops here too.
        codeCache.addBlock(at: start, count: count, pageOffset: pageOffset,
                           resumeOffset: Int16(truncatingIfNeeded: resume), to: page, codeSegmentKey: codeKey)
        blocksDecoded &+= 1
        return codeCache.pool + start
    }
}
