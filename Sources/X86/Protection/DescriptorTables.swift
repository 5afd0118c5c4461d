/// Reading and updating GDT and LDT descriptors. The processor makes these accesses as
/// supervisor accesses whatever the CPL (SDM Vol. 3A, 4.6).
extension CPU {
    /// The linear address of a selector's descriptor, or `nil` when the selector lies outside
    /// its table (or names the LDT while LDTR is null): all `size` bytes of the descriptor (8,
    /// or 16 for IA-32e mode's system descriptors and call gates) must lie within the limit.
    /// No exception is raised. In IA-32e mode the tables' bases are 64-bit linear addresses.
    @inline(__always)
    func descriptorAddress(_ selector: UInt16, size: UInt32 = 8) -> UInt64? {
        let index = UInt32(selector & 0xFFF8)
        let last = index &+ (size &- 1)
        let mask: UInt64 = longModeActive ? ~0 : 0xFFFF_FFFF
        if selector.selectsLDT {
            guard ldtr.isUsable, last <= ldtr.limit else { return nil }
            return (ldtr.base &+ UInt64(index)) & mask
        }
        guard last <= gdtr.limit else { return nil }
        return (gdtr.base &+ UInt64(index)) & mask
    }

    /// The upper eight bytes of a 16-byte descriptor of IA-32e mode (an LDT or TSS descriptor,
    /// a call gate; SDM Vol. 3A, 5.8.3.1 and 7.2.3). `nil` with #GP(selector) pending when the
    /// selector's table (GDT or LDT) ends before them or their type field is not zero, or #PF
    /// when reading faults.
    func upperDescriptorHalf(_ selector: UInt16) -> UInt64? {
        guard let address = descriptorAddress(selector, size: 16) else {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        guard let upper = asSupervisor({ readLinear(address &+ 8, as: UInt64.self) }) else { return nil }
        // Bits 12:8 of the last dword sit where a descriptor's type and S flag would, and must be
        // 0 so that an 8-byte legacy descriptor there is not taken for an upper half (SDM Vol. 3A,
        // Figures 5-9 and 7-4; Bochs's fetch_raw_descriptor_64 checks the same for all of them).
        if (upper >> 32) & 0x1F00 != 0 {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        return upper
    }

    /// The 64-bit base of an IA-32e mode LDT or TSS descriptor: the lower half's 32 bits and
    /// bits 63:32 from `upper` (SDM Vol. 3A, 7.2.3). `nil` with #GP(selector) pending when it is
    /// not canonical (SDM Vol. 2, LLDT and LTR; Bochs checks it after the type and P checks).
    func systemDescriptorBase(_ selector: UInt16, _ descriptor: Descriptor, upper: UInt64) -> UInt64? {
        let base = UInt64(descriptor.base) | (upper & 0xFFFF_FFFF) << 32
        guard isCanonical(base) else {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        return base
    }

    /// Reads a selector's descriptor; `nil` with an exception pending when the selector lies
    /// outside its table (`vector` with `errorCode`, #GP(selector) by default) or reading faults.
    func readDescriptor(_ selector: UInt16, vector: ExceptionVector = .generalProtection,
                        errorCode: UInt32? = nil) -> Descriptor? {
        guard let address = descriptorAddress(selector) else {
            raiseFault(vector, errorCode: errorCode ?? selector.errorCode)
            return nil
        }
        return readDescriptor(at: address)
    }

    /// Reads the descriptor at a table address; `nil` when the read faulted (#PF pending).
    @inline(__always)
    func readDescriptor(at address: UInt64) -> Descriptor? {
        asSupervisor { readLinear(address, as: UInt64.self) }.map(Descriptor.init)
    }

    /// Sets a segment descriptor's accessed bit, as every segment-register load does.
    @inline(__always)
    func markAccessed(_ selector: UInt16, _ descriptor: Descriptor) -> Bool {
        if descriptor.isAccessed { return true }
        guard let address = descriptorAddress(selector) else { return true }
        return asSupervisor { writeLinear(address &+ 5, UInt8(truncatingIfNeeded: descriptor.high >> 8) | 1) }
    }

    /// Sets or clears a TSS descriptor's busy bit (type bit 1) in the GDT.
    func setBusy(_ selector: UInt16, _ busy: Bool) -> Bool {
        guard let address = descriptorAddress(selector),
              let access = asSupervisor({ readLinear(address &+ 5, as: UInt8.self) }) else { return false }
        let updated = busy ? access | 0x2 : access & ~0x2
        return asSupervisor { writeLinear(address &+ 5, updated) }
    }
}
