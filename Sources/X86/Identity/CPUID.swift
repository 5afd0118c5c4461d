/// The processor identity this CPU reports. It claims only what is implemented.
///
/// | leaf | register | value | meaning |
/// | --- | --- | --- | --- |
/// | 0 | EAX | 1 | highest basic leaf |
/// | 0 | EBX, EDX, ECX | "ResetVector " | vendor |
/// | 1 | EAX | 0x000006A1 | family 6, model 10, stepping 1 (also EDX after reset and INIT) |
/// | 1 | EBX | APIC ID << 24 \| 1 << 16 \| 8 << 8 | one logical processor per package; CLFLUSH line 8 × 8 = 64 bytes |
/// | 1 | ECX | CX16, x2APIC, TSC-deadline | CMPXCHG16B (64-bit mode); x2APIC mode and the APIC timer's TSC-deadline mode (with an enabled local APIC); no SSE3 and later features |
/// | 1 | EDX | FPU, DE, PSE, TSC, MSR, PAE, CX8, SEP, MTRR, PGE, CMOV, PAT, PSE-36, CLFSH, MMX, FXSR, SSE, SSE2 | see `Feature1EDX` |
/// | 0x80000000 | EAX | 0x80000008 | highest extended leaf |
/// | 0x80000001 | ECX | LAHF/SAHF | LAHF and SAHF in 64-bit mode |
/// | 0x80000001 | EDX | SYSCALL, NX, RDTSCP, LM | SYSCALL/SYSRET, EFER.NXE and the execute-disable bit, RDTSCP and IA32_TSC_AUX, long mode |
/// | 0x80000002–4 | all | brand string | "ResetVector x86 software CPU" |
/// | 0x80000008 | EAX | 0x2024 | 36 physical, 32 linear address bits |
///
/// Leaves above the highest ones return zeros.
public enum CPUIDIdentity {
    public static let vendor = "ResetVector "
    public static let signature: UInt32 = 0x0000_06A1
    public static let brand = "ResetVector x86 software CPU"

    public enum Feature1EDX {
        /// The x87 FPU on chip (with CMOV: FCMOVcc and FCOMI).
        public static let fpu: UInt32 = 1 << 0
        /// Debugging extensions: CR4.DE, I/O breakpoints.
        public static let de: UInt32 = 1 << 2
        /// 4 MiB pages (CR4.PSE).
        public static let pse: UInt32 = 1 << 3
        public static let tsc: UInt32 = 1 << 4
        public static let msr: UInt32 = 1 << 5
        /// PAE paging (CR4.PAE) with 2 MiB pages.
        public static let pae: UInt32 = 1 << 6
        public static let cx8: UInt32 = 1 << 8
        /// SYSENTER/SYSEXIT and their MSRs.
        public static let sep: UInt32 = 1 << 11
        /// MTRRs (stored and readable).
        public static let mtrr: UInt32 = 1 << 12
        /// Global pages (CR4.PGE).
        public static let pge: UInt32 = 1 << 13
        public static let cmov: UInt32 = 1 << 15
        /// IA32_PAT (stored and readable).
        public static let pat: UInt32 = 1 << 16
        /// 4 MiB pages above 4 GiB (PDE bits 16:13).
        public static let pse36: UInt32 = 1 << 17
        /// CLFLUSH (line size in leaf 1 EBX[15:8]).
        public static let clfsh: UInt32 = 1 << 19
        public static let mmx: UInt32 = 1 << 23
        /// FXSAVE/FXRSTOR and CR4.OSFXSR.
        public static let fxsr: UInt32 = 1 << 24
        /// SSE: XMM registers, MXCSR, CR4.OSXMMEXCPT (SSE/).
        public static let sse: UInt32 = 1 << 25
        public static let sse2: UInt32 = 1 << 26
    }
    public static let features1EDX: UInt32 = Feature1EDX.fpu | Feature1EDX.de | Feature1EDX.pse | Feature1EDX.tsc | Feature1EDX.msr
        | Feature1EDX.pae | Feature1EDX.cx8 | Feature1EDX.sep | Feature1EDX.mtrr | Feature1EDX.pge | Feature1EDX.cmov
        | Feature1EDX.pat | Feature1EDX.pse36 | Feature1EDX.clfsh | Feature1EDX.mmx | Feature1EDX.fxsr
        | Feature1EDX.sse | Feature1EDX.sse2
    /// CPUID 1 ECX: CMPXCHG16B (bit 13).
    public static let features1ECX: UInt32 = 1 << 13
    /// CPUID 1 EBX[15:8]: the CLFLUSH line size in 8-byte units.
    public static let clflushLineSize: UInt32 = 8
    /// Whether CPUID reports long mode (80000001h EDX bit 29) and SYSCALL (bit 11), and EFER's
    /// LME and SCE and the long-mode MSRs exist.
    public static let reportsLongMode = true
    /// CPUID 80000001h EDX: SYSCALL/SYSRET (bit 11), the execute-disable bit (20), RDTSCP and
    /// IA32_TSC_AUX (27) and long mode (29).
    public static let extendedFeaturesEDX: UInt32 = 1 << 11 | 1 << 20 | 1 << 27 | 1 << 29
    /// CPUID 80000001h ECX: LAHF/SAHF in 64-bit mode (bit 0).
    public static let extendedFeaturesECX: UInt32 = 1 << 0

    static func littleEndianWords(_ text: String, count: Int) -> [UInt32] {
        var bytes = Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: max(0, count * 4 - bytes.count))
        return (0..<count).map { i in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i * 4 + $1]) << (8 * UInt32($1)) }
        }
    }

    /// CPUID.01H:EDX bit 9: an enabled local APIC.
    public static let localAPICFeature: UInt32 = 1 << 9
    /// CPUID.01H:ECX bit 24: its timer has TSC-deadline mode (IA32_TSC_DEADLINE).
    public static let timeStampDeadlineFeature: UInt32 = 1 << 24
    /// CPUID.01H:ECX bit 21: the local APIC has x2APIC mode (IA32_APIC_BASE.EXTD, MSRs 800h–8FFh).
    public static let x2APICFeature: UInt32 = 1 << 21

    /// EAX, EBX, ECX, EDX for a leaf on the processor with local APIC ID `apicID`; `localAPIC`
    /// says whether it has a local APIC that IA32_APIC_BASE leaves enabled (CPUID.01H:EDX.APIC
    /// reads 0 otherwise, SDM Vol. 3A, 11.4.3).
    public static func leaf(_ eax: UInt32, apicID: UInt8,
                            localAPIC: Bool = false) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        switch eax {
        case 0:
            let v = littleEndianWords(vendor, count: 3)
            return (1, v[0], v[2], v[1])
        case 1:
            return (signature, UInt32(apicID) << 24 | 1 << 16 | clflushLineSize << 8,
                    features1ECX | (localAPIC ? x2APICFeature | timeStampDeadlineFeature : 0),
                    features1EDX | (localAPIC ? localAPICFeature : 0))
        case 0x8000_0000:
            return (0x8000_0008, 0, 0, 0)
        case 0x8000_0001:
            return (0, 0, extendedFeaturesECX, extendedFeaturesEDX)
        case 0x8000_0008:
            // Physical address bits, and the 48 linear address bits of 4-level paging.
            return (UInt32(CPU.physicalAddressBits) | 48 << 8, 0, 0, 0)
        case 0x8000_0002...0x8000_0004:
            let words = littleEndianWords(brand, count: 12)
            let base = Int(eax - 0x8000_0002) * 4
            return (words[base], words[base + 1], words[base + 2], words[base + 3])
        default:
            return (0, 0, 0, 0)
        }
    }
}

extension CPU {
    func execCpuid() -> Step {
        let r = CPUIDIdentity.leaf(reg32(.rax), apicID: UInt8(truncatingIfNeeded: index),
                                   localAPIC: hasLocalAPIC && msrs.apicBase & ModelSpecificRegisters.apicGlobalEnable != 0)
        setReg32(.rax, r.eax)
        setReg32(.rbx, r.ebx)
        setReg32(.rcx, r.ecx)
        setReg32(.rdx, r.edx)
        return .next
    }
}
