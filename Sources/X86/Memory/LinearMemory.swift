/// Linear-address accesses: TLB fast path, slow path through translation and the bus.
extension CPU {
    /// The host bytes of `length` bytes at `linear` when they lie in one page the TLB maps for
    /// reading (or writing); `nil` otherwise, with nothing walked and nothing raised.
    @inline(__always)
    func mappedLinear(_ linear: UInt64, length: Int, forWrite: Bool) -> UnsafeMutableRawPointer? {
        let entry = tlb + TLBEntry.slot(linear)
        let tag = forWrite ? entry.pointee.writeTag : entry.pointee.readTag
        guard tag == TLBEntry.pageBase(linear) && Int(truncatingIfNeeded: linear & 0xFFF) <= 4096 - length else { return nil }
        return UnsafeMutableRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear)).unsafelyUnwrapped
    }

    // `readLinear` and `writeLinear` make `mappedLinear`'s check written out: on this path, every
    // guest memory access, passing the host pointer through an Optional costs a compare each time.
    @inline(__always) func readLinear<T: FixedWidthInteger>(_ linear: UInt64, as: T.Type) -> T? {
        let entry = tlb + TLBEntry.slot(linear)
        let offset = Int(truncatingIfNeeded: linear & 0xFFF)
        if entry.pointee.readTag == TLBEntry.pageBase(linear) && offset <= 4096 - MemoryLayout<T>.size {
            return UnsafeRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.loadUnaligned(as: T.self)
        }
        return readLinearSlow(linear, size: MemoryLayout<T>.size).map { T(truncatingIfNeeded: $0) }
    }

    @inline(__always) func writeLinear<T: FixedWidthInteger>(_ linear: UInt64, _ value: T) -> Bool {
        let entry = tlb + TLBEntry.slot(linear)
        let offset = Int(truncatingIfNeeded: linear & 0xFFF)
        if entry.pointee.writeTag == TLBEntry.pageBase(linear) && offset <= 4096 - MemoryLayout<T>.size {
            UnsafeMutableRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.storeBytes(of: value, as: T.self)
            return true
        }
        return writeLinearSlow(linear, size: MemoryLayout<T>.size, value: UInt64(truncatingIfNeeded: value))
    }

    /// Host pointer for a linear page if it is plain memory (and fills the TLB for it); the
    /// pointer is `nil` for MMIO. `nil` altogether when paging refused the access (#PF pending).
    @inline(never)
    func hostPage(_ linear: UInt64, _ access: MemoryAccess) -> (pointer: UnsafeMutablePointer<UInt8>?, physical: UInt64)? {
        guard let translation = translate(linear, access) else { return nil }
        let physical = translation.physical
        let physicalPage = physical >> 12
        let write = access == .write
        if write && holdsDecodedCode(physicalPage) {
            invalidateCode(physicalPage: physicalPage)
        }
        // A fill that may grant writes (a write, or a read of a dirty writable page without decoded
        // code) asks the bus for a writable page; ROM and MMIO answer nil, and a read then asks again.
        let mayGrantWrites = translation.writable && (write || !holdsDecodedCode(physicalPage))
        let writablePage = mayGrantWrites || write ? bus.memoryPage(physicalPage, write: true) : nil
        guard let page = writablePage ?? (write ? nil : bus.memoryPage(physicalPage, write: false)) else { return (nil, physical) }
        let entry = tlb + TLBEntry.slot(linear)
        let base = TLBEntry.pageBase(linear)
        let addend = Int(bitPattern: page) &- Int(truncatingIfNeeded: base)
        // Data accesses to a page with a data breakpoint must reach the slow path's check:
        // such a page gets a fetch tag only.
        let dataWatched = watchesData && isWatchedDataPage(base)
        if entry.pointee.addend != addend || entry.pointee.readTag != base || dataWatched {
            entry.pointee.writeTag = TLBEntry.invalid
            entry.pointee.fetchTag = TLBEntry.invalid
        }
        entry.pointee.addend = addend
        entry.pointee.physicalPage = physicalPage
        entry.pointee.global = translation.global
        entry.pointee.large = translation.large
        if translation.large { tlbHoldsLargePages = true }
        entry.pointee.readTag = dataWatched ? TLBEntry.invalid : base
        // A read of a page that is already dirty and writable grants writes too (a later
        // read-modify-write then needs no second walk), unless it is ROM or holds decoded code.
        if !dataWatched && mayGrantWrites && writablePage != nil {
            entry.pointee.writeTag = base
        }
        if translation.executable { entry.pointee.fetchTag = base }
        return (page, physical)
    }

    @inline(never)
    func readLinearSlow(_ linear: UInt64, size: Int) -> UInt64? {
        if Int(linear & 0xFFF) + size > 4096 {
            // Crosses a page boundary: byte by byte, so each page is translated (and may fault) on its own.
            var value: UInt64 = 0
            for i in 0..<size {
                guard let b = readLinearSlow(linear &+ UInt64(i), size: 1) else { return nil }
                value |= b << (8 * UInt64(i))
            }
            return value
        }
        if watchesData { noteDataAccess(linear, size: size, write: false) }
        guard let (page, physical) = hostPage(linear, .read) else { return nil }
        if let page {
            let p = UnsafeRawPointer(page + Int(linear & 0xFFF))
            switch size {
            case 1: return UInt64(p.load(as: UInt8.self))
            case 2: return UInt64(p.loadUnaligned(as: UInt16.self))
            case 4: return UInt64(p.loadUnaligned(as: UInt32.self))
            default: return p.loadUnaligned(as: UInt64.self)
            }
        }
        return bus.readPhysical(physical, size: size)
    }

    @inline(never)
    func writeLinearSlow(_ linear: UInt64, size: Int, value: UInt64) -> Bool {
        if Int(linear & 0xFFF) + size > 4096 {
            // Check both pages before writing either, so a fault on the second page leaves memory unchanged.
            let secondPage = TLBEntry.pageBase(linear) &+ 0x1000
            guard translate(linear, .write) != nil, translate(secondPage, .write) != nil else { return false }
            for i in 0..<size {
                guard writeLinearSlow(linear &+ UInt64(i), size: 1, value: value >> (8 * UInt64(i))) else { return false }
            }
            return true
        }
        if watchesData { noteDataAccess(linear, size: size, write: true) }
        guard let (page, physical) = hostPage(linear, .write) else { return false }
        if let page {
            let p = UnsafeMutableRawPointer(page + Int(linear & 0xFFF))
            switch size {
            case 1: p.storeBytes(of: UInt8(truncatingIfNeeded: value), as: UInt8.self)
            case 2: p.storeBytes(of: UInt16(truncatingIfNeeded: value), as: UInt16.self)
            case 4: p.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self)
            default: p.storeBytes(of: value, as: UInt64.self)
            }
        } else {
            bus.writePhysical(physical, size: size, value: value)
        }
        return true
    }

    /// Reads an instruction byte: the fetch tag grants it without a walk; otherwise the
    /// page is translated for execution (which checks NX).
    @inline(__always) func fetchLinear(_ linear: UInt64) -> UInt8? {
        let entry = tlb + TLBEntry.slot(linear)
        if entry.pointee.fetchTag == TLBEntry.pageBase(linear) {
            return UnsafeRawPointer(bitPattern: entry.pointee.addend &+ Int(truncatingIfNeeded: linear))
                .unsafelyUnwrapped.load(as: UInt8.self)
        }
        guard let (page, physical) = hostPage(linear, .execute) else { return nil }
        if let page { return page[Int(linear & 0xFFF)] }
        return UInt8(truncatingIfNeeded: bus.readPhysical(physical, size: 1))
    }

    /// Tells the CPU that something other than itself (a device's DMA, the owner loading
    /// an image) wrote guest physical memory, so decoded code there is stale.
    public func invalidateCode(physicalAddress: UInt64, length: Int) {
        guard length > 0 else { return }
        var page = physicalAddress >> 12
        let last = (physicalAddress + UInt64(length) - 1) >> 12
        while page <= last {
            if holdsDecodedCode(page) { invalidateCode(physicalPage: page) }
            page += 1
        }
    }
}
