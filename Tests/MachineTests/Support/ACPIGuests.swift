import Firmware
import X86Asm

/// Real-mode guests that use ACPI as an operating system does: find the RSDP in the EBDA's
/// first KiB (BDA 40Eh), check its checksums, follow the XSDT to the FADT (checksums again),
/// and then act on what the FADT says. They run in flat real mode (the firmware's unreal-mode
/// routine) to reach the tables at the top of RAM, and report on the debug console (E9h):
/// `rsdp `, `fadt `, then what they did; `fail:STEP` when something is missing or wrong.
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
            let fail = a.newLabel("fail"), sum = a.newLabel("sum"), halt = a.newLabel("halt")
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
            var failStep = 0
            // Jumps to fail with BP = the check's number (1, 2, ...) when `condition` holds.
            func check(_ condition: Condition) {
                failStep += 1
                let ok = a.newLabel()
                a.jcc(condition.negated, ok)
                a.mov(.bp, failStep)
                a.jmp(fail)
                a.bind(ok)
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
            // The RSDP: 16-byte boundaries of the EBDA's first KiB.
            a.movzx(.esi, Mem(disp: 0x40E, size: .word))
            a.shl(.esi, 4)
            a.mov(.ecx, 64)
            let scan = a.newLabel(), next = a.newLabel(), found = a.newLabel()
            a.bind(scan)
            a.cmp(Mem(.esi, size: .dword), 0x2044_5352)           // "RSD "
            a.jcc(.ne, next)
            a.cmp(Mem(.esi, disp: 4, size: .dword), 0x2052_5450)  // "PTR "
            a.jcc(.e, found)
            a.bind(next)
            a.add(.esi, 16)
            a.dec(.ecx)
            a.jcc(.nz, scan)
            a.mov(.bp, 0)
            a.jmp(fail)
            a.bind(found)
            a.mov(.ecx, 20)
            a.call(sum)
            check(.nz)
            a.mov(.ecx, 36)
            a.call(sum)
            check(.nz)
            say("rsdp ")
            // The XSDT, then the FADT among its entries.
            a.mov(.esi, Mem(.esi, disp: 24, size: .dword))
            a.cmp(Mem(.esi, size: .dword), 0x5444_5358)           // "XSDT"
            check(.ne)
            a.mov(.ecx, Mem(.esi, disp: 4, size: .dword))
            a.call(sum)
            check(.nz)
            a.mov(.ecx, Mem(.esi, disp: 4, size: .dword))
            a.sub(.ecx, 36)
            a.shr(.ecx, 3)
            a.lea(.ebx, Mem(.esi, disp: 36))
            let entry = a.newLabel(), fadt = a.newLabel()
            a.bind(entry)
            a.mov(.edi, Mem(.ebx, size: .dword))
            a.cmp(Mem(.edi, size: .dword), 0x5043_4146)           // "FACP"
            a.jcc(.e, fadt)
            a.add(.ebx, 8)
            a.dec(.ecx)
            a.jcc(.nz, entry)
            a.mov(.bp, 99)
            a.jmp(fail)
            a.bind(fadt)
            a.mov(.esi, .edi)
            a.mov(.ecx, Mem(.esi, disp: 4, size: .dword))
            a.call(sum)
            check(.nz)
            say("fadt ")

            switch action {
            case .resetRegister:
                let noRegister = a.newLabel(), io = a.newLabel(), memory = a.newLabel(), pci = a.newLabel()
                let after = a.newLabel()
                a.test(Mem(.esi, disp: 112, size: .dword), 1 << 10)   // RESET_REG_SUP
                a.jcc(.z, noRegister)
                a.mov(.bl, Mem(.esi, disp: 116, size: .byte))         // address space ID
                a.mov(.al, Mem(.esi, disp: 128, size: .byte))         // RESET_VALUE
                a.cmp(.bl, 1)
                a.jcc(.e, io)
                a.cmp(.bl, 0)
                a.jcc(.e, memory)
                a.cmp(.bl, 2)
                a.jcc(.e, pci)
                a.mov(.bp, 98)
                a.jmp(fail)
                a.bind(io)
                a.mov(.dx, Mem(.esi, disp: 120, size: .word))
                a.out(.dx, .al)
                a.jmp(after)
                a.bind(memory)
                a.mov(.edi, Mem(.esi, disp: 120, size: .dword))
                a.mov(Mem(.edi, size: .byte), .al)
                a.jmp(after)
                a.bind(pci)
                // CONFIG_ADDRESS = enable | device << 11 | function << 8 | offset & FCh.
                a.movzx(.eax, Mem(.esi, disp: 124, size: .word))
                a.shl(.eax, 11)
                a.movzx(.edx, Mem(.esi, disp: 122, size: .word))
                a.shl(.edx, 8)
                a.or(.eax, .edx)
                a.movzx(.edx, Mem(.esi, disp: 120, size: .word))
                a.and(.edx, 0xFC)
                a.or(.eax, .edx)
                a.or(.eax, 0x8000_0000)
                a.mov(.dx, 0xCF8)
                a.out(.dx, .eax)
                a.mov(.dx, Mem(.esi, disp: 120, size: .word))
                a.and(.dx, 3)
                a.add(.dx, 0xCFC)
                a.mov(.al, Mem(.esi, disp: 128, size: .byte))
                a.out(.dx, .al)
                a.bind(after)
                // A moment's wait, as an OS gives a reset register before trying the next way:
                // an MMIO write's reset lands at the end of the CPU's block, a port access ends it.
                a.`in`(.al, 0x80)
                say("no-reset")
                a.jmp(halt)
                a.bind(noRegister)
                say("no-reset-reg")
                a.jmp(halt)

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
                // ACPI mode: SMI_CMD ← ACPI_ENABLE, then wait for SCI_EN in PM1a_CNT.
                a.mov(.dx, Mem(.esi, disp: 48, size: .word))
                a.mov(.al, Mem(.esi, disp: 52, size: .byte))
                a.out(.dx, .al)
                a.mov(.dx, Mem(.esi, disp: 64, size: .word))          // PM1a_CNT_BLK
                let waitSCI = a.newLabel()
                a.bind(waitSCI)
                a.`in`(.ax, .dx)
                a.test(.ax, 1)
                a.jcc(.z, waitSCI)
                // \_Sx in the DSDT: "_Sx_", PackageOp, PkgLength, NumElements, first element.
                a.mov(.edi, Mem(.esi, disp: 40, size: .dword))        // DSDT
                a.mov(.ecx, Mem(.edi, disp: 4, size: .dword))
                let name = Array("_\(state)_".utf8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
                let find = a.newLabel(), foundName = a.newLabel()
                a.bind(find)
                a.cmp(Mem(.edi, size: .dword), name)
                a.jcc(.e, foundName)
                a.inc(.edi)
                a.dec(.ecx)
                a.jcc(.nz, find)
                a.mov(.bp, 97)
                a.jmp(fail)
                a.bind(foundName)
                a.cmp(Mem(.edi, disp: 4, size: .byte), 0x12)          // PackageOp
                check(.ne)
                // The first element: ZeroOp (00h), OneOp (01h) or BytePrefix (0Ah) and a byte.
                let byteConstant = a.newLabel(), haveType = a.newLabel()
                a.mov(.al, Mem(.edi, disp: 7, size: .byte))
                a.cmp(.al, 0x0A)
                a.jcc(.e, byteConstant)
                a.cmp(.al, 1)
                check(.a)
                a.jmp(haveType)
                a.bind(byteConstant)
                a.mov(.al, Mem(.edi, disp: 8, size: .byte))
                a.bind(haveType)
                a.movzx(.ax, .al)
                a.shl(.ax, 10)
                a.or(.ax, 1 << 13)                                     // SLP_EN
                a.out(.dx, .ax)
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

            // sum: AL = the sum of ECX bytes at DS:ESI (flat); ZF when it is zero.
            a.bind(sum)
            a.push(.esi)
            a.push(.ecx)
            a.xor(.al, .al)
            let add = a.newLabel()
            a.bind(add)
            a.add(.al, Mem(.esi, size: .byte))
            a.inc(.esi)
            a.dec(.ecx)
            a.jcc(.nz, add)
            a.pop(.ecx)
            a.pop(.esi)
            a.test(.al, .al)
            a.ret()

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
