import X86Asm

/// The code that takes the CPU from reset into the state a differential case starts in, in
/// either of the oracle's modes:
///
/// - **32-bit:** protected mode at CPL 3 with flat 4 GiB user code and data segments (selectors
///   33h and 23h), paging off, entered through an IRETD to the case's code.
/// - **64-bit:** long mode at CPL 3 (user code 2Bh, user data and stack 23h, FS and GS base 0),
///   entered through 4-level page tables that identity-map the first 2 MiB with user access,
///   then an IRETQ to the case's code.
///
/// unicorn runs the same code at CPL 0 on flat memory; the templates use nothing that depends
/// on the privilege level.
///
/// Both set CR4.OSFXSR and CR4.OSXMMEXCPT (SSE enabled), load MXCSR and the XMM registers
/// (8 or 16), EFLAGS' status flags and DF, and the general registers (8 or 16), and both leave
/// an IDT of limit 0, so that an exception in the stream ends in shutdown rather than in a
/// handler. The case's code ends with HLT, which raises #GP at CPL 3: the runner takes the
/// final state at that #GP (`DifferentialRunner`).
///
/// It lives below `reservedEnd`, where no case may put code or data:
///
/// | address | use |
/// | --- | --- |
/// | 0x1000 | real-mode entry (CS = 0): GDT, LIDT/LGDT, CR0.PE, far jump, flat segments, then per mode |
/// | 0x2000 | the case's state, which the entry loads: see `StateBlock` |
/// | 0x3000 | the 64-bit page tables (PML4, PDPT, page directory) |
/// | below 0x8000 | the entry's own stack |
enum DifferentialEntry {
    static let entryAddress: UInt32 = 0x1000
    static let stateAddress = 0x2000
    static let pageTables = 0x3000
    static let stackTop = 0x8000
    /// Cases may use memory from here up.
    static let reservedEnd: UInt64 = 0x8000

    /// Offsets in the state block, the same in both modes (32-bit mode uses the low halves of
    /// the 8-byte slots and the first eight registers).
    enum StateBlock {
        static let flags = 0
        /// RAX … R15 in encoding order, 8 bytes each.
        static let registers = 8
        static let instructionPointer = 8 + 16 * 8
        static let mxcsr = instructionPointer + 8
        /// XMM0 … XMM15, 16 bytes each.
        static let xmm = mxcsr + 8
        static let size = xmm + 16 * 16

        static func register(_ number: Int) -> Int { registers + 8 * number }
    }

    static let codeSelector: UInt16 = 0x08
    static let dataSelector: UInt16 = 0x10
    static let longCodeSelector: UInt16 = 0x18
    static let userDataSelector: UInt16 = 0x20 | 3
    static let userLongCodeSelector: UInt16 = 0x28 | 3
    static let userCodeSelector: UInt16 = 0x30 | 3

    /// The entry code for `mode` (32 or 64), to be placed at `entryAddress` and entered in real
    /// mode at 0000:entryAddress.
    static func code(mode: Int) throws(AssemblerError) -> [UInt8] {
        var a = Assembler(bits: .b16, origin: entryAddress)
        let gdt = a.newLabel(), gdtr = a.newLabel(), idtr = a.newLabel(), start = a.newLabel()
        a.jmp(start)
        a.align(8)
        a.bind(gdt)
        a.segmentDescriptor(base: 0, limit: 0, access: 0, flags: 0)
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)   // 08h: code, 4 GiB, 32-bit
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)   // 10h: data, 4 GiB, B = 1
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xA)   // 18h: 64-bit code, DPL 0
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xF2, flags: 0xC)   // 20h: data, DPL 3
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xFA, flags: 0xA)   // 28h: 64-bit code, DPL 3
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0xFA, flags: 0xC)   // 30h: 32-bit code, DPL 3
        a.bind(gdtr)
        a.dw(7 * 8 - 1)
        a.dd(gdt)
        a.bind(idtr)
        a.dw(0)
        a.dd(0)
        a.bind(start)
        a.cli()
        a.lidt(Mem(label: idtr))
        a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: codeSelector, dataSelector: dataSelector)
        a.mov(.eax, .cr4)
        a.or(.eax, 1 << 9 | 1 << 10)            // OSFXSR, OSXMMEXCPT
        a.mov(.cr4, .eax)
        if mode == 64 {
            enterUserLongMode(&a)
        } else {
            enterUserProtectedMode(&a)
        }
        return try a.finish()
    }

    /// 32-bit mode, CPL 3: user data segments, then an IRETD frame (SS, ESP, EFLAGS, CS, EIP)
    /// from the state block and the other seven registers.
    private static func enterUserProtectedMode(_ a: inout Assembler) {
        a.mov(.ax, Int(userDataSelector))
        for segment in [SegReg.ds, .es, .fs, .gs] { a.mov(segment, .ax) }
        loadSSEState(&a, registers: 8, bits: .b32)
        a.mov(.esp, stackTop)
        a.push(Int(userDataSelector), size: .dword)
        a.push(Mem(disp: stateAddress + StateBlock.register(4), size: .dword))
        a.push(Mem(disp: stateAddress + StateBlock.flags, size: .dword))
        a.push(Int(userCodeSelector), size: .dword)
        a.push(Mem(disp: stateAddress + StateBlock.instructionPointer, size: .dword))
        let registers: [Reg32] = [.eax, .ecx, .edx, .ebx, .esp, .ebp, .esi, .edi]
        for (number, register) in registers.enumerated() where number != 4 {
            a.mov(register, Mem(disp: stateAddress + StateBlock.register(number), size: .dword))
        }
        a.iretd()
    }

    /// 64-bit mode, CPL 3: identity page tables with user access, long mode, user data
    /// segments, then an IRETQ frame (SS, RSP, RFLAGS, CS, RIP) from the state block and the
    /// other fifteen registers.
    private static func enterUserLongMode(_ a: inout Assembler) {
        a.buildIdentityPageTables(at: pageTables, twoMiBPages: 1, userAccessible: true)
        a.enterLongMode(pml4: pageTables, codeSelector: longCodeSelector)
        a.mov(.ax, Int(userDataSelector))
        for segment in [SegReg.ds, .es, .fs, .gs] { a.mov(segment, .ax) }
        loadSSEState(&a, registers: 16, bits: .b64)
        a.mov(.rsp, stackTop)
        a.push(Int(userDataSelector))
        a.push(Mem(disp: stateAddress + StateBlock.register(4), size: .qword))
        a.push(Mem(disp: stateAddress + StateBlock.flags, size: .qword))
        a.push(Int(userLongCodeSelector))
        a.push(Mem(disp: stateAddress + StateBlock.instructionPointer, size: .qword))
        let registers: [Reg64] = [.rax, .rcx, .rdx, .rbx, .rsp, .rbp, .rsi, .rdi, .r8, .r9, .r10, .r11, .r12, .r13, .r14, .r15]
        for (number, register) in registers.enumerated() where number != 4 {
            a.mov(register, Mem(disp: stateAddress + StateBlock.register(number), size: .qword))
        }
        a.iretq()
    }

    /// LDMXCSR and MOVDQU for XMM0 … XMM(`registers` - 1) from the state block, assembled by
    /// hand (the assembler has no SSE): absolute addresses, by SIB in 64-bit code, where the
    /// plain disp32 form is RIP-relative.
    private static func loadSSEState(_ a: inout Assembler, registers: Int, bits: Bits) {
        func absolute(reg: Int, _ address: Int) -> [UInt8] {
            let displacement = (0..<4).map { UInt8(truncatingIfNeeded: address >> (8 * $0)) }
            let reg = UInt8(reg & 7) << 3
            return (bits == .b64 ? [reg | 4, 0x25] : [reg | 5]) + displacement
        }
        a.db([0x0F, 0xAE] + absolute(reg: 2, stateAddress + StateBlock.mxcsr))            // LDMXCSR
        for number in 0..<registers {
            let rex: [UInt8] = number >= 8 ? [0x44] : []                                  // REX.R
            a.db([0xF3] + rex + [0x0F, 0x6F] + absolute(reg: number, stateAddress + StateBlock.xmm + 16 * number))
        }
    }
}
