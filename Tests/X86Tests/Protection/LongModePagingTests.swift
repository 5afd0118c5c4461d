import Testing
@testable import X86
import X86Asm

/// IA-32e mode activation and 4-level paging (SDM Vol. 3A, 4.5 and 10.8.5), seen from
/// compatibility mode: the guest is the usual 32-bit protected-mode code (CS.L = 0). EFER.LME is
/// set directly before the run, except where WRMSR itself is under test.
@Suite struct LongModePagingTests {
    static let pml4 = 0x10_8000
    static let pdpt = 0x10_9000
    static let directory = 0x10_A000
    static let table = 0x10_B000
    static let pae = Int(ControlRegister4.physicalAddressExtension)

    /// PML4[0] → PDPT; PDPT[0] → directory, PDPT[1] a 1 GiB page at physical 0; PD[0] → table
    /// identity-mapping 0–2 MiB with 4 KiB pages, PD[1] a 2 MiB page at physical 0.
    static func build(_ m: TestMachine) {
        for base in [pml4, pdpt, directory, table] {
            for i in 0..<512 { m.setQword(0, at: base + 8 * i) }
        }
        m.setQword(UInt64(pdpt) | 7, at: pml4)
        m.setQword(UInt64(directory) | 7, at: pdpt)
        m.setQword(0x87, at: pdpt + 8)
        m.setQword(UInt64(table) | 7, at: directory)
        m.setQword(0x87, at: directory + 8)
        for i in 0..<512 { m.setQword(UInt64(i) << 12 | 7, at: table + 8 * i) }
    }

    private func longMode(adjust: (TestMachine) -> Void = { _ in },
                          _ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun) {
        let m = TestMachine.protected()
        Self.build(m)
        adjust(m)
        m.cpu.efer = ExtendedFeatureEnable.longModeEnable
        let run = try m.runPM { a in
            // The PML4 entries, read as PAE PDPTEs, would have reserved bits set (R/W, U/S):
            // activating IA-32e mode must not load PDPTEs.
            a.enablePaging(cr3: Self.pml4, cr4: Self.pae)
            body(&a)
        }
        return (m, run)
    }

    @Test func pagingWithLMESetActivatesIA32eModeAndWalksFourLevels() throws {
        let (m, run) = try longMode(adjust: { m in
            m.bus.setDword(0xC0DE, at: 0x1_2344)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x1_2344, size: .dword))              // 4 KiB page
            a.mov(.esi, Mem(disp: 0x21_2344, size: .dword))             // 2 MiB page onto 0
            a.mov(.edi, Mem(disp: 0x4001_2344, size: .dword))           // 1 GiB page onto 0
            a.mov(Mem(disp: 0x4000_5000, size: .dword), 0x77)
            a.mov(.ecx, 0xC000_0080)
            a.rdmsr()
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xC0DE && m.r32(.rsi) == 0xC0DE && m.r32(.rdi) == 0xC0DE)
        #expect(m.bus.dword(at: 0x5000) == 0x77)
        #expect(m.r32(.rax) & UInt32(ExtendedFeatureEnable.longModeActive) != 0, "RDMSR shows EFER.LMA")
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive != 0)
        // Accessed on every level used; dirty only on the page written.
        #expect(m.physicalQword(at: Self.pml4) & 0x20 != 0)
        #expect(m.physicalQword(at: Self.pdpt) & 0x20 != 0)
        #expect(m.physicalQword(at: Self.pdpt + 8) == 0x87 | 0x20 | 0x40, "the 1 GiB page: accessed and dirty")
        #expect(m.physicalQword(at: Self.directory + 8) == 0x87 | 0x20, "the 2 MiB page: read only")
        #expect(m.physicalQword(at: Self.table + 0x12 * 8) == 0x1_2027)
    }

    @Test func pagingWithLMEButWithoutPAEIsGP() throws {
        let m = TestMachine.protected()
        Self.build(m)
        m.cpu.efer = ExtendedFeatureEnable.longModeEnable
        let run = try m.runPM { a in a.enablePaging(cr3: Self.pml4) }
        m.expectException(run, 13, errorCode: 0)
        #expect(m.cpu.controlRegister0 & ControlRegister0.paging == 0)
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive == 0)
    }

    @Test func turningPagingOffInCompatibilityModeLeavesIA32eMode() throws {
        let (m, run) = try longMode { a in
            a.mov(.eax, .cr0)
            a.and(.eax, 0x7FFF_FFFF)
            a.mov(.cr0, .eax)
            a.mov(.ebx, Mem(disp: 0x1_2344, size: .dword))
        }
        m.expectClean(run)
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive == 0)
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeEnable != 0, "LME stays set")
    }

    @Test func wrmsrSetsLMEButNotWhilePagingIsOn() throws {
        let m = TestMachine.protected()
        Self.build(m)
        let run = try m.runPM { a in
            a.mov(.ecx, 0xC000_0080)
            a.mov(.eax, Int(ExtendedFeatureEnable.longModeEnable | ExtendedFeatureEnable.systemCallEnable))
            a.xor(.edx, .edx)
            a.wrmsr()
            a.enablePaging(cr3: Self.pml4, cr4: Self.pae)
            a.xor(.eax, .eax)
            a.wrmsr()                                // LME cannot change while paging is on
        }
        // IA-32e mode delivers through a 64-bit IDT, which the test's legacy one is not: the #GP
        // ends in shutdown, and the first event tells.
        #expect(run.reason == .shutdown && m.events.deliveries.first?.vector == 13)
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive != 0)
        #expect(m.cpu.extendedFeatureEnable & ExtendedFeatureEnable.systemCallEnable != 0)
    }
}
