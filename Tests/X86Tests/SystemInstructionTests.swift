import Testing
import X86
import X86Asm

/// System instructions at CPL 0 in real mode (SDM Vol. 2: MOV CRn, MOV DRn, LMSW, SMSW,
/// LGDT/LIDT/SGDT/SIDT, RDTSC, RDMSR/WRMSR, CLTS, INVD/WBINVD).
@Suite struct SystemInstructionTests {
    private let data = TestMachine.data

    /// `mov drN, eax` / `mov eax, drN` (X86Asm has no spelling for debug registers).
    private func movToDR(_ n: UInt8) -> [UInt8] { [0x0F, 0x23, 0xC0 | n << 3] }
    private func movFromDR(_ n: UInt8) -> [UInt8] { [0x0F, 0x21, 0xC0 | n << 3] }

    // MARK: Control registers

    @Test func cr0ReservedBitsAreIgnoredAndETIsHardwired() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0x6000_0000 | 1 << 20 | 1 << 7)    // ET = 0, two reserved bits set
            a.mov(.cr0, .eax)
            a.mov(.ebx, .cr0)
        }
        #expect(m.r32(.rbx) == 0x6000_0010)
        #expect(m.cpu.controlRegister0 == 0x6000_0010)
    }

    @Test func cr0PagingWithoutProtectionIsGeneralProtection() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.eax, 0x8000_0011 & ~1)
            a.bind(mark)
            a.mov(.cr0, .eax)
        }
        #expect(m.cpu.controlRegister0 == 0x6000_0010)
    }

    @Test func cr0NotWriteThroughWithoutCacheDisableIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.eax, 0x2000_0010)
            a.bind(mark)
            a.mov(.cr0, .eax)
        }
    }

    @Test func cr2AndCr3RoundTrip() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0xDEAD_BEEF)
            a.mov(.cr2, .eax)
            a.mov(.eax, 0x0012_3018)                       // page-aligned base, PWT, PCD
            a.mov(.cr3, .eax)
            a.mov(.ebx, .cr2)
            a.mov(.ecx, .cr3)
        }
        #expect(m.r32(.rbx) == 0xDEAD_BEEF && m.cpu.controlRegister2 == 0xDEAD_BEEF)
        #expect(m.r32(.rcx) == 0x0012_3018 && m.cpu.controlRegister3 == 0x0012_3018)
    }

    @Test func cr4AcceptsDebugExtensions() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 1 << 3)
            a.mov(.cr4, .eax)
            a.mov(.ebx, .cr4)
        }
        #expect(m.r32(.rbx) == 1 << 3)
    }

    @Test func cr4ReservedBitIsGeneralProtection() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.eax, 1 << 31)
            a.bind(mark)
            a.mov(.cr4, .eax)
        }
        #expect(m.cpu.controlRegister4 == 0)
    }

    /// CR1, CR5–CR7 do not exist: MOV to or from them is #UD.
    @Test func nonexistentControlRegisterIsInvalidOpcode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.emit([0x0F, 0x22, 0xC8])                       // mov cr1, eax
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.emit([0x0F, 0x20, 0xE8])                       // mov eax, cr5
        }
    }

    // MARK: Machine status word

    @Test func lmswSetsMPEMTSButCannotClearPE() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x000F)                               // PE MP EM TS
            a.lmsw(.ax)
            a.mov(.ax, 0x0000)
            a.lmsw(.ax)                                      // clears MP EM TS, not PE
        }
        #expect(m.cpu.controlRegister0 == 0x6000_0011)
        #expect(m.cpu.isProtectedMode)
    }

    @Test func smswStoresTheLowWordOfCR0() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: data, size: .dword), 0xFFFF_FFFF)
            a.smsw(Mem(disp: data))
            a.mov(.bx, 0xFFFF)
            a.smsw(.bx)
        }
        #expect(m.bus.word(at: data) == 0x0010)
        #expect(m.bus.word(at: data + 2) == 0xFFFF, "a memory operand is always 16 bits")
        #expect(m.r16(.rbx) == 0x0010)
    }

    @Test func cltsClearsTaskSwitched() throws {
        let m = try runSnippet { a in
            a.mov(.ax, 0x0008)
            a.lmsw(.ax)
            a.smsw(.bx)
            a.clts()
        }
        #expect(m.r16(.rbx) & 0x8 == 0x8)
        #expect(m.cpu.controlRegister0 & ControlRegister0.taskSwitched == 0)
    }

    // MARK: Descriptor-table registers

    @Test func sidtAndSgdtStoreTheResetValues() throws {
        let m = try runSnippet { a in
            a.sidt(Mem(disp: data))
            a.sgdt(Mem(disp: data + 8))
        }
        for at in [data, data + 8] {
            #expect(m.bus.word(at: at) == 0xFFFF)
            #expect(m.bus.dword(at: at + 2) == 0)
        }
    }

    /// A 16-bit operand size loads only 24 bits of base; 66h loads all 32 (SDM Vol. 2, LGDT/LIDT).
    @Test func lgdtOperandSizeDecidesTheBaseWidth() throws {
        let m = TestMachine()
        m.bus.setWord(0x0FFF, at: data)
        m.bus.setDword(0xAB12_3456, at: data + 2)
        m.expectCleanHalt(try m.run { a in
            a.lgdt(Mem(disp: data))
            a.sgdt(Mem(disp: data + 0x10, size: .dword))
            a.hlt()
        })
        #expect(m.cpu.globalDescriptorTable == DescriptorTableRegister(base: 0x12_3456, limit: 0x0FFF))
        #expect(m.bus.dword(at: data + 0x12) == 0x0012_3456)

        let wide = TestMachine()
        wide.bus.setWord(0x0FFF, at: data)
        wide.bus.setDword(0xAB12_3456, at: data + 2)
        wide.expectCleanHalt(try wide.run { a in
            a.lgdt(Mem(disp: data, size: .dword))
            a.lidt(Mem(disp: data, size: .dword))
            a.sidt(Mem(disp: data + 0x10, size: .dword))
            a.hlt()
        })
        #expect(wide.cpu.globalDescriptorTable == DescriptorTableRegister(base: 0xAB12_3456, limit: 0x0FFF))
        #expect(wide.cpu.interruptDescriptorTable == DescriptorTableRegister(base: 0xAB12_3456, limit: 0x0FFF))
        #expect(wide.bus.dword(at: data + 0x12) == 0xAB12_3456)
    }

    // MARK: Debug registers

    @Test func debugAddressRegistersRoundTrip() throws {
        let m = try runSnippet { a in
            for n: UInt8 in 0...3 {
                a.mov(.eax, 0x1000_0000 * Int(n) + 0x1234)
                a.emit(movToDR(n))
            }
            a.xor(.eax, .eax)
            a.emit(movFromDR(2))
        }
        for n in 0...3 { #expect(m.cpu.debugRegister(n) == 0x1000_0000 * UInt64(n) + 0x1234) }
        #expect(m.r32(.rax) == 0x2000_1234)
    }

    /// Without CR4.DE, DR4 and DR5 are aliases of DR6 and DR7 (SDM Vol. 3A, 17.2.2).
    @Test func dr4AndDr5AliasDr6AndDr7() throws {
        let m = try runSnippet { a in
            a.mov(.eax, 0x0000_0001)                         // DR6.B0 through DR4
            a.emit(movToDR(4))
            a.mov(.eax, 0x0000_0003)                         // DR7.L0|G0 through DR5
            a.emit(movToDR(5))
            a.emit(movFromDR(4))
            a.mov(.ebx, .eax)
            a.emit(movFromDR(5))
        }
        #expect(m.cpu.debugRegister(6) == 0xFFFF_0FF1)
        #expect(m.cpu.debugRegister(7) == 0x0000_0403)
        #expect(m.r32(.rbx) == 0xFFFF_0FF1)
        #expect(m.r32(.rax) == 0x0000_0403)
    }

    @Test func dr4WithDebugExtensionsIsInvalidOpcode() throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.mov(.eax, 1 << 3)
            a.mov(.cr4, .eax)
            a.bind(mark)
            a.emit(movFromDR(4))
        }
        try runExpectingException(.invalidOpcode) { a, mark in
            a.mov(.eax, 1 << 3)
            a.mov(.cr4, .eax)
            a.bind(mark)
            a.emit(movToDR(5))
        }
    }

    // MARK: Time-stamp counter and MSRs

    /// The TSC advances with every retired instruction, including those in the same block.
    @Test func rdtscCountsRetiredInstructions() throws {
        let m = try runSnippet { a in
            a.rdtsc()
            a.mov(.ebx, .eax)
            for _ in 0..<10 { a.nop() }
            a.rdtsc()
            a.sub(.eax, .ebx)
        }
        #expect(m.r32(.rax) == 12, "RDTSC, MOV and ten NOPs retired between the reads")
    }

    @Test func rdtscIncreasesAcrossJumps() throws {
        let m = try runSnippet { a in
            let next = a.newLabel(), again = a.newLabel()
            a.rdtsc()
            a.mov(.ebx, .eax)
            a.jmp(next)
            a.bind(next)
            a.jmp(again)
            a.bind(again)
            a.rdtsc()
            a.sub(.eax, .ebx)
        }
        #expect(m.r32(.rax) == 4)
    }

    @Test func wrmsrSetsTheTimeStampCounter() throws {
        let m = try runSnippet { a in
            a.mov(.ecx, 0x10)
            a.mov(.edx, 1)
            a.xor(.eax, .eax)
            a.wrmsr()
            a.rdmsr()
        }
        #expect(m.r32(.rdx) == 1)
        #expect(m.r32(.rax) <= 1, "read right after the write: at most the WRMSR itself has ticked")
    }

    /// RDTSCP (SDM Vol. 2): EDX:EAX the TSC, as RDTSC, and ECX IA32_TSC_AUX[31:0], which WRMSR
    /// and RDMSR reach at C000_0103h. Real mode runs it like every other mode.
    @Test func rdtscpReadsTheCounterAndTSCAux() throws {
        let m = try runSnippet { a in
            a.mov(.ecx, 0xC000_0103)
            a.mov(.eax, Int(bitPattern: 0xCAFE_0042))
            a.xor(.edx, .edx)
            a.wrmsr()
            a.rdmsr()
            a.mov(.esi, .eax)
            a.rdtsc()
            a.mov(.ebx, .eax)
            a.xor(.ecx, .ecx)
            a.rdtscp()
            a.sub(.eax, .ebx)
        }
        #expect(m.r32(.rsi) == 0xCAFE_0042, "RDMSR reads TSC_AUX back")
        #expect(m.r32(.rcx) == 0xCAFE_0042, "RDTSCP loads ECX with TSC_AUX")
        #expect(m.r32(.rax) == 3, "RDTSC, MOV and XOR retired between the reads")
        #expect(m.r32(.rdx) == 0)
    }

    /// IA32_TSC_AUX's bits 63:32 are reserved: a WRMSR setting any is #GP(0).
    @Test func tscAuxUpperHalfIsReserved() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0xC000_0103)
            a.mov(.eax, 7)
            a.mov(.edx, 1)
            a.bind(mark)
            a.wrmsr()
        }
    }

    @Test func apicBaseOnTheBootstrapProcessor() throws {
        let m = try runSnippet { a in
            a.mov(.ecx, 0x1B)
            a.rdmsr()
            a.mov(.esi, .eax)
            a.mov(.edi, .edx)
            a.mov(.eax, 0xFEC0_0800)                         // move it; try to clear BSP
            a.xor(.edx, .edx)
            a.wrmsr()
            a.rdmsr()
        }
        #expect(m.r32(.rsi) == 0xFEE0_0900, "base FEE00000h, EN, BSP")
        #expect(m.r32(.rdi) == 0)
        #expect(m.r32(.rax) == 0xFEC0_0900, "BSP is read-only")
    }

    @Test func apicBaseOnAnApplicationProcessor() throws {
        let m = TestMachine(index: 1, isBootstrapProcessor: false)
        m.cpu.signalStartup(vector: 0x08)
        m.bus.load([0x66, 0xB9, 0x1B, 0, 0, 0, 0x0F, 0x32, 0xF4], at: 0x8000)   // mov ecx, 1Bh; rdmsr; hlt
        #expect(m.run() == .halted)
        #expect(m.r32(.rax) == 0xFEE0_0800)
    }

    @Test func apicBaseReservedBitIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0x1B)
            a.mov(.eax, 0xFEE0_0801)
            a.xor(.edx, .edx)
            a.bind(mark)
            a.wrmsr()
        }
    }

    @Test func unknownMSRIsGeneralProtection() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0x1234_5)
            a.bind(mark)
            a.rdmsr()
        }
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0x1234_5)
            a.bind(mark)
            a.wrmsr()
        }
    }

    @Test func longModeAddressMSRsRejectNonCanonicalValues() throws {
        for index in [0xC000_0082, 0xC000_0083, 0xC000_0100, 0xC000_0101, 0xC000_0102] {
            try runExpectingException(.generalProtection) { a, mark in
                a.mov(.ecx, index)
                a.mov(.edx, 0x0000_8000)                         // bit 47 set, 63:48 clear
                a.xor(.eax, .eax)
                a.bind(mark)
                a.wrmsr()
            }
        }
        let m = try runSnippet { a in
            a.mov(.ecx, Int(bitPattern: 0xC000_0100))           // FS.base: a canonical upper-half address
            a.mov(.edx, Int(bitPattern: 0xFFFF_8000))
            a.mov(.eax, 0x1000)
            a.wrmsr()
            a.mov(.ecx, Int(bitPattern: 0xC000_0081))           // STAR holds selectors, not an address
            a.mov(.edx, 0x0000_8000)
            a.wrmsr()
            a.mov(.ecx, Int(bitPattern: 0xC000_0100))
            a.rdmsr()
        }
        #expect(m.r32(.rdx) == 0xFFFF_8000)
        #expect(m.r32(.rax) == 0x1000)
    }

    // MARK: Caches

    @Test func wbinvdAndInvdComplete() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: data, size: .byte), 0x11)
            a.wbinvd()
            a.invd()
            a.mov(.al, Mem(disp: data))
        }
        #expect(m.r16(.rax) & 0xFF == 0x11, "memory is coherent; caches are not modelled")
    }

    // MARK: x87 escapes without a coprocessor (SDM Vol. 3A, 2.5, Table 2-2)

    @Test func x87EscapeWithoutEmulationCompletes() throws {
        let m = try runSnippet { a in
            a.emit([0xDB, 0xE3])                             // fninit
            a.mov(.ax, 1)
        }
        #expect(m.r16(.rax) == 1)
    }

    @Test func x87EscapeWithEmulationIsDeviceNotAvailable() throws {
        try runExpectingException(.deviceNotAvailable) { a, mark in
            a.mov(.ax, 0x0004)                               // CR0.EM
            a.lmsw(.ax)
            a.bind(mark)
            a.emit([0xDB, 0xE3])
        }
    }

    @Test func waitWithMonitorAndTaskSwitchedIsDeviceNotAvailable() throws {
        try runExpectingException(.deviceNotAvailable) { a, mark in
            a.mov(.ax, 0x000A)                               // CR0.MP | CR0.TS
            a.lmsw(.ax)
            a.bind(mark)
            a.fwait()
        }
    }
}
