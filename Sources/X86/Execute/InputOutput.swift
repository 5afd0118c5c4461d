/// IN and OUT.
extension CPU {
    /// I/O is allowed in real mode, and in protected mode when CPL ≤ IOPL. (The TSS
    /// I/O-permission bitmap consulted otherwise arrives with protected mode.)
    func ioPermitted(port: UInt16, size: Int) -> Bool {
        if !isProtectedMode { return true }
        let iopl = UInt8((eflagsStored & EFlags.iopl) >> 12)
        return eflagsStored & EFlags.virtual8086 == 0 && currentPrivilegeLevel <= iopl
    }

    func execIn(_ d: Instruction, port: UInt16) -> Step {
        guard ioPermitted(port: port, size: d.size.bytes) else { return raiseFault(.generalProtection, errorCode: 0) }
        writeRegister(0, d.size, bus.readPort(port, size: d.size.bytes) & d.size.mask)
        return .exit
    }

    func execOut(_ d: Instruction, port: UInt16) -> Step {
        guard ioPermitted(port: port, size: d.size.bytes) else { return raiseFault(.generalProtection, errorCode: 0) }
        bus.writePort(port, size: d.size.bytes, value: readRegister(0, d.size))
        return .exit
    }
}
