import X86Asm

/// The built-in guests for the abnormal ends of a run: a watchdog that is not fed and a panic
/// reported to the host. Like the other reset guests they start at 0000:7C00 and tell their
/// first boot from a later one by the firmware's boot counter (CMOS 5Fh).
extension ResetGuest {
    /// The PCI device number of the board's 6300ESB watchdog (bus 0, function 0).
    public static let watchdogPCIDevice: UInt8 = 5
    /// Where `watchdog-bite` puts the watchdog's BAR0: the top page of the PCI memory window,
    /// below the I/O APIC (the firmware assigns no BARs; the guest does, as an OS would).
    public static let watchdogRegisterBase = 0xFEBF_F000
    /// Each of the two stages `watchdog-bite` programs, in 1 kHz ticks (about 9.8 ms each).
    public static let watchdogStageTicks = 10
    /// The pvpanic port `panic` writes.
    public static let panicPort: UInt16 = 0x505

    /// Whether the guest needs the 6300ESB watchdog on the board.
    public var needsWatchdog: Bool { self == .watchdogBite }
    /// Whether the guest needs the pvpanic device on the board.
    public var needsPanicDevice: Bool { self == .panic }

    /// The program of a guest of this file, or `nil` for the others.
    func abnormalTerminationProgram() throws -> [UInt8]? {
        switch self {
        case .watchdogBite: try watchdogBiteProgram()
        case .panic: try panicProgram()
        default: nil
        }
    }

    /// Sets up segments and stack (first masking interrupts when `clearingInterrupts`), and
    /// jumps to `later` when this is not the first boot.
    static func emitPrologue(_ a: inout Assembler, later: Label, clearingInterrupts: Bool = true) {
        if clearingInterrupts { a.cli() }
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.es, .ax)
        a.mov(.ss, .ax)
        a.mov(.sp, 0x7C00)
        a.outByte(0x70, 0x80 | ResetVectorROM.bootCounterIndex)
        a.in(.al, 0x71)
        a.cmp(.al, 2)
        a.jcc(.ae, later)
    }

    /// Prints the string at `label` (the `print` subroutine).
    static func emitPrint(_ a: inout Assembler, _ label: Label, print: Label) {
        a.mov(.si, label)
        a.call(print)
    }

    /// Arms the watchdog as Linux's `i6300esb` driver does (configuration 0003h: 1 kHz, stage 1
    /// without interrupt, WDT_TOUT# enabled; both preloads; a reload; WDT_ENABLE), then stops
    /// feeding it: it halts with interrupts off. Stage 2's expiry resets the board. On the next
    /// boot it reads the reload register: WDT_TIMEOUT (bit 9) set means the watchdog caused
    /// the reset. It clears the bit and halts.
    private func watchdogBiteProgram() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: ResetGuest.origin)
        let print = a.newLabel("print"), later = a.newLabel("later"), stop = a.newLabel("stop")
        let absent = a.newLabel("absent"), assigned = a.newLabel("assigned")
        let announce = a.newLabel(), armed = a.newLabel(), bitten = a.newLabel(), clean = a.newLabel()
        let missing = a.newLabel(), cleanBoot = a.newLabel()
        let base = ResetGuest.watchdogRegisterBase
        let device = Int(ResetGuest.watchdogPCIDevice)

        a.cli()
        a.emitUnrealMode([.fs])
        // On every boot: find the watchdog at 00:05.0, assign BAR0 and enable memory decoding
        // (a platform reset cleared both).
        func selectConfiguration(_ register: Int) {
            a.mov(.eax, 0x8000_0000 | device << 11 | register)
            a.mov(.dx, 0xCF8)
            a.out(.dx, .eax)
            a.mov(.dx, 0xCFC + (register & 3))
        }
        selectConfiguration(0x00)
        a.in(.eax, .dx)
        a.cmp(.eax, 0x25AB_8086)
        a.jcc(.ne, absent)
        selectConfiguration(0x10)
        a.mov(.eax, base)
        a.out(.dx, .eax)
        selectConfiguration(0x04)
        a.mov(.ax, 0x0002)
        a.out(.dx, .ax)
        a.jmp(assigned)
        a.bind(absent)
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        ResetGuest.emitPrint(&a, missing, print: print)
        a.jmp(stop)
        a.bind(assigned)

        ResetGuest.emitPrologue(&a, later: later)
        ResetGuest.emitPrint(&a, announce, print: print)
        func unlock() {
            a.mov(Mem(disp: base + 0x0C, size: .byte, segment: .fs), 0x80)
            a.mov(Mem(disp: base + 0x0C, size: .byte, segment: .fs), 0x86)
        }
        selectConfiguration(0x60)
        a.mov(.ax, 0x0003)
        a.out(.dx, .ax)
        selectConfiguration(0x68)
        a.mov(.al, 0x00)
        a.out(.dx, .al)
        unlock()
        a.mov(Mem(disp: base + 0x00, size: .dword, segment: .fs), ResetGuest.watchdogStageTicks)
        unlock()
        a.mov(Mem(disp: base + 0x04, size: .dword, segment: .fs), ResetGuest.watchdogStageTicks)
        unlock()
        a.mov(Mem(disp: base + 0x0C, size: .word, segment: .fs), 0x0100)
        selectConfiguration(0x68)
        a.mov(.al, 0x02)
        a.out(.dx, .al)
        ResetGuest.emitPrint(&a, armed, print: print)
        a.jmp(stop)

        a.bind(later)
        a.mov(.ax, Mem(disp: base + 0x0C, size: .word, segment: .fs))
        a.test(.ax, 0x0200)
        a.jcc(.z, cleanBoot)
        ResetGuest.emitPrint(&a, bitten, print: print)
        unlock()
        a.mov(Mem(disp: base + 0x0C, size: .word, segment: .fs), 0x0300)
        a.jmp(stop)
        a.bind(cleanBoot)
        ResetGuest.emitPrint(&a, clean, print: print)

        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)

        a.bind(print)
        ResetGuest.emitTeletype(&a)
        a.ret()

        a.bind(announce)
        a.ascii("guest \(rawValue): arming the 6300ESB watchdog at PCI 00:05.0\r\n")
        a.db([0])
        a.bind(armed)
        a.ascii("guest \(rawValue): armed (two stages of \(ResetGuest.watchdogStageTicks) ticks at 1 kHz); not feeding it\r\n")
        a.db([0])
        a.bind(bitten)
        a.ascii("\(backLine); the watchdog's timeout status is set: it reset the machine\r\n")
        a.db([0])
        a.bind(clean)
        a.ascii("\(backLine), but the watchdog's timeout status is clear\r\n")
        a.db([0])
        a.bind(missing)
        a.ascii("guest \(rawValue): no 6300ESB watchdog at PCI 00:05.0 (add --device i6300esb)\r\n")
        a.db([0])
        return try a.finish()
    }

    /// Reads the pvpanic port (the events it supports), reports PANICKED, and waits a moment;
    /// if it still runs (`--on-panic none`) it says so and halts. After a reboot it reports
    /// that it is back.
    private func panicProgram() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: ResetGuest.origin)
        let print = a.newLabel("print"), later = a.newLabel("later"), stop = a.newLabel("stop")
        let absent = a.newLabel("absent")
        let announce = a.newLabel(), survived = a.newLabel(), back = a.newLabel(), missing = a.newLabel()

        ResetGuest.emitPrologue(&a, later: later)
        ResetGuest.emitPrint(&a, announce, print: print)
        a.mov(.dx, Int(ResetGuest.panicPort))
        a.in(.al, .dx)
        a.cmp(.al, 0xFF)
        a.jcc(.e, absent)
        a.test(.al, 0x01)
        a.jcc(.z, absent)
        a.mov(.al, 0x01)                  // PANICKED
        a.out(.dx, .al)
        a.mov(.cx, 100)
        let wait = a.newLabel()
        a.bind(wait)
        a.outByte(0x80, 0x00)
        a.loop(wait)
        ResetGuest.emitPrint(&a, survived, print: print)
        a.jmp(stop)
        a.bind(absent)
        ResetGuest.emitPrint(&a, missing, print: print)
        a.jmp(stop)

        a.bind(later)
        ResetGuest.emitPrint(&a, back, print: print)

        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)

        a.bind(print)
        ResetGuest.emitTeletype(&a)
        a.ret()

        a.bind(announce)
        a.ascii("guest \(rawValue): reporting a panic (PANICKED) through pvpanic port 505h\r\n")
        a.db([0])
        a.bind(survived)
        a.ascii("guest \(rawValue): still running after the panic report\r\n")
        a.db([0])
        a.bind(back)
        a.ascii("\(backLine)\r\n")
        a.db([0])
        a.bind(missing)
        a.ascii("guest \(rawValue): no pvpanic device at port 505h\r\n")
        a.db([0])
        return try a.finish()
    }

    /// The line a guest prints when it runs again after its reset.
    public var backLine: String { "guest \(rawValue): back after the reset" }
}
