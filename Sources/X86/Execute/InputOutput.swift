/// IN and OUT.
extension CPU {
    /// I/O is allowed in real mode, and in protected mode when CPL ≤ IOPL; otherwise (and
    /// always in virtual-8086 mode) every port's bit in the TSS I/O-permission bitmap must be
    /// clear (SDM Vol. 1, 19.5). `false` with #GP(0) (or a #PF reading the TSS) pending.
    func ioPermitted(port: UInt16, size: Int) -> Bool {
        if !isProtectedMode || (!isVirtual8086 && cpl <= iopl) { return true }
        // Only a 32-bit (or 64-bit) TSS has a bitmap; its base is the word at offset 66h. The
        // 64-bit TSS of IA-32e mode may lie anywhere in the 64-bit linear space.
        if taskRegister.attributes & 0x8 != 0 && taskRegister.limit >= 0x67 {
            let base = taskRegister.base
            let mask: UInt64 = longModeActive ? ~0 : 0xFFFF_FFFF
            guard let mapBase = asSupervisor({ readLinear((base &+ 0x66) & mask, as: UInt16.self) }) else { return false }
            let byteOffset = UInt32(mapBase) &+ UInt32(port >> 3)
            // Two bytes are read, as the processor does, so an access may straddle a byte.
            if byteOffset &+ 1 <= taskRegister.limit {
                guard let bits = asSupervisor({ readLinear((base &+ UInt64(byteOffset)) & mask, as: UInt16.self) }) else {
                    return false
                }
                let mask = UInt16((1 << size) - 1) << (port & 7)
                if bits & mask == 0 { return true }
            }
        }
        raiseFault(.generalProtection, errorCode: 0)
        return false
    }

    func execIn(_ d: Instruction, port: UInt16) -> Step {
        guard ioPermitted(port: port, size: d.size.bytes) else { return .fault }
        noteIOAccess(port, size: d.size.bytes)
        writeRegister(0, d.size, UInt64(bus.readPort(port, size: d.size.bytes)) & d.size.mask)
        return .exit
    }

    func execOut(_ d: Instruction, port: UInt16) -> Step {
        guard ioPermitted(port: port, size: d.size.bytes) else { return .fault }
        noteIOAccess(port, size: d.size.bytes)
        bus.writePort(port, size: d.size.bytes, value: UInt32(truncatingIfNeeded: readRegister(0, d.size)))
        return .exit
    }
}
