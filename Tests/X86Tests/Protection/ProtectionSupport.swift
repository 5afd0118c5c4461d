import Testing
@testable import X86
import X86Asm

/// Shared helpers for the protected-mode suites: descriptors written host-side into the
/// `ProtectedModeGuest` tables, a run that returns label addresses, ring-3 entry, frame
/// inspection and identity-mapped page tables.
enum PM {
    typealias Selector = ProtectedModeGuest.Selector
    /// A GDT of 64 entries (selectors up to 0x1F8), so suites have room for their own descriptors.
    static let gdtLimit: UInt16 = 0x1FF
    /// Ring-3 stack top: below the code at 0x7C00, so long guests don't run into it.
    static let userStack: UInt32 = 0x7000
    /// Scratch memory for the guests' own tables, TSSs and data (linear = physical without paging).
    static let scratch = 0x1_0000
    /// The 32-bit page directory the paging helpers build, and its first page tables.
    static let pageDirectory = 0x10_0000
    static let firstPageTable = 0x10_1000

    // Access bytes: P | DPL | S | type.
    static func dataAccess(dpl: UInt8 = 0, writable: Bool = true, expandDown: Bool = false, present: Bool = true) -> UInt8 {
        (present ? 0x80 : 0) | dpl << 5 | 0x10 | (expandDown ? 0x4 : 0) | (writable ? 0x2 : 0)
    }
    static func codeAccess(dpl: UInt8 = 0, readable: Bool = true, conforming: Bool = false, present: Bool = true) -> UInt8 {
        (present ? 0x80 : 0) | dpl << 5 | 0x18 | (conforming ? 0x4 : 0) | (readable ? 0x2 : 0)
    }
    /// Flags nibble: G (8) and D/B (4).
    static let flat32: UInt8 = 0xC
}

/// The outcome of `runPM`: why the CPU stopped, and where the guest's labels ended up.
struct PMRun {
    let reason: StopReason
    let assembler: Assembler
    subscript(_ label: Label) -> UInt32 { assembler.address(of: label)! }
}

extension TestMachine {
    /// A machine with the protected-mode GDT, IDT, stubs and TSS installed.
    static func protected(ramSize: Int = 0x20_0000) -> TestMachine {
        let m = TestMachine(ramSize: ramSize)
        ProtectedModeGuest.install(on: m)
        return m
    }

    /// Assembles the prologue, `body` (32-bit code) and a final HLT; calls `prepare` with the
    /// assembled code (label addresses known), then runs.
    @discardableResult
    func runPM(budget: Int = 100_000, gdtLimit: UInt16 = PM.gdtLimit, _ body: (inout Assembler) -> Void,
               prepare: (Assembler) -> Void = { _ in }) throws -> PMRun {
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        ProtectedModeGuest.enter(&a, gdtLimit: gdtLimit)
        body(&a)
        a.hlt()
        try load(a)
        prepare(a)
        return PMRun(reason: run(budget: budget), assembler: a)
    }

    // MARK: Tables

    func setDescriptor(_ selector: UInt16, _ bytes: [UInt8]) {
        bus.load(bytes, at: ProtectedModeGuest.gdtBase + Int(selector & ~7))
    }
    func setSegment(_ selector: UInt16, base: UInt32 = 0, limit: UInt32 = 0xFFFFF, access: UInt8, flags: UInt8 = PM.flat32) {
        setDescriptor(selector, ProtectedModeGuest.segment(base: base, limit: limit, access: access, flags: flags))
    }
    /// A gate descriptor in the GDT (call or task gate); `present` false clears P.
    func setGate(_ selector: UInt16, target: UInt16, offset: UInt32 = 0, type: UInt8, dpl: UInt8 = 0,
                 parameters: UInt8 = 0, present: Bool = true) {
        var bytes = ProtectedModeGuest.gate(selector: target, offset: offset, type: type, dpl: dpl, parameters: parameters)
        if !present { bytes[5] &= 0x7F }
        setDescriptor(selector, bytes)
    }
    func setIDTGate(_ vector: UInt8, target: UInt16, offset: UInt32 = 0, type: UInt8, dpl: UInt8 = 0, present: Bool = true) {
        var bytes = ProtectedModeGuest.gate(selector: target, offset: offset, type: type, dpl: dpl)
        if !present { bytes[5] &= 0x7F }
        bus.load(bytes, at: ProtectedModeGuest.idtBase + Int(vector) * 8)
    }
    /// A system-segment descriptor (LDT, TSS) in the GDT.
    func setSystemSegment(_ selector: UInt16, base: UInt32, limit: UInt32, type: UInt8, dpl: UInt8 = 0, present: Bool = true) {
        setSegment(selector, base: base, limit: limit, access: (present ? 0x80 : 0) | dpl << 5 | type, flags: 0)
    }
    /// The access byte of a GDT descriptor.
    func accessByte(_ selector: UInt16) -> UInt8 { bus.byte(at: ProtectedModeGuest.gdtBase + Int(selector & ~7) + 5) }
    /// The value a handler stub halted on: the dword `index` slots above ESP.
    func stackDword(_ index: Int) -> UInt32 {
        bus.dword(at: Int(cpu.segment(.ss).base) + Int(r32(.rsp)) + 4 * index)
    }
    /// Sets the TSS's ring-n stack (SSn:ESPn).
    func setTSSStack(level: Int, ss: UInt16, esp: UInt32, tss: Int = ProtectedModeGuest.tssBase) {
        bus.setDword(esp, at: tss + 4 + 8 * level)
        bus.setDword(UInt32(ss), at: tss + 8 + 8 * level)
    }

    // MARK: Paging

    /// A 32-bit page directory at `PM.pageDirectory` mapping the first 4 MiB 1:1 with 4 KiB pages
    /// (present, writable, user unless told otherwise).
    func identityMap32(flags: UInt32 = 0x7) {
        for i in 0..<1024 { bus.setDword(0, at: PM.pageDirectory + 4 * i) }
        bus.setDword(UInt32(PM.firstPageTable) | 0x7, at: PM.pageDirectory)
        for i in 0..<1024 { bus.setDword(UInt32(i) << 12 | flags, at: PM.firstPageTable + 4 * i) }
    }
    /// The 32-bit PTE mapping linear page `linear >> 12` (first 4 MiB only).
    func pte(_ linear: UInt32) -> UInt32 { bus.dword(at: PM.firstPageTable + Int(linear >> 12) * 4) }
    func setPTE(_ linear: UInt32, _ value: UInt32) { bus.setDword(value, at: PM.firstPageTable + Int(linear >> 12) * 4) }
    func pde(_ linear: UInt32) -> UInt32 { bus.dword(at: PM.pageDirectory + Int(linear >> 22) * 4) }
    func setPDE(_ linear: UInt32, _ value: UInt32) { bus.setDword(value, at: PM.pageDirectory + Int(linear >> 22) * 4) }

    // MARK: Expectations

    /// Expects exactly one exception, `vector`, reported by its stub with `errorCode` (nil: none
    /// pushed), saved EIP at `label`, and the CPU halted in the stub.
    func expectException(_ run: PMRun, _ vector: UInt8, errorCode: UInt32?, at label: Label? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.reason == .halted, sourceLocation: sourceLocation)
        #expect(handledVectors == [vector], "deliveries: \(events.deliveries)", sourceLocation: sourceLocation)
        #expect(events.deliveries.last?.errorCode == errorCode, sourceLocation: sourceLocation)
        if let label {
            let eip = stackDword(errorCode == nil ? 0 : 1)
            #expect(eip == run[label], "saved EIP \(hex(eip)), expected \(hex(run[label]))", sourceLocation: sourceLocation)
        }
    }

    /// Expects the guest to have reached its final HLT with nothing delivered on the way.
    func expectClean(_ run: PMRun, sourceLocation: SourceLocation = #_sourceLocation) {
        expectCleanHalt(run.reason, sourceLocation: sourceLocation)
    }
}

extension Assembler {
    /// Drops to ring 3 with a far return: CS = `cs`, SS:ESP = `ss`:`stack`, then loads DS and ES
    /// with `ss` (the return nulled them). Continues in the same 32-bit stream.
    mutating func enterRing3(stack: UInt32 = PM.userStack, cs: UInt16 = PM.Selector.userCode, ss: UInt16 = PM.Selector.userData) {
        let next = newLabel()
        push(Int(ss))
        push(Int(stack))
        push(Int(cs))
        push(next)
        retf()
        bind(next)
        mov(.ax, Int(ss))
        mov(.ds, .ax)
        mov(.es, .ax)
    }

    /// Copies `dwords` dwords from the top of the stack to `address` (ESI, EDI, ECX clobbered;
    /// ES must be flat and writable at the current level).
    mutating func copyStack(dwords: Int, to address: Int) {
        mov(.esi, .esp)
        mov(.edi, address)
        mov(.ecx, dwords)
        cld()
        movsd(.rep)
    }

    /// Enters ring 3 with IRETD, so EFLAGS can be chosen too; DS and ES are reloaded as in `enterRing3`.
    mutating func iretToRing3(flags: Int, stack: UInt32 = PM.userStack, cs: UInt16 = PM.Selector.userCode,
                              ss: UInt16 = PM.Selector.userData) {
        let next = newLabel()
        push(Int(ss))
        push(Int(stack))
        push(flags)
        push(Int(cs))
        push(next)
        iretd()
        bind(next)
        mov(.ax, Int(ss))
        mov(.ds, .ax)
        mov(.es, .ax)
    }

    /// Loads CR3 and sets CR0.PG (and, with `cr4`, CR4 first).
    mutating func enablePaging(cr3: Int = PM.pageDirectory, cr4: Int? = nil) {
        if let cr4 {
            mov(.eax, cr4)
            mov(.cr4, .eax)
        }
        mov(.eax, cr3)
        mov(.cr3, .eax)
        mov(.eax, .cr0)
        or(.eax, 0x8000_0000)
        mov(.cr0, .eax)
    }
}
