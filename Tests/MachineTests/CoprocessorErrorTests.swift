import Firmware
import Machine
import Testing
import X86Asm

/// MS-DOS-style x87 error handling on the whole board (SDM Vol. 1, 8.7.2 and Appendix D):
/// with CR0.NE = 0 an unmasked exception asserts FERR#, the chipset raises IRQ 13 (vector
/// 75h with the firmware's PIC bases), the processor freezes before the next waiting x87
/// instruction until that interrupt, the handler writes port F0h (IGNNE#) and returns, and
/// the FWAIT then runs.
@Suite struct CoprocessorErrorTests {
    static let reportPort: UInt16 = 0xE9

    static func guest() throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let handler = a.newLabel()
            let controlWord = a.newLabel()
            a.mov(.ax, handler)
            a.mov(Mem(disp: 0x75 * 4, size: .word), .ax)
            a.mov(Mem(disp: 0x75 * 4 + 2, size: .word), 0)
            a.mov(.al, 0xDF)                                // unmask IRQ 13 on the slave
            a.out(.immediate(0xA1), .al)
            a.sti()
            a.fninit()
            a.x87(.fldcw, Mem(label: controlWord))
            a.x87(0xD9, 0xE8)                               // fld1
            a.x87(0xD9, 0xEE)                               // fldz
            a.x87(0xDE, 0xF9)                               // fdivp: 1 / 0 with ZE unmasked
            a.fwait()                                       // frozen here until IRQ 13
            a.mov(.al, Int(UInt8(ascii: "W")))
            a.out(.immediate(UInt8(reportPort)), .al)
            a.fnclex()                                      // FERR# and IGNNE# go away
            a.cli()
            a.hlt()
            a.bind(handler)
            a.mov(.al, Int(UInt8(ascii: "H")))
            a.out(.immediate(UInt8(reportPort)), .al)
            a.out(.immediate(0xF0), .al)                    // acknowledge: IGNNE#
            a.mov(.al, 0x20)
            a.out(.immediate(0xA0), .al)
            a.out(.immediate(0x20), .al)
            a.iret()
            a.bind(controlWord)
            a.dw(0x037B)
        }
    }

    @Test func irq13HandlerRunsBeforeTheWaitingInstruction() throws {
        let report = ByteCapture()
        let run = try TestBoard.run(payload: Self.guest()) { configuration in
            configuration.debugConsoles = [(port: Self.reportPort, output: { report.append(contentsOf: $0) })]
        }
        #expect(run.outcome == .allHalted)
        #expect(report.text == "HW")
        #expect(run.records.named("ferr").map { $0.event["asserted"]?.number } == [1, 0])
    }
}
