import X86Asm

/// The reset paths of protected-mode code: triple faults from ring 0 and from ring 3 through
/// a broken IDT, a fault inside a task-gate handler, a triple fault from 64-bit mode, Linux's
/// `reboot=b` way from 64-bit mode back to the BIOS's reset vector, and the 286 BIOS trick of leaving protected mode through an 8042 reset with CMOS shutdown code 0Ah.
extension ResetGuest {
    /// Selectors of the GDT `emitGlobalDescriptorTable` lays out.
    enum Selector {
        static let code32: UInt16 = 0x08
        static let data32: UInt16 = 0x10
        static let code16: UInt16 = 0x18
        static let data16: UInt16 = 0x20
        static let userCode: UInt16 = 0x28 | 3
        static let userData: UInt16 = 0x30 | 3
        static let mainTask: UInt16 = 0x38
        static let handlerTask: UInt16 = 0x40
        /// A code segment whose descriptor is not present: the broken IDT's gates point at it.
        static let absentCode: UInt16 = 0x48
        /// 64-bit code (L = 1).
        static let longCode: UInt16 = 0x50
    }

    /// Where the long-mode guest builds its PML4, PDPT and page directory (one 2 MiB page maps
    /// the low 2 MiB, guest and tables included).
    static let longModeTables = 0x1_0000

    /// Where the protected-mode guests keep their stacks (below the code at 7C00h).
    static let kernelStackTop: UInt32 = 0x7000
    static let userStackTop: UInt32 = 0x6000
    static let handlerStackTop: UInt32 = 0x6800

    /// The protected-mode part of `performReset`; the 286-style guest resumes at `secondBoot`.
    func performProtectedModeReset(_ a: inout Assembler, secondBoot: Label) {
        let tables = Tables(a: &a)
        if self == .i8042From286ProtectedMode {
            emit286Reset(&a, tables, secondBoot: secondBoot)
            return
        }
        enterFlat32(&a, tables)
        switch self {
        case .protectedTripleFault:
            // UD2 at CPL 0 with an IDT of limit 0: #UD, then #GP for the missing gate, then #DF, then shutdown.
            a.lidt(Mem(label: tables.emptyIDTR))
            a.ud2()
        case .longModeTripleFault:
            enterLongMode(&a)
            // As in 32-bit mode: #UD, #GP for the missing gate, #DF, and shutdown.
            a.lidt(Mem(rip: tables.emptyIDTR))
            a.ud2()
            a.bits(.b32)
        case .longModeBIOSReboot:
            enterLongMode(&a)
            emitBIOSReboot(&a)
        case .userTripleFault:
            // At CPL 3, HLT is #GP; every gate of the IDT points at a code segment that is not
            // present, so #GP becomes #NP, #NP again makes #DF, and #DF's #NP is the triple fault.
            a.lidt(Mem(label: tables.brokenIDTR))
            let ring3 = a.newLabel("ring3")
            a.push(Int(Selector.userData), size: .dword)
            a.push(Int(ResetGuest.userStackTop), size: .dword)
            a.push(0x2, size: .dword)                      // EFLAGS: IF clear
            a.push(Int(Selector.userCode), size: .dword)
            a.mov(.eax, ring3)
            a.push(.eax)
            a.iretd()
            a.bind(ring3)
            a.hlt()
        default:
            // UD2 goes through a task gate to the handler task, which loads a selector beyond the
            // GDT: #GP, whose gate is absent (#NP), escalates to #DF, whose gate is absent too.
            a.lidt(Mem(label: tables.taskIDTR))
            a.ud2()
        }
        tables.emit(&a)
    }

    /// Labels of the guest's descriptor tables; `emit` places them after the code.
    struct Tables {
        let gdtr, gdt, emptyIDTR, brokenIDTR, brokenIDT, taskIDTR, taskIDT, mainTSS, handlerTSS, handlerEntry: Label

        init(a: inout Assembler) {
            gdtr = a.newLabel("gdtr"); gdt = a.newLabel("gdt")
            emptyIDTR = a.newLabel("emptyIDTR")
            brokenIDTR = a.newLabel("brokenIDTR"); brokenIDT = a.newLabel("brokenIDT")
            taskIDTR = a.newLabel("taskIDTR"); taskIDT = a.newLabel("taskIDT")
            mainTSS = a.newLabel("mainTSS"); handlerTSS = a.newLabel("handlerTSS"); handlerEntry = a.newLabel("handlerEntry")
        }

        func emit(_ a: inout Assembler) {
            // The handler task's code: a selector beyond the GDT limit is #GP(selector).
            a.bits(.b32)
            a.bind(handlerEntry)
            a.mov(.ax, 0x1230)
            a.mov(.ds, .ax)
            a.hlt()

            a.align(8)
            a.bind(gdt)
            a.db([UInt8](repeating: 0, count: 8))
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)   // 08h flat code, 32-bit
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)   // 10h flat data
            a.segmentDescriptor(base: 0, limit: 0xFFFF, access: 0x9A, flags: 0)      // 18h 16-bit code, 64 KiB
            a.segmentDescriptor(base: 0, limit: 0xFFFF, access: 0x92, flags: 0)      // 20h 16-bit data, 64 KiB
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xFA, flags: 0xC)   // 28h user code
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xF2, flags: 0xC)   // 30h user data
            // 38h and 40h: available 32-bit TSSs. Their bases are labels below 64 KiB, so the
            // base's low word is the label and the rest zero.
            for tss in [mainTSS, handlerTSS] {
                a.dw(0x67)
                a.dw(tss)
                a.db([0, 0x89, 0, 0])
            }
            a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x1A, flags: 0xC)   // 48h code, not present
            a.longModeCodeDescriptor()                                              // 50h 64-bit code
            a.bind(gdtr)
            a.dw(UInt16(8 * 11 - 1))
            a.dd(gdt)

            a.bind(emptyIDTR)
            a.dw(0)
            a.dq(0)                                        // 10 bytes: LIDT in 64-bit mode reads a 64-bit base
            a.bind(brokenIDTR)
            a.dw(32 * 8 - 1)
            a.dd(brokenIDT)
            a.bind(taskIDTR)
            a.dw(32 * 8 - 1)
            a.dd(taskIDT)
            a.align(8)
            a.bind(brokenIDT)
            for _ in 0..<32 { a.gateDescriptor(selector: Selector.absentCode, type: 0xE) }
            a.bind(taskIDT)
            for vector in 0..<32 {
                if vector == 6 {
                    a.gateDescriptor(selector: Selector.handlerTask, type: 0x5)
                } else {
                    a.gateDescriptor(selector: 0, type: 0xE, present: false)
                }
            }
            // The main task's TSS receives the outgoing state: only its ESP0/SS0 matter.
            a.align(4)
            a.bind(mainTSS)
            a.dd(0)
            a.dd(ResetGuest.kernelStackTop)
            a.dd(UInt32(Selector.data32))
            a.db([UInt8](repeating: 0, count: 0x68 - 12))
            // The handler task starts at `handlerEntry` with flat segments and its own stack.
            a.bind(handlerTSS)
            a.db([UInt8](repeating: 0, count: 0x20))
            a.dd(handlerEntry)                             // EIP
            a.dd(0x2)                                      // EFLAGS
            for register in 0..<8 { a.dd(register == 4 ? ResetGuest.handlerStackTop : 0) }   // EAX … EDI
            for selector in [Selector.data32, Selector.code32, Selector.data32, Selector.data32, Selector.data32, Selector.data32] {
                a.dd(UInt32(selector))                     // ES, CS, SS, DS, FS, GS
            }
            a.dd(0)                                        // LDT
            a.dd(0x68 << 16)                               // T = 0; I/O map base past the limit
            a.bits(.b16)
        }
    }

    /// From flat 32-bit code to 64-bit code, as a 64-bit kernel does: 4-level tables mapping the
    /// first 2 MiB, then the architectural switch (`Assembler.enterLongMode`).
    private func enterLongMode(_ a: inout Assembler) {
        a.buildIdentityPageTables(at: ResetGuest.longModeTables, twoMiBPages: 1)
        a.enterLongMode(pml4: ResetGuest.longModeTables, codeSelector: Selector.longCode)
    }

    /// Linux's `reboot=b` (`machine_real_restart` and its real-mode trampoline): a cold boot
    /// asked for (0040:0072 = 0, CMOS shutdown code 0), a far jump from 64-bit code to 32-bit
    /// compatibility-mode code, CR0.PG off there (which leaves IA-32e mode, SDM Vol. 3A 10.8.5.4),
    /// EFER.LME off, 16-bit segments, CR0.PE off with the caches disabled as Linux does, and a
    /// far jump to the BIOS's reset vector at F000:FFF0. No reset line is touched: the firmware
    /// simply runs again.
    private func emitBIOSReboot(_ a: inout Assembler) {
        let pointer = a.newLabel("compatibilityPointer"), compatibility = a.newLabel("compatibility")
        let pagingOff = a.newLabel("pagingOff"), protected16 = a.newLabel("protected16"), real = a.newLabel("real")
        let noCache = a.newLabel("noCache"), realModeIDTR = a.newLabel("realModeIDTR")
        a.mov(Mem(disp: 0x472, size: .word), 0)
        a.outByte(0x70, 0x8F)                          // CMOS 0Fh with NMI off: a normal POST
        a.outByte(0x71, 0x00)
        a.jmpFar(Mem(rip: pointer, size: .dword))     // m16:32: into compatibility mode
        a.bind(pointer)
        a.dd(compatibility)
        a.dw(Selector.code32)

        a.bits(.b32)
        a.bind(compatibility)
        a.mov(.eax, .cr0)
        a.and(.eax, 0x7FFF_FFFF)
        a.mov(.cr0, .eax)                              // EFER.LMA clears with CR0.PG
        a.jmpFar(segment: Selector.code32, pagingOff, size: .dword)
        a.bind(pagingOff)
        a.xor(.eax, .eax)
        a.xor(.edx, .edx)
        a.mov(.ecx, Int(bitPattern: 0xC000_0080))
        a.wrmsr()                                      // EFER = 0: LME off
        a.lidt(Mem(label: realModeIDTR))
        a.mov(.ecx, Int(Selector.data16))
        for segment in [SegReg.ds, .es, .fs, .gs, .ss] { a.mov(segment, .cx) }
        a.jmpFar(segment: Selector.code16, protected16, size: .word)

        a.bits(.b16)
        a.bind(protected16)
        a.xor(.ecx, .ecx)
        a.mov(.edx, .cr0)
        a.and(.edx, 0x11)                              // PE and ET kept
        a.or(.edx, 0x6000_0000)                        // CD and NW set
        a.mov(.cr0, .edx)
        a.mov(.cr3, .ecx)
        a.mov(.edx, .cr0)
        a.test(.edx, 0x6000_0000)
        a.jccShort(.z, noCache)
        a.wbinvd()
        a.bind(noCache)
        a.and(.dl, 0x10)                               // PE off: real mode, caches still off
        a.mov(.cr0, .edx)
        a.jmpFar(segment: 0, real)
        a.bind(real)
        a.jmpFar(segment: 0xF000, offset: 0xFFF0)
        a.bind(realModeIDTR)
        a.dw(0x3FF)                                    // the interrupt vector table at 0
        a.dd(0)
        a.bits(.b32)
    }

    /// LGDT, CR0.PE, a far jump to 32-bit code, flat data segments, a stack and the main task's TR.
    private func enterFlat32(_ a: inout Assembler, _ tables: Tables) {
        a.cli()
        a.enterProtectedMode(gdtr: Mem(label: tables.gdtr), codeSelector: Selector.code32, dataSelector: Selector.data32)
        a.mov(.esp, Int(ResetGuest.kernelStackTop))
        a.mov(.ax, Int(Selector.mainTask))
        a.ltr(.ax)
    }

    /// As a 286 BIOS's block move did: CMOS shutdown code 0Ah and a resume address at 0040:0067,
    /// LMSW into 16-bit protected mode, then the 8042's reset line. The CPU reset lands in the
    /// firmware, which sees 0Ah and jumps back to the guest in real mode.
    private func emit286Reset(_ a: inout Assembler, _ tables: Tables, secondBoot: Label) {
        let resume = a.newLabel("resume"), protected = a.newLabel("protected16")
        a.cli()
        a.outByte(0x70, 0x8F)
        a.outByte(0x71, 0x0A)
        a.mov(.ax, resume)
        a.mov(Mem(disp: 0x467), .ax)
        a.mov(Mem(disp: 0x469, size: .word), 0)
        a.lgdt(Mem(label: tables.gdtr))
        a.smsw(.ax)
        a.or(.ax, 1)
        a.lmsw(.ax)
        a.jmpFar(segment: Selector.code16, protected)
        a.bind(protected)
        a.mov(.ax, Int(Selector.data16))
        a.mov(.ds, .ax)
        a.waitKeyboardControllerReady()
        a.outByte(0x64, 0xFE)
        let wait = a.newLabel()
        a.bind(wait)
        a.hlt()
        a.jmpShort(wait)

        a.bind(resume)
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.ss, .ax)
        a.mov(.sp, 0x7C00)
        a.jmp(secondBoot)
        tables.emit(&a)
    }
}
