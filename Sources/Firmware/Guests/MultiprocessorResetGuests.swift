import X86Asm

/// The reset paths of a multiprocessor machine. Both guests wake every application processor
/// with the MP specification's universal start-up sequence and let each report on COM1 under
/// a lock. In `mp-startup` the BSP then counts them and resets the machine through 0xCF9; in
/// `mp-ap-reset` the first AP resets it while the BSP spins (the BSP does it itself when no AP
/// starts, on a one-processor machine). Afterwards every processor is back at its start state:
/// the BSP at the reset vector, the others waiting for a start-up IPI.
extension ResetGuest {
    /// Where the application processors start (SIPI vector 08h: 0800:0000) — a page of the
    /// guest's own image, which begins at 7C00h.
    static let startupPage: UInt32 = 0x8000
    /// Words the processors share: the next AP number, and a lock for COM1.
    static let apCounter = 0x0600
    static let printLock = 0x0602

    /// The BSP's part: into unreal mode (DS and ES reach 4 GiB, for the local APIC at
    /// FEE00000h), INIT, 10 ms, SIPI, 200 µs, SIPI to all excluding self, then a wait of
    /// 2 ms for the APs to report, a line with their count, and a hard reset through 0xCF9.
    /// The waits are timed with the local APIC timer (one-shot, a count per nanosecond): the
    /// BSP halts until its interrupt.
    func emitMultiprocessorStartup(_ a: inout Assembler, print: Label) {
        let tables = Tables(a: &a)
        let counted = a.newLabel("counted"), apEntry = a.newLabel("apEntry"), timerHandler = a.newLabel("timerHandler")
        a.cli()
        a.mov(Mem(disp: ResetGuest.apCounter, size: .word), 0)
        a.mov(Mem(disp: ResetGuest.printLock, size: .word), 0)
        enterUnrealMode(&a, tables)
        emitTimerSetUp(&a, handler: timerHandler)
        let icrLow = Mem(disp: 0xFEE0_0300, size: .dword), icrHigh = Mem(disp: 0xFEE0_0310, size: .dword)
        a.mov(icrHigh, 0)
        let vector = Int(ResetGuest.startupPage >> 12)
        for (command, delay) in [(0x000C_4500, 10_000_000), (0x000C_4600 | vector, 200_000), (0x000C_4600 | vector, 2_000_000)] {
            a.mov(icrLow, command)                        // INIT or SIPI, assert, all excluding self
            emitTimerWait(&a, nanoseconds: delay)         // the first AP's reset lands in the last one
        }
        a.mov(.al, Mem(disp: ResetGuest.apCounter, size: .byte))
        a.add(.al, 0x30)                                  // at most nine APs report a digit
        a.mov(Mem(label: counted, size: .byte), .al)
        let line = a.newLabel()
        a.mov(.si, line)
        a.call(print)
        emitHardReset(&a)
        let wait = a.newLabel()
        a.bind(wait)
        a.hlt()
        a.jmpShort(wait)
        a.bind(line)
        a.ascii("guest \(rawValue): ")
        a.bind(counted)
        a.ascii(self == .multiprocessorAPReset ? "0 application processors started; none reset the machine\r\n"
                                                : "0 application processors started\r\n")
        a.db([0])
        emitApplicationProcessorEntry(&a, entry: apEntry)
        tables.emit(&a)
    }

    /// Each AP: take the next number, a stack of its own, the print lock; report; release the
    /// lock; halt with interrupts off. It runs at 0800:0000 with its data addressed through
    /// DS = 0, so it uses no absolute code addresses.
    private func emitApplicationProcessorEntry(_ a: inout Assembler, entry: Label) {
        let message = a.newLabel("apMessage"), digit = a.newLabel("apDigit")
        let acquire = a.newLabel("acquire")
        a.align(0x1000)
        a.bind(entry)                                     // linear 8000h: 0800:0000
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.ss, .ax)
        a.mov(.ax, 1)
        a.lock()
        a.xadd(Mem(disp: ResetGuest.apCounter, size: .word), .ax)
        a.mov(.bx, .ax)                                   // 0-based AP number
        a.shl(.ax, 8)
        a.mov(.sp, 0x7000)
        a.sub(.sp, .ax)                                   // 256 bytes of stack each, below 7000h
        a.bind(acquire)
        a.mov(.al, 1)
        a.xchg(.al, Mem(disp: ResetGuest.printLock, size: .byte))
        a.test(.al, .al)
        a.jccShort(.nz, acquire)
        a.lea(.ax, Mem(.bx, disp: 0x31))                  // its number, from 1
        a.mov(Mem(label: digit, size: .byte), .al)
        a.mov(.si, message)
        ResetGuest.emitTeletype(&a)
        a.mov(Mem(disp: ResetGuest.printLock, size: .byte), 0)
        let park = a.newLabel()
        if self == .multiprocessorAPReset {
            a.test(.bx, .bx)                              // only the first AP resets the machine
            a.jccShort(.nz, park)
            emitHardReset(&a)
        }
        a.bind(park)
        a.hlt()
        a.jmpShort(park)
        a.bind(message)
        a.ascii("guest \(rawValue): application processor ")
        a.bind(digit)
        a.ascii("0 up\r\n")
        a.db([0])
    }

    /// 0xCF9 ← 02h, a short delay, then 06h: a hard reset, as Linux's `reboot=pci` does.
    private func emitHardReset(_ a: inout Assembler) {
        a.outByte(0xCF9, 0x02)
        a.outByte(0x80, 0x00)
        a.outByte(0xCF9, 0x06)
    }

    /// Protected mode for a moment to load DS and ES with flat 4 GiB data descriptors, then
    /// back to real mode, where the descriptor caches keep the 4 GiB limit ("unreal mode").
    private func enterUnrealMode(_ a: inout Assembler, _ tables: Tables) {
        a.lgdt(Mem(label: tables.gdtr))
        a.mov(.eax, .cr0)
        a.or(.al, 1)
        a.mov(.cr0, .eax)
        a.mov(.bx, Int(Selector.data32))
        a.mov(.ds, .bx)
        a.mov(.es, .bx)
        a.and(.al, 0xFE)
        a.mov(.cr0, .eax)
    }

    /// The local APIC timer's vector for the waits.
    static let timerVector = 0x40

    /// The BSP's APIC software-enabled, its timer one-shot at vector `timerVector` dividing by
    /// 1 (a count per nanosecond of virtual time), and `handler` (an EOI) in the IVT. DS is the
    /// unreal-mode segment at 0.
    private func emitTimerSetUp(_ a: inout Assembler, handler: Label) {
        let done = a.newLabel()
        a.mov(Mem(disp: 0xFEE0_00F0, size: .dword), 0x1FF)
        a.mov(Mem(disp: 0xFEE0_03E0, size: .dword), 0xB)
        a.mov(Mem(disp: 0xFEE0_0320, size: .dword), ResetGuest.timerVector)
        a.mov(.ax, handler)
        a.mov(Mem(disp: ResetGuest.timerVector * 4, size: .word), .ax)
        a.mov(Mem(disp: ResetGuest.timerVector * 4 + 2, size: .word), 0)
        a.jmpShort(done)
        a.bind(handler)
        a.mov(Mem(disp: 0xFEE0_00B0, size: .dword), 0)
        a.iret()
        a.bind(done)
    }

    /// Halts until the local APIC timer has counted `nanoseconds`.
    private func emitTimerWait(_ a: inout Assembler, nanoseconds: Int) {
        a.mov(Mem(disp: 0xFEE0_0380, size: .dword), nanoseconds)
        a.sti()
        a.hlt()
        a.cli()
    }
}
