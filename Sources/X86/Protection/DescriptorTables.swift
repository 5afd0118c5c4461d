/// Reading and updating GDT and LDT descriptors. The processor makes these accesses as
/// supervisor accesses whatever the CPL (SDM Vol. 3A, 4.6).
extension CPU {
    /// The linear address of a selector's descriptor, or `nil` when the selector lies outside
    /// its table (or names the LDT while LDTR is null). No exception is raised. In IA-32e mode
    /// the tables' bases are 64-bit linear addresses.
    @inline(__always)
    func descriptorAddress(_ selector: UInt16) -> UInt64? {
        let index = UInt32(selector & 0xFFF8)
        let mask: UInt64 = longModeActive ? ~0 : 0xFFFF_FFFF
        if selector.selectsLDT {
            guard ldtr.isUsable, index &+ 7 <= ldtr.limit else { return nil }
            return (ldtr.base &+ UInt64(index)) & mask
        }
        guard index &+ 7 <= gdtr.limit else { return nil }
        return (gdtr.base &+ UInt64(index)) & mask
    }

    /// The upper half of a 16-byte system descriptor (IA-32e mode's LDT and TSS descriptors):
    /// bits 63:32 of the base, which must be canonical with the lower half's (SDM Vol. 3A, 7.2.3).
    /// `nil` with #GP(selector) pending when the selector's table ends before it.
    func systemDescriptorUpperBase(_ selector: UInt16) -> UInt64? {
        guard let address = descriptorAddress(selector), UInt32(selector & 0xFFF8) &+ 15 <= gdtr.limit else {
            raiseFault(.generalProtection, errorCode: selector.errorCode)
            return nil
        }
        return asSupervisor { readLinear(address &+ 8, as: UInt32.self) }.map { UInt64($0) << 32 }
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
