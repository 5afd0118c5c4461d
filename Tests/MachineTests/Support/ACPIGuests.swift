import Firmware
import X86Asm

/// Real-mode guests that use ACPI as an operating system does, through the Firmware's table
/// walk (``ACPITableWalkStep``): find the RSDP, follow the XSDT to the FADT, and then act on
/// what the FADT says. They run in flat real mode (the firmware's unreal-mode routine) to
/// reach the tables at the top of RAM, and report on the debug console (E9h): `rsdp fadt `,
/// then what they did; `fail:STEP` when something is missing or wrong.
enum ACPIGuest {
    /// What a guest does once it holds the FADT (ESI = its address).
    enum Action {
        /// Writes RESET_VALUE to RESET_REG in whichever space it names (`no-reset-reg` when the
        /// FADT has none), then reports `no-reset` if it is still running. On a later boot
        /// (the firmware's boot counter above 1) it reports `back` instead and halts.
        case resetRegister
        /// Reads PM_TMR, runs `loopCount` iterations of `dec ecx; jnz` (2 instructions each),
        /// reads it again, and writes both counts to the console as raw little-endian dwords
        /// after `tmr `.
        case timer(loopCount: Int)
        /// Enables ACPI mode through SMI_CMD (waits for SCI_EN), finds `\_S5`'s (or `\_S3`'s)
        /// first package element in the DSDT, writes SLP_TYP | SLP_EN to PM1a_CNT, and reports
        /// `still-on` if it is still running.
        case sleep(state: String)
    }

    static func program(_ action: Action) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let fail = a.newLabel("fail"), halt = a.newLabel("halt"), start = a.newLabel("start")
            a.jmp(start)
            let sum = a.emitACPIChecksumRoutine()
            a.bind(start)
            let sayRoutine = a.newLabel("say")
            var strings: [(Label, String)] = []
            func say(_ text: String) {
                let label = a.newLabel()
                strings.append((label, text))
                a.push(.esi)
                a.mov(.si, label)
                a.call(sayRoutine)
                a.pop(.esi)
            }
            if case .resetRegister = action {
                let first = a.newLabel()
                a.outByte(0x70, 0x80 | ResetVectorROM.bootCounterIndex)
                a.`in`(.al, 0x71)
                a.cmp(.al, 1)
                a.jcc(.e, first)
                say("back")
                a.jmp(halt)
                a.bind(first)
            }

            a.emitUnrealMode([.ds, .es])
            a.emitFindFADT(sum: sum, fail: fail)
            say("rsdp fadt ")

            switch action {
            case .resetRegister:
                let noRegister = a.newLabel(), otherSpace = a.newLabel()
                a.emitResetRegisterWrite(noRegister: noRegister, otherSpace: otherSpace)
                // A moment's wait, as an OS gives a reset register before trying the next way:
                // an MMIO write's reset lands at the end of the CPU's block, a port access ends it.
                a.`in`(.al, 0x80)
                say("no-reset")
                a.jmp(halt)
                a.bind(noRegister)
                say("no-reset-reg")
                a.jmp(halt)
                a.bind(otherSpace)
                a.mov(.bp, 98)
                a.jmp(fail)

            case .timer(let loopCount):
                a.mov(.dx, Mem(.esi, disp: 76, size: .word))          // PM_TMR_BLK
                a.mov(.ecx, loopCount)
                a.`in`(.eax, .dx)
                a.mov(.edi, .eax)
                let spin = a.newLabel()
                a.bind(spin)
                a.dec(.ecx)
                a.jcc(.nz, spin)
                a.`in`(.eax, .dx)                                      // 1 + 2 × loopCount instructions later
                a.mov(.ebx, .eax)
                say("tmr ")
                a.mov(.eax, .edi)
                a.writeBytes(ofEAXTo: UInt8(SmallGuest.debugPort))
                a.mov(.eax, .ebx)
                a.writeBytes(ofEAXTo: UInt8(SmallGuest.debugPort))
                a.jmp(halt)

            case .sleep(let state):
                a.emitEnterACPIMode()
                a.emitSleepTypeLookup(state: state, fail: fail)
                a.emitEnterSleepState()
                say("still-on")
                a.jmp(halt)
            }

            // fail: "fail:" and the step number in BP (0: no RSDP).
            a.bind(fail)
            say("fail:")
            a.mov(.ax, .bp)
            a.add(.al, 0x30)
            a.out(.immediate(UInt8(SmallGuest.debugPort)), .al)
            a.bind(halt)
            a.haltLoop(interruptsEnabled: false)

            // say: the NUL-terminated CS:SI to the debug console (the callers keep ESI); keeps AX, DX.
            a.bind(sayRoutine)
            a.push(.ax)
            a.push(.dx)
            let more = a.newLabel(), done = a.newLabel()
            a.bind(more)
            a.mov(.al, Mem(.si, size: .byte, segment: .cs))
            a.test(.al, .al)
            a.jcc(.z, done)
            a.out(.immediate(UInt8(SmallGuest.debugPort)), .al)
            a.inc(.si)
            a.jmp(more)
            a.bind(done)
            a.pop(.dx)
            a.pop(.ax)
            a.ret()

            for (label, text) in strings {
                a.bind(label)
                a.ascii(text)
                a.db([0])
            }
        }
    }
}
