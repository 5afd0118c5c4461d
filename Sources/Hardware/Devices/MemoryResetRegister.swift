/// A reset register in System Memory space: one byte at `address` that resets the board when
/// `resetValue` is written to it, so that an FADT RESET_REG in System Memory has something to
/// name (ACPI 6.5 §4.8.4.6). Real boards put such registers in their chipset's MMIO; this
/// board decodes the 4 KiB page at `address` (its other bytes read 0 and ignore writes).
///
/// A write of `resetValue` (any access size whose first byte is it) asks for a hard reset,
/// source `acpi-reset-reg`, space `memory`; another value does nothing but an
/// `acpi-reset-ignored` trace event. The register reads 0.
public final class MemoryResetRegister: Device {
    public let name = "mmio-reset"
    public let memoryRanges: [ClosedRange<UInt64>]
    public let address: UInt64
    public let resetValue: UInt8
    /// The register's reset output; a quirk can break it.
    public let resetOutput = ResetOutput()

    private unowned let platform: any Platform

    public init(platform: any Platform, address: UInt64, resetValue: UInt8) {
        self.platform = platform
        self.address = address
        self.resetValue = resetValue
        let page = address & ~0xFFF
        memoryRanges = [page...page + 0xFFF]
    }

    public func readMemory(_ address: UInt64, size: Int) -> UInt64 { 0 }

    public func writeMemory(_ address: UInt64, size: Int, value: UInt64) {
        guard address == self.address else { return }
        let byte = UInt8(truncatingIfNeeded: value)
        if byte == resetValue {
            resetOutput.assert(to: platform, ResetRequest(source: .acpiResetRegister, requestedKind: .hard,
                                                          value: UInt32(byte), space: "memory", address: address))
        } else {
            platform.record(TraceEvent("acpi-reset-ignored", [("space", "memory"), ("address", .number(address)),
                                                              ("value", .number(UInt64(byte)))]))
        }
    }
}
