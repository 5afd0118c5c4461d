/// The Fixed ACPI Description Table, signature `FACP`, revision 6 (ACPI 6.5 §5.2.9, Table 5.9):
/// 276 bytes that name the FACS and DSDT, the power-management register blocks, the SCI, the
/// ACPI-mode handshake, the boot architecture flags and the reset register.
enum FADT {
    static let revision: UInt8 = 6
    /// The minor version (offset 131) of ACPI 6.5.
    static let minorVersion: UInt8 = 5
    static let length = 276

    /// Feature flags (offset 112, ACPI 6.5 Table 5.10).
    enum Flag {
        /// WBINVD works (required of every IA-PC).
        static let writeBackInvalidate: UInt32 = 1 << 0
        /// C1 is supported on every processor.
        static let processorC1: UInt32 = 1 << 2
        /// Set: no fixed-feature sleep button.
        static let sleepButtonNotFixed: UInt32 = 1 << 5
        /// RESET_REG holds a reset register.
        static let resetRegisterSupported: UInt32 = 1 << 10
    }

    /// IAPC_BOOT_ARCH (offset 109, ACPI 6.5 Table 5.11): bit 0 legacy devices (the LPC/ISA
    /// devices the DSDT lists), bit 1 an 8042 keyboard controller.
    static let bootArchitecture: UInt16 = 0x0003

    /// The table for `configuration`, naming the FACS and DSDT at those addresses in both the
    /// 32-bit and the 64-bit fields.
    static func table(_ configuration: ACPIConfiguration, facsAddress: UInt32, dsdtAddress: UInt32) -> ACPITable {
        let base = UInt32(configuration.powerManagementBase)
        typealias Block = ACPIPowerManagementBlock
        let pm1Event = base + UInt32(Block.pm1EventOffset), pm1Control = base + UInt32(Block.pm1ControlOffset)
        let timer = base + UInt32(Block.timerOffset), gpe0 = base + UInt32(Block.gpe0Offset)
        let (smiCommand, enable, disable): (UInt16, UInt8, UInt8) = switch configuration.modeControl {
        case .alwaysEnabled: (0, 0, 0)
        case .smiCommand(let port, let enable, let disable): (port, enable, disable)
        }
        let reset = configuration.resetRegister
        var flags = Flag.writeBackInvalidate | Flag.processorC1 | Flag.sleepButtonNotFixed
        if reset.register != nil { flags |= Flag.resetRegisterSupported }

        var body: [UInt8] = []
        body.append(littleEndian: UInt64(facsAddress), size: 4)        // 36 FIRMWARE_CTRL
        body.append(littleEndian: UInt64(dsdtAddress), size: 4)        // 40 DSDT
        body.append(0)                                                 // 44 reserved
        body.append(1)                                                 // 45 Preferred_PM_Profile: desktop
        body.append(littleEndian: UInt64(configuration.sciInterrupt), size: 2)  // 46 SCI_INT
        body.append(littleEndian: UInt64(smiCommand), size: 4)         // 48 SMI_CMD
        body.append(contentsOf: [enable, disable, 0, 0])               // 52 ACPI_ENABLE, ACPI_DISABLE, S4BIOS_REQ, PSTATE_CNT
        for block in [pm1Event, 0, pm1Control, 0, 0, timer, gpe0, 0] { // 56 PM1a/b_EVT, PM1a/b_CNT, PM2_CNT, PM_TMR, GPE0, GPE1
            body.append(littleEndian: UInt64(block), size: 4)
        }
        body.append(contentsOf: [UInt8(Block.pm1EventLength), UInt8(Block.pm1ControlLength), 0,  // 88 PM1_EVT_LEN, PM1_CNT_LEN, PM2_CNT_LEN
                                 UInt8(Block.timerLength), UInt8(Block.gpe0Length), 0, 0, 0])   // 91 PM_TMR_LEN, GPE0/1_BLK_LEN, GPE1_BASE, CST_CNT
        body.append(littleEndian: 101, size: 2)                        // 96 P_LVL2_LAT > 100: no C2
        body.append(littleEndian: 1001, size: 2)                       // 98 P_LVL3_LAT > 1000: no C3
        body.append(contentsOf: [0, 0, 0, 0, 0, 0, 0, 0, configuration.centuryIndex])  // 100 FLUSH_SIZE, FLUSH_STRIDE, DUTY_OFFSET, DUTY_WIDTH, DAY_ALRM, MON_ALRM; 108 CENTURY
        body.append(littleEndian: UInt64(bootArchitecture), size: 2)   // 109 IAPC_BOOT_ARCH
        body.append(0)                                                 // 111 reserved
        body.append(littleEndian: UInt64(flags), size: 4)              // 112 Flags
        body += ACPIGenericAddress.bytes(of: reset.register)           // 116 RESET_REG
        body.append(reset.value)                                       // 128 RESET_VALUE
        body.append(contentsOf: [0, 0, minorVersion])                  // 129 ARM_BOOT_ARCH, 131 FADT Minor Version
        body.append(littleEndian: UInt64(facsAddress), size: 8)        // 132 X_FIRMWARE_CTRL
        body.append(littleEndian: UInt64(dsdtAddress), size: 8)        // 140 X_DSDT
        let io = { (address: UInt32, length: Int, access: ACPIGenericAddress.AccessSize) in
            ACPIGenericAddress(space: .systemIO, bitWidth: UInt8(8 * length), accessSize: access, address: UInt64(address))
        }
        for block in [io(pm1Event, Block.pm1EventLength, .word), nil,   // 148 X_PM1a_EVT_BLK, X_PM1b_EVT_BLK
                      io(pm1Control, Block.pm1ControlLength, .word), nil, nil,  // 172 X_PM1a_CNT_BLK, X_PM1b_CNT_BLK, X_PM2_CNT_BLK
                      io(timer, Block.timerLength, .dword),             // 208 X_PM_TMR_BLK
                      io(gpe0, Block.gpe0Length, .byte), nil,           // 220 X_GPE0_BLK, X_GPE1_BLK
                      nil, nil] {                                       // 244 SLEEP_CONTROL_REG, SLEEP_STATUS_REG
            body += ACPIGenericAddress.bytes(of: block)
        }
        body.append(littleEndian: 0, size: 8)                          // 268 Hypervisor Vendor Identity
        let table = ACPITable(signature: "FACP", revision: revision, body: body)
        assert(table.bytes.count == length)
        return table
    }
}
