import Testing
import X86
import X86Asm

/// The CPU's side of x2APIC mode (SDM Vol. 3A, 11.12): CPUID.01H:ECX bit 21, IA32_APIC_BASE's
/// EXTD bit and its legal transitions (Figure 11-27), and MSRs 800h–8FFh handed to the
/// interrupt controller only in x2APIC mode.
@Suite struct X2APICMSRTests {
    static let enabled: UInt32 = 0xFEE0_0800, extended: UInt32 = 0xFEE0_0C00, disabled: UInt32 = 0xFEE0_0000

    /// A CPU with a local APIC (as a machine's CPUs have).
    private func machine() -> TestMachine {
        let m = TestMachine()
        m.cpu.hasLocalAPIC = true
        return m
    }

    /// Writes IA32_APIC_BASE with `value` (EDX 0).
    private static func writeAPICBase(_ a: inout Assembler, _ value: UInt32) {
        a.mov(.ecx, 0x1B)
        a.mov(.eax, Int(value))
        a.xor(.edx, .edx)
        a.wrmsr()
    }

    @Test func cpuidReportsX2APICWithAnEnabledLocalAPICOnly() throws {
        let m = machine()
        m.expectCleanHalt(try m.run { a in
            a.mov(.eax, 1)
            a.cpuid()
            a.mov(.esi, .ecx)
            Self.writeAPICBase(&a, Self.disabled)
            a.mov(.eax, 1)
            a.cpuid()
            a.hlt()
        })
        #expect(m.r32(.rsi) & CPUIDIdentity.x2APICFeature != 0)
        #expect(CPUIDIdentity.x2APICFeature == 1 << 21)
        #expect(m.r32(.rcx) & CPUIDIdentity.x2APICFeature == 0, "globally disabled")
        let bare = TestMachine()
        bare.expectCleanHalt(try bare.run { a in
            a.mov(.eax, 1)
            a.cpuid()
            a.hlt()
        })
        #expect(bare.r32(.rcx) & CPUIDIdentity.x2APICFeature == 0, "no local APIC")
    }

    /// Each state (disabled, xAPIC, x2APIC) to each (disabled, xAPIC, x2APIC, EXTD without EN):
    /// the legal ones are written and read back, the others are #GP(0) and change nothing.
    @Test(arguments: [
        (enabled, extended, true), (enabled, disabled, true), (enabled, enabled, true), (enabled, 0xFEE0_0400, false),
        (extended, disabled, true), (extended, extended, true), (extended, enabled, false), (extended, 0xFEE0_0400, false),
        (disabled, enabled, true), (disabled, disabled, true), (disabled, extended, false), (disabled, 0xFEE0_0400, false),
    ] as [(UInt32, UInt32, Bool)])
    func apicBaseTransitions(from: UInt32, to: UInt32, legal: Bool) throws {
        let m = machine()
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        // Reach `from` by legal steps.
        if from == Self.extended { Self.writeAPICBase(&a, Self.extended) }
        if from == Self.disabled { Self.writeAPICBase(&a, Self.disabled) }
        Self.writeAPICBase(&a, to)
        a.rdmsr()
        a.hlt()
        try m.load(a)
        #expect(m.run() == .halted)
        let expected = legal ? to : from
        if legal {
            #expect(m.events.deliveries.isEmpty, "\(hex(from)) → \(hex(to))")
        } else {
            #expect(m.handledVectors == [13], "\(hex(from)) → \(hex(to)) is #GP")
        }
        #expect(m.cpu.isInX2APICMode == (expected == Self.extended))
        if legal { #expect(m.r32(.rax) == expected | 1 << 8, "read back, with BSP") }
    }

    @Test func extdIsReservedWithoutALocalAPIC() throws {
        try runExpectingException(.generalProtection) { a, mark in
            a.mov(.ecx, 0x1B)
            a.mov(.eax, Int(Self.extended))
            a.xor(.edx, .edx)
            a.bind(mark)
            a.wrmsr()
        }
    }

    /// Outside x2APIC mode the MSRs are #GP(0) and the controller is never asked.
    @Test func apicMSRsAreGeneralProtectionInXAPICMode() throws {
        for write in [false, true] {
            let m = machine()
            m.interrupts.apicRegisters = [0x802: 0]
            try runExpectingException(.generalProtection, on: m) { a, mark in
                a.mov(.ecx, 0x802)
                a.xor(.eax, .eax)
                a.xor(.edx, .edx)
                a.bind(mark)
                if write { a.wrmsr() } else { a.rdmsr() }
            }
            #expect(m.interrupts.apicWrites.isEmpty)
        }
    }

    /// In x2APIC mode RDMSR and WRMSR of 800h–8FFh reach the controller with all 64 bits;
    /// what it refuses is #GP(0).
    @Test func apicMSRsReachTheControllerInX2APICMode() throws {
        let m = machine()
        m.interrupts.apicRegisters = [0x802: 7, 0x830: 0]
        m.expectCleanHalt(try m.run { a in
            Self.writeAPICBase(&a, Self.extended)
            a.mov(.ecx, 0x802)
            a.rdmsr()
            a.mov(.esi, .eax)
            a.mov(.ecx, 0x830)
            a.mov(.eax, 0x4041)
            a.mov(.edx, 0x23)
            a.wrmsr()
            a.hlt()
        })
        #expect(m.r32(.rsi) == 7)
        #expect(m.interrupts.apicWrites.map(\.index) == [0x830] && m.interrupts.apicWrites.map(\.value) == [0x23_0000_4041])
        let refusing = machine()
        try runExpectingException(.generalProtection, on: refusing) { a, mark in
            Self.writeAPICBase(&a, Self.extended)
            a.mov(.ecx, 0x80B)
            a.mov(.eax, 1)
            a.xor(.edx, .edx)
            a.bind(mark)
            a.wrmsr()
        }
        #expect(refusing.interrupts.apicWrites.map(\.index) == [0x80B])
        let reading = machine()
        try runExpectingException(.generalProtection, on: reading) { a, mark in
            Self.writeAPICBase(&a, Self.extended)
            a.mov(.ecx, 0x8FF)
            a.bind(mark)
            a.rdmsr()
        }
    }

    /// INIT keeps IA32_APIC_BASE (and so x2APIC mode); a power-on reset returns to xAPIC mode.
    @Test func initKeepsX2APICModeAndResetLeavesIt() throws {
        let m = machine()
        m.expectCleanHalt(try m.run { a in
            Self.writeAPICBase(&a, Self.extended)
            a.hlt()
        })
        #expect(m.cpu.isInX2APICMode)
        m.cpu.applyINIT()
        #expect(m.cpu.isInX2APICMode)
        m.cpu.powerOnReset()
        #expect(!m.cpu.isInX2APICMode)
    }
}
