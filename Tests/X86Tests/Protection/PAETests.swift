import Testing
@testable import X86
import X86Asm

/// PAE paging (SDM Vol. 3A, 4.4): PDPTEs loaded with CR3, 64-bit entries, 2 MiB pages, NX
/// through EFER.NXE, reserved-bit faults.
@Suite struct PAETests {
    static let pdpt = 0x10_4000
    static let directory = 0x10_5000
    static let table = 0x10_6000
    static let pae = Int(ControlRegister4.physicalAddressExtension)
    static let nx: UInt64 = 1 << 63

    /// PDPTE 0 → directory; PDE 0 → table identity-mapping 0–2 MiB with 4 KiB user pages.
    private static func build(_ m: TestMachine) {
        for i in 0..<4 { m.setQword(0, at: pdpt + 8 * i) }
        m.setQword(UInt64(directory) | 1, at: pdpt)
        for i in 0..<512 { m.setQword(0, at: directory + 8 * i) }
        m.setQword(UInt64(table) | 7, at: directory)
        for i in 0..<512 { m.setQword(UInt64(i) << 12 | 7, at: table + 8 * i) }
    }
    static func pte(_ m: TestMachine, _ linear: Int) -> UInt64 { m.physicalQword(at: table + (linear >> 12) * 8) }
    static func setPTE(_ m: TestMachine, _ linear: Int, _ value: UInt64) { m.setQword(value, at: table + (linear >> 12) * 8) }
    static func pde(_ m: TestMachine, _ linear: Int) -> UInt64 { m.physicalQword(at: directory + (linear >> 21) * 8) }
    static func setPDE(_ m: TestMachine, _ linear: Int, _ value: UInt64) { m.setQword(value, at: directory + (linear >> 21) * 8) }

    /// Sets EFER.NXE with WRMSR.
    static func enableNX(_ a: inout Assembler) {
        a.mov(.ecx, 0xC000_0080)
        a.rdmsr()
        a.or(.eax, 0x800)
        a.wrmsr()
    }

    private func paged(nx: Bool = false, adjust: (TestMachine) -> Void = { _ in },
                       _ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun) {
        let m = TestMachine.protected()
        Self.build(m)
        adjust(m)
        let run = try m.runPM { a in
            if nx { Self.enableNX(&a) }
            a.enablePaging(cr3: Self.pdpt, cr4: Self.pae)
            body(&a)
        }
        return (m, run)
    }

    @Test func paePagingRunsAndSetsAccessedAndDirtyBits() throws {
        let (m, run) = try paged { a in
            a.mov(.ebx, Mem(disp: 0x3000, size: .dword))
            a.mov(Mem(disp: 0x5000, size: .dword), 0x42)
        }
        m.expectClean(run)
        #expect(Self.pte(m, 0x3000) == 0x3027)
        #expect(Self.pte(m, 0x5000) == 0x5067)
        #expect(Self.pte(m, 0x6000) == 0x6007)
        #expect(Self.pde(m, 0) & 0x20 != 0)
        #expect(m.cpu.controlRegister3 == UInt64(Self.pdpt))
    }

    @Test func twoMegabytePagesAlias() throws {
        let (m, run) = try paged(adjust: { m in
            Self.setPDE(m, 0x20_0000, 0x87)   // linear 2–4 MiB → physical 0
            m.bus.setDword(0xC0DE, at: 0x1_2344)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x21_2344, size: .dword))
            a.mov(Mem(disp: 0x20_5000, size: .dword), 0x77)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xC0DE)
        #expect(m.bus.dword(at: 0x5000) == 0x77)
        #expect(Self.pde(m, 0x20_0000) == 0xE7)
    }

    @Test func twoMegabytePageReservedBitsArePFWithRSVD() throws {
        let (m, run) = try paged(adjust: { Self.setPDE($0, 0x20_0000, 0x2087) }) { a in
            a.mov(Mem(disp: 0x20_0008, size: .dword), .eax)
        }
        m.expectException(run, 14, errorCode: 0xB)
        #expect(m.cpu.controlRegister2 == 0x20_0008)
    }

    @Test func addressBitsBeyondThePhysicalWidthAreReserved() throws {
        let (m, run) = try paged(adjust: { Self.setPTE($0, 0x5000, 1 << 40 | 0x5007) }) { a in
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 9)
    }

    @Test func noExecutePagesFaultOnFetchWithID() throws {
        let (m, run) = try paged(nx: true, adjust: { m in
            Self.setPTE(m, 0x12000, Self.nx | 0x12007)
            m.bus.load([0xC3], at: 0x12000)
            m.bus.setDword(0x5151, at: 0x12004)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x12004, size: .dword))   // reading an NX page is fine
            a.mov(.eax, 0x12000)
            a.call(.eax)
        }
        m.expectException(run, 14, errorCode: 0x11)
        #expect(m.r32(.rbx) == 0x5151)
        #expect(m.stackDword(1) == 0x12000)
        #expect(m.cpu.controlRegister2 == 0x12000)
    }

    @Test func noExecuteInTheDirectoryEntryCoversItsTable() throws {
        let (m, run) = try paged(nx: true, adjust: { m in
            // A second table for 2–4 MiB, NX at the directory level only.
            Self.setPDE(m, 0x20_0000, Self.nx | 0x10_7007)
            for i in 0..<512 { m.setQword(UInt64(i) << 12 | 7, at: 0x10_7000 + 8 * i) }
            m.bus.load([0xC3], at: 0x12000)
        }) { a in
            a.mov(.eax, 0x21_2000)
            a.call(.eax)
        }
        m.expectException(run, 14, errorCode: 0x11)
        #expect(m.cpu.controlRegister2 == 0x21_2000)
    }

    @Test func noExecuteBitWithoutNXEIsReserved() throws {
        let (m, run) = try paged(adjust: { Self.setPTE($0, 0x5000, Self.nx | 0x5007) }) { a in
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 9)
    }

    @Test func fetchFaultsReportIDOnlyWithNXE() throws {
        let (m, run) = try paged(nx: true, adjust: { Self.setPTE($0, 0x12000, 0) }) { a in
            a.mov(.eax, 0x12000)
            a.call(.eax)
        }
        m.expectException(run, 14, errorCode: 0x10)
        let (p, prun) = try paged(adjust: { Self.setPTE($0, 0x12000, 0) }) { a in
            a.mov(.eax, 0x12000)
            a.call(.eax)
        }
        p.expectException(prun, 14, errorCode: 0)
    }

    @Test func notPresentPDPTEIsPF() throws {
        let (m, run) = try paged { a in
            a.mov(.ebx, Mem(disp: 0x4000_1000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 0)
        #expect(m.cpu.controlRegister2 == 0x4000_1000)
    }

    @Test func userProtectionAppliesInPAE() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { Self.setPTE($0, 0x5000, 0x5005) }) { a in
            a.enterRing3()
            mark = a.newLabel()
            a.bind(mark)
            a.mov(Mem(disp: 0x5000, size: .dword), .ebx)
        }
        m.expectException(run, 14, errorCode: 7, at: mark)
    }

    @Test func reservedBitsInAPDPTEMakeEnablingPagingGP() throws {
        let m = TestMachine.protected()
        Self.build(m)
        m.setQword(UInt64(Self.directory) | 1 | 2, at: Self.pdpt)   // R/W is reserved in a PDPTE
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.eax, Self.pae)
            a.mov(.cr4, .eax)
            a.mov(.eax, Self.pdpt)
            a.mov(.cr3, .eax)
            a.mov(.eax, .cr0)
            a.or(.eax, 0x8000_0000)
            a.bind(mark)
            a.mov(.cr0, .eax)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.cpu.controlRegister0 & ControlRegister0.paging == 0)
    }

    @Test func reservedBitsInAPDPTEMakeTheCR3LoadGPAndKeepCR3() throws {
        let m = TestMachine.protected()
        Self.build(m)
        let bad = 0x10_4020
        m.setQword(UInt64(Self.directory) | 1 | 0x100, at: bad)
        var mark: Label!
        let run = try m.runPM { a in
            a.enablePaging(cr3: Self.pdpt, cr4: Self.pae)
            mark = a.newLabel()
            a.mov(.eax, bad)
            a.bind(mark)
            a.mov(.cr3, .eax)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.cpu.controlRegister3 == UInt64(Self.pdpt))
    }

    @Test func pdptesAreCachedUntilTheNextCR3Load() throws {
        let m = TestMachine.protected()
        Self.build(m)
        // A directory for 1–2 GiB with one 2 MiB page at 0x4000_0000 → physical 0.
        let second = 0x10_8000
        for i in 0..<512 { m.setQword(0, at: second + 8 * i) }
        m.setQword(0x87, at: second)
        m.bus.setDword(0x600D, at: 0x3000)
        let run = try m.runPM { a in
            a.enablePaging(cr3: Self.pdpt, cr4: Self.pae)
            // PDPTE 1 becomes present in memory; the cached copy still says not present…
            a.mov(Mem(disp: Self.pdpt + 8, size: .dword), second | 1)
            a.mov(.eax, .cr3)
            a.mov(.cr3, .eax)
            // …until CR3 is loaded again.
            a.mov(.ebx, Mem(disp: 0x4000_3000, size: .dword))
            a.mov(Mem(disp: Self.pdpt + 8, size: .dword), 0)
            a.invlpg(Mem(disp: 0x4000_3000))
            a.mov(.ecx, Mem(disp: 0x4000_3000, size: .dword))   // still mapped: the PDPTE is cached
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x600D)
        #expect(m.r32(.rcx) == 0x600D)
    }

    @Test func pdpteCachedNotPresentFaultsAfterTheTableChanges() throws {
        let m = TestMachine.protected()
        Self.build(m)
        let second = 0x10_8000
        for i in 0..<512 { m.setQword(0, at: second + 8 * i) }
        m.setQword(0x87, at: second)
        let run = try m.runPM { a in
            a.enablePaging(cr3: Self.pdpt, cr4: Self.pae)
            a.mov(Mem(disp: Self.pdpt + 8, size: .dword), second | 1)
            a.mov(.ebx, Mem(disp: 0x4000_3000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 0)
    }

    @Test func aPDPTAddressLoadedBeforePAEIsUsedWhenPAEIsEnabled() throws {
        // CR3 bits 11:5 are ignored by 32-bit paging but are the PDPT address's low bits for PAE:
        // MOV to CR3 keeps them.
        let m = TestMachine.protected()
        Self.build(m)
        let moved = Self.pdpt + 0x60
        for i in 0..<4 { m.setQword(m.physicalQword(at: Self.pdpt + 8 * i), at: moved + 8 * i) }
        m.setQword(0, at: Self.pdpt)
        m.bus.setDword(0x600D, at: 0x3000)
        let run = try m.runPM { a in
            a.mov(.eax, moved)
            a.mov(.cr3, .eax)
            a.mov(.eax, Self.pae)
            a.mov(.cr4, .eax)
            a.mov(.eax, .cr0)
            a.or(.eax, 0x8000_0000)
            a.mov(.cr0, .eax)
            a.mov(.ebx, Mem(disp: 0x3000, size: .dword))
            a.mov(.ecx, .cr3)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x600D)
        #expect(m.r32(.rcx) == UInt32(moved))
    }
}

extension TestMachine {
    func physicalQword(at address: Int) -> UInt64 { UInt64(bus.dword(at: address)) | UInt64(bus.dword(at: address + 4)) << 32 }
    func setQword(_ value: UInt64, at address: Int) {
        bus.setDword(UInt32(truncatingIfNeeded: value), at: address)
        bus.setDword(UInt32(truncatingIfNeeded: value >> 32), at: address + 4)
    }
}
