/// The LPC (ISA) bridge of an Intel ICH9, PCI function 00:1F.0 (ICH9 datasheet, "LPC Interface
/// Bridge Registers (D31:F0)"): the function whose configuration space places the ACPI
/// power-management block (``ACPIPowerManagement``) and routes its SCI.
///
/// Identity: vendor 8086h, device 2918h (ICH9 LPC interface), revision 02h, class 060100h
/// (bridge, ISA), header type 00h (this board has no other function on device 31). The
/// command register reads 0007h (I/O, memory, bus master; read-only on the ICH).
///
/// Registers this model gives meaning to:
/// - 40h PMBASE (32 bits): bits 15:7 the base of the 128-byte power-management I/O block
///   (read/write), bit 0 reads 1 (I/O space); power-on value 00000001h.
/// - 44h ACPI_CNTL (8 bits): bit 7 ACPI_EN (the block decodes only while set), bits 2:0
///   SCI_IRQ_SEL — 000b IRQ 9, 001b IRQ 10, 010b IRQ 11, 100b–111b IRQ 20–23 (I/O APIC
///   only); 011b is reserved and leaves the SCI unconnected.
/// - optionally, a write-only reset register (``resetRegisterOffset``): a byte write of
///   ``resetValue`` there asks for a hard reset, source `acpi-reset-reg` with space `pci` and
///   the FADT's address encoding; other values do nothing (an `acpi-reset-ignored` event). The
///   ICH has no such register: this board adds it so that an FADT RESET_REG in PCI
///   configuration space has something to name. It reads 0.
///
/// A platform reset returns every register to its power-on value (the PCI host bridge resets
/// the space; ``reset(_:)`` re-applies the decode).
public final class LPCBridge: Device {
    public let name = "lpc"

    public static let device: UInt8 = 0x1F
    public static let function: UInt8 = 0
    public static let vendorID: UInt16 = 0x8086
    public static let deviceID: UInt16 = 0x2918
    public static let pmBaseOffset = 0x40
    public static let acpiControlOffset = 0x44
    /// ACPI_CNTL bit 7.
    public static let acpiEnable: UInt8 = 0x80
    private static let pmBaseMask: UInt32 = 0x0000_FF80

    public let configurationSpace: PCIConfigurationSpace
    public let powerManagement: ACPIPowerManagement
    /// The configuration register that resets the board, if it has one, and the value that does.
    public let resetRegisterOffset: Int?
    public let resetValue: UInt8
    /// The reset register's output; a quirk can break it.
    public let resetOutput = ResetOutput()
    /// Drives an interrupt line of the board with the SCI: the line (an ISA IRQ, which reaches
    /// the 8259 and the I/O APIC, or an I/O APIC input from 16 up) and the SCI's state —
    /// asserted, deasserted, or `nil` when the SCI stops driving the line (routed elsewhere).
    /// The SCI is active low (ACPI 6.5 §5.2.9 SCI_INT; the MADT says so): the board inverts
    /// it for the 8259, which takes an active-high level with its ELCR bit set.
    public var driveSCI: ((_ line: Int, _ asserted: Bool?) -> Void)?

    private unowned let platform: any Platform
    /// The line the SCI is routed to now, if any.
    private(set) public var sciLine: Int?

    public init(platform: any Platform, powerManagement: ACPIPowerManagement, resetRegisterOffset: Int? = nil,
                resetValue: UInt8 = 0x06) {
        precondition(resetRegisterOffset.map { (0x40..<PCIConfigurationSpace.size).contains($0) } ?? true,
                     "the reset register lies in the device-specific part of configuration space")
        self.platform = platform
        self.powerManagement = powerManagement
        self.resetRegisterOffset = resetRegisterOffset
        self.resetValue = resetValue
        let space = PCIConfigurationSpace(vendorID: Self.vendorID, deviceID: Self.deviceID, classCode: 0x06_01_00,
                                          revision: 0x02)
        space.define(offset: 0x04, size: 2, value: 0x0007)
        space.define(offset: 0x06, size: 2, value: 0x0210)
        space.define(offset: Self.pmBaseOffset, size: 4, value: 0x0000_0001, writableMask: Self.pmBaseMask)
        space.define(offset: Self.acpiControlOffset, size: 1, value: 0, writableMask: 0x87)
        configurationSpace = space
        space.onWrite = { [unowned self] offset, size, value in written(offset: offset, size: size, value: value) }
        powerManagement.onSCIChanged = { [unowned self] level in
            if let sciLine { driveSCI?(sciLine, level) }
        }
    }

    /// The I/O base the PM block decodes at, or `nil` while ACPI_EN is clear.
    public var powerManagementBase: UInt16? {
        guard UInt8(configurationSpace.read(offset: Self.acpiControlOffset, size: 1)) & Self.acpiEnable != 0 else { return nil }
        return UInt16(configurationSpace.read(offset: Self.pmBaseOffset, size: 4) & Self.pmBaseMask)
    }

    /// SCI_IRQ_SEL's line.
    private var selectedSCILine: Int? {
        switch configurationSpace.read(offset: Self.acpiControlOffset, size: 1) & 7 {
        case 0: 9
        case 1: 10
        case 2: 11
        case 3: nil
        case let select: 20 + Int(select - 4)
        }
    }

    private func written(offset: Int, size: Int, value: UInt32) {
        apply()
        if let resetRegisterOffset, offset <= resetRegisterOffset, resetRegisterOffset < offset + size {
            let byte = UInt8(truncatingIfNeeded: value >> (8 * UInt32(resetRegisterOffset - offset)))
            let address = UInt64(Self.device) << 32 | UInt64(Self.function) << 16 | UInt64(resetRegisterOffset)
            if byte == resetValue {
                resetOutput.assert(to: platform, ResetRequest(source: .acpiResetRegister, requestedKind: .hard,
                                                              value: UInt32(byte), space: "pci", address: address))
            } else {
                platform.record(TraceEvent("acpi-reset-ignored", [("space", "pci"), ("address", .number(address)),
                                                                  ("value", .number(UInt64(byte)))]))
            }
        }
    }

    /// Brings the PM block's decode and the SCI's routing in line with the registers.
    private func apply() {
        powerManagement.setDecode(base: powerManagementBase)
        let line = selectedSCILine
        guard line != sciLine else { return }
        if let old = sciLine { driveSCI?(old, nil) }
        sciLine = line
        if let line { driveSCI?(line, powerManagement.sciLevel) }
    }

    public func reset(_ kind: ResetKind) {
        guard kind != .initSignal else { return }
        configurationSpace.reset()
        apply()
    }
}
