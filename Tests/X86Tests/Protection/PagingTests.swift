import Testing
@testable import X86
import X86Asm

/// 32-bit paging (SDM Vol. 3A, 4.3, 4.6–4.10): 4 KiB and 4 MiB pages, protection, accessed and
/// dirty bits, #PF error codes and CR2, TLB invalidation, and decoded code under remapping.
@Suite struct PagingTests {
    typealias Selector = PM.Selector
    static let pse = Int(ControlRegister4.pageSizeExtensions)
    static let pge = Int(ControlRegister4.pageGlobalEnable)

    /// Runs `body` after turning on 32-bit paging over the identity map (`adjust` may change it first).
    private func paged(cr4: Int? = nil, budget: Int = 100_000, adjust: (TestMachine) -> Void = { _ in },
                       _ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun) {
        let m = TestMachine.protected()
        m.identityMap32()
        adjust(m)
        let run = try m.runPM(budget: budget) { a in
            a.enablePaging(cr4: cr4)
            body(&a)
        }
        return (m, run)
    }

    @Test func identityMappingRunsAndSetsAccessedAndDirtyBits() throws {
        let (m, run) = try paged { a in
            a.mov(.ebx, Mem(disp: 0x3000, size: .dword))
            a.mov(Mem(disp: 0x5000, size: .dword), 0x1234)
            a.mov(.ecx, Mem(disp: 0x5000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rcx) == 0x1234)
        #expect(m.pte(0x3000) == 0x3000 | 0x27, "read: accessed, not dirty")
        #expect(m.pte(0x5000) == 0x5000 | 0x67, "written: accessed and dirty")
        #expect(m.pte(0x6000) == 0x6007, "untouched")
        #expect(m.pde(0) & 0x20 != 0, "the directory entry is accessed")
        #expect(m.pde(0) & 0x40 == 0, "a directory entry has no dirty bit to set")
        #expect(m.cpu.controlRegister0 & ControlRegister0.paging != 0)
    }

    @Test func aWriteAfterAReadStillSetsTheDirtyBit() throws {
        let (m, run) = try paged { a in
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
            a.mov(.ebx, Mem(disp: 0x5004, size: .dword))
            a.mov(Mem(disp: 0x5008, size: .dword), .ebx)
        }
        m.expectClean(run)
        #expect(m.pte(0x5000) == 0x5000 | 0x67)
    }

    @Test func dirtyBitClearedBySoftwareIsSetAgainAfterINVLPG() throws {
        let (m, run) = try paged { a in
            a.mov(Mem(disp: 0x5000, size: .dword), 1)
            a.and(Mem(disp: PM.firstPageTable + 5 * 4, size: .dword), ~0x60)   // clear A and D
            a.invlpg(Mem(disp: 0x5000))
            a.mov(Mem(disp: 0x5000, size: .dword), 2)
        }
        m.expectClean(run)
        #expect(m.pte(0x5000) == 0x5000 | 0x67)
    }

    // MARK: Page faults

    @Test func readOfANotPresentPageIsPFWithCR2() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5006) }) { a in
            mark = a.newLabel()
            a.mov(.esi, 0x5123)
            a.bind(mark)
            a.mov(.ebx, Mem(.esi, size: .dword))
        }
        m.expectException(run, 14, errorCode: 0, at: mark)
        #expect(m.cpu.controlRegister2 == 0x5123)
        #expect(m.pte(0x5000) == 0x5006, "no bits set in a not-present entry")
    }

    @Test func notPresentPageTableIsPF() throws {
        let (m, run) = try paged(adjust: { $0.setPDE(0x40_0000, 0x0010_2006) }) { a in
            a.mov(Mem(disp: 0x40_1234, size: .dword), .eax)
        }
        m.expectException(run, 14, errorCode: 2)
        #expect(m.cpu.controlRegister2 == 0x40_1234)
    }

    @Test func cr2IsTheLinearAddressIncludingTheSegmentBase() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { m in
            m.setPTE(0x5000, 0x5006)
            m.setSegment(0x40, base: 0x4000, limit: 0xFFFFF, access: 0x92)
        }) { a in
            mark = a.newLabel()
            a.mov(.ax, 0x40)
            a.mov(.es, .ax)
            a.bind(mark)
            a.mov(Mem(disp: 0x1010, size: .word, segment: .es), .ax)
        }
        m.expectException(run, 14, errorCode: 2, at: mark)
        #expect(m.cpu.controlRegister2 == 0x5010)
    }

    @Test func supervisorWritesIgnoreReadOnlyPagesUnlessWP() throws {
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5005) }) { a in
            a.mov(Mem(disp: 0x5000, size: .dword), 0xAA)
        }
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x5000) == 0xAA)
        #expect(m.pte(0x5000) == 0x5005 | 0x60)

        var mark: Label!
        let (w, wrun) = try paged(adjust: { $0.setPTE(0x5000, 0x5005) }) { a in
            mark = a.newLabel()
            a.mov(.eax, .cr0)
            a.or(.eax, Int(ControlRegister0.writeProtect))
            a.mov(.cr0, .eax)
            a.bind(mark)
            a.mov(Mem(disp: 0x5000, size: .dword), 0xAA)
        }
        w.expectException(wrun, 14, errorCode: 3, at: mark)
        #expect(w.bus.dword(at: 0x5000) == 0)
        #expect(w.cpu.controlRegister2 == 0x5000)
    }

    @Test func settingWPTakesEffectOnAPageAlreadyWrittenThrough() throws {
        // The first write fills the TLB with a writable entry; CR0.WP must not be bypassed by it.
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5005) }) { a in
            mark = a.newLabel()
            a.mov(Mem(disp: 0x5000, size: .dword), 1)
            a.mov(.eax, .cr0)
            a.or(.eax, Int(ControlRegister0.writeProtect))
            a.mov(.cr0, .eax)
            a.bind(mark)
            a.mov(Mem(disp: 0x5000, size: .dword), 2)
        }
        m.expectException(run, 14, errorCode: 3, at: mark)
        #expect(m.bus.dword(at: 0x5000) == 1)
    }

    /// Runs `access` in ring 3 with the identity map adjusted, and returns the #PF error code and CR2.
    private func userAccess(adjust: @escaping (TestMachine) -> Void, _ access: @escaping (inout Assembler) -> Void) throws -> (TestMachine, PMRun, Label) {
        var mark: Label!
        let (m, run) = try paged(adjust: adjust) { a in
            a.enterRing3()
            mark = a.newLabel()
            a.bind(mark)
            access(&a)
            a.int(0x40)
        }
        return (m, run, mark)
    }

    @Test func userAccessToASupervisorPageIsPFWithUS() throws {
        let (m, run, mark) = try userAccess(adjust: { $0.setPTE(0x5000, 0x5003) }) { a in
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 5, at: mark)
        // The frame of a ring-3 fault: EIP, CS, EFLAGS, ESP, SS after the error code.
        #expect(m.stackDword(2) == UInt32(Selector.userCode))
        #expect(m.stackDword(4) == PM.userStack)
        #expect(m.stackDword(5) == UInt32(Selector.userData))
        #expect(m.cpu.controlRegister2 == 0x5000)
    }

    @Test func userWriteToAReadOnlyPageIsPF7() throws {
        let (m, run, mark) = try userAccess(adjust: { $0.setPTE(0x5000, 0x5005) }) { a in
            a.mov(Mem(disp: 0x5FFC, size: .dword), .ebx)
        }
        m.expectException(run, 14, errorCode: 7, at: mark)
        #expect(m.cpu.controlRegister2 == 0x5FFC)
    }

    @Test func userWriteToANotPresentPageIsPF6() throws {
        let (m, run, mark) = try userAccess(adjust: { $0.setPTE(0x5000, 0) }) { a in
            a.mov(Mem(disp: 0x5000, size: .byte), .bl)
        }
        m.expectException(run, 14, errorCode: 6, at: mark)
    }

    @Test func directoryEntryRightsCombineWithTheTableEntrys() throws {
        // PDE read-only: a user write faults though the PTE allows it; PDE supervisor-only: a user read faults.
        let (m, run, mark) = try userAccess(adjust: { $0.setPDE(0, UInt32(PM.firstPageTable) | 0x5) }) { a in
            a.mov(Mem(disp: 0x5000, size: .dword), .ebx)
        }
        m.expectException(run, 14, errorCode: 7, at: mark)
        let (s, srun, smark) = try userAccess(adjust: { $0.setPDE(0, UInt32(PM.firstPageTable) | 0x3) }) { a in
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
        }
        // The ring-3 code itself lies on a supervisor page now: the first fetch faults.
        #expect(srun.reason == .halted)
        #expect(s.handledVectors == [14])
        #expect(s.reportedErrorCodes == [5])
        #expect(s.cpu.controlRegister2 == s.stackDword(1), "the fetch of the first ring-3 instruction")
        #expect(s.stackDword(2) == UInt32(Selector.userCode))
        #expect(srun[smark] > s.stackDword(1))
    }

    @Test func userAccessIsAllowedWhenEveryLevelAllowsIt() throws {
        let (m, run, _) = try userAccess(adjust: { _ in }) { a in
            a.mov(Mem(disp: 0x5000, size: .dword), 0x77)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.bus.dword(at: 0x5000) == 0x77)
    }

    @Test func descriptorTablesAreReadAsSupervisorFromRing3() throws {
        // GDT, IDT, TSS and handler stubs all on page 0 (supervisor-only): a ring-3 segment load
        // and INT still work, because those accesses are implicit supervisor accesses.
        let (m, run, _) = try userAccess(adjust: { $0.setPTE(0, 0x3); $0.setPTE(0x1000, 0x1003); $0.setPTE(0x2000, 0x2003); $0.setPTE(0x4000, 0x4003) }) { a in
            a.mov(.cx, Int(Selector.userData))
            a.mov(.fs, .cx)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.events.deliveries.map(\.vector) == [0x40])
    }

    @Test func aSupervisorTranslationCachedAtRing0DoesNotServeRing3() throws {
        // Ring 0 reads the supervisor-only page (its translation is now cached); ring 3 must still fault.
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5003) }) { a in
            mark = a.newLabel()
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
            a.mov(Mem(disp: 0x5004, size: .dword), .ebx)
            a.enterRing3()
            a.bind(mark)
            a.mov(.ecx, Mem(disp: 0x5000, size: .dword))
        }
        m.expectException(run, 14, errorCode: 5, at: mark)
    }

    @Test func aWriteCachedAtRing0DoesNotGrantARing3Write() throws {
        // User read-only page, WP clear: ring 0 may write it; ring 3 may read but not write it.
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5005) }) { a in
            mark = a.newLabel()
            a.mov(Mem(disp: 0x5000, size: .dword), 1)
            a.enterRing3()
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
            a.bind(mark)
            a.mov(Mem(disp: 0x5000, size: .dword), 2)
        }
        m.expectException(run, 14, errorCode: 7, at: mark)
        #expect(m.r32(.rbx) == 1)
    }

    /// A read-modify-write of a user read-only page at ring 3 reads it (the value is unchanged)
    /// and faults on the write (#PF with W), after the read set A; the same instruction at ring 0
    /// (WP clear) updates it.
    @Test func aReadModifyWriteOfAReadOnlyPageFaultsOnItsWrite() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x5000, 0x5005); $0.bus.setDword(40, at: 0x5000) }) { a in
            mark = a.newLabel()
            a.add(Mem(disp: 0x5000, size: .dword), 2)
            a.enterRing3()
            a.mov(.ebx, Mem(disp: 0x5000, size: .dword))
            a.bind(mark)
            a.add(Mem(disp: 0x5000, size: .dword), 1)
        }
        m.expectException(run, 14, errorCode: 7, at: mark)
        #expect(m.r32(.rbx) == 42)
        #expect(m.bus.dword(at: 0x5000) == 42)
    }

    @Test func aPageCrossingReadFaultsOnTheSecondPage() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x6000, 0) }) { a in
            mark = a.newLabel()
            a.bind(mark)
            a.mov(.ebx, Mem(disp: 0x5FFE, size: .dword))
        }
        m.expectException(run, 14, errorCode: 0, at: mark)
        #expect(m.cpu.controlRegister2 == 0x6000)
    }

    @Test func aPageCrossingWriteThatFaultsWritesNothing() throws {
        let (m, run) = try paged(adjust: { $0.setPTE(0x6000, 0x6005); $0.bus.setDword(0x1122_3344, at: 0x5FFC) }) { a in
            a.mov(.eax, .cr0)
            a.or(.eax, Int(ControlRegister0.writeProtect))
            a.mov(.cr0, .eax)
            a.mov(Mem(disp: 0x5FFE, size: .dword), 0x5566_7788)
        }
        m.expectException(run, 14, errorCode: 3)
        #expect(m.cpu.controlRegister2 == 0x6000)
        #expect(m.bus.dword(at: 0x5FFC) == 0x1122_3344)
    }

    @Test func instructionFetchFromANotPresentPageIsPFAtTheTarget() throws {
        let (m, run) = try paged(adjust: { $0.setPTE(0x12000, 0) }) { a in
            a.mov(.eax, 0x12010)
            a.call(.eax)
        }
        m.expectException(run, 14, errorCode: 0)
        #expect(m.stackDword(1) == 0x12010, "saved EIP: the target")
        #expect(m.cpu.controlRegister2 == 0x12010)
    }

    @Test func anInstructionStraddlingIntoANotPresentPageFaultsAtItsStart() throws {
        let (m, run) = try paged(adjust: { m in
            m.setPTE(0x13000, 0)
            // mov eax, imm32 at 0x12FFD: B8 + 4 bytes, 2 on the missing page.
            m.bus.load([0xB8, 0x11, 0x22], at: 0x12FFD)
        }) { a in
            a.mov(.eax, 0x12FFD)
            a.jmp(.eax)
        }
        m.expectException(run, 14, errorCode: 0)
        #expect(m.stackDword(1) == 0x12FFD)
        #expect(m.cpu.controlRegister2 == 0x13000)
    }

    @Test func pushOntoANotPresentStackPageIsAWritePF() throws {
        var mark: Label!
        let (m, run) = try paged(adjust: { $0.setPTE(0x11000, 0) }) { a in
            mark = a.newLabel()
            a.mov(.esp, 0x12000)
            a.mov(.esp, 0x12000)
            a.bind(mark)
            a.push(.eax)
        }
        // The frame cannot go onto that stack either: #PF while delivering #PF is a double fault,
        // whose frame cannot be pushed: shutdown.
        #expect(run.reason == .shutdown)
        #expect(m.events.shutdownChains == [[14, 8, 14]])
        #expect(m.cpu.controlRegister2 == 0x11FFC)
        #expect(m.r32(.rsp) == 0x12000)
        #expect(m.events.deliveries.first?.ip == UInt64(run[mark]), "the #PF was reported at the PUSH")
    }

    // MARK: 4 MiB pages

    @Test func largePagesMapFourMegabytesWithPSE() throws {
        // Linear 0x40_0000–0x7F_FFFF → physical 0: an alias of the first 4 MiB.
        let (m, run) = try paged(cr4: Self.pse, adjust: { m in
            m.setPDE(0x40_0000, 0x0000_0087)
            m.bus.setDword(0xFEED_BEEF, at: 0x3456)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x40_3456, size: .dword))
            a.mov(Mem(disp: 0x40_5000, size: .dword), 0x99)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xFEED_BEEF)
        #expect(m.bus.dword(at: 0x5000) == 0x99)
        #expect(m.pde(0x40_0000) == 0x87 | 0x60, "a large page's PDE gets A and D")
    }

    @Test func largePageBitIsIgnoredWithoutPSE() throws {
        // Without CR4.PSE the PDE points to a page table: here the one at physical 0x0010_1000.
        let (m, run) = try paged(adjust: { m in
            m.setPDE(0x40_0000, UInt32(PM.firstPageTable) | 0x87)
            m.bus.setDword(0xFEED_BEEF, at: 0x3456)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x40_3456, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xFEED_BEEF)
    }

    @Test func largePageReservedBitsArePFWithRSVD() throws {
        var mark: Label!
        let (m, run) = try paged(cr4: Self.pse, adjust: { $0.setPDE(0x40_0000, 0x0002_0087) }) { a in
            mark = a.newLabel()
            a.bind(mark)
            a.mov(.ebx, Mem(disp: 0x40_0010, size: .dword))
        }
        m.expectException(run, 14, errorCode: 9, at: mark)
        #expect(m.cpu.controlRegister2 == 0x40_0010)
    }

    @Test func pse36MapsAboveFourGigabytes() throws {
        // PDE bits 16:13 give physical bits 35:32: physical 1_0000_0000 is unmapped on the test bus.
        let (m, run) = try paged(cr4: Self.pse, adjust: { $0.setPDE(0x40_0000, 0x0000_2087) }) { a in
            a.mov(.ebx, Mem(disp: 0x40_0000, size: .dword))
            a.mov(Mem(disp: 0x40_0010, size: .dword), 0x1234)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0xFFFF_FFFF)
        #expect(m.bus.unmappedWrites.map(\.address) == [0x1_0000_0010])
    }

    // MARK: TLB

    @Test func invlpgMakesAChangedMappingVisible() throws {
        let (m, run) = try paged(adjust: { m in
            m.bus.setDword(0x1111, at: 0x12000)
            m.bus.setDword(0x2222, at: 0x13000)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13007)
            a.invlpg(Mem(disp: 0x12000))
            a.mov(.ecx, Mem(disp: 0x12000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1111)
        #expect(m.r32(.rcx) == 0x2222)
    }

    /// Code has a TLB of its own: a code page remapped in its PTE runs the new page's code after
    /// INVLPG (or a CR3 reload), though its old code was decoded and its translation cached.
    @Test(arguments: [true, false])
    func aRemappedCodePageRunsItsNewCode(invalidateWithINVLPG: Bool) throws {
        let (m, run) = try paged(adjust: { m in
            m.bus.load([0xB8, 0x11, 0x11, 0x00, 0x00, 0xC3], at: 0x12000)   // mov eax, 1111h; ret
            m.bus.load([0xB8, 0x22, 0x22, 0x00, 0x00, 0xC3], at: 0x13000)   // mov eax, 2222h; ret
        }) { a in
            a.mov(.esi, 0x12000)
            a.call(.esi)
            a.mov(.ebx, .eax)
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13007)
            if invalidateWithINVLPG {
                a.invlpg(Mem(disp: 0x12000))
            } else {
                a.mov(.eax, .cr3)
                a.mov(.cr3, .eax)
            }
            a.call(.esi)
            a.mov(.ecx, .eax)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1111)
        #expect(m.r32(.rcx) == 0x2222)
    }

    @Test func invlpgAnywhereInALargePageDropsAllOfIt() throws {
        // A 4 MiB page read at two places; the PDE is changed and INVLPG names only the second
        // place: the first must see the new mapping too (the TLB caches large pages in 4 KiB pieces).
        let m = TestMachine.protected(ramSize: 0x80_0000)
        m.identityMap32()
        m.setPDE(0x40_0000, 0x0000_0087)
        m.bus.setDword(0x1111, at: 0x3000)
        m.bus.setDword(0x2222, at: 0x40_3000)
        let run = try m.runPM { a in
            a.enablePaging(cr4: Self.pse)
            a.mov(.ebx, Mem(disp: 0x40_3000, size: .dword))
            a.mov(.ecx, Mem(disp: 0x40_5000, size: .dword))
            a.mov(Mem(disp: PM.pageDirectory + 4, size: .dword), 0x40_0087)
            a.invlpg(Mem(disp: 0x40_5000))
            a.mov(.edx, Mem(disp: 0x40_3000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1111)
        #expect(m.r32(.rdx) == 0x2222)
    }

    @Test func invlpgInATwoMegabytePageDropsAllOfIt() throws {
        // The same with a PAE 2 MiB page, remapped from physical 0 to physical 0x40_0000.
        let m = TestMachine.protected(ramSize: 0x80_0000)
        let pdpt = 0x10_4000, directory = 0x10_5000
        for i in 0..<4 { m.setQword(0, at: pdpt + 8 * i) }
        m.setQword(UInt64(directory) | 1, at: pdpt)
        for i in 0..<512 { m.setQword(0, at: directory + 8 * i) }
        m.setQword(0x87, at: directory)                 // 0–2 MiB identity
        m.setQword(0x87, at: directory + 8)             // 2–4 MiB → 0
        m.bus.setDword(0x1111, at: 0x3000)
        m.bus.setDword(0x2222, at: 0x40_3000)
        let run = try m.runPM { a in
            a.enablePaging(cr3: pdpt, cr4: Int(ControlRegister4.physicalAddressExtension))
            a.mov(.ebx, Mem(disp: 0x20_3000, size: .dword))
            a.mov(.ecx, Mem(disp: 0x20_5000, size: .dword))
            a.mov(Mem(disp: directory + 8, size: .dword), 0x40_0087)
            a.invlpg(Mem(disp: 0x20_5000))
            a.mov(.edx, Mem(disp: 0x20_3000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1111)
        #expect(m.r32(.rdx) == 0x2222)
    }

    @Test func cr3ReloadDropsNonGlobalButKeepsGlobalTranslations() throws {
        // Both pages are remapped in memory; a CR3 reload makes only the non-global change visible.
        let (m, run) = try paged(cr4: Self.pge, adjust: { m in
            m.setPTE(0x12000, 0x12107)   // global
            m.bus.setDword(0x1111, at: 0x12000)
            m.bus.setDword(0x2222, at: 0x13000)
            m.bus.setDword(0x3333, at: 0x14000)
            m.bus.setDword(0x4444, at: 0x15000)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.mov(.ebx, Mem(disp: 0x14000, size: .dword))
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13107)
            a.mov(Mem(disp: PM.firstPageTable + 0x14 * 4, size: .dword), 0x15007)
            a.mov(.eax, .cr3)
            a.mov(.cr3, .eax)
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.mov(.ecx, Mem(disp: 0x14000, size: .dword))
            // INVLPG drops a global entry too.
            a.invlpg(Mem(disp: 0x12000))
            a.mov(.edx, Mem(disp: 0x12000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x1111, "the global translation survived the CR3 load")
        #expect(m.r32(.rcx) == 0x4444)
        #expect(m.r32(.rdx) == 0x2222)
    }

    @Test func clearingPGEFlushesGlobalTranslations() throws {
        let (m, run) = try paged(cr4: Self.pge, adjust: { m in
            m.setPTE(0x12000, 0x12107)
            m.bus.setDword(0x1111, at: 0x12000)
            m.bus.setDword(0x2222, at: 0x13000)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13107)
            a.mov(.eax, 0)
            a.mov(.cr4, .eax)
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x2222)
    }

    @Test func globalBitIsIgnoredWithoutPGE() throws {
        let (m, run) = try paged(adjust: { m in
            m.setPTE(0x12000, 0x12107)
            m.bus.setDword(0x1111, at: 0x12000)
            m.bus.setDword(0x2222, at: 0x13000)
        }) { a in
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13107)
            a.mov(.eax, .cr3)
            a.mov(.cr3, .eax)
            a.mov(.ebx, Mem(disp: 0x12000, size: .dword))
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 0x2222)
    }

    @Test func cr3KeepsItsCacheControlBits() throws {
        let (m, run) = try paged { a in
            a.mov(.eax, PM.pageDirectory | 0x18)
            a.mov(.cr3, .eax)
            a.mov(.ebx, .cr3)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == UInt32(PM.pageDirectory) | 0x18)
    }

    @Test func pagingWithoutProtectionIsGP0() throws {
        let m = try runExpectingException(.generalProtection) { a, mark in
            a.mov(.eax, 0x8000_0000)
            a.bind(mark)
            a.mov(.cr0, .eax)
        }
        #expect(m.cpu.controlRegister0 & ControlRegister0.paging == 0)
    }

    // MARK: Decoded code

    /// `mov ebx, n; ret` at physical `address`.
    private func routine(_ m: TestMachine, _ n: UInt8, at address: Int) {
        m.bus.load([0xBB, n, 0, 0, 0, 0xC3], at: address)
    }

    @Test func remappedCodePageRunsTheNewCode() throws {
        let (m, run) = try paged(adjust: { m in
            self.routine(m, 1, at: 0x12000)
            self.routine(m, 2, at: 0x13000)
        }) { a in
            a.mov(.esi, 0x12000)
            a.call(.esi)
            a.mov(.ecx, .ebx)
            a.mov(Mem(disp: PM.firstPageTable + 0x12 * 4, size: .dword), 0x13007)
            a.invlpg(Mem(disp: 0x12000))
            a.call(.esi)
        }
        m.expectClean(run)
        #expect(m.r32(.rcx) == 1)
        #expect(m.r32(.rbx) == 2)
    }

    @Test func codeWrittenThroughAnAliasRunsThroughTheOtherMapping() throws {
        // Linear 0x14000 is a writable alias of the code page at linear (and physical) 0x12000.
        let (m, run) = try paged(adjust: { m in
            self.routine(m, 1, at: 0x12000)
            m.setPTE(0x14000, 0x12007)
        }) { a in
            a.mov(.esi, 0x12000)
            a.call(.esi)
            a.mov(.ecx, .ebx)
            a.mov(Mem(disp: 0x14001, size: .byte), 7)
            a.call(.esi)
        }
        m.expectClean(run)
        #expect(m.r32(.rcx) == 1)
        #expect(m.r32(.rbx) == 7)
    }

    @Test func codeModifiedThroughAnAliasWithinTheRunningBlock() throws {
        // At linear 0x12000: a store through the alias at 0x14000 into the immediate of the very
        // next instruction, which must run with the new immediate. The alias was written once
        // before the code was decoded, so its TLB entry had a write tag then.
        let (m, run) = try paged(adjust: { m in
            m.setPTE(0x14000, 0x12007)
            // mov byte [0x14007], 7 (C6 05 07 40 01 00 07); mov ebx, 1 (BB 01 00 00 00); ret
            m.bus.load([0xC6, 0x05, 0x08, 0x40, 0x01, 0x00, 0x07, 0xBB, 0x01, 0x00, 0x00, 0x00, 0xC3], at: 0x12000)
        }) { a in
            a.mov(.al, Mem(disp: 0x14100, size: .byte))
            a.mov(Mem(disp: 0x14100, size: .byte), .al)       // a write tag for the alias page
            a.mov(.esi, 0x12000)
            a.call(.esi)
        }
        m.expectClean(run)
        #expect(m.r32(.rbx) == 7)
        #expect(m.bus.byte(at: 0x12008) == 7)
    }

    @Test func switchingAddressSpacesRunsEachSpacesCode() throws {
        // A second page directory that shares the first one's table except for linear 0x12000.
        let (m, run) = try paged(adjust: { m in
            self.routine(m, 1, at: 0x12000)
            self.routine(m, 2, at: 0x13000)
            let secondDirectory = 0x10_2000, secondTable = 0x10_3000
            for i in 0..<1024 { m.bus.setDword(m.bus.dword(at: PM.firstPageTable + 4 * i), at: secondTable + 4 * i) }
            m.bus.setDword(0x13007, at: secondTable + 0x12 * 4)
            m.bus.setDword(UInt32(secondTable) | 7, at: secondDirectory)
        }) { a in
            a.mov(.esi, 0x12000)
            a.call(.esi)
            a.mov(.ecx, .ebx)
            a.mov(.eax, 0x10_2000)
            a.mov(.cr3, .eax)
            a.call(.esi)
            a.mov(.edx, .ebx)
            a.mov(.eax, PM.pageDirectory)
            a.mov(.cr3, .eax)
            a.call(.esi)
        }
        m.expectClean(run)
        #expect(m.r32(.rcx) == 1)
        #expect(m.r32(.rdx) == 2)
        #expect(m.r32(.rbx) == 1)
    }

    @Test func accessedBitWritesToACodePageDropItsDecodedCode() throws {
        // A page table on a code page: entry 1 (bytes 0x12004–7) is also the immediate of
        // `mov ebx, imm32` at 0x12003. The walk that sets its accessed bit changes that code.
        let (m, run) = try paged(adjust: { m in
            m.bus.load([0x90, 0x90, 0x90, 0xBB, 0x07, 0x50, 0x00, 0x00, 0xC3], at: 0x12000)
            m.setPDE(0x40_0000, 0x12007)
            m.bus.setDword(0xABCD, at: 0x5000)
        }) { a in
            a.mov(.esi, 0x12000)
            a.call(.esi)
            a.mov(.ecx, .ebx)
            a.mov(.edx, Mem(disp: 0x40_1000, size: .dword))
            a.call(.esi)
        }
        m.expectClean(run)
        #expect(m.r32(.rcx) == 0x5007)
        #expect(m.r32(.rdx) == 0xABCD)
        #expect(m.r32(.rbx) == 0x5027)
    }
}
