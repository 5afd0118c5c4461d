import X86Asm

/// The ROM's local APIC set-up on the bootstrap processor, as PC firmware leaves it for an
/// operating system: the APIC software-enabled, LINT0 in ExtINT mode so the 8259 pair
/// reaches the CPU ("virtual wire", MP specification 1.4, 3.6.2.2) and LINT1 as NMI. After
/// power-on and INIT every LVT entry is masked (SDM Vol. 3A, 11.4.7.1), so without this the
/// 8259's interrupts would reach no processor.
enum LocalAPICSetup {
    /// The local APIC's default page.
    static let base = 0xFEE0_0000
    static let spuriousVector = base + 0x0F0
    static let lint0 = base + 0x350
    static let lint1 = base + 0x360
    /// Software enable (bit 8), spurious vector FFh.
    static let enabledSpuriousVector = 0x1FF
    /// Level-triggered ExtINT, unmasked.
    static let externalInterruptWire = 0x8700
    /// NMI, unmasked.
    static let nonMaskableInterruptWire = 0x0400
}

extension Assembler {
    /// Emits, for 16-bit real-mode code: FS becomes a flat 4 GiB segment (`emitUnrealMode`),
    /// through which the virtual-wire set-up of ``LocalAPICSetup`` is written. EAX is clobbered.
    mutating func emitLocalAPICVirtualWire() {
        emitUnrealMode([.fs])
        for (register, value) in [(LocalAPICSetup.spuriousVector, LocalAPICSetup.enabledSpuriousVector),
                                  (LocalAPICSetup.lint0, LocalAPICSetup.externalInterruptWire),
                                  (LocalAPICSetup.lint1, LocalAPICSetup.nonMaskableInterruptWire)] {
            mov(Mem(disp: register, size: .dword, segment: .fs), value)
        }
    }
}
