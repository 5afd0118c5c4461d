import X86
import X86Asm

/// Builds guests that enter 32-bit protected mode from the test machine's real-mode start.
///
/// Layout (linear = physical unless a test turns paging on):
///
/// | address | use |
/// | --- | --- |
/// | 0x0500 | GDT (`ProtectedModeGuest.Selector`) |
/// | 0x0800 | IDT: 256 interrupt gates → handler stubs |
/// | 0x1800 | handler stubs, 16 bytes each: `out 0xF4, vector` (and the error code to 0xF5), HLT |
/// | 0x4000 | TSS |
/// | 0x9000 | ring-0 stack top, 0x8000 ring-3 stack top |
/// | 0x7C00 | code |
enum ProtectedModeGuest {
    enum Selector {
        static let code32: UInt16 = 0x08
        static let data32: UInt16 = 0x10
        static let code16: UInt16 = 0x18
        static let data16: UInt16 = 0x20
        static let userCode: UInt16 = 0x28 | 3
        static let userData: UInt16 = 0x30 | 3
        static let tss: UInt16 = 0x38
        /// Free GDT slots tests may fill (0x40 … 0x78).
        static let free: UInt16 = 0x40
    }

    static let gdtBase = 0x0500
    static let idtBase = 0x0800
    static let stubBase = 0x1800
    static let stubSize = 16
    static let tssBase = 0x4000
    static let kernelStackTop: UInt32 = 0x9000
    static let userStackTop: UInt32 = 0x8000
    static let errorCodePort: UInt8 = 0xF5

    /// An 8-byte segment descriptor.
    static func segment(base: UInt32, limit: UInt32, access: UInt8, flags: UInt8) -> [UInt8] {
        let raw = UInt64(limit & 0xFFFF) | UInt64(base & 0xFF_FFFF) << 16 | UInt64(access) << 40
            | UInt64((limit >> 16) & 0xF) << 48 | UInt64(flags & 0xF) << 52 | UInt64(base >> 24) << 56
        return (0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
    }

    /// An 8-byte gate descriptor (call, interrupt, trap or task gate).
    static func gate(selector: UInt16, offset: UInt32, type: UInt8, dpl: UInt8 = 0, parameters: UInt8 = 0) -> [UInt8] {
        let raw = UInt64(offset & 0xFFFF) | UInt64(selector) << 16 | UInt64(parameters) << 32
            | UInt64(0x80 | dpl << 5 | type) << 40 | UInt64(offset >> 16) << 48
        return (0..<8).map { UInt8(truncatingIfNeeded: raw >> (8 * UInt64($0))) }
    }

    /// Writes the GDT, IDT, stubs and TSS into the machine's RAM.
    static func install(on m: TestMachine) {
        var gdt = [UInt8](repeating: 0, count: 0x80)
        func put(_ selector: UInt16, _ bytes: [UInt8]) { gdt.replaceSubrange(Int(selector & ~7)..<Int(selector & ~7) + 8, with: bytes) }
        put(Selector.code32, segment(base: 0, limit: 0xFFFFF, access: 0x9A, flags: 0xC))
        put(Selector.data32, segment(base: 0, limit: 0xFFFFF, access: 0x92, flags: 0xC))
        put(Selector.code16, segment(base: 0, limit: 0xFFFF, access: 0x9A, flags: 0x0))
        put(Selector.data16, segment(base: 0, limit: 0xFFFF, access: 0x92, flags: 0x0))
        put(Selector.userCode, segment(base: 0, limit: 0xFFFFF, access: 0xFA, flags: 0xC))
        put(Selector.userData, segment(base: 0, limit: 0xFFFFF, access: 0xF2, flags: 0xC))
        put(Selector.tss, segment(base: UInt32(tssBase), limit: 0x67 + 0x2000 / 8 + 1, access: 0x89, flags: 0x0))
        m.bus.load(gdt, at: gdtBase)
        var idt: [UInt8] = []
        for vector in 0..<256 {
            idt += gate(selector: Selector.code32, offset: UInt32(stubBase + vector * stubSize), type: 0xE, dpl: 3)
            // Stub: [push eax; mov eax,[esp+4] if error code]; mov al, vector; out 0xF4, al; hlt
            let hasErrorCode = [8, 10, 11, 12, 13, 14, 17].contains(vector)
            var stub: [UInt8] = []
            if hasErrorCode { stub += [0x8B, 0x04, 0x24, 0xE7, errorCodePort] }   // mov eax, [esp]; out 0xF5, eax
            stub += [0xB0, UInt8(vector), 0xE6, TestMachine.handlerPort, 0xF4]
            stub += [UInt8](repeating: 0x90, count: stubSize - stub.count)
            m.bus.load(stub, at: stubBase + vector * stubSize)
        }
        m.bus.load(idt, at: idtBase)
        // TSS: ring-0 stack, I/O bitmap at 0x68 all ones (every port denied) plus the terminator.
        var tss = [UInt8](repeating: 0, count: 0x68 + 0x2000 / 8 + 1)
        func put32(_ offset: Int, _ value: UInt32) { for i in 0..<4 { tss[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) } }
        put32(4, kernelStackTop)
        put32(8, UInt32(Selector.data32))
        put32(0x64, 0x68 << 16)
        for i in 0x68..<tss.count { tss[i] = 0xFF }
        m.bus.load(tss, at: tssBase)
    }

    /// Emits the real-mode prologue: LGDT, LIDT, CR0.PE, far jump to 32-bit code, flat data
    /// segments, ESP = `kernelStackTop`, LTR. Continues assembling in 32-bit mode.
    static func enter(_ a: inout Assembler, gdtLimit: UInt16 = 0x7F) {
        let gdtr = a.newLabel(), idtr = a.newLabel(), start = a.newLabel()
        a.jmp(start)
        a.align(8)
        a.bind(gdtr)
        a.dw(gdtLimit)
        a.dd(UInt32(gdtBase))
        a.bind(idtr)
        a.dw(0x7FF)
        a.dd(UInt32(idtBase))
        a.bind(start)
        a.cli()
        a.lidt(Mem(label: idtr))
        a.enterProtectedMode(gdtr: Mem(label: gdtr), codeSelector: Selector.code32, dataSelector: Selector.data32)
        a.mov(.esp, Int(kernelStackTop))
        a.mov(.ax, Int(Selector.tss))
        a.ltr(.ax)
    }
}

extension TestMachine {
    /// Error codes the protected-mode handler stubs reported, in order.
    var reportedErrorCodes: [UInt32] { bus.writes(to: UInt16(ProtectedModeGuest.errorCodePort)) }

    /// Runs a protected-mode guest: `body` is assembled in 32-bit mode after the prologue, then HLT.
    @discardableResult
    func runProtected(budget: Int = 100_000, _ body: (inout Assembler) -> Void) throws -> StopReason {
        ProtectedModeGuest.install(on: self)
        return try runPM(budget: budget, gdtLimit: 0x7F, body).reason
    }
}
