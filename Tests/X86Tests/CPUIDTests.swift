import Testing
import X86
import X86Asm

/// CPUID as documented in Identity/CPUID.swift, both through `CPUIDIdentity.leaf` and as a
/// guest sees it.
@Suite struct CPUIDTests {
    /// Runs CPUID for `leaf` on a CPU with the given index; returns EAX, EBX, ECX, EDX.
    private func cpuid(_ leaf: UInt32, cpuIndex: Int = 0) throws -> [UInt32] {
        let m = TestMachine(index: cpuIndex)
        m.expectCleanHalt(try m.run { a in
            a.mov(.eax, Int(leaf))
            a.mov(.ecx, 0)
            a.cpuid()
            a.hlt()
        })
        return [m.r32(.rax), m.r32(.rbx), m.r32(.rcx), m.r32(.rdx)]
    }

    private func ascii(_ words: [UInt32]) -> String {
        let bytes = words.flatMap { w in (0..<4).map { UInt8(truncatingIfNeeded: w >> (8 * $0)) } }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    @Test func vendorStringAndHighestLeaf() throws {
        let r = try cpuid(0)
        #expect(r[0] == 1)
        #expect(ascii([r[1], r[3], r[2]]) == "ResetVector ", "EBX, EDX, ECX")
    }

    @Test func signatureMatchesEDXAfterReset() throws {
        let r = try cpuid(1)
        #expect(r[0] == 0x0000_06A1)
        #expect(r[0] == CPUIDIdentity.signature)
        #expect(UInt32(TestMachine().cpu.register(.rdx)) == r[0])
    }

    /// CPUID.01H:EDX.APIC (bit 9) follows the platform's local APIC and IA32_APIC_BASE's global
    /// enable (SDM Vol. 3A, 11.4.3); the owner hears of every IA32_APIC_BASE write.
    @Test func localAPICBitFollowsThePlatformAndTheGlobalEnable() throws {
        let m = TestMachine()
        m.cpu.hasLocalAPIC = true
        m.expectCleanHalt(try m.run { a in
            a.mov(.eax, 1)
            a.cpuid()
            a.mov(.esi, .edx)
            a.mov(.edi, .ecx)
            a.mov(.ecx, 0x1B)
            a.rdmsr()
            a.and(.eax, ~(1 << 11))
            a.wrmsr()                           // global enable off
            a.mov(.eax, 1)
            a.cpuid()
            a.hlt()
        })
        #expect(m.r32(.rsi) & CPUIDIdentity.localAPICFeature != 0)
        #expect(m.r32(.rdi) & CPUIDIdentity.timeStampDeadlineFeature != 0)
        #expect(m.r32(.rdx) & CPUIDIdentity.localAPICFeature == 0)
        #expect(m.r32(.rcx) & CPUIDIdentity.timeStampDeadlineFeature == 0)
        #expect(try cpuid(1)[3] & CPUIDIdentity.localAPICFeature == 0, "no local APIC on a bare CPU")
    }

    @Test func featureBits() throws {
        let r = try cpuid(1)
        #expect(r[2] == 1 << 13, "ECX: CMPXCHG16B only")
        let expected: UInt32 = 1 << 0 | 1 << 2 | 1 << 3 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 8 | 1 << 11 | 1 << 12 | 1 << 13
            | 1 << 15 | 1 << 16 | 1 << 17 | 1 << 19 | 1 << 23 | 1 << 24 | 1 << 25 | 1 << 26
        #expect(r[3] == expected, "FPU, DE, PSE, TSC, MSR, PAE, CX8, SEP, MTRR, PGE, CMOV, PAT, PSE-36, CLFSH, MMX, FXSR, SSE, SSE2")
        #expect(r[3] == CPUIDIdentity.features1EDX)
        #expect(r[3] == 0x078B_B97D)
    }

    @Test func apicIDAndLogicalProcessorCount() throws {
        #expect(try cpuid(1, cpuIndex: 0)[1] == 0x0001_0800, "CLFLUSH line size 8 × 8 bytes in bits 15:8")
        #expect(try cpuid(1, cpuIndex: 3)[1] == 0x0301_0800)
    }

    @Test func extendedLeaves() throws {
        #expect(try cpuid(0x8000_0000)[0] == 0x8000_0008)
        #expect(try cpuid(0x8000_0001) == [0, 0, 1, 1 << 11 | 1 << 20 | 1 << 27 | 1 << 29],
                "LAHF/SAHF in 64-bit mode; SYSCALL, NX, RDTSCP, long mode")
        #expect(try cpuid(0x8000_0008) == [0x3024, 0, 0, 0], "36-bit physical, 48-bit linear addresses")
        let brand = try (0x8000_0002...0x8000_0004).flatMap { try cpuid(UInt32($0)) }
        #expect(ascii(brand) == "ResetVector x86 software CPU")
    }

    @Test func leavesBeyondTheHighestReturnZeros() throws {
        for leaf: UInt32 in [2, 4, 0x4000_0000, 0x8000_0005, 0x8000_0009, 0xFFFF_FFFF] {
            #expect(try cpuid(leaf) == [0, 0, 0, 0], "leaf \(hex(leaf))")
        }
    }

    @Test func guestSeesWhatTheIdentityTableSays() throws {
        for leaf: UInt32 in [0, 1, 0x8000_0000, 0x8000_0003] {
            let t = CPUIDIdentity.leaf(leaf, apicID: 2)
            #expect(try cpuid(leaf, cpuIndex: 2) == [t.eax, t.ebx, t.ecx, t.edx], "leaf \(hex(leaf))")
        }
    }

    /// The leaf 1 EDX instructions usable straight from real mode run without #UD: RDTSC, RDMSR,
    /// CMPXCHG8B and CMOVcc. The other claimed features (PSE, PAE, PGE, SEP, MMX, FXSR, the
    /// x87) have their own suites.
    @Test func realModeFeatureInstructionsRun() throws {
        let m = try runSnippet { a in
            a.rdtsc()
            a.mov(.ecx, 0x10)
            a.rdmsr()
            a.emit([0x0F, 0xC7, 0x0E, 0x00, 0x30])          // cmpxchg8b [3000h]
            a.cmovcc(.e, .ax, .bx)
        }
        #expect(m.events.deliveries.isEmpty)
    }
}
