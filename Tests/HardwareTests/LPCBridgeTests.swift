import Hardware
import Testing

/// The ICH9 LPC bridge's configuration space through mechanism #1: identity, PMBASE and
/// ACPI_CNTL moving the PM block and the SCI, and the PCI reset register; and the memory
/// reset register.
@Suite struct LPCBridgeTests {
    let platform = FakePlatform()
    let pm: ACPIPowerManagement
    let lpc: LPCBridge
    let host = PCIHostBridge()
    let lines = LineRecorder()

    final class LineRecorder {
        var drives: [(Int, Bool?)] = []
    }

    init() {
        pm = ACPIPowerManagement(platform: platform)
        lpc = LPCBridge(platform: platform, powerManagement: pm, resetRegisterOffset: 0x50, resetValue: 0x06)
        let lines = lines
        lpc.driveSCI = { lines.drives.append(($0, $1)) }
        host.registerFunction(bus: 0, device: 0x1F, function: 0, space: lpc.configurationSpace)
        lpc.reset(.full)
    }

    func select(_ offset: Int) { host.writePort(0xCF8, size: 4, value: 0x8000_F800 | UInt32(offset & 0xFC)) }
    func read(_ offset: Int, _ size: Int) -> UInt32 {
        select(offset)
        return host.readPort(0xCFC + UInt16(offset & 3), size: size)
    }
    func write(_ offset: Int, _ size: Int, _ value: UInt32) {
        select(offset)
        host.writePort(0xCFC + UInt16(offset & 3), size: size, value: value)
    }

    @Test func identity() {
        #expect(read(0x00, 4) == 0x2918_8086)
        #expect(read(0x08, 4) == 0x0601_0002)
        #expect(read(0x0E, 1) == 0x00)
        #expect(read(0x04, 2) == 0x0007)
        write(0x00, 4, 0)
        #expect(read(0x00, 4) == 0x2918_8086, "read-only")
    }

    @Test func pmBaseHoldsBits15To7AndReadsTheIOIndicator() {
        #expect(read(0x40, 4) == 1)
        write(0x40, 4, 0xFFFF_FFFF)
        #expect(read(0x40, 4) == 0xFF81)
        write(0x40, 4, 0x0000_0601)
        #expect(read(0x40, 4) == 0x0601)
        #expect(pm.base == nil, "ACPI_EN still clear")
    }

    @Test func acpiEnableDecodesThePMBlockAtPMBASE() {
        write(0x40, 4, 0x0601)
        write(0x44, 1, 0x80)
        #expect(read(0x44, 1) == 0x80)
        #expect(lpc.powerManagementBase == 0x600)
        #expect(pm.base == 0x600)
        write(0x40, 2, 0x1000)
        #expect(pm.base == 0x1000, "moving PMBASE moves the block")
        write(0x44, 1, 0x00)
        #expect(pm.base == nil)
        write(0x44, 1, 0xFF)
        #expect(read(0x44, 1) == 0x87, "ACPI_EN and SCI_IRQ_SEL")
    }

    @Test func sciIRQSelectRoutesTheSCI() {
        #expect(lpc.sciLine == 9)
        #expect(lines.drives.last! == (9, false), "deasserted on IRQ 9 after reset")
        // Enable the block, ACPI mode and the power button's event, then press it.
        write(0x40, 4, 0x0601)
        write(0x44, 1, 0x80)
        pm.writePort(0xB2, size: 1, value: 0x02)
        pm.writePort(0x602, size: 2, value: 0x0100)
        pm.pressPowerButton()
        #expect(lines.drives.last! == (9, true))
        write(0x44, 1, 0x81)                           // IRQ 10
        #expect(lpc.sciLine == 10)
        #expect(lines.drives.suffix(2).map { "\($0.0) \(String(describing: $0.1))" } == ["9 nil", "10 Optional(true)"])
        write(0x44, 1, 0x86)                           // IRQ 22
        #expect(lpc.sciLine == 22)
        write(0x44, 1, 0x83)                           // reserved: unconnected
        #expect(lpc.sciLine == nil)
        #expect(lines.drives.last! == (22, nil))
        pm.writePort(0x600, size: 2, value: 0x0100)    // clear PWRBTN_STS: nothing driven
        #expect(lines.drives.last! == (22, nil))
    }

    @Test func resetRegisterTakesOnlyItsValue() {
        write(0x50, 1, 0x02)
        #expect(platform.resetRequests.isEmpty)
        #expect(platform.events(named: "acpi-reset-ignored").first?["value"] == .number(2))
        write(0x50, 1, 0x06)
        let request = try? #require(platform.resetRequests.first)
        #expect(request?.source == .acpiResetRegister)
        #expect(request?.requestedKind == .hard)
        #expect(request?.space == "pci")
        #expect(request?.address == 0x1F_0000_0050)
        #expect(request?.value == 6)
        #expect(read(0x50, 1) == 0, "write-only")
    }

    @Test func aDwordWriteReachesTheResetRegisterByteInsideIt() {
        write(0x50, 4, 0xAABB_CC06)
        #expect(platform.resetRequests.count == 1)
        write(0x4C, 4, 0x0600_0000)                    // covers 4Ch–4Fh only
        #expect(platform.resetRequests.count == 1)
    }

    @Test func aBrokenResetOutputReachesNoController() {
        var blocked: [ResetRequest] = []
        lpc.resetOutput.isBroken = true
        lpc.resetOutput.onBlocked = { blocked.append($0) }
        write(0x50, 1, 0x06)
        #expect(platform.resetRequests.isEmpty)
        #expect(blocked.count == 1)
    }

    @Test func withoutAResetRegisterOffset50IsPlainConfigurationSpace() {
        let other = LPCBridge(platform: platform, powerManagement: ACPIPowerManagement(platform: platform))
        other.configurationSpace.write(offset: 0x50, size: 1, value: 6)
        #expect(platform.resetRequests.isEmpty)
    }

    @Test func aPlatformResetRestoresThePowerOnRegisters() {
        write(0x40, 4, 0x0601)
        write(0x44, 1, 0x81)
        host.reset(.hard)
        lpc.reset(.hard)
        #expect(read(0x40, 4) == 1)
        #expect(read(0x44, 1) == 0)
        #expect(pm.base == nil)
        #expect(lpc.sciLine == 9)
    }

    @Test func memoryResetRegister() {
        let register = MemoryResetRegister(platform: platform, address: 0xFEDF_0000, resetValue: 0x06)
        #expect(register.memoryRanges == [0xFEDF_0000...0xFEDF_0FFF])
        register.writeMemory(0xFEDF_0001, size: 1, value: 0x06)
        #expect(platform.resetRequests.isEmpty, "only the register's own byte")
        register.writeMemory(0xFEDF_0000, size: 1, value: 0x0E)
        #expect(platform.resetRequests.isEmpty)
        #expect(platform.events(named: "acpi-reset-ignored").first?["space"] == "memory")
        register.writeMemory(0xFEDF_0000, size: 4, value: 0x06)
        #expect(platform.resetRequests.map(\.space) == ["memory"])
        #expect(platform.resetRequests.first?.address == 0xFEDF_0000)
        #expect(register.readMemory(0xFEDF_0000, size: 4) == 0)
    }
}
