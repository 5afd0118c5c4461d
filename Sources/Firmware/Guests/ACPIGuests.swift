import X86Asm

/// The built-in guests that use ACPI as an operating system does (``ACPITableWalk``): find
/// the RSDP by its signature, follow the XSDT (or RSDT) to the FADT, and act on what it and
/// the DSDT say. They start at 0000:7C00 like the other reset guests, switch to flat real
/// mode to reach the tables at the top of RAM, and report through the firmware's INT 10h.
extension ResetGuest {
    /// The register space each `acpi-reset-*` guest is named after: the `--acpi-reset` choice
    /// (`io`, `mmio`, `pci`) its demo row runs with. The three run one program, which writes
    /// RESET_REG wherever the FADT puts it.
    public var acpiResetSpace: String? {
        switch self {
        case .acpiResetIO: "io"
        case .acpiResetMemory: "mmio"
        case .acpiResetPCI: "pci"
        default: nil
        }
    }

    /// How many seconds ahead `s3-resume` sets the RTC alarm (registers 1, 3 and 5: seconds
    /// now + this, any minute, any hour).
    public static let s3AlarmSeconds = 2

    /// Prints the string at `label` (the `print` subroutine), keeping ESI (the FADT).
    private static func emitSay(_ a: inout Assembler, _ label: Label, print: Label) {
        a.push(.esi)
        emitPrint(&a, label, print: print)
        a.pop(.esi)
    }

    /// For each (entry, text): at `entry`, prints `text` and stops.
    private static func emitReports(_ a: inout Assembler, _ reports: [(entry: Label, text: Label)], print: Label, stop: Label) {
        for report in reports {
            a.bind(report.entry)
            emitSay(&a, report.text, print: print)
            a.jmp(stop)
        }
    }

    /// Takes `state`'s SLP_TYP from the DSDT, prints `typeText` and the value, and writes
    /// SLP_TYP | SLP_EN to PM1a_CNT (ESI = the FADT); prints `stillOn` and stops if the board
    /// is still running a moment later.
    private static func emitSleep(_ a: inout Assembler, state: String, typeText: Label, stillOn: Label,
                                  print: Label, printDigit: Label, stop: Label, fail: Label) {
        a.emitSleepTypeLookup(state: state, fail: fail)
        a.push(.ax)
        emitSay(&a, typeText, print: print)
        a.pop(.ax)
        a.push(.ax)
        a.call(printDigit)
        a.pop(.ax)
        a.emitEnterSleepState()
        a.`in`(.al, 0x80)
        emitSay(&a, stillOn, print: print)
        a.jmp(stop)
    }

    /// The program of a guest of this file, or `nil` for the others.
    func acpiProgram() throws -> [UInt8]? {
        switch self {
        case .acpiResetIO, .acpiResetMemory, .acpiResetPCI: try acpiResetProgram()
        case .acpiPowerOff: try acpiPowerOffProgram()
        case .s3Resume: try s3ResumeProgram()
        default: nil
        }
    }

    /// The parts every ACPI guest shares: the prologue, then flat real mode and the walk to the
    /// FADT (ESI) as `body`'s start; the `print`, `printDigit` (AL, then a line end) and checksum
    /// subroutines, the failure report (`fail`, with the step in BP) and the halt (`stop`) after.
    /// A later boot (the firmware's boot counter above 1) goes to `later`, which `body` binds,
    /// unless `sameOnLaterBoots`.
    private func acpiGuest(sameOnLaterBoots: Bool = false, _ body: (inout Assembler, _ print: Label, _ printDigit: Label, _ stop: Label,
                                    _ later: Label, _ fail: Label) -> [(Label, String)]) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: ResetGuest.origin)
        let print = a.newLabel("print"), printDigit = a.newLabel("printDigit"), stop = a.newLabel("stop")
        let later = a.newLabel("later"), fail = a.newLabel("fail"), start = a.newLabel("start")
        let failText = a.newLabel()
        a.jmp(start)
        let sum = a.emitACPIChecksumRoutine()
        a.bind(print)
        ResetGuest.emitTeletype(&a)
        a.ret()
        a.bind(printDigit)
        a.add(.al, 0x30)
        a.mov(.ah, 0x0E)
        a.int(0x10)
        a.mov(.al, 0x0D)
        a.int(0x10)
        a.mov(.al, 0x0A)
        a.int(0x10)
        a.ret()

        a.bind(start)
        ResetGuest.emitPrologue(&a, later: later)
        if sameOnLaterBoots { a.bind(later) }
        a.emitUnrealMode([.ds, .es])
        a.emitFindFADT(sum: sum, fail: fail)
        var strings = body(&a, print, printDigit, stop, later, fail)

        a.bind(fail)
        ResetGuest.emitSay(&a, failText, print: print)
        a.mov(.ax, .bp)
        a.call(printDigit)
        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)
        strings.append((failText, "guest \(rawValue): the ACPI tables are not usable; failed at step "))
        for (label, text) in strings {
            a.bind(label)
            a.ascii(text)
            a.db([0])
        }
        return try a.finish()
    }

    /// Writes RESET_VALUE to RESET_REG in the space the FADT names, saying which first; after
    /// the reset (the boot counter above 1) it reports that it is back. A FADT without
    /// RESET_REG_SUP is reported and the guest halts.
    private func acpiResetProgram() throws -> [UInt8] {
        try acpiGuest { a, print, _, stop, later, _ in
            let noRegister = a.newLabel(), otherSpace = a.newLabel(), announce = a.newLabel()
            let nothing = a.newLabel(), back = a.newLabel(), none = a.newLabel(), unknown = a.newLabel()
            let spaces = [(0, "System Memory"), (1, "System I/O"), (2, "PCI configuration space")].map { ($0.0, $0.1, a.newLabel()) }
            ResetGuest.emitSay(&a, announce, print: print)
            a.test(Mem(.esi, disp: 112, size: .dword), 1 << 10)   // RESET_REG_SUP
            a.jcc(.z, noRegister)
            for (id, _, text) in spaces {
                let other = a.newLabel()
                a.cmp(Mem(.esi, disp: 116, size: .byte), id)
                a.jcc(.ne, other)
                ResetGuest.emitSay(&a, text, print: print)
                a.bind(other)
            }
            a.emitResetRegisterWrite(noRegister: noRegister, otherSpace: otherSpace)
            // A moment's wait, as an OS gives a reset register before trying the next way.
            a.`in`(.al, 0x80)
            ResetGuest.emitSay(&a, nothing, print: print)
            a.jmp(stop)
            ResetGuest.emitReports(&a, [(noRegister, none), (otherSpace, unknown), (later, back)], print: print, stop: stop)
            let prefix = "guest \(rawValue): "
            return [(announce, prefix + "found RSDP, XSDT and FADT by signature\r\n"),
                    (nothing, prefix + "the reset did nothing\r\n"),
                    (back, backLine + "\r\n"),
                    (none, prefix + "the FADT's RESET_REG_SUP flag is clear: no reset register\r\n"),
                    (unknown, prefix + "RESET_REG is in an address space this guest does not handle\r\n")]
                + spaces.map { ($0.2, prefix + "writing RESET_VALUE to RESET_REG in \($0.1)\r\n") }
        }
    }

    /// Reads `\_S5`'s SLP_TYP from the DSDT, enters ACPI mode and writes SLP_TYP | SLP_EN to
    /// PM1a_CNT; the board powers off.
    private func acpiPowerOffProgram() throws -> [UInt8] {
        try acpiGuest(sameOnLaterBoots: true) { a, print, printDigit, stop, _, fail in
            let announce = a.newLabel(), type = a.newLabel(), stillOn = a.newLabel()
            ResetGuest.emitSay(&a, announce, print: print)
            a.emitEnterACPIMode()
            ResetGuest.emitSleep(&a, state: "S5", typeText: type, stillOn: stillOn, print: print, printDigit: printDigit,
                                 stop: stop, fail: fail)
            let prefix = "guest \(rawValue): "
            return [(announce, prefix + "found the FADT; entering ACPI mode\r\n"),
                    (type, prefix + "\\_S5 gives SLP_TYP "),
                    (stillOn, prefix + "still on after SLP_EN\r\n")]
        }
    }

    /// Suspends to RAM and resumes. It keeps PM1a_EVT_BLK in its own memory (RAM survives S3),
    /// writes its resume entry's physical address to the FACS's Firmware_Waking_Vector, sets
    /// the RTC alarm ``s3AlarmSeconds`` ahead with AIE, clears PM1_STS and sets RTC_EN, and
    /// writes `\_S3`'s SLP_TYP | SLP_EN to PM1a_CNT. Woken, the firmware enters the resume
    /// entry in real mode (CS = vector >> 4); it sets COM1 up again (the UART lost power),
    /// reports WAK_STS and the wake source from PM1_STS, and halts. A later boot (the firmware did not resume it) is reported too.
    private func s3ResumeProgram() throws -> [UInt8] {
        try acpiGuest { a, print, printDigit, stop, later, fail in
            let announce = a.newLabel(), type = a.newLabel(), stillOn = a.newLabel(), rebooted = a.newLabel()
            let wakingVector = a.newLabel("wakingVector"), resumed = a.newLabel("resumed"), pm1Event = a.newLabel("pm1Event")
            let byAlarm = a.newLabel(), byButton = a.newLabel(), noWakeStatus = a.newLabel(), noFACS = a.newLabel()
            let reportAlarm = a.newLabel(), reportButton = a.newLabel(), noWake = a.newLabel()
            ResetGuest.emitSay(&a, announce, print: print)
            a.mov(.ax, Mem(.esi, disp: 56, size: .word))          // PM1a_EVT_BLK
            a.mov(Mem(label: pm1Event, size: .word), .ax)
            a.emitEnterACPIMode()
            // The FACS: X_FIRMWARE_CTRL when set, else FIRMWARE_CTRL.
            let haveFACS = a.newLabel()
            a.mov(.edi, Mem(.esi, disp: 132, size: .dword))
            a.test(.edi, .edi)
            a.jcc(.nz, haveFACS)
            a.mov(.edi, Mem(.esi, disp: 36, size: .dword))
            a.bind(haveFACS)
            a.cmp(Mem(.edi, size: .dword), 0x5343_4146)           // "FACS"
            a.jcc(.ne, noFACS)
            a.mov(.eax, wakingVector)
            a.mov(Mem(.edi, disp: 12, size: .dword), .eax)
            // The RTC alarm: seconds now + s3AlarmSeconds (BCD, as the firmware leaves the
            // clock), any minute, any hour; AIE on; register C read to clear AF.
            let idle = a.newLabel()
            a.bind(idle)
            a.outByte(0x70, 0x8A)
            a.`in`(.al, 0x71)
            a.test(.al, 0x80)                                      // UIP
            a.jcc(.nz, idle)
            a.outByte(0x70, 0x80)
            a.`in`(.al, 0x71)
            a.add(.al, ResetGuest.s3AlarmSeconds)
            a.daa()
            let inMinute = a.newLabel()
            a.cmp(.al, 0x60)
            a.jcc(.b, inMinute)
            a.sub(.al, 0x60)
            a.bind(inMinute)
            a.mov(.ah, .al)
            a.outByte(0x70, 0x81)
            a.mov(.al, .ah)
            a.out(0x71, .al)
            for index: UInt8 in [0x83, 0x85] {
                a.outByte(0x70, index)
                a.outByte(0x71, 0xFF)
            }
            a.outByte(0x70, 0x8B)
            a.`in`(.al, 0x71)
            a.or(.al, 0x20)                                        // AIE
            a.mov(.ah, .al)
            a.outByte(0x70, 0x8B)
            a.mov(.al, .ah)
            a.out(0x71, .al)
            a.outByte(0x70, 0x8C)
            a.`in`(.al, 0x71)
            // PM1: clear WAK_STS, RTC_STS and PWRBTN_STS; RTC_EN on.
            a.mov(.dx, Mem(label: pm1Event, size: .word))
            a.mov(.ax, 0x8500)
            a.out(.dx, .ax)
            a.add(.dx, 2)
            a.`in`(.ax, .dx)
            a.or(.ax, 1 << 10)
            a.out(.dx, .ax)
            ResetGuest.emitSleep(&a, state: "S3", typeText: type, stillOn: stillOn, print: print, printDigit: printDigit,
                                 stop: stop, fail: fail)
            a.bind(noFACS)
            a.mov(.bp, ACPITableWalkStep.noFACS.rawValue)
            a.jmp(fail)
            a.bind(later)
            ResetGuest.emitSay(&a, rebooted, print: print)
            a.jmp(stop)

            // The waking vector: the firmware enters here with CS = its address >> 4.
            a.bind(wakingVector)
            a.jmpFar(segment: 0, resumed)
            a.bind(resumed)
            a.cli()
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)
            a.mov(.es, .ax)
            a.mov(.ss, .ax)
            a.mov(.sp, Int(ResetGuest.origin))
            a.emitSerialSetup()                                    // COM1 lost power in S3
            a.mov(.dx, Mem(label: pm1Event, size: .word))
            a.`in`(.ax, .dx)
            a.out(.dx, .ax)                                        // clear what it reports
            a.test(.ax, 1 << 15)                                   // WAK_STS
            a.jcc(.z, noWakeStatus)
            a.test(.ax, 1 << 10)                                   // RTC_STS
            a.jcc(.nz, reportAlarm)
            a.test(.ax, 1 << 8)                                    // PWRBTN_STS
            a.jcc(.nz, reportButton)
            ResetGuest.emitReports(&a, [(noWakeStatus, noWake), (reportAlarm, byAlarm), (reportButton, byButton)],
                                   print: print, stop: stop)
            a.bind(pm1Event)
            a.dw(0)
            let prefix = "guest \(rawValue): "
            let resumedLine = prefix + "resumed from S3 through the FACS waking vector"
            return [(announce, prefix + "setting the FACS waking vector, an RTC alarm and RTC_EN\r\n"),
                    (type, prefix + "suspending: \\_S3 gives SLP_TYP "),
                    (stillOn, prefix + "still running after SLP_EN\r\n"),
                    (rebooted, prefix + "booted again instead of resuming\r\n"),
                    (noWake, resumedLine + ", but WAK_STS is clear\r\n"),
                    (byAlarm, resumedLine + ", woken by the RTC alarm\r\n"),
                    (byButton, resumedLine + ", woken by the power button\r\n")]
        }
    }
}
