/// The kind of a memory access, as paging checks it.
enum MemoryAccess: UInt8 {
    case read, write, execute
}

/// What a page walk found for one linear page.
struct PageTranslation {
    var physical: UInt64
    /// The access that walked may also write (R/W everywhere, or CR0.WP off for a supervisor)
    /// and the page is already dirty, so the TLB may grant writes.
    var writable: Bool
    var executable: Bool
    var global: Bool
    /// Mapped by a 4 MiB or 2 MiB page: the TLB holds it in 4 KiB pieces, which INVLPG drops together.
    var large = false
}

/// The CR4 bits this CPU implements (SDM Vol. 3A, 2.5).
public enum ControlRegister4 {
    public static let timeStampDisable: UInt32 = 1 << 2
    public static let debuggingExtensions: UInt32 = 1 << 3
    public static let pageSizeExtensions: UInt32 = 1 << 4
    public static let physicalAddressExtension: UInt32 = 1 << 5
    public static let pageGlobalEnable: UInt32 = 1 << 7
    public static let performanceCounterEnable: UInt32 = 1 << 8
    public static let osfxsr: UInt32 = 1 << 9
    /// Unmasked SSE floating-point exceptions raise #XM rather than #UD.
    public static let osxmmexcpt: UInt32 = 1 << 10
}

/// The IA32_EFER bits (SDM Vol. 3A, 2.2.1).
public enum ExtendedFeatureEnable {
    public static let systemCallEnable: UInt64 = 1 << 0
    public static let longModeEnable: UInt64 = 1 << 8
    /// Set by the processor while IA-32e mode is active; writes to it are ignored.
    public static let longModeActive: UInt64 = 1 << 10
    public static let noExecuteEnable: UInt64 = 1 << 11
}

/// 32-bit, PAE and 4-level paging (SDM Vol. 3A, 4.3, 4.4 and 4.5). The walk sets accessed and
/// dirty bits and raises #PF with CR2 and the error code of 4.7 when a translation fails.
extension CPU {
    /// Highest physical address bit + 1 reported in CPUID 80000008h.
    static let physicalAddressBits: UInt64 = 36
    /// The address bits above that width, reserved in paging entries, MTRRs and IA32_APIC_BASE.
    static let aboveAddressWidth: UInt64 = ~((1 << physicalAddressBits) - 1)
    private static let pagePresent: UInt64 = 1 << 0
    private static let pageWritable: UInt64 = 1 << 1
    private static let pageUser: UInt64 = 1 << 2
    private static let pageAccessed: UInt64 = 1 << 5
    private static let pageDirty: UInt64 = 1 << 6
    private static let pageSize: UInt64 = 1 << 7
    private static let pageGlobal: UInt64 = 1 << 8
    private static let pageNoExecute: UInt64 = 1 << 63
    /// Address bits of a PAE entry (bits 35:12 with a 36-bit physical address).
    private static let paeAddressMask: UInt64 = ((1 << physicalAddressBits) - 1) & ~0xFFF

    @inline(__always) var pagingEnabled: Bool { cr0 & ControlRegister0.paging != 0 }
    var paeEnabled: Bool { cr4 & ControlRegister4.physicalAddressExtension != 0 }
    var noExecuteEnabled: Bool { efer & ExtendedFeatureEnable.noExecuteEnable != 0 }
    /// IA-32e mode is active (EFER.LMA): paging is 4-level.
    @inline(__always) var longModeActive: Bool { efer & ExtendedFeatureEnable.longModeActive != 0 }

    /// Translates a linear address for an access at the current privilege (the TLB half in
    /// use says which). `nil` with #PF pending when paging refuses it.
    func translate(_ linear: UInt64, _ access: MemoryAccess) -> PageTranslation? {
        if !pagingEnabled {
            return PageTranslation(physical: linear & a20Mask, writable: true, executable: true, global: false)
        }
        if longModeActive { return walkFourLevel(linear, access, user: isUserTLB) }
        return paeEnabled ? walkPAE(linear, access, user: isUserTLB) : walk32(linear, access, user: isUserTLB)
    }

    private func readPhysical32(_ address: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: readPhysicalMemory(address, size: 4)) }
    private func readPhysical64(_ address: UInt64) -> UInt64 { readPhysicalMemory(address, size: 8) }

    /// Reads a naturally aligned paging-structure entry from RAM (or, off RAM, from the bus).
    private func readPhysicalMemory(_ address: UInt64, size: Int) -> UInt64 {
        let physical = address & a20Mask
        guard let page = pagingStructurePage(physical >> 12) else { return bus.readPhysical(physical, size: size) }
        let entry = UnsafeRawPointer(page + Int(physical & 0xFFF))
        return size == 8 ? entry.loadUnaligned(as: UInt64.self) : UInt64(entry.loadUnaligned(as: UInt32.self))
    }

    /// The host page holding paging structures, from a small cache of the pages walks read
    /// (page directories and tables are few and hot), refilled from the bus on a miss.
    private func pagingStructurePage(_ physicalPage: UInt64) -> UnsafeMutablePointer<UInt8>? {
        let slot = Int(truncatingIfNeeded: physicalPage) & (CPU.pagingStructureCacheSize - 1)
        if pagingStructureCache[slot].physicalPage == physicalPage { return pagingStructureCache[slot].pointer }
        guard let page = bus.memoryPage(physicalPage, write: false) else { return nil }
        pagingStructureCache[slot] = (physicalPage, page)
        return page
    }

    static let pagingStructureCacheSize = 64

    /// Writes a paging-structure entry back (accessed and dirty bits); decoded code on that page is dropped.
    private func writePhysicalMemory(_ address: UInt64, size: Int, value: UInt64) {
        let physical = address & a20Mask
        guard let page = bus.memoryPage(physical >> 12, write: true) else {
            bus.writePhysical(physical, size: size, value: value)
            return
        }
        invalidateCode(physicalPage: physical >> 12, writtenAt: Int(physical & 0xFFF), count: size)
        let entry = UnsafeMutableRawPointer(page + Int(physical & 0xFFF))
        if size == 8 { entry.storeBytes(of: value, as: UInt64.self) } else { entry.storeBytes(of: UInt32(truncatingIfNeeded: value), as: UInt32.self) }
    }

    /// The access rights the combined entries grant; `nil` when they refuse the access.
    private func permits(_ access: MemoryAccess, user: Bool, writableAll: Bool, userAll: Bool, noExecute: Bool) -> Bool {
        if user && !userAll { return false }
        switch access {
        case .read: return true
        case .write: return writableAll || (!user && cr0 & ControlRegister0.writeProtect == 0)
        case .execute: return !noExecute
        }
    }

    /// Records #PF for `linear` (SDM Vol. 3A, 4.7): P = a protection violation, W/R, U/S,
    /// RSVD, I/D (reported only with PAE and NXE).
    @discardableResult
    private func raisePageFault(_ linear: UInt64, _ access: MemoryAccess, user: Bool, present: Bool, reserved: Bool = false) -> PageTranslation? {
        cr2 = linear
        var code: UInt32 = present ? 1 : 0
        if access == .write { code |= 2 }
        if user { code |= 4 }
        if reserved { code |= 8 | 1 }
        if access == .execute && (paeEnabled || longModeActive) && noExecuteEnabled { code |= 16 }
        raiseFault(.pageFault, errorCode: code)
        return nil
    }

    /// One paging-structure entry as a walk read it.
    private struct PagingEntry {
        let address: UInt64
        let value: UInt64
        /// A 64-bit (PAE) entry rather than a 32-bit one.
        let wide: Bool
    }

    private func writeBack(_ entry: PagingEntry, _ value: UInt64) {
        writePhysicalMemory(entry.address, size: entry.wide ? 8 : 4, value: value)
    }

    /// The end of every walk (SDM Vol. 3A, 4.6 and 4.8): the rights the entries grant together
    /// (`rights`, their R/W and U/S bits ANDed), #PF when they refuse the access, the accessed
    /// flag on the directory entry that led to a table, and accessed (dirty for a write) on the
    /// entry that maps the page.
    private func finishWalk(_ linear: UInt64, _ access: MemoryAccess, user: Bool, mapping leaf: PagingEntry,
                            through directory: PagingEntry?, rights: UInt64, noExecute: Bool,
                            physical: UInt64, large: Bool) -> PageTranslation? {
        let writableAll = rights & CPU.pageWritable != 0
        guard permits(access, user: user, writableAll: writableAll, userAll: rights & CPU.pageUser != 0, noExecute: noExecute) else {
            return raisePageFault(linear, access, user: user, present: true)
        }
        if let directory, directory.value & CPU.pageAccessed == 0 { writeBack(directory, directory.value | CPU.pageAccessed) }
        var updated = leaf.value | CPU.pageAccessed
        if access == .write { updated |= CPU.pageDirty }
        if updated != leaf.value { writeBack(leaf, updated) }
        return PageTranslation(physical: physical & a20Mask,
                               writable: updated & CPU.pageDirty != 0
                                   && permits(.write, user: user, writableAll: writableAll, userAll: true, noExecute: false),
                               executable: !noExecute, global: leaf.value & CPU.pageGlobal != 0 && globalPagesEnabled,
                               large: large)
    }

    /// 32-bit paging: a page directory at CR3, 4 KiB pages or (CR4.PSE) 4 MiB pages.
    private func walk32(_ linear: UInt64, _ access: MemoryAccess, user: Bool) -> PageTranslation? {
        let directoryEntryAddress = (cr3 & 0xFFFF_F000) | ((linear >> 20) & 0xFFC)
        let pde = PagingEntry(address: directoryEntryAddress, value: UInt64(readPhysical32(directoryEntryAddress)), wide: false)
        if pde.value & CPU.pagePresent == 0 { return raisePageFault(linear, access, user: user, present: false) }
        if pde.value & CPU.pageSize != 0 && cr4 & ControlRegister4.pageSizeExtensions != 0 {
            // PSE-36: PDE bits 16:13 are physical bits 35:32; bits 21:17 are reserved.
            if pde.value & 0x003E_0000 != 0 { return raisePageFault(linear, access, user: user, present: true, reserved: true) }
            let frame = (pde.value & 0xFFC0_0000) | ((pde.value & 0x1E000) << 19)
            return finishWalk(linear, access, user: user, mapping: pde, through: nil, rights: pde.value, noExecute: false,
                              physical: frame | (linear & 0x3F_FFFF), large: true)
        }
        let tableEntryAddress = (pde.value & 0xFFFF_F000) | ((linear >> 10) & 0xFFC)
        let pte = PagingEntry(address: tableEntryAddress, value: UInt64(readPhysical32(tableEntryAddress)), wide: false)
        if pte.value & CPU.pagePresent == 0 { return raisePageFault(linear, access, user: user, present: false) }
        return finishWalk(linear, access, user: user, mapping: pte, through: pde, rights: pde.value & pte.value,
                          noExecute: false, physical: (pte.value & 0xFFFF_F000) | (linear & 0xFFF), large: false)
    }

    private var globalPagesEnabled: Bool { cr4 & ControlRegister4.pageGlobalEnable != 0 }

    /// Reserved bits of a PAE paging-structure entry: above the physical-address width, and
    /// bit 63 unless EFER.NXE (SDM Vol. 3A, 4.4.2).
    private var paeReservedHighBits: UInt64 {
        let aboveWidth = CPU.aboveAddressWidth & ~CPU.pageNoExecute
        return noExecuteEnabled ? aboveWidth : aboveWidth | CPU.pageNoExecute
    }

    /// PAE paging: four PDPTEs loaded with CR3, then a directory and a table of 64-bit entries;
    /// 2 MiB pages when PDE.PS is set; NX with EFER.NXE.
    private func walkPAE(_ linear: UInt64, _ access: MemoryAccess, user: Bool) -> PageTranslation? {
        let pointer: UInt64
        switch (linear >> 30) & 3 {
        case 0: pointer = pdpte.0
        case 1: pointer = pdpte.1
        case 2: pointer = pdpte.2
        default: pointer = pdpte.3
        }
        if pointer & CPU.pagePresent == 0 { return raisePageFault(linear, access, user: user, present: false) }
        let directoryEntryAddress = (pointer & CPU.paeAddressMask) | ((linear >> 18) & 0xFF8)
        let pde = PagingEntry(address: directoryEntryAddress, value: readPhysical64(directoryEntryAddress), wide: true)
        if pde.value & CPU.pagePresent == 0 { return raisePageFault(linear, access, user: user, present: false) }
        let reserved = paeReservedHighBits
        if pde.value & reserved != 0 { return raisePageFault(linear, access, user: user, present: true, reserved: true) }
        if pde.value & CPU.pageSize != 0 {
            if pde.value & 0x1F_E000 != 0 { return raisePageFault(linear, access, user: user, present: true, reserved: true) }
            return finishWalk(linear, access, user: user, mapping: pde, through: nil, rights: pde.value,
                              noExecute: noExecuteEnabled && pde.value & CPU.pageNoExecute != 0,
                              physical: (pde.value & CPU.paeAddressMask & ~0x1F_FFFF) | (linear & 0x1F_FFFF), large: true)
        }
        let tableEntryAddress = (pde.value & CPU.paeAddressMask) | ((linear >> 9) & 0xFF8)
        let pte = PagingEntry(address: tableEntryAddress, value: readPhysical64(tableEntryAddress), wide: true)
        if pte.value & CPU.pagePresent == 0 { return raisePageFault(linear, access, user: user, present: false) }
        if pte.value & reserved != 0 { return raisePageFault(linear, access, user: user, present: true, reserved: true) }
        return finishWalk(linear, access, user: user, mapping: pte, through: pde, rights: pde.value & pte.value,
                          noExecute: noExecuteEnabled && (pde.value | pte.value) & CPU.pageNoExecute != 0,
                          physical: (pte.value & CPU.paeAddressMask) | (linear & 0xFFF), large: false)
    }

    /// 4-level paging (SDM Vol. 3A, 4.5): PML4 at CR3, then a page-directory-pointer table (1 GiB
    /// pages when PS is set), a directory (2 MiB pages) and a table. Rights are the AND of every
    /// level's R/W and U/S; any level's XD makes the page non-executable (with EFER.NXE).
    private func walkFourLevel(_ linear: UInt64, _ access: MemoryAccess, user: Bool) -> PageTranslation? {
        let reserved = paeReservedHighBits
        // PML4 entries have no PS bit: it is reserved.
        guard let pml4e = presentEntry(at: (cr3 & CPU.paeAddressMask) | ((linear >> 36) & 0xFF8), reserved: reserved | CPU.pageSize,
                                       for: linear, access, user: user),
              let pdpte = presentEntry(at: (pml4e.value & CPU.paeAddressMask) | ((linear >> 27) & 0xFF8), reserved: reserved,
                                       for: linear, access, user: user) else { return nil }
        var rights = pml4e.value & pdpte.value
        var noExecuteBits = pml4e.value | pdpte.value
        if pdpte.value & CPU.pageSize != 0 {
            return finishLargePage(linear, access, user: user, mapping: pdpte, offsetBits: 30, through: pml4e, above: nil,
                                   rights: rights, noExecuteBits: noExecuteBits)
        }
        guard let pde = presentEntry(at: (pdpte.value & CPU.paeAddressMask) | ((linear >> 18) & 0xFF8), reserved: reserved,
                                     for: linear, access, user: user) else { return nil }
        rights &= pde.value
        noExecuteBits |= pde.value
        if pde.value & CPU.pageSize != 0 {
            return finishLargePage(linear, access, user: user, mapping: pde, offsetBits: 21, through: pdpte, above: pml4e,
                                   rights: rights, noExecuteBits: noExecuteBits)
        }
        guard let pte = presentEntry(at: (pde.value & CPU.paeAddressMask) | ((linear >> 9) & 0xFF8), reserved: reserved,
                                     for: linear, access, user: user) else { return nil }
        return finishFourLevelWalk(linear, access, user: user, mapping: pte, through: pde, above: pml4e, pdpte,
                                   rights: rights & pte.value, noExecuteBits: noExecuteBits | pte.value, large: false,
                                   physical: (pte.value & CPU.paeAddressMask) | (linear & 0xFFF))
    }

    /// A 1 GiB (`offsetBits` 30) or 2 MiB (21) page: the entry's bits 12 (PAT) to `offsetBits` - 1
    /// other than the address must be 0, bits 13 and up being reserved.
    private func finishLargePage(_ linear: UInt64, _ access: MemoryAccess, user: Bool, mapping leaf: PagingEntry,
                                 offsetBits: UInt64, through directory: PagingEntry, above: PagingEntry?,
                                 rights: UInt64, noExecuteBits: UInt64) -> PageTranslation? {
        let offsetMask: UInt64 = (1 << offsetBits) - 1
        if leaf.value & offsetMask & ~0x1FFF != 0 { return raisePageFault(linear, access, user: user, present: true, reserved: true) }
        return finishFourLevelWalk(linear, access, user: user, mapping: leaf, through: directory, above: above, nil,
                                   rights: rights, noExecuteBits: noExecuteBits, large: true,
                                   physical: (leaf.value & CPU.paeAddressMask & ~offsetMask) | (linear & offsetMask))
    }

    /// The 64-bit paging-structure entry at `address`, read for the walk of `linear`; `nil` with
    /// #PF pending when it is not present or sets one of the `reserved` bits.
    private func presentEntry(at address: UInt64, reserved: UInt64, for linear: UInt64, _ access: MemoryAccess,
                              user: Bool) -> PagingEntry? {
        let entry = PagingEntry(address: address, value: readPhysical64(address), wide: true)
        if entry.value & CPU.pagePresent == 0 {
            raisePageFault(linear, access, user: user, present: false)
            return nil
        }
        if entry.value & reserved != 0 {
            raisePageFault(linear, access, user: user, present: true, reserved: true)
            return nil
        }
        return entry
    }

    /// `finishWalk` for 4-level paging: the accessed flag goes on every upper entry the walk
    /// used — the one that led to the leaf's structure (`directory`) and those `above` it.
    private func finishFourLevelWalk(_ linear: UInt64, _ access: MemoryAccess, user: Bool, mapping leaf: PagingEntry,
                                     through directory: PagingEntry, above first: PagingEntry?, _ second: PagingEntry?,
                                     rights: UInt64, noExecuteBits: UInt64, large: Bool, physical: UInt64) -> PageTranslation? {
        let noExecute = noExecuteEnabled && noExecuteBits & CPU.pageNoExecute != 0
        guard let translation = finishWalk(linear, access, user: user, mapping: leaf, through: directory, rights: rights,
                                           noExecute: noExecute, physical: physical, large: large)
        else { return nil }
        if let first, first.value & CPU.pageAccessed == 0 { writeBack(first, first.value | CPU.pageAccessed) }
        if let second, second.value & CPU.pageAccessed == 0 { writeBack(second, second.value | CPU.pageAccessed) }
        return translation
    }

    /// Loads the four PDPTEs from CR3 (PAE paging); `false` with #GP(0) pending when one that
    /// is present has reserved bits set (SDM Vol. 3A, 4.4.1).
    func loadPageDirectoryPointers() -> Bool {
        let table = cr3 & 0xFFFF_FFE0
        var entries: [UInt64] = []
        for i in 0..<4 {
            let entry = readPhysical64(table + UInt64(i) * 8)
            let reserved: UInt64 = 0x1E6 | CPU.aboveAddressWidth
            if entry & CPU.pagePresent != 0 && entry & reserved != 0 {
                raiseFault(.generalProtection, errorCode: 0)
                return false
            }
            entries.append(entry)
        }
        pdpte = (entries[0], entries[1], entries[2], entries[3])
        return true
    }
}
