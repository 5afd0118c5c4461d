import Firmware
import Hardware
@testable import Machine
import Testing
import X86Asm

/// The SCI on a whole machine: the power button's event, enabled in PM1_EN with ACPI mode on,
/// reaches the CPU as a level interrupt on IRQ 9 through the 8259 (ELCR level, as the ROM left
/// it) or through I/O APIC pin 9 programmed as the MADT says (level, active low). The handler
/// clears PWRBTN_STS; had it not, the level would stay and interrupt again.
@Suite struct ACPIInterruptTests {
    enum Path: String, CaseIterable { case pic, ioapic }

    static let ioapicVector = 0x60

    static func guest(_ path: Path) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let handler = a.newLabel("sci"), wait = a.newLabel("wait")
            let vector = path == .pic ? 0x71 : ioapicVector
            a.mov(.ax, handler)
            a.mov(Mem(disp: vector * 4, size: .word), .ax)
            a.mov(Mem(disp: vector * 4 + 2, size: .word), 0)
            switch path {
            case .pic:
                a.outByte(0xA1, 0xFD)                   // slave: IR1 (IRQ 9) unmasked
            case .ioapic:
                a.outByte(0x21, 0xFF)                   // the 8259 pair masked
                a.outByte(0xA1, 0xFF)
                a.emitUnrealMode([.ds])
                a.mov(.edi, 0xFEC0_0000)
                a.mov(Mem(.edi, size: .dword), 0x10 + 2 * 9 + 1)
                a.mov(Mem(.edi, disp: 0x10, size: .dword), 0)          // destination APIC 0
                a.mov(Mem(.edi, size: .dword), 0x10 + 2 * 9)
                a.mov(Mem(.edi, disp: 0x10, size: .dword), 1 << 15 | 1 << 13 | ioapicVector)  // level, active low
            }
            a.outByte(0xB2, 0x02)                       // ACPI_ENABLE
            a.mov(.dx, 0x602)
            a.mov(.ax, 0x0100)                          // PWRBTN_EN
            a.out(.dx, .ax)
            a.sti()
            a.hlt()
            a.outByte(SmallGuest.debugPort, UInt8(ascii: "W"))
            a.bind(wait)
            a.cli()
            a.hlt()
            a.jmp(wait)

            a.bind(handler)
            a.push(.ax)
            a.push(.dx)
            a.outByte(SmallGuest.debugPort, UInt8(ascii: path == .pic ? "S" : "A"))
            a.mov(.dx, 0x600)
            a.mov(.ax, 0x0100)                          // clear PWRBTN_STS
            a.out(.dx, .ax)
            switch path {
            case .pic:
                a.outByte(0xA0, 0x20)
                a.outByte(0x20, 0x20)
            case .ioapic:
                a.mov(Mem(disp: 0xFEE0_00B0, size: .dword), 0)          // local APIC EOI
            }
            a.pop(.dx)
            a.pop(.ax)
            a.iret()
        }
    }

    @Test(arguments: Path.allCases)
    func thePowerButtonInterruptsThroughTheSCI(path: Path) throws {
        let console = ByteCapture()
        var pressed = 0
        let run = try TestBoard.run(payload: try Self.guest(path)) { configuration in
            configuration.attachDebugConsole(console)
        } prepare: { machine in
            machine.onHalt = { machine, cpu in
                if pressed == 0, machine.cpus[cpu].eflags & (1 << 9) != 0 {
                    pressed += 1
                    machine.pressPowerButton()
                }
            }
        }
        #expect(run.outcome == .allHalted)
        #expect(pressed == 1)
        #expect(console.text == (path == .pic ? "SW" : "AW"), "\(run.records.suffix(20).map(\.line))")
        #expect(!run.machine.devices.powerManagement.sciLevel)
    }

    /// Until the OS turns ACPI mode on, the event only sets its status bit.
    @Test func withoutACPIModeThePowerButtonRaisesNoSCI() throws {
        let run = try TestBoard.run(payload: try SmallGuest.haltForever(interruptsEnabled: false))
        run.machine.devices.powerManagement.writePort(0x602, size: 2, value: 0x0100)
        run.machine.pressPowerButton()
        #expect(!run.machine.devices.powerManagement.sciLevel)
        #expect(run.machine.devices.powerManagement.readPort(0x600, size: 2) & 0x0100 != 0)
    }
}
