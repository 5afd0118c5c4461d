import X86Asm

/// The code that takes the CPU from reset into the state a differential case starts in:
/// 32-bit protected mode at CPL 0 with flat 4 GiB code and data segments (selectors 08h and
/// 10h), paging off, an IDT of limit 0 (so an exception in the stream ends in shutdown rather
/// than in a handler), the case's registers and EFLAGS, and a jump to its code.
///
/// It lives below `reservedEnd`, where no case may put code or data:
///
/// | address | use |
/// | --- | --- |
/// | 0x1000 | real-mode entry (CS = 0): GDT, LIDT/LGDT, CR0.PE, far jump, flat segments |
/// | 0x2000 | the case's state, which the entry loads: see `StateBlock` |
enum FlatProtectedModeEntry {
    static let entryAddress: UInt32 = 0x1000
    static let stateAddress: UInt32 = 0x2000
    /// Cases may use memory from here up.
    static let reservedEnd: UInt64 = 0x8000

    /// Offsets in the state block: EFLAGS, then the eight registers in the order POPAD pops
    /// them (its ESP slot is skipped), then ESP and the address of the case's code.
    enum StateBlock {
        static let eflags = 0
        /// Register names by 4-byte slot from `registers`; `nil` is the slot POPAD skips.
        static let popadOrder: [String?] = ["edi", "esi", "ebp", nil, "ebx", "edx", "ecx", "eax"]
        static let registers = 4
        static let stackPointer = 36
        static let codeAddress = 40
    }

    static let codeSelector: UInt16 = 0x08
    static let dataSelector: UInt16 = 0x10

    /// The entry code, to be placed at `entryAddress` and entered in real mode at 0000:entryAddress.
    static func code() throws(AssemblerError) -> [UInt8] {
        var a = Assembler(bits: .b16, origin: entryAddress)
        let gdt = a.newLabel(), gdtr = a.newLabel(), idtr = a.newLabel(), start = a.newLabel()
        a.jmp(start)
        a.align(8)
        a.bind(gdt)
        a.segmentDescriptor(base: 0, limit: 0, access: 0, flags: 0)
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC)   // 08h: code, 4 GiB, 32-bit
        a.segmentDescriptor(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC)   // 10h: data, 4 GiB, B = 1
        a.bind(gdtr)
        a.dw(3 * 8 - 1)
        a.dd(gdt)
        a.bind(idtr)
        a.dw(0)
        a.dd(0)
        a.bind(start)
        a.cli()
        a.lidt(Mem(label: idtr))
        a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: codeSelector, dataSelector: dataSelector)
        a.mov(.esp, Int(stateAddress))
        a.popfd()
        a.popad()
        a.mov(.esp, Mem(disp: Int(stateAddress) + StateBlock.stackPointer, size: .dword))
        a.jmp(Mem(disp: Int(stateAddress) + StateBlock.codeAddress, size: .dword))
        return try a.finish()
    }
}
