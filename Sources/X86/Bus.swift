/// The CPU's view of the platform: physical memory and port I/O.
///
/// The CPU asks for a host pointer to whole 4 KiB pages of RAM or ROM and caches
/// it in its TLB, so ordinary memory accesses never call through this protocol.
/// Only MMIO, port I/O and TLB refills do.
public protocol Bus: AnyObject {
    /// A host pointer to the 4 KiB physical page `pageNumber` (address >> 12),
    /// or `nil` when the page is not plain memory (MMIO, unmapped) or, for
    /// `write == true`, not writable (ROM). The pointer must stay valid until
    /// the owner calls `CPU.flushTLB()`.
    func memoryPage(_ pageNumber: UInt64, write: Bool) -> UnsafeMutablePointer<UInt8>?
    /// Reads 1, 2, 4 or 8 bytes from a physical address that `memoryPage` declined.
    func readPhysical(_ address: UInt64, size: Int) -> UInt64
    /// Writes 1, 2, 4 or 8 bytes to a physical address that `memoryPage` declined.
    func writePhysical(_ address: UInt64, size: Int, value: UInt64)
    /// Reads 1, 2 or 4 bytes from an I/O port.
    func readPort(_ port: UInt16, size: Int) -> UInt32
    /// Writes 1, 2 or 4 bytes to an I/O port.
    func writePort(_ port: UInt16, size: Int, value: UInt32)
}

/// The interrupt controller in front of the CPU's INTR pin (an 8259 pair or a local APIC).
public protocol InterruptController: AnyObject {
    /// The interrupt-acknowledge cycle: returns the vector of the highest-priority
    /// pending interrupt, or `nil` when the request went away (the CPU then ignores it).
    func acknowledgeInterrupt() -> UInt8?
    /// IA32_TSC_DEADLINE (MSR 6E0h) of the CPU's local APIC timer.
    func readTimeStampDeadline() -> UInt64
    /// A WRMSR to IA32_TSC_DEADLINE; `timeStampCounter` is the CPU's TSC at the write.
    func writeTimeStampDeadline(_ value: UInt64, timeStampCounter: UInt64)
    /// RDMSR of an x2APIC register (MSRs 800h–8FFh, register offset = (index − 800h) × 16),
    /// asked only while the CPU's IA32_APIC_BASE has x2APIC mode on (EXTD). `nil` makes the
    /// RDMSR #GP(0): a reserved or write-only register (SDM Vol. 3A, 11.12.1.2).
    func readAPICRegister(_ index: UInt32) -> UInt64?
    /// WRMSR of an x2APIC register, as `readAPICRegister`. `false` makes the WRMSR #GP(0): a
    /// reserved or read-only register, or a value with reserved bits set (SDM 11.12.1.3).
    func writeAPICRegister(_ index: UInt32, _ value: UInt64) -> Bool
}

extension InterruptController {
    /// A controller without a TSC-deadline timer: the MSR reads 0 and ignores writes.
    public func readTimeStampDeadline() -> UInt64 { 0 }
    public func writeTimeStampDeadline(_ value: UInt64, timeStampCounter: UInt64) {}
    /// A controller without x2APIC registers: every access is #GP(0).
    public func readAPICRegister(_ index: UInt32) -> UInt64? { nil }
    public func writeAPICRegister(_ index: UInt32, _ value: UInt64) -> Bool { false }
}

/// The platform's clock, which drives the time-stamp counter: virtual nanoseconds shared by
/// every processor, so that TSCs agree across CPUs and keep counting while every CPU sleeps.
public protocol TimeSource: AnyObject {
    /// Virtual time in nanoseconds since power-on.
    var now: UInt64 { get }
}
