/// The port operand of `in` and `out`: an 8-bit immediate (`in al, 0x60`) or `dx` (`in al, dx`).
///
/// Integer literals convert to ``immediate(_:)``.
public enum Port: Hashable, Sendable, ExpressibleByIntegerLiteral {
    /// A port number 0–255.
    case immediate(UInt8)
    /// The port number in `dx`.
    case dx

    public init(integerLiteral value: UInt8) {
        self = .immediate(value)
    }
}

extension Assembler {
    /// `in acc, port`: reads `al`, `ax` or `eax` from an I/O port.
    public mutating func `in`<R: GeneralRegister>(_ accumulator: R, _ port: Port) {
        io(0xE4, accumulator, port)
    }

    /// `out port, acc`: writes `al`, `ax` or `eax` to an I/O port.
    public mutating func out<R: GeneralRegister>(_ port: Port, _ accumulator: R) {
        io(0xE6, accumulator, port)
    }

    /// `E4`/`E6 ib` (immediate port) and `EC`/`EE` (port in `dx`), with bit 0 set for words.
    private mutating func io<R: GeneralRegister>(_ opcode: UInt8, _ accumulator: R, _ port: Port) {
        precondition(accumulator.number == 0 && R.size != .qword, "in and out transfer al, ax or eax")
        let opcode = R.size.opcode(opcode)
        switch port {
        case .immediate(let n):
            emit([opcode], size: R.size)
            emit(n)
        case .dx:
            emit([opcode | 8], size: R.size)
        }
    }

    /// `hlt`.
    public mutating func hlt() { emit([0xF4]) }
    /// `nop`.
    public mutating func nop() { emit([0x90]) }
    /// `cli`: clears IF.
    public mutating func cli() { emit([0xFA]) }
    /// `sti`: sets IF.
    public mutating func sti() { emit([0xFB]) }
    /// `cld`: clears DF.
    public mutating func cld() { emit([0xFC]) }
    /// `std`: sets DF.
    public mutating func std() { emit([0xFD]) }
    /// `clc`: clears CF.
    public mutating func clc() { emit([0xF8]) }
    /// `stc`: sets CF.
    public mutating func stc() { emit([0xF9]) }
    /// `cmc`: complements CF.
    public mutating func cmc() { emit([0xF5]) }
    /// `lahf`: loads SF ZF AF PF CF into `ah` (in 64-bit code, on processors with
    /// CPUID.80000001h:ECX.LAHF-SAHF).
    public mutating func lahf() { emit([0x9F]) }
    /// `sahf`: stores `ah` into SF ZF AF PF CF.
    public mutating func sahf() { emit([0x9E]) }
    /// `xlat` (`xlatb`): `al = ds:[bx + al]` (`[ebx + al]`, `[rbx + al]` by the address size).
    public mutating func xlat() { emit([0xD7]) }

    /// The `lock` prefix (`F0`), for the instruction emitted next.
    public mutating func lock() { emit([0xF0]) }

    /// `cpuid`.
    public mutating func cpuid() { emit([0x0F, 0xA2]) }
    /// `rdtsc`: reads the time-stamp counter into `edx:eax`.
    public mutating func rdtsc() { emit([0x0F, 0x31]) }
    /// `rdmsr`: reads MSR `ecx` into `edx:eax`.
    public mutating func rdmsr() { emit([0x0F, 0x32]) }
    /// `wrmsr`: writes `edx:eax` to MSR `ecx`.
    public mutating func wrmsr() { emit([0x0F, 0x30]) }
    /// `wbinvd`: writes back and invalidates the caches.
    public mutating func wbinvd() { emit([0x0F, 0x09]) }
    /// `invd`: invalidates the caches without writing back.
    public mutating func invd() { emit([0x0F, 0x08]) }
    /// `ud2`: the guaranteed invalid opcode.
    public mutating func ud2() { emit([0x0F, 0x0B]) }
    /// `clts`: clears CR0.TS.
    public mutating func clts() { emit([0x0F, 0x06]) }
    /// `rdtscp`: reads the time-stamp counter into `edx:eax` and `IA32_TSC_AUX` into `ecx`.
    public mutating func rdtscp() { emit([0x0F, 0x01, 0xF9]) }
    /// `syscall`: the fast system call through `IA32_LSTAR` (or `IA32_STAR` in legacy mode).
    public mutating func syscall() { emit([0x0F, 0x05]) }
    /// `sysret`: returns from `syscall` to 32-bit code (compatibility mode from 64-bit code).
    public mutating func sysret() { emit([0x0F, 0x07]) }
    /// `sysretq` (nasm's `o64 sysret`): returns from `syscall` to 64-bit code, `REX.W 0F 07`.
    public mutating func sysretq() { emit([0x0F, 0x07], size: .qword) }
    /// `swapgs` (64-bit code): exchanges the GS base with `IA32_KERNEL_GS_BASE`.
    public mutating func swapgs() { if requireLongMode("swapgs") { emit([0x0F, 0x01, 0xF8]) } }
}

// MARK: - Descriptor tables and task state

extension Assembler {
    /// `lgdt [mem]`: loads the GDT register from a 6-byte limit and base (10 bytes in 64-bit
    /// code).
    ///
    /// For these four, a ``Mem/size`` different from the current operand size adds a `0x66`
    /// prefix (nasm's `o32 lgdt`): with a 16-bit operand size only 24 bits of base are used.
    /// In 64-bit code the operand size is fixed and the ``Mem/size`` is ignored.
    public mutating func lgdt(_ src: Mem) { descriptorTable(2, src) }
    /// `lidt [mem]`: loads the IDT register; sized as ``lgdt(_:)``.
    public mutating func lidt(_ src: Mem) { descriptorTable(3, src) }
    /// `sgdt [mem]`: stores the GDT register; sized as ``lgdt(_:)``.
    public mutating func sgdt(_ dst: Mem) { descriptorTable(0, dst) }
    /// `sidt [mem]`: stores the IDT register; sized as ``lgdt(_:)``.
    public mutating func sidt(_ dst: Mem) { descriptorTable(1, dst) }

    private mutating func descriptorTable(_ digit: UInt8, _ operand: Mem) {
        emit([0x0F, 0x01], size: bits == .b64 ? nil : operand.size, reg: digit, rm: .memory(operand.unsized))
    }

    /// `lmsw reg`: loads the machine status word (the low bits of CR0).
    public mutating func lmsw(_ src: Reg16) { emit([0x0F, 0x01], size: nil, reg: 6, rm: RM(src)) }
    /// `lmsw [mem]`.
    public mutating func lmsw(_ src: Mem) { emit([0x0F, 0x01], size: nil, reg: 6, rm: RM(src, size: .word)) }
    /// `smsw reg`: stores the machine status word; a 32-bit register receives all of CR0.
    public mutating func smsw<R: WideRegister>(_ dst: R) { emit([0x0F, 0x01], size: R.size, reg: 4, rm: RM(dst)) }
    /// `smsw [mem]`: stores the machine status word (16 bits).
    public mutating func smsw(_ dst: Mem) { emit([0x0F, 0x01], size: nil, reg: 4, rm: RM(dst, size: .word)) }
    /// `ltr reg`: loads the task register with a selector.
    public mutating func ltr(_ src: Reg16) { emit([0x0F, 0x00], size: nil, reg: 3, rm: RM(src)) }
    /// `ltr [mem]`.
    public mutating func ltr(_ src: Mem) { emit([0x0F, 0x00], size: nil, reg: 3, rm: RM(src, size: .word)) }
    /// `lldt reg`: loads the LDT register with a selector.
    public mutating func lldt(_ src: Reg16) { emit([0x0F, 0x00], size: nil, reg: 2, rm: RM(src)) }
    /// `lldt [mem]`.
    public mutating func lldt(_ src: Mem) { emit([0x0F, 0x00], size: nil, reg: 2, rm: RM(src, size: .word)) }
}
