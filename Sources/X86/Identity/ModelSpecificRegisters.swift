/// Model-specific registers implemented so far. Any other index is #GP(0).
struct ModelSpecificRegisters {
    static let timeStampCounter: UInt32 = 0x10
    static let apicBase: UInt32 = 0x1B

    /// IA32_APIC_BASE: base FEE00000h, global enable, BSP flag per processor (SDM Vol. 3A, 11.4.4).
    var apicBase: UInt64 = 0xFEE0_0000 | 1 << 11
}

extension CPU {
    func readMSR(_ index: UInt32) -> UInt64? {
        switch index {
        case ModelSpecificRegisters.timeStampCounter: timeStampCounter
        case ModelSpecificRegisters.apicBase: msrs.apicBase | (isBootstrapProcessor ? 1 << 8 : 0)
        default: nil
        }
    }

    func writeMSR(_ index: UInt32, _ value: UInt64) -> Bool {
        switch index {
        case ModelSpecificRegisters.timeStampCounter:
            tscOffset = value &- instructionsRetired
            return true
        case ModelSpecificRegisters.apicBase:
            // Reserved bits (above a 36-bit physical address, and 0–7, 9–10) must be zero.
            if value & ~0x0000_000F_FFFF_F900 != 0 { return false }
            msrs.apicBase = value & ~(1 << 8)
            return true
        default:
            return false
        }
    }
}
