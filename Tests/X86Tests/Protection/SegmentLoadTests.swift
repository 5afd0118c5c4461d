import Testing
@testable import X86
import X86Asm

/// Segment-register loads and segment-limit checks (SDM Vol. 2, MOV/POP/LDS; Vol. 3A, 3.4.5, 5.3–5.6).
@Suite struct SegmentLoadTests {
    typealias Selector = PM.Selector
    static let test: UInt16 = 0x40
    static let other: UInt16 = 0x48

    /// Loads `selector` into `register` at CPL 0 and reports the outcome.
    private func load(_ register: SegReg, _ selector: UInt16, setup: (TestMachine) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ebx, 0x1111)
            a.mov(.cx, Int(selector))
            a.bind(mark)
            a.mov(register, .cx)
            a.mov(.ebx, 0x2222)
        }
        return (m, run, mark)
    }

    @Test func dataSegmentLoadSetsTheCacheFromTheDescriptor() throws {
        let (m, run, _) = try load(.ds, Self.test) { m in
            m.setSegment(Self.test, base: 0x12_3000, limit: 0x4321, access: 0x92, flags: 0x4)
        }
        m.expectClean(run)
        let ds = m.cpu.segment(.ds)
        #expect(ds.selector == Self.test)
        #expect(ds.base == 0x12_3000)
        #expect(ds.limit == 0x4321)
        #expect(ds.defaultSize32)
        // The load set the descriptor's accessed bit.
        #expect(m.accessByte(Self.test) == 0x93)
    }

    @Test func pageGranularLimitCoversTheWholeLastPage() throws {
        let (m, run, _) = try load(.es, Self.test) { m in
            m.setSegment(Self.test, base: 0, limit: 0x12, access: 0x93, flags: 0x8)
        }
        m.expectClean(run)
        #expect(m.cpu.segment(.es).limit == 0x12FFF)
    }

    @Test func notPresentDataSegmentIsNPWithTheSelector() throws {
        let (m, run, mark) = try load(.ds, Self.test | 2) { m in
            m.setSegment(Self.test, access: PM.dataAccess(dpl: 3, present: false))
        }
        m.expectException(run, 11, errorCode: UInt32(Self.test), at: mark)
        // The faulting load changed nothing.
        #expect(m.cpu.segment(.ds).selector == Selector.data32)
        #expect(m.r32(.rbx) == 0x1111)
    }

    @Test func systemDescriptorInADataRegisterIsGP() throws {
        let (m, run, mark) = try load(.es, Selector.tss, setup: { _ in })
        m.expectException(run, 13, errorCode: UInt32(Selector.tss), at: mark)
    }

    @Test func executeOnlyCodeInADataRegisterIsGP() throws {
        let (m, run, mark) = try load(.fs, Self.test) { m in
            m.setSegment(Self.test, access: PM.codeAccess(readable: false))
        }
        m.expectException(run, 13, errorCode: UInt32(Self.test), at: mark)
    }

    @Test func readableCodeLoadsIntoADataRegisterButCannotBeWritten() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.test, access: PM.codeAccess())
        m.bus.setDword(0xA5A5_5A5A, at: 0x3000)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ax, Int(Self.test))
            a.mov(.gs, .ax)
            a.mov(.ebx, Mem(disp: 0x3000, size: .dword, segment: .gs))
            a.bind(mark)
            a.mov(Mem(disp: 0x3000, size: .dword, segment: .gs), .ebx)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.r32(.rbx) == 0xA5A5_5A5A)
    }

    @Test func dataSegmentMorePrivilegedThanRPLIsGP() throws {
        // CPL 0, DPL 1, RPL 2: RPL > DPL.
        let (m, run, mark) = try load(.ds, Self.test | 2) { m in
            m.setSegment(Self.test, access: PM.dataAccess(dpl: 1))
        }
        m.expectException(run, 13, errorCode: UInt32(Self.test), at: mark)
    }

    @Test func dataSegmentWithRPLEqualToDPLLoads() throws {
        let (m, run, _) = try load(.ds, Self.test | 2) { m in
            m.setSegment(Self.test, access: PM.dataAccess(dpl: 2))
        }
        m.expectClean(run)
        #expect(m.cpu.segment(.ds).selector == Self.test | 2)
    }

    @Test func conformingCodeLoadsWhateverTheRPL() throws {
        let (m, run, _) = try load(.ds, Self.test | 3) { m in
            m.setSegment(Self.test, access: PM.codeAccess(dpl: 0, conforming: true))
        }
        m.expectClean(run)
    }

    @Test func selectorBeyondTheGDTLimitIsGP() throws {
        let (m, run, mark) = try load(.ds, 0x200) { _ in }
        m.expectException(run, 13, errorCode: 0x200, at: mark)
    }

    @Test func ldtSelectorWithANullLDTRIsGP() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.xor(.eax, .eax)
            a.lldt(.ax)
            a.mov(.ax, 0x0C)
            a.bind(mark)
            a.mov(.ds, .ax)
        }
        m.expectException(run, 13, errorCode: 0x0C, at: mark)
    }

    @Test func ldtSelectorLoadsFromTheLDT() throws {
        let m = TestMachine.protected()
        let ldt = PM.scratch
        m.setSystemSegment(Self.other, base: UInt32(ldt), limit: 0x17, type: 2)
        m.bus.load(ProtectedModeGuest.segment(base: 0x4_0000, limit: 0xFFFF, access: 0x92, flags: 0x4), at: ldt + 8)
        let run = try m.runPM { a in
            a.mov(.ax, Int(Self.other))
            a.lldt(.ax)
            a.mov(.ax, 0x0C | 0)
            a.mov(.ds, .ax)
            a.mov(.ax, 0x1C)          // index 3: beyond the LDT limit of 0x17
            a.mov(.es, .ax)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [13])
        #expect(m.reportedErrorCodes == [0x1C])
        #expect(m.cpu.segment(.ds).base == 0x4_0000)
        #expect(m.bus.byte(at: ldt + 8 + 5) == 0x93, "accessed bit set in the LDT")
    }

    @Test func nullSelectorsLoadIntoDataRegistersAtAnyRPL() throws {
        let (m, run, _) = try load(.fs, 3) { _ in }
        m.expectClean(run)
        #expect(m.cpu.segment(.fs).selector == 3)
    }

    // MARK: SS

    @Test func nullStackSegmentIsGP0() throws {
        let (m, run, mark) = try load(.ss, 0) { _ in }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.cpu.segment(.ss).selector == Selector.data32)
    }

    @Test func stackSegmentWithRPLOtherThanCPLIsGP() throws {
        let (m, run, mark) = try load(.ss, Selector.data32 | 1) { _ in }
        m.expectException(run, 13, errorCode: UInt32(Selector.data32), at: mark)
    }

    @Test func readOnlyStackSegmentIsGP() throws {
        let (m, run, mark) = try load(.ss, Self.test) { m in
            m.setSegment(Self.test, access: PM.dataAccess(writable: false))
        }
        m.expectException(run, 13, errorCode: UInt32(Self.test), at: mark)
    }

    @Test func codeAsStackSegmentIsGP() throws {
        let (m, run, mark) = try load(.ss, Selector.code32) { _ in }
        m.expectException(run, 13, errorCode: UInt32(Selector.code32), at: mark)
    }

    @Test func stackSegmentOfAnotherPrivilegeIsGP() throws {
        let (m, run, mark) = try load(.ss, Self.test) { m in
            m.setSegment(Self.test, access: PM.dataAccess(dpl: 1))
        }
        m.expectException(run, 13, errorCode: UInt32(Self.test), at: mark)
    }

    @Test func notPresentStackSegmentIsSS() throws {
        let (m, run, mark) = try load(.ss, Self.test) { m in
            m.setSegment(Self.test, access: PM.dataAccess(present: false))
        }
        m.expectException(run, 12, errorCode: UInt32(Self.test), at: mark)
    }

    @Test func popIntoASegmentRegisterLeavesESPOnAFault() throws {
        let m = TestMachine.protected()
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.push(0x208)
            a.mov(.esi, .esp)
            a.bind(mark)
            a.pop(.ds)
        }
        m.expectException(run, 13, errorCode: 0x208, at: mark)
        // The handler's frame sits right below the un-popped selector.
        #expect(m.stackDword(4) == 0x208)
        #expect(m.r32(.rsi) == ProtectedModeGuest.kernelStackTop - 4)
    }

    @Test func ldsWithABadSelectorLeavesTheRegisterAlone() throws {
        let m = TestMachine.protected()
        m.bus.setDword(0xDEAD_BEEF, at: 0x3000)
        m.bus.setWord(0x1F8, at: 0x3004)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.esi, 0x1234)
            a.bind(mark)
            a.emit([0xC5, 0x35, 0x00, 0x30, 0x00, 0x00])   // lds esi, [0x3000]
        }
        m.expectException(run, 13, errorCode: 0x1F8, at: mark)
        #expect(m.r32(.rsi) == 0x1234)
        #expect(m.cpu.segment(.ds).selector == Selector.data32)
    }

    @Test func movToCSIsUD() throws {
        let (m, run, mark) = try load(.cs, Selector.code32) { _ in }
        m.expectException(run, 6, errorCode: nil, at: mark)
    }

    // MARK: Limits

    /// Accesses `offset` (a dword unless `byte`) through DS with the descriptor given, and reports
    /// whether it faulted (#GP(0)).
    private func access(_ offset: UInt32, limit: UInt32, access: UInt8, flags: UInt8, byte: Bool = false,
                        write: Bool = false, segment: SegReg = .ds) throws -> [UInt8] {
        let m = TestMachine.protected()
        m.setSegment(Self.test, base: 0, limit: limit, access: access, flags: flags)
        try m.runPM { a in
            a.mov(.ax, Int(Self.test))
            a.mov(segment, .ax)
            a.mov(.esi, Int(offset))
            let mem = Mem(.esi, size: byte ? .byte : .dword, segment: segment)
            if write {
                if byte { a.mov(mem, .al) } else { a.mov(mem, .eax) }
            } else {
                if byte { a.mov(.bl, mem) } else { a.mov(.ebx, mem) }
            }
        }
        return m.handledVectors
    }

    @Test func byteGranularLimitIsTheLastValidOffset() throws {
        #expect(try access(0x0FFF, limit: 0xFFF, access: 0x92, flags: 0x4, byte: true) == [])
        #expect(try access(0x1000, limit: 0xFFF, access: 0x92, flags: 0x4, byte: true) == [13])
        #expect(try access(0x0FFC, limit: 0xFFF, access: 0x92, flags: 0x4) == [])
        #expect(try access(0x0FFD, limit: 0xFFF, access: 0x92, flags: 0x4) == [13], "a dword straddling the limit")
        #expect(try access(0xFFFF_FFFF, limit: 0xFFF, access: 0x92, flags: 0x4) == [13], "wrapping past 4 GiB")
    }

    @Test func pageGranularLimitScalesBy4K() throws {
        #expect(try access(0x1FFF, limit: 0x1, access: 0x92, flags: 0xC, byte: true) == [])
        #expect(try access(0x2000, limit: 0x1, access: 0x92, flags: 0xC, byte: true) == [13])
    }

    @Test func expandDownSegmentsAllowOnlyOffsetsAboveTheLimit() throws {
        // 32-bit (B = 1): valid offsets are limit+1 … FFFFFFFF.
        #expect(try access(0x0FFF, limit: 0xFFF, access: 0x96, flags: 0x4, byte: true) == [13])
        #expect(try access(0x1000, limit: 0xFFF, access: 0x96, flags: 0x4, byte: true) == [])
        #expect(try access(0xFFFF_FFFC, limit: 0xFFF, access: 0x96, flags: 0x4) == [])
        #expect(try access(0xFFFF_FFFD, limit: 0xFFF, access: 0x96, flags: 0x4) == [13])
        #expect(try access(0x0FFE, limit: 0xFFF, access: 0x96, flags: 0x4, write: true) == [13])
        // 16-bit (B = 0): valid offsets are limit+1 … FFFF.
        #expect(try access(0xFFFF, limit: 0xFFF, access: 0x96, flags: 0x0, byte: true) == [])
        #expect(try access(0x1_0000, limit: 0xFFF, access: 0x96, flags: 0x0, byte: true) == [13])
        // G = 1 expand-down: the limit is scaled (limit 1 → offsets 2000h and up).
        #expect(try access(0x1FFF, limit: 0x1, access: 0x96, flags: 0xC, byte: true) == [13])
        #expect(try access(0x2000, limit: 0x1, access: 0x96, flags: 0xC, byte: true) == [])
    }

    @Test func readOnlyDataCannotBeWritten() throws {
        #expect(try access(0x3000, limit: 0xFFFFF, access: 0x90, flags: 0xC, write: true) == [13])
        #expect(try access(0x3000, limit: 0xFFFFF, access: 0x90, flags: 0xC) == [])
    }

    @Test func stackLimitViolationIsSS0() throws {
        let m = TestMachine.protected()
        m.setSegment(Self.test, base: 0, limit: 0x8FFF, access: 0x92, flags: 0x4)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.mov(.ax, Int(Self.test))
            a.mov(.ss, .ax)
            a.mov(.esp, 0x9000)
            a.bind(mark)
            a.mov(.ebx, Mem(.esp, size: .dword))   // ESP = limit + 1
        }
        // The frame goes onto the same stack, below the limit, where it fits.
        m.expectException(run, 12, errorCode: 0, at: mark)
    }

    @Test func expandDownStackOverflowIsSSAndTheFrameCannotFollow() throws {
        // An expand-down stack whose lowest valid offset is 0x8000 (B = 1): two pushes from
        // 0x8008 fit, the third is #SS(0). Delivering it onto the same full stack faults again:
        // #SS while delivering #SS is a double fault, and #DF cannot be delivered either.
        let m = TestMachine.protected()
        m.setSegment(Self.test, base: 0, limit: 0x7FFF, access: 0x96, flags: 0x4)
        let run = try m.runPM { a in
            a.mov(.ax, Int(Self.test))
            a.mov(.ss, .ax)
            a.mov(.esp, 0x8008)
            a.push(.eax)
            a.push(.eax)
            a.push(.eax)
        }
        #expect(run.reason == .shutdown)
        #expect(m.events.shutdownChains == [[12, 8, 12]])
        #expect(m.r32(.rsp) == 0x8000)
    }

    // MARK: Back in real mode

    /// Enters protected mode, runs `pm` (32-bit), returns to real mode with the IVT at 0, runs `real` (16-bit).
    private func backToRealMode(setup: (TestMachine) -> Void = { _ in }, _ pm: (inout Assembler) -> Void,
                                _ real: (inout Assembler) -> Void) throws -> (TestMachine, StopReason) {
        let m = TestMachine.protected()
        setup(m)
        let reason = try m.run { a in
            ProtectedModeGuest.enter(&a)
            pm(&a)
            let sixteen = a.newLabel(), back = a.newLabel(), ivt = a.newLabel(), over = a.newLabel()
            a.jmpFar(segment: Selector.code16, sixteen)
            a.bits(.b16)
            a.bind(sixteen)
            a.mov(.eax, .cr0)
            a.and(.eax, ~1)
            a.mov(.cr0, .eax)
            a.jmpFar(segment: 0, back)
            a.bind(back)
            a.jmp(over)
            a.bind(ivt)
            a.dw(0x3FF)
            a.dd(0)
            a.bind(over)
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)
            a.lidt(Mem(label: ivt))
            real(&a)
            a.hlt()
        }
        return (m, reason)
    }

    @Test func aSegmentNullInProtectedModeIsValidAfterARealModeLoad() throws {
        // The null load left limit 0 in the cache (kept, as real-mode loads keep limits), but the
        // register is valid again: offset 0 can be read and written.
        let (m, reason) = try backToRealMode({ a in
            a.xor(.eax, .eax)
            a.mov(.fs, .ax)
        }, { a in
            a.mov(.ax, 0x300)
            a.mov(.fs, .ax)
            a.mov(.al, 0x5A)
            a.mov(Mem(disp: 0, size: .byte, segment: .fs), .al)
        })
        m.expectCleanHalt(reason)
        #expect(m.bus.byte(at: 0x3000) == 0x5A)
        #expect(m.cpu.segment(.fs).attributes & SegmentCache.unusable == 0)
    }

    @Test func realModeCanWriteThroughCS() throws {
        // After the far jump in real mode, CS is an ordinary read/write real-mode segment.
        let (m, reason) = try backToRealMode({ _ in }, { a in
            a.mov(.ax, 0x5678)
            a.mov(Mem(disp: 0x3020, size: .word, segment: .cs), .ax)
        })
        m.expectCleanHalt(reason)
        #expect(m.bus.word(at: 0x3020) == 0x5678)
    }

    @Test func readOnlyDataFromProtectedModeIsWritableAfterARealModeLoad() throws {
        let (m, reason) = try backToRealMode(setup: { $0.setSegment(0x48, limit: 0xFFFF, access: 0x90, flags: 0) }, { a in
            a.mov(.ax, 0x48)
            a.mov(.es, .ax)
        }, { a in
            a.mov(.ax, 0x300)
            a.mov(.es, .ax)
            a.mov(Mem(disp: 0x30, size: .word, segment: .es), .ax)
        })
        m.expectCleanHalt(reason)
        #expect(m.bus.word(at: 0x3030) == 0x300)
    }
}
