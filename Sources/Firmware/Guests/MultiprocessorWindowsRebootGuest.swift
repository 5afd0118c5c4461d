import X86Asm

/// `mp-windows-reboot`: the multiprocessor reboot a hypervisor author traced on Windows 7
/// (`seeds/000`): "Task Switch, Triple Fault (for n-1 CPUs) and halt (for the n-th CPU). After
/// this there should be an init on each one and then everything is reset."
///
/// The guest builds what a 32-bit Windows kernel has on every processor — its own GDT with the
/// same selectors everywhere, a TSS for the running task, a TSS for the NMI task, an IDT whose
/// NMI (vector 2) and double-fault (vector 8) entries are task gates — and then:
///
/// 1. The BSP, in 32-bit protected mode, wakes the APs with INIT, SIPI, SIPI. Each AP enters
///    protected mode, loads its own GDT, TR and the shared IDT, reports on COM1 and spins
///    with interrupts off.
/// 2. The BSP sends an NMI IPI to all excluding itself and halts with interrupts off
///    (`cli; hlt`: only an NMI, SMI, INIT or reset can wake it).
/// 3. Each AP takes the NMI through the IDT's task gate: a task switch to its NMI task
///    (SDM Vol. 3A, 7.3; `task-switch` reason `interrupt`, vector 2). The handler reports and
///    then overflows its stack, a 512-byte expand-up segment: the PUSH past offset 0 is
///    #SS(0) (SDM Vol. 3A, 6.15, Interrupt 12).
/// 4. Vector 12 is an ordinary interrupt gate at the same privilege level, so delivering #SS
///    pushes EFLAGS, CS and EIP onto the same exhausted stack: #SS again. #SS is contributory,
///    and a contributory exception while delivering a contributory one is a double fault
///    (SDM Vol. 3A, 6.15, Table 6-5) — the reason a 32-bit kernel routes #DF through a task
///    gate, which brings a fresh stack.
/// 5. Vector 8's task gate names a TSS whose descriptor's limit, 3Fh, is below the 67h a
///    32-bit TSS needs: the task switch fails with #TS(28h) (SDM Vol. 3A, 7.3: the new TSS
///    descriptor must be present with a limit of at least 67h; 6.15, Interrupt 10). An
///    exception while delivering #DF: the processor enters shutdown (SDM Vol. 3A, 6.15,
///    Interrupt 8) and issues a shutdown cycle. It is inside its NMI handler, so no second
///    NMI can take it out of shutdown ("only a hardware reset can restart the processor"):
///    the board's answer to the shutdown cycle does.
/// 6. The board answers each shutdown cycle (`pc`: INIT on every CPU; `qemu`: a platform
///    reset). The BSP starts at the reset vector, the firmware boots the guest again, the APs
///    wait for a start-up IPI, and the guest, seeing the boot counter at 2, reports that it
///    is back and halts.
///
/// Windows's own reason for its APs' triple faults is not in the seed; the chain here is this
/// guest's, and every link of it is architectural. With one processor (no AP starts) the BSP
/// sends the NMI to itself (physical destination, its APIC ID 0) and takes the same path.
extension ResetGuest {
    /// Per-processor structures, at `perProcessorBase + APIC ID * perProcessorSize`: the GDT
    /// (+0), its GDTR image (+40h), the running task's TSS (+80h), the NMI task's TSS (+100h),
    /// the NMI task's stack segment (+200h, 512 bytes) and the running task's stack (up to +800h).
    static let perProcessorBase = 0x2_0000
    static let perProcessorSize = 0x800
    /// Shared words (beside `apCounter` and `printLock`): APs that finished their set-up, and
    /// processors that took the NMI.
    public static let readyCounter = 0x0604
    public static let nmiCounter = 0x0606

    /// Selectors of the per-processor GDT (the same on every processor, as Windows's KGDT_*).
    enum WindowsSelector {
        static let code: UInt16 = 0x08
        static let data: UInt16 = 0x10
        /// The running task's TSS (TR after set-up).
        static let mainTask: UInt16 = 0x18
        /// The NMI task's TSS: IDT vector 2 is a task gate to it.
        static let nmiTask: UInt16 = 0x20
        /// The double-fault task's TSS, unusable: its limit (3Fh) is below 67h.
        static let doubleFaultTask: UInt16 = 0x28
        /// The NMI task's stack: 512 bytes, expand-up, 32-bit (B = 1).
        static let nmiStack: UInt16 = 0x30
        static let gdtSize = 0x38
    }

    /// Offsets in a processor's area.
    private enum Area {
        static let gdt = 0x000, gdtr = 0x040, mainTSS = 0x080, nmiTSS = 0x100, nmiStack = 0x200
        static let nmiStackSize = 0x200
    }

    private struct WindowsTables {
        let gdtTemplate, gdtr, idt, idtr, nmiTSSTemplate, doubleFaultTSS: Label
        let setUp, acquire, release, printString, printDecimal, printChar, nmiHandler, unexpected: Label

        init(_ a: inout Assembler) {
            gdtTemplate = a.newLabel("gdtTemplate"); gdtr = a.newLabel("gdtTemplateR")
            idt = a.newLabel("idt"); idtr = a.newLabel("idtr")
            nmiTSSTemplate = a.newLabel("nmiTSSTemplate"); doubleFaultTSS = a.newLabel("doubleFaultTSS")
            setUp = a.newLabel("setUpProcessor"); acquire = a.newLabel("acquirePrintLock")
            release = a.newLabel("releasePrintLock"); printString = a.newLabel("printString32")
            printDecimal = a.newLabel("printDecimal32"); printChar = a.newLabel("printChar32")
            nmiHandler = a.newLabel("nmiHandler"); unexpected = a.newLabel("unexpected")
        }
    }

    private static let icrLow = Mem(disp: 0xFEE0_0300, size: .dword)
    private static let icrHigh = Mem(disp: 0xFEE0_0310, size: .dword)
    private static let apicID = Mem(disp: 0xFEE0_0020, size: .dword)

    /// The BSP's part, from real mode after the guest's announcement.
    func emitWindowsStyleReboot(_ a: inout Assembler) {
        let t = WindowsTables(&a)
        let apEntry = a.newLabel("apEntry")
        let tag = "guest \(rawValue): "
        a.cli()
        for word in [ResetGuest.apCounter, ResetGuest.printLock, ResetGuest.readyCounter, ResetGuest.nmiCounter] {
            a.mov(Mem(disp: word, size: .word), 0)
        }
        a.enterProtectedMode(gdtr: Mem(label: t.gdtr), codeSelector: WindowsSelector.code, dataSelector: WindowsSelector.data)
        emitEnterOwnArea(&a, t)

        // INIT, SIPI, SIPI to all excluding self, the SIPI vector being the AP entry's page. The
        // MP specification's 10 ms after INIT was written for external APICs; as Linux does on
        // P6-class and later processors (`smp_quirk_init_udelay`), the guest waits only 10 µs
        // there, then the specification's 200 µs between the SIPIs (`mp-startup` keeps the
        // 10 ms). Delays are busy loops: one instruction is one nanosecond of virtual time.
        a.mov(ResetGuest.icrHigh, 0)
        a.mov(ResetGuest.icrLow, 0x000C_4500)
        busyWait32(&a, instructions: 10_000)
        a.mov(.eax, apEntry)
        a.shr(.eax, 12)
        a.or(.eax, 0x000C_4600)
        a.mov(ResetGuest.icrLow, .eax)
        busyWait32(&a, instructions: 200_000)
        a.mov(ResetGuest.icrLow, .eax)
        // Every AP that counted itself in (each had several slices during the 200 µs) has
        // finished its set-up.
        let waitReady = a.newLabel()
        a.bind(waitReady)
        a.mov(.ax, Mem(disp: ResetGuest.readyCounter, size: .word))
        a.cmp(.ax, Mem(disp: ResetGuest.apCounter, size: .word))
        a.jccShort(.ne, waitReady)

        // NMI to all excluding self, or with no AP to the BSP itself (the "self" shorthand is
        // valid for fixed interrupts only: SDM Vol. 3A, 11.6.1).
        let bspLine = a.newLabel(), toOthersLine = a.newLabel(), toSelfLine = a.newLabel()
        let others = a.newLabel(), stop = a.newLabel()
        a.call(t.acquire)
        a.mov(.esi, bspLine)
        a.call(t.printString)
        a.movzx(.eax, Mem(disp: ResetGuest.apCounter, size: .word))
        a.call(t.printDecimal)
        a.mov(.esi, toOthersLine)
        a.mov(.edx, 0x000C_4400)                          // NMI, assert, all excluding self
        a.test(.eax, .eax)
        a.jccShort(.nz, others)
        a.mov(.esi, toSelfLine)
        a.mov(.edx, 0x0000_4400)                          // NMI, assert, physical destination 0
        a.bind(others)
        a.call(t.printString)
        a.call(t.release)
        a.mov(ResetGuest.icrLow, .edx)
        // The n-th processor of the seed: it halts with interrupts off and waits for the INIT.
        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)

        a.bind(bspLine)
        a.ascii(tag + "BSP: application processors ready: ")
        a.db([0])
        a.bind(toOthersLine)
        a.ascii("; NMI to all excluding self, then CLI and HLT\r\n")
        a.db([0])
        a.bind(toSelfLine)
        a.ascii("; NMI to itself (no AP to send it to)\r\n")
        a.db([0])

        a.bits(.b16)
        emitWindowsStyleApplicationProcessor(&a, t, entry: apEntry, tag: tag)
        emitWindowsStyleRoutines(&a, t, tag: tag)
        emitWindowsStyleTables(&a, t)
        a.bits(.b16)
    }

    /// EBP ← this processor's APIC ID, EBX ← its area, ESP ← the top of its area, then the
    /// set-up of its GDT, TR and IDT (32-bit code).
    private func emitEnterOwnArea(_ a: inout Assembler, _ t: WindowsTables) {
        a.mov(.eax, ResetGuest.apicID)
        a.shr(.eax, 24)
        a.mov(.ebp, .eax)
        a.shl(.eax, 11)
        a.add(.eax, ResetGuest.perProcessorBase)
        a.mov(.ebx, .eax)
        a.lea(.esp, Mem(.ebx, disp: ResetGuest.perProcessorSize))
        a.call(t.setUp)
    }

    /// Each AP, from its start-up page in real mode: count itself in, protected mode, its own
    /// GDT, TR and the IDT, a line on COM1, then a spin with interrupts off.
    private func emitWindowsStyleApplicationProcessor(_ a: inout Assembler, _ t: WindowsTables, entry: Label, tag: String) {
        a.align(0x1000)
        a.bind(entry)
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.lock()
        a.inc(Mem(disp: ResetGuest.apCounter, size: .word))
        // Absolute labels are linear addresses: DS = 0 in real mode, flat segments after.
        a.enterProtectedMode(gdtr: Mem(label: t.gdtr), codeSelector: WindowsSelector.code, dataSelector: WindowsSelector.data)
        emitEnterOwnArea(&a, t)
        let line = a.newLabel(), lineEnd = a.newLabel()
        a.call(t.acquire)
        a.mov(.esi, line)
        a.call(t.printString)
        a.mov(.eax, .ebp)
        a.call(t.printDecimal)
        a.mov(.esi, lineEnd)
        a.call(t.printString)
        a.call(t.release)
        a.lock()
        a.inc(Mem(disp: ResetGuest.readyCounter, size: .word))
        let spin = a.newLabel()
        a.bind(spin)
        a.jmpShort(spin)
        a.bind(line)
        a.ascii(tag + "CPU ")
        a.db([0])
        a.bind(lineEnd)
        a.ascii(" in protected mode, TR 18h, NMI task gate ready; spinning with interrupts off\r\n")
        a.db([0])
    }

    /// The shared 32-bit routines and the NMI handler.
    private func emitWindowsStyleRoutines(_ a: inout Assembler, _ t: WindowsTables, tag: String) {
        a.bits(.b32)

        // setUpProcessor (EBX = this processor's area): copy the GDT template, point its TSS
        // and NMI-stack descriptors into the area, an empty running-task TSS, the NMI task's
        // TSS from its template; LGDT, reload CS and the data segments, LTR, LIDT.
        a.bind(t.setUp)
        a.cld()
        a.mov(.esi, t.gdtTemplate)
        a.mov(.edi, .ebx)
        a.mov(.ecx, WindowsSelector.gdtSize / 4)
        a.movsd(.rep)
        for (selector, offset) in [(WindowsSelector.mainTask, Area.mainTSS), (WindowsSelector.nmiTask, Area.nmiTSS),
                                   (WindowsSelector.nmiStack, Area.nmiStack)] {
            // Base bits 15:0 at +2, 23:16 at +4 (the areas lie below 16 MiB: bits 31:24 stay 0).
            a.lea(.eax, Mem(.ebx, disp: offset))
            a.mov(Mem(.ebx, disp: Int(selector) + 2), .ax)
            a.shr(.eax, 16)
            a.mov(Mem(.ebx, disp: Int(selector) + 4), .al)
        }
        a.lea(.edi, Mem(.ebx, disp: Area.mainTSS))
        a.xor(.eax, .eax)
        a.mov(.ecx, 0x68 / 4)
        a.stosd(.rep)
        a.mov(.esi, t.nmiTSSTemplate)
        a.lea(.edi, Mem(.ebx, disp: Area.nmiTSS))
        a.mov(.ecx, 0x68 / 4)
        a.movsd(.rep)
        a.mov(Mem(.ebx, disp: Area.gdtr, size: .word), WindowsSelector.gdtSize - 1)
        a.mov(Mem(.ebx, disp: Area.gdtr + 2), .ebx)
        a.lgdt(Mem(.ebx, disp: Area.gdtr))
        let reloaded = a.newLabel()
        a.jmpFar(segment: WindowsSelector.code, reloaded, size: .dword)
        a.bind(reloaded)
        a.mov(.ax, Int(WindowsSelector.data))
        for segment in [SegReg.ds, .es, .fs, .gs, .ss] { a.mov(segment, .ax) }
        a.mov(.ax, Int(WindowsSelector.mainTask))
        a.ltr(.ax)
        a.lidt(Mem(label: t.idtr))
        a.ret()

        // COM1 under a lock shared by the processors (AL, EDX, ESI preserved as noted).
        a.bind(t.acquire)
        a.push(.eax)
        let retry = a.newLabel()
        a.bind(retry)
        a.mov(.al, 1)
        a.xchg(.al, Mem(disp: ResetGuest.printLock, size: .byte))
        a.test(.al, .al)
        a.jccShort(.nz, retry)
        a.pop(.eax)
        a.ret()
        a.bind(t.release)
        a.mov(Mem(disp: ResetGuest.printLock, size: .byte), 0)
        a.ret()

        // printChar: AL → COM1 once the transmitter holding register is empty.
        a.bind(t.printChar)
        a.push(.edx)
        a.push(.eax)
        a.mov(.dx, Int(ResetVectorROM.serialPort) + 5)
        let waitEmpty = a.newLabel()
        a.bind(waitEmpty)
        a.in(.al, .dx)
        a.test(.al, 0x20)
        a.jccShort(.z, waitEmpty)
        a.pop(.eax)
        a.mov(.dx, Int(ResetVectorROM.serialPort))
        a.out(.dx, .al)
        a.pop(.edx)
        a.ret()

        // printString: the NUL-terminated string at ESI.
        a.bind(t.printString)
        let next = a.newLabel(), done = a.newLabel()
        a.bind(next)
        a.lodsb()
        a.test(.al, .al)
        a.jccShort(.z, done)
        a.call(t.printChar)
        a.jmpShort(next)
        a.bind(done)
        a.ret()

        // printDecimal: AL (0–99) in decimal.
        a.bind(t.printDecimal)
        let ones = a.newLabel()
        a.push(.eax)
        a.aam()
        a.test(.ah, .ah)
        a.jccShort(.z, ones)
        a.push(.eax)
        a.mov(.al, .ah)
        a.add(.al, 0x30)
        a.call(t.printChar)
        a.pop(.eax)
        a.bind(ones)
        a.add(.al, 0x30)
        a.call(t.printChar)
        a.pop(.eax)
        a.ret()

        // The NMI task (TR = 20h, SS = the 512-byte NMI stack, ESP = 200h): report, count, then
        // overflow the stack. Each CALL pushes 4 bytes; after 128 of them ESP is 0 and the next
        // push (to FFFFFFFCh, past the limit 1FFh) is #SS(0). Delivering #SS through vector 12's
        // interrupt gate pushes onto the same stack: #SS again, so #DF (Table 6-5); vector 8's
        // task gate names the TSS at 28h, whose limit 3Fh is below 67h: #TS(28h) while
        // delivering #DF, and the processor shuts down.
        a.bind(t.nmiHandler)
        let nmiLine = a.newLabel(), nmiLineEnd = a.newLabel(), overflow = a.newLabel()
        a.mov(.ebp, ResetGuest.apicID)
        a.shr(.ebp, 24)
        a.call(t.acquire)
        a.mov(.esi, nmiLine)
        a.call(t.printString)
        a.mov(.eax, .ebp)
        a.call(t.printDecimal)
        a.mov(.esi, nmiLineEnd)
        a.call(t.printString)
        a.call(t.release)
        a.lock()
        a.inc(Mem(disp: ResetGuest.nmiCounter, size: .word))
        a.bind(overflow)
        a.call(overflow)

        // Any other exception: stop here (nothing else is expected to reach a handler).
        a.bind(t.unexpected)
        a.cli()
        a.hlt()
        a.jmpShort(t.unexpected)

        a.bind(nmiLine)
        a.ascii(tag + "CPU ")
        a.db([0])
        a.bind(nmiLineEnd)
        a.ascii(" took the NMI in its NMI task (TR 20h); the handler overflows its stack\r\n")
        a.db([0])
    }

    /// The GDT template, the IDT, the NMI task's TSS template and the #DF task's TSS.
    private func emitWindowsStyleTables(_ a: inout Assembler, _ t: WindowsTables) {
        a.align(8)
        a.bind(t.gdtTemplate)
        a.db([UInt8](repeating: 0, count: 8))
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)   // 08h flat code, 32-bit
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)   // 10h flat data
        a.segmentDescriptor(base: 0, limit: 0x67, access: 0x89, flags: 0)        // 18h running task (base: area)
        a.segmentDescriptor(base: 0, limit: 0x67, access: 0x89, flags: 0)        // 20h NMI task (base: area)
        // 28h: the double-fault task. Its TSS is below 64 KiB, so the base's low word is the
        // label and the rest zero; the limit, 3Fh, is too small for a 32-bit TSS.
        a.dw(0x3F)
        a.dw(t.doubleFaultTSS)
        a.db([0, 0x89, 0, 0])
        a.segmentDescriptor(base: 0, limit: UInt32(Area.nmiStackSize - 1), access: 0x92, flags: 0x4)  // 30h NMI stack
        a.bind(t.gdtr)
        a.dw(UInt16(WindowsSelector.gdtSize - 1))
        a.dd(t.gdtTemplate)

        // Vector 2: task gate to the NMI task; vector 8: task gate to the double-fault task;
        // every other exception: a 32-bit interrupt gate to `unexpected`.
        a.align(8)
        a.bind(t.idt)
        for vector in 0..<32 {
            switch vector {
            case 2: a.gateDescriptor(selector: WindowsSelector.nmiTask, type: 0x5)
            case 8: a.gateDescriptor(selector: WindowsSelector.doubleFaultTask, type: 0x5)
            default:
                a.dw(t.unexpected)                    // offset 15:0 (the guest lies below 64 KiB)
                a.dw(WindowsSelector.code)
                a.db([0, 0x8E])
                a.dw(0)
            }
        }
        a.bind(t.idtr)
        a.dw(32 * 8 - 1)
        a.dd(t.idt)

        // The NMI task starts at the handler with flat data, the 512-byte stack segment and
        // ESP at its top; interrupts off.
        a.align(4)
        a.bind(t.nmiTSSTemplate)
        a.db([UInt8](repeating: 0, count: 0x20))
        a.dd(t.nmiHandler)                            // EIP
        a.dd(0x2)                                     // EFLAGS
        for register in 0..<8 { a.dd(register == 4 ? UInt32(Area.nmiStackSize) : 0) }   // EAX … EDI
        for selector in [WindowsSelector.data, WindowsSelector.code, WindowsSelector.nmiStack,
                         WindowsSelector.data, WindowsSelector.data, WindowsSelector.data] {
            a.dd(UInt32(selector))                    // ES, CS, SS, DS, FS, GS
        }
        a.dd(0)                                       // LDT
        a.dd(0x68 << 16)                              // T = 0; I/O map base past the limit
        // The double-fault task's TSS: present in memory, never reached (its descriptor is too short).
        a.bind(t.doubleFaultTSS)
        a.db([UInt8](repeating: 0, count: 0x68))
    }

    /// About `instructions` instructions of DEC ECX / JNZ (32-bit code).
    private func busyWait32(_ a: inout Assembler, instructions: Int) {
        let loop = a.newLabel()
        a.mov(.ecx, instructions / 2)
        a.bind(loop)
        a.dec(.ecx)
        a.jccShort(.nz, loop)
    }
}
