/// Linear-address accesses: TLB fast path, slow path through translation and the bus.
extension CPU {
    /// Where `length` bytes at `linear` lie in host memory, as the addend to add to `linear`,
    /// when they lie in one page the TLB maps for reading (or writing); `nil` otherwise, with
    /// nothing walked and nothing raised. The fast paths look at the slot's first two ways,
    /// which hold its two most recently used pages, so two pages that share a slot and are used
    /// in turn (a matrix's rows, a copy's source and destination) need no slow path.
    @inline(__always)
    func mappedAddend(_ linear: UInt64, length: Int, forWrite: Bool) -> Int? {
        guard Int(truncatingIfNeeded: linear & 0xFFF) <= 4096 - length else { return nil }
        let first = tlb + TLBEntry.slot(linear)
        let second = first + TLBEntry.wayStride
        let base = TLBEntry.pageBase(linear)
        if (forWrite ? first.pointee.writeTag : first.pointee.readTag) == base { return first.pointee.addend }
        if (forWrite ? second.pointee.writeTag : second.pointee.readTag) == base { return second.pointee.addend }
        return nil
    }

    /// The host bytes of `length` bytes at `linear` when the TLB maps them (`mappedAddend`).
    @inline(__always)
    func mappedLinear(_ linear: UInt64, length: Int, forWrite: Bool) -> UnsafeMutableRawPointer? {
        guard let addend = mappedAddend(linear, length: length, forWrite: forWrite) else { return nil }
        return UnsafeMutableRawPointer(bitPattern: addend &+ Int(truncatingIfNeeded: linear)).unsafelyUnwrapped
    }

    @inline(__always) func readLinear<T: FixedWidthInteger>(_ linear: UInt64, as: T.Type) -> T? {
        if let addend = mappedAddend(linear, length: MemoryLayout<T>.size, forWrite: false) {
            return UnsafeRawPointer(bitPattern: addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.loadUnaligned(as: T.self)
        }
        return readLinearSlow(linear, size: MemoryLayout<T>.size).map { T(truncatingIfNeeded: $0) }
    }

    @inline(__always) func writeLinear<T: FixedWidthInteger>(_ linear: UInt64, _ value: T) -> Bool {
        if let addend = mappedAddend(linear, length: MemoryLayout<T>.size, forWrite: true) {
            UnsafeMutableRawPointer(bitPattern: addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.storeBytes(of: value, as: T.self)
            return true
        }
        return writeLinearSlow(linear, size: MemoryLayout<T>.size, value: UInt64(truncatingIfNeeded: value))
    }

    /// Host pointer for a linear page if it is plain memory (and fills the TLB for it: the code
    /// TLB for `.execute`, the data TLB otherwise); the pointer is `nil` for MMIO. `nil`
    /// altogether when paging refused the access (#PF pending).
    @inline(never)
    func hostPage(_ linear: UInt64, _ access: MemoryAccess) -> (pointer: UnsafeMutablePointer<UInt8>?, physical: UInt64)? {
        guard let translation = translate(linear, access) else { return nil }
        let physical = translation.physical
        let physicalPage = physical >> 12
        let base = TLBEntry.pageBase(linear)
        if translation.large { tlbHoldsLargePages = true }
        if access == .execute {
            guard let page = bus.memoryPage(physicalPage, write: false) else { return (nil, physical) }
            codeTLB[TLBEntry.slot(linear)] = CodeTLBEntry(
                tag: base, addend: Int(bitPattern: page) &- Int(truncatingIfNeeded: base),
                physicalPage: physicalPage, slots: codeCache.page(physicalPage)?.pointee.slots,
                global: translation.global, large: translation.large)
            return (page, physical)
        }
        let write = access == .write
        // A fill of a writable (and dirty) page asks the bus for a writable page; ROM and MMIO
        // answer nil, and a read then asks again.
        let writablePage = translation.writable ? bus.memoryPage(physicalPage, write: true) : nil
        guard let page = writablePage ?? (write ? nil : bus.memoryPage(physicalPage, write: false)) else { return (nil, physical) }
        let entry = tlb + TLBEntry.slot(linear)
        // Data accesses to a page with a data breakpoint must reach the slow path's check:
        // such a page gets no tag.
        let dataWatched = watchesData && isWatchedDataPage(base)
        let writeTag = !dataWatched && writablePage != nil ? base : TLBEntry.invalid
        let holdsCode = holdsDecodedCode(physicalPage)
        // The older ways move down one, unless the first already maps this page (a refill).
        if !entry.pointee.maps(base) { shiftWays(entry) }
        entry.pointee = TLBEntry(readTag: dataWatched ? TLBEntry.invalid : base,
                                 writeTag: holdsCode ? TLBEntry.invalid : writeTag,
                                 codeWriteTag: holdsCode ? writeTag : TLBEntry.invalid,
                                 addend: Int(bitPattern: page) &- Int(truncatingIfNeeded: base),
                                 physicalPage: physicalPage, global: translation.global, large: translation.large)
        return (page, physical)
    }

    /// A read the TLB's first two ways do not grant. Pages that share a slot (a matrix's rows, a
    /// buffer and its copy) take turns in the first way, so a hit in a later way is kept short.
    @inline(never)
    func readLinearSlow(_ linear: UInt64, size: Int) -> UInt64? {
        if Int(linear & 0xFFF) + size <= 4096 && !watchesData && promoteFromLaterWay(linear),
           let p = mappedLinear(linear, length: size, forWrite: false) {
            return load(size: size, from: p)
        }
        return readLinearTranslating(linear, size: size)
    }

    /// A read that may need a page walk, the bus, or one access per page it spans.
    @inline(never)
    func readLinearTranslating(_ linear: UInt64, size: Int) -> UInt64? {
        if Int(linear & 0xFFF) + size > 4096 {
            // Crosses a page boundary: byte by byte, so each page is translated (and may fault) on its own.
            var value: UInt64 = 0
            for i in 0..<size {
                guard let b = readLinearTranslating(linear &+ UInt64(i), size: 1) else { return nil }
                value |= b << (8 * UInt64(i))
            }
            return value
        }
        if watchesData { noteDataAccess(linear, size: size, write: false) }
        if promoteFromLaterWay(linear), let p = mappedLinear(linear, length: size, forWrite: false) {
            return load(size: size, from: p)
        }
        guard let (page, physical) = hostPage(linear, .read) else { return nil }
        if let page { return load(size: size, from: UnsafeMutableRawPointer(page + Int(linear & 0xFFF))) }
        return bus.readPhysical(physical, size: size)
    }

    /// A write the TLB's first two ways do not grant; see `readLinearSlow`. A store beside the
    /// decoded instructions of a page that holds some (a stack sharing the page with code) is
    /// done here too, after a look at the page's coverage bitmap.
    @inline(never)
    func writeLinearSlow(_ linear: UInt64, size: Int, value: UInt64) -> Bool {
        let offset = Int(linear & 0xFFF)
        if offset + size <= 4096 && !watchesData {
            let entry = tlb + TLBEntry.slot(linear)
            let base = TLBEntry.pageBase(linear)
            if entry.pointee.maps(base) || promoteFromLaterWay(linear) {
                let host = UnsafeMutableRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear))
                if entry.pointee.writeTag == base
                    || (entry.pointee.codeWriteTag == base
                        && codeCache.page(entry.pointee.physicalPage)?.pointee.covers(offset, count: size) == false) {
                    store(value, size: size, at: host.unsafelyUnwrapped)
                    return true
                }
            }
        }
        return writeLinearTranslating(linear, size: size, value: value)
    }

    /// A write that may need a page walk, the bus, a look at decoded code, or one access per page.
    @inline(never)
    func writeLinearTranslating(_ linear: UInt64, size: Int, value: UInt64) -> Bool {
        if Int(linear & 0xFFF) + size > 4096 {
            // Check both pages before writing either, so a fault on the second page leaves memory unchanged.
            let secondPage = TLBEntry.pageBase(linear) &+ 0x1000
            guard translate(linear, .write) != nil, translate(secondPage, .write) != nil else { return false }
            for i in 0..<size {
                guard writeLinearTranslating(linear &+ UInt64(i), size: 1, value: value >> (8 * UInt64(i))) else { return false }
            }
            return true
        }
        if watchesData { noteDataAccess(linear, size: size, write: true) }
        if promoteFromLaterWay(linear), let p = mappedLinear(linear, length: size, forWrite: true) {
            store(value, size: size, at: p)
            return true
        }
        let offset = Int(linear & 0xFFF)
        let entry = tlb + TLBEntry.slot(linear)
        if entry.pointee.codeWriteTag == TLBEntry.pageBase(linear) {
            // A page with decoded code: only a store over decoded bytes drops them.
            let physicalPage = entry.pointee.physicalPage
            invalidateCode(physicalPage: physicalPage, writtenAt: offset, count: size)
            if holdsDecodedCode(physicalPage) {
                let p = UnsafeMutableRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear)).unsafelyUnwrapped
                store(value, size: size, at: p)
                return true
            }
        }
        guard let (page, physical) = hostPage(linear, .write) else { return false }
        invalidateCode(physicalPage: physical >> 12, writtenAt: offset, count: size)
        if let page {
            store(value, size: size, at: UnsafeMutableRawPointer(page + offset))
        } else {
            bus.writePhysical(physical, size: size, value: value)
        }
        return true
    }

    private func load(size: Int, from p: UnsafeMutableRawPointer) -> UInt64 {
        switch size {
        case 1: UInt64(p.load(as: UInt8.self))
        case 2: UInt64(p.loadUnaligned(as: UInt16.self))
        case 4: UInt64(p.loadUnaligned(as: UInt32.self))
        default: p.loadUnaligned(as: UInt64.self)
        }
    }

    private func store(_ value: UInt64, size: Int, at p: UnsafeMutableRawPointer) {
        switch size {
        case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
        case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
        case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
        default: p.storeBytes(of: value, as: UInt64.self)
        }
    }

    /// Reads an instruction byte: the code TLB grants it without a walk; otherwise the
    /// page is translated for execution (which checks NX).
    @inline(__always) func fetchLinear(_ linear: UInt64) -> UInt8? {
        let entry = codeTLB + TLBEntry.slot(linear)
        if entry.pointee.tag == TLBEntry.pageBase(linear) {
            return UnsafeRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.load(as: UInt8.self)
        }
        guard let (page, physical) = hostPage(linear, .execute) else { return nil }
        if let page { return page[Int(linear & 0xFFF)] }
        return UInt8(truncatingIfNeeded: bus.readPhysical(physical, size: 1))
    }

    /// Tells the CPU, and every processor of its coherence domain, that something other than a
    /// processor (a device's DMA, the owner loading an image) wrote guest physical memory, so
    /// decoded code there is stale.
    public func invalidateCode(physicalAddress: UInt64, length: Int) {
        guard length > 0 else { return }
        var address = physicalAddress
        let end = physicalAddress + UInt64(length)
        while address < end {
            let count = Int(min(end, (address | 0xFFF) + 1) - address)
            invalidateCode(physicalPage: address >> 12, writtenAt: Int(address & 0xFFF), count: count)
            address += UInt64(count)
        }
    }
}
