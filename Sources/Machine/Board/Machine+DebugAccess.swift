import X86

/// Memory as a debugger sees it: through a CPU's current paging, without faults and without
/// setting accessed or dirty bits (the guest must not notice the debugger looking).
extension Machine {
    /// The physical address CPU `index`'s linear address maps to, walking its page tables as
    /// the CPU would (SDM Vol. 3A, 4.3 32-bit paging, 4.4 PAE paging, 4.5 4-level paging);
    /// nil when a level is not present. Without paging, the linear address itself.
    public func debugPhysicalAddress(of linear: UInt64, cpu index: Int) -> UInt64? {
        let cpu = cpus[index]
        let paging: UInt32 = 1 << 31, pae: UInt32 = 1 << 5, pse: UInt32 = 1 << 4, longModeActive: UInt64 = 1 << 10
        guard cpu.controlRegister0 & paging != 0 else { return linear & 0xFFFF_FFFF }
        let frame: UInt64 = 0x000F_FFFF_FFFF_F000
        func entry64(_ table: UInt64, _ index: UInt64) -> UInt64? {
            present(littleEndian((table & frame) + index * 8, width: 8))
        }
        let largePage: UInt64 = 1 << 7
        if cpu.controlRegister4 & pae != 0 {
            var table: UInt64
            if cpu.extendedFeatureEnable & longModeActive != 0 {
                guard let pml4 = entry64(cpu.controlRegister3, (linear >> 39) & 0x1FF),
                      let pdpte = entry64(pml4, (linear >> 30) & 0x1FF) else { return nil }
                if pdpte & largePage != 0 { return (pdpte & frame & ~0x3FFF_FFFF) | (linear & 0x3FFF_FFFF) }
                table = pdpte
            } else {
                // The four PDPTEs at CR3 (32-byte aligned).
                guard let pdpte = present(littleEndian((cpu.controlRegister3 & 0xFFFF_FFE0) + ((linear >> 30) & 3) * 8, width: 8)) else { return nil }
                table = pdpte
            }
            guard let pde = entry64(table, (linear >> 21) & 0x1FF) else { return nil }
            if pde & largePage != 0 { return (pde & frame & ~0x1F_FFFF) | (linear & 0x1F_FFFF) }
            guard let pte = entry64(pde, (linear >> 12) & 0x1FF) else { return nil }
            return (pte & frame) | (linear & 0xFFF)
        }
        func entry32(_ table: UInt64, _ index: UInt64) -> UInt64? {
            present(littleEndian((table & 0xFFFF_F000) + index * 4, width: 4))
        }
        let linear32 = linear & 0xFFFF_FFFF
        guard let pde = entry32(cpu.controlRegister3, linear32 >> 22) else { return nil }
        if pde & largePage != 0 && cpu.controlRegister4 & pse != 0 {
            // A 4 MiB page; PSE-36 puts physical bits 39:32 in PDE bits 20:13.
            return (pde & 0xFFC0_0000) | ((pde >> 13) & 0xFF) << 32 | (linear32 & 0x3F_FFFF)
        }
        guard let pte = entry32(pde, (linear32 >> 12) & 0x3FF) else { return nil }
        return (pte & 0xFFFF_F000) | (linear32 & 0xFFF)
    }

    /// A paging-structure entry if its P bit is set.
    private func present(_ entry: UInt64) -> UInt64? { entry & 1 != 0 ? entry : nil }

    private func littleEndian(_ physical: UInt64, width: Int) -> UInt64 {
        readMemory(physical, count: width).reversed().reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// Reads `count` bytes at a CPU's linear address, page by page; nil if any page is absent.
    public func debugRead(linear: UInt64, count: Int, cpu index: Int) -> [UInt8]? {
        var bytes: [UInt8] = []
        var address = linear
        while bytes.count < count {
            guard let physical = debugPhysicalAddress(of: address, cpu: index) else { return nil }
            let chunk = min(count - bytes.count, Int(0x1000 - (address & 0xFFF)))
            bytes += readMemory(physical, count: chunk)
            address &+= UInt64(chunk)
        }
        return bytes
    }

    /// Writes bytes at a CPU's linear address (decoded code there is dropped); false, and
    /// nothing written, if any page is absent.
    public func debugWrite(_ bytes: [UInt8], linear: UInt64, cpu index: Int) -> Bool {
        var pieces: [(physical: UInt64, bytes: ArraySlice<UInt8>)] = []
        var offset = 0
        while offset < bytes.count {
            let address = linear &+ UInt64(offset)
            guard let physical = debugPhysicalAddress(of: address, cpu: index) else { return false }
            let chunk = min(bytes.count - offset, Int(0x1000 - (address & 0xFFF)))
            pieces.append((physical, bytes[offset..<offset + chunk]))
            offset += chunk
        }
        for piece in pieces { writeMemory(Array(piece.bytes), at: piece.physical) }
        return true
    }
}
