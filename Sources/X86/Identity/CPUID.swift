/// The processor identity this CPU reports. It claims only what is implemented.
///
/// | leaf | register | value | meaning |
/// | --- | --- | --- | --- |
/// | 0 | EAX | 1 | highest basic leaf |
/// | 0 | EBX, EDX, ECX | "ResetVector " | vendor |
/// | 1 | EAX | 0x000006A1 | family 6, model 10, stepping 1 (also EDX after reset and INIT) |
/// | 1 | EBX | APIC ID << 24 \| 1 << 16 | one logical processor per package |
/// | 1 | ECX | 0 | no SSE3 and later features |
/// | 1 | EDX | TSC, MSR, CX8, CMOV | RDTSC, RDMSR/WRMSR, CMPXCHG8B, CMOVcc/SETcc |
/// | 0x80000000 | EAX | 0x80000004 | highest extended leaf |
/// | 0x80000001 | all | 0 | no extended features (no long mode, no NX, no SYSCALL) |
/// | 0x80000002–4 | all | brand string | "ResetVector x86 software CPU" |
///
/// Leaves above the highest ones return zeros.
public enum CPUIDIdentity {
    public static let vendor = "ResetVector "
    public static let signature: UInt32 = 0x0000_06A1
    public static let brand = "ResetVector x86 software CPU"

    public enum Feature1EDX {
        public static let tsc: UInt32 = 1 << 4
        public static let msr: UInt32 = 1 << 5
        public static let cx8: UInt32 = 1 << 8
        public static let cmov: UInt32 = 1 << 15
    }
    public static let features1EDX: UInt32 = Feature1EDX.tsc | Feature1EDX.msr | Feature1EDX.cx8 | Feature1EDX.cmov

    static func littleEndianWords(_ text: String, count: Int) -> [UInt32] {
        var bytes = Array(text.utf8)
        bytes += [UInt8](repeating: 0, count: max(0, count * 4 - bytes.count))
        return (0..<count).map { i in
            (0..<4).reduce(UInt32(0)) { $0 | UInt32(bytes[i * 4 + $1]) << (8 * UInt32($1)) }
        }
    }

    /// EAX, EBX, ECX, EDX for a leaf on the processor with local APIC ID `apicID`.
    public static func leaf(_ eax: UInt32, apicID: UInt8) -> (eax: UInt32, ebx: UInt32, ecx: UInt32, edx: UInt32) {
        switch eax {
        case 0:
            let v = littleEndianWords(vendor, count: 3)
            return (1, v[0], v[2], v[1])
        case 1:
            return (signature, UInt32(apicID) << 24 | 1 << 16, 0, features1EDX)
        case 0x8000_0000:
            return (0x8000_0004, 0, 0, 0)
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
        let r = CPUIDIdentity.leaf(reg32(.rax), apicID: UInt8(truncatingIfNeeded: index))
        setReg32(.rax, r.eax)
        setReg32(.rbx, r.ebx)
        setReg32(.rcx, r.ecx)
        setReg32(.rdx, r.edx)
        return .next
    }
}
