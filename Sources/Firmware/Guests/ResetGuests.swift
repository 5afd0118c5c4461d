import X86Asm

/// The project's built-in real-mode guests, one per legacy reset path. The firmware loads
/// a guest at 0000:7C00. On its first boot the guest announces itself on the serial port
/// and resets the machine its way; when the firmware's boot counter (CMOS 5Fh) shows it
/// runs again, it reports that it is back and halts with interrupts disabled.
public enum ResetGuest: String, CaseIterable, Sendable {
    case i8042Pulse = "8042-pulse"
    case i8042OutputPort = "8042-output-port"
    case port92 = "port92"
    case cf9Warm = "cf9-warm"
    case cf9Cold = "cf9-cold"
    case tripleFault = "triple-fault"
    case resetVectorJump = "reset-vector-jump"
    case ctrlAltDel = "ctrl-alt-del"
    case protectedTripleFault = "pm-triple-fault"
    case userTripleFault = "ring3-triple-fault"
    case taskGateFault = "task-gate-fault"
    case i8042From286ProtectedMode = "286-8042-reset"
    case longModeTripleFault = "lm-triple-fault"
    case longModeBIOSReboot = "lm-bios-reboot"
    case multiprocessorStartup = "mp-startup"
    case multiprocessorAPReset = "mp-ap-reset"
    case multiprocessorWindowsReboot = "mp-windows-reboot"
    case watchdogBite = "watchdog-bite"
    case panic = "panic"
    case acpiResetIO = "acpi-reset-io"
    case acpiResetMemory = "acpi-reset-mmio"
    case acpiResetPCI = "acpi-reset-pci"
    case acpiPowerOff = "acpi-poweroff"
    case s3Resume = "s3-resume"

    /// What the guest does, for tables and help.
    public var method: String {
        switch self {
        case .i8042Pulse: "8042 command FEh (pulse the reset line)"
        case .i8042OutputPort: "8042 command D1h, output port bit 0 cleared"
        case .port92: "port 92h bit 0 raised (fast reset)"
        case .cf9Warm: "0xCF9 <- 02h then 06h (hard reset)"
        case .cf9Cold: "0xCF9 <- 02h then 0Eh (full reset)"
        case .tripleFault: "LIDT with limit 0, then INT3 (triple fault)"
        case .resetVectorJump: "far jump to F000:FFF0"
        case .ctrlAltDel: "INT 9 handler sees Ctrl-Alt-Del, warm-boots via FFFF:0000"
        case .protectedTripleFault: "UD2 in 32-bit ring 0 with an empty IDT (triple fault)"
        case .userTripleFault: "HLT in ring 3, IDT gates to a missing segment (triple fault)"
        case .taskGateFault: "#UD through a task gate; the handler task faults (triple fault)"
        case .i8042From286ProtectedMode: "16-bit protected mode, CMOS 0Ah, 8042 command FEh (286 BIOS style)"
        case .longModeTripleFault: "UD2 in 64-bit mode with an empty IDT (triple fault)"
        case .longModeBIOSReboot: "64-bit mode back to real mode, far jump to F000:FFF0 (Linux reboot=b)"
        case .multiprocessorStartup: "INIT-SIPI-SIPI wakes every AP, then 0xCF9 <- 06h (hard reset)"
        case .multiprocessorAPReset: "INIT-SIPI-SIPI, then the first AP writes 0xCF9 <- 06h while the BSP waits"
        case .multiprocessorWindowsReboot:
            "NMI IPI to the APs: NMI task gate, stack overflow, #DF task gate to a bad TSS (triple faults); BSP halts"
        case .watchdogBite: "6300ESB watchdog armed, then not fed (cli; hlt); stage 2 resets the board"
        case .panic: "pvpanic port 505h <- 01h (PANICKED); --on-panic decides"
        case .acpiResetIO, .acpiResetMemory, .acpiResetPCI:
            "RSDP -> XSDT -> FADT, RESET_VALUE to RESET_REG (--acpi-reset \(acpiResetSpace!))"
        case .acpiPowerOff: "\\_S5's SLP_TYP from the DSDT, SLP_TYP|SLP_EN to PM1a_CNT (S5)"
        case .s3Resume: "FACS waking vector, RTC alarm and RTC_EN, \\_S3 (suspend to RAM), woken by the alarm"
        }
    }

    /// Whether the guest enters protected mode before it resets the machine.
    public var entersProtectedMode: Bool {
        switch self {
        case .protectedTripleFault, .userTripleFault, .taskGateFault, .i8042From286ProtectedMode, .longModeTripleFault,
             .longModeBIOSReboot, .multiprocessorWindowsReboot: true
        default: false
        }
    }

    /// Set-1 scancodes the user types while the guest waits (Ctrl-Alt-Del makes and breaks).
    public var scancodesToType: [UInt8] {
        self == .ctrlAltDel ? [0x1D, 0x38, 0x53, 0xD3, 0xB8, 0x9D] : []
    }

    static let origin: UInt32 = 0x7C00

    /// The guest's bytes, to be loaded at 0000:7C00.
    public func program() throws -> [UInt8] {
        if let program = try abnormalTerminationProgram() ?? acpiProgram() { return program }
        var a = Assembler(bits: .b16, origin: ResetGuest.origin)
        let print = a.newLabel("print"), secondBoot = a.newLabel("secondBoot"), failed = a.newLabel("failed")
        let emptyIDT = a.newLabel("emptyIDT")

        ResetGuest.emitPrologue(&a, later: secondBoot, clearingInterrupts: false)
        let announce = a.newLabel()
        a.mov(.si, announce)
        a.call(print)
        performReset(&a, print: print, emptyIDT: emptyIDT, secondBoot: secondBoot)
        a.jmp(failed)

        a.bind(secondBoot)
        let back = a.newLabel()
        a.mov(.si, back)
        a.call(print)
        let stop = a.newLabel()
        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)

        a.bind(failed)
        let nothing = a.newLabel()
        a.mov(.si, nothing)
        a.call(print)
        a.jmpShort(stop)

        a.bind(print)
        ResetGuest.emitTeletype(&a)
        a.ret()

        a.bind(announce)
        a.ascii("guest \(rawValue): resetting via \(method)\r\n")
        a.db([0])
        a.bind(back)
        a.ascii("guest \(rawValue): back after the reset\r\n")
        a.db([0])
        a.bind(nothing)
        a.ascii("guest \(rawValue): the reset did nothing\r\n")
        a.db([0])
        // An IDT register image with limit 0 (the triple-fault guest loads it): every vector is past the limit.
        a.bind(emptyIDT)
        a.dw(0)
        a.dd(0)
        return try a.finish()
    }

    /// Writes the NUL-terminated string at DS:SI through the firmware's INT 10h teletype, inline
    /// (the `print` subroutine, and the application processors, which run in another code
    /// segment, use it).
    static func emitTeletype(_ a: inout Assembler) {
        let next = a.newLabel(), done = a.newLabel()
        a.bind(next)
        a.lodsb()
        a.test(.al, .al)
        a.jccShort(.z, done)
        a.mov(.ah, 0x0E)
        a.int(0x10)
        a.jmpShort(next)
        a.bind(done)
    }

    private func performReset(_ a: inout Assembler, print: Label, emptyIDT: Label, secondBoot: Label) {
        switch self {
        case .protectedTripleFault, .userTripleFault, .taskGateFault, .i8042From286ProtectedMode, .longModeTripleFault,
             .longModeBIOSReboot:
            performProtectedModeReset(&a, secondBoot: secondBoot)
            return
        case .i8042Pulse:
            a.waitKeyboardControllerReady()
            a.outByte(0x64, 0xFE)
        case .i8042OutputPort:
            a.waitKeyboardControllerReady()
            a.outByte(0x64, 0xD1)
            a.waitKeyboardControllerReady()
            a.outByte(0x60, 0xFE)         // bit 0 low: reset asserted; bit 1 high: A20 kept on
        case .port92:
            a.in(.al, 0x92)
            a.and(.al, 0xFE)
            a.out(0x92, .al)
            a.or(.al, 0x01)
            a.out(0x92, .al)
        case .cf9Warm, .cf9Cold:
            a.outByte(0xCF9, 0x02)
            a.outByte(0x80, 0x00)         // a short I/O delay, as Linux's udelay(50)
            a.outByte(0xCF9, self == .cf9Warm ? 0x06 : 0x0E)
        case .tripleFault:
            a.lidt(Mem(label: emptyIDT))
            a.int3()
        case .resetVectorJump:
            a.jmpFar(segment: 0xF000, offset: 0xFFF0)
        case .ctrlAltDel:
            emitCtrlAltDelHandler(&a, print: print)
        case .multiprocessorStartup, .multiprocessorAPReset:
            emitMultiprocessorStartup(&a, print: print)
            return
        case .multiprocessorWindowsReboot:
            emitWindowsStyleReboot(&a)
            return
        case .watchdogBite, .panic, .acpiResetIO, .acpiResetMemory, .acpiResetPCI, .acpiPowerOff, .s3Resume:
            return                        // programs of their own (`abnormalTerminationProgram`, `acpiProgram`)
        }
        // Give a reset that takes effect late a moment to arrive.
        a.mov(.cx, 100)
        let wait = a.newLabel()
        a.bind(wait)
        a.outByte(0x80, 0x00)
        a.loop(wait)
    }

    /// Installs an INT 9 handler that tracks Ctrl and Alt and warm-boots on Del
    /// (the BIOS way: flag 1234h at 0040:0072, jump to FFFF:0000), then waits.
    private func emitCtrlAltDelHandler(_ a: inout Assembler, print: Label) {
        let handler = a.newLabel("keyboardHandler"), idle = a.newLabel("idle"), ready = a.newLabel("ready")
        let modifiers = a.newLabel("modifiers")
        a.cli()
        a.mov(.ax, handler)
        a.mov(Mem(disp: 0x09 * 4), .ax)
        a.mov(Mem(disp: 0x09 * 4 + 2, size: .word), 0)
        a.in(.al, 0x21)
        a.and(.al, 0xFD)                  // unmask IRQ 1
        a.out(0x21, .al)
        a.mov(.si, ready)
        a.call(print)
        a.sti()
        a.bind(idle)
        a.hlt()
        a.jmpShort(idle)

        a.bind(handler)
        let notCtrlMake = a.newLabel(), notCtrlBreak = a.newLabel(), notAltMake = a.newLabel()
        let notAltBreak = a.newLabel(), eoi = a.newLabel()
        a.push(.ax)
        a.in(.al, 0x60)
        a.cmp(.al, 0x1D)
        a.jccShort(.ne, notCtrlMake)
        a.or(Mem(label: modifiers, size: .byte), 1)
        a.bind(notCtrlMake)
        a.cmp(.al, 0x9D)
        a.jccShort(.ne, notCtrlBreak)
        a.and(Mem(label: modifiers, size: .byte), 0xFE)
        a.bind(notCtrlBreak)
        a.cmp(.al, 0x38)
        a.jccShort(.ne, notAltMake)
        a.or(Mem(label: modifiers, size: .byte), 2)
        a.bind(notAltMake)
        a.cmp(.al, 0xB8)
        a.jccShort(.ne, notAltBreak)
        a.and(Mem(label: modifiers, size: .byte), 0xFD)
        a.bind(notAltBreak)
        a.cmp(.al, 0x53)
        a.jccShort(.ne, eoi)
        a.cmp(Mem(label: modifiers, size: .byte), 3)
        a.jccShort(.ne, eoi)
        a.mov(Mem(disp: 0x472, size: .word), 0x1234)
        a.jmpFar(segment: 0xFFFF, offset: 0x0000)
        a.bind(eoi)
        a.outByte(0x20, 0x20)
        a.pop(.ax)
        a.iret()

        a.bind(modifiers)
        a.db([0])
        a.bind(ready)
        a.ascii("guest ctrl-alt-del: waiting for Ctrl-Alt-Del\r\n")
        a.db([0])
    }
}
