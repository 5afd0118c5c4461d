/// Keeps the decoded code of several processors coherent with memory: a store by any of them,
/// or by a device, to bytes that any of them has decoded drops those blocks in every one.
///
/// Processors that share memory share one domain. Its bitmap has a bit per physical page
/// below 4 GiB that some member holds decoded code on; a member's TLB fill gives such a page a
/// code-write tag instead of a write tag, so every store to it reaches the slow path, which
/// asks each member to drop what the store overlaps. Intel processors detect cross-modifying
/// code in hardware (SDM Vol. 3A, 9.1.3 asks software for a serializing instruction only for
/// portability), and Linux relies on the result: a kernel loaded afresh over pages another
/// processor ran, modules placed in pages that held other code, patched static branches.
public final class CodeCoherence {
    /// One bit per physical page below 4 GiB (`CodeCache.bitmapPages`): set while some member
    /// holds decoded code on it.
    let codePageBits: UnsafeMutablePointer<UInt64>
    /// The processors of the domain, in the order they joined.
    private(set) var members: [Unowned] = []

    /// A member, held without a reference count (each CPU holds its domain).
    struct Unowned {
        unowned let cpu: CPU
    }

    /// An empty domain; processors join it when they are created with it.
    public init() {
        codePageBits = .allocate(capacity: Int(CodeCache.bitmapPages / 64))
        codePageBits.initialize(repeating: 0, count: Int(CodeCache.bitmapPages / 64))
    }

    deinit {
        codePageBits.deallocate()
    }

    func join(_ cpu: CPU) {
        members.append(Unowned(cpu: cpu))
    }

    /// Whether some member holds decoded code on a physical page.
    @inline(__always) func holdsCode(_ physicalPage: UInt64) -> Bool {
        if physicalPage < CodeCache.bitmapPages {
            return codePageBits[Int(physicalPage >> 6)] & (1 << (physicalPage & 63)) != 0
        }
        return members.contains { $0.cpu.codeCache.containsPage(physicalPage) }
    }

    /// A member decoded its first block on a page: unless another member already holds code
    /// there, every member's TLB loses its write permission for the page.
    func pageGainedCode(_ physicalPage: UInt64) {
        if physicalPage < CodeCache.bitmapPages {
            if holdsCode(physicalPage) { return }
            setBit(physicalPage, true)
        }
        for member in members { member.cpu.revokeWrites(toPhysicalPage: physicalPage) }
    }

    /// A member dropped its code on a page; the page stays marked while another member holds some.
    func pageLostCode(_ physicalPage: UInt64, by cpu: CPU) {
        if !members.contains(where: { $0.cpu !== cpu && $0.cpu.codeCache.containsPage(physicalPage) }) {
            setBit(physicalPage, false)
        }
    }

    private func setBit(_ physicalPage: UInt64, _ on: Bool) {
        guard physicalPage < CodeCache.bitmapPages else { return }
        let bit: UInt64 = 1 << (physicalPage & 63)
        if on { codePageBits[Int(physicalPage >> 6)] |= bit } else { codePageBits[Int(physicalPage >> 6)] &= ~bit }
    }
}
