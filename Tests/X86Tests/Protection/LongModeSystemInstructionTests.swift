import Testing
@testable import X86
import X86Asm

/// System instructions in IA-32e mode.
///
/// LTR and LLDT in IA-32e mode read 16-byte descriptors (SDM Vol. 3A, 7.2.3 and 8.2.3 [LDT],
/// Vol. 2, LTR and LLDT): the upper half's type field (bits 12:8 of its upper dword) must be 0
/// and the 64-bit base canonical, else #GP(selector) and nothing is loaded. Bochs does the same
/// (fetch_raw_descriptor_64 and the IsCanonical checks of LTR_Ew and LLDT_Ew).
@Suite struct LongModeSystemInstructionTests {
    typealias Gates = LongModeCallGateTests
    /// The 16-byte descriptor under test, at 0x60–0x6F.
    static let selector: UInt16 = 0x60

    enum Load: CaseIterable { case ltr, lldt }

    enum UpperHalf: CaseIterable {
        case valid, typeFieldSet, sFlagSet, nonCanonicalBase
        /// The upper half's qword: bits 63:32 of the base in its low dword.
        var qword: UInt64 {
            switch self {
            case .valid: return 0xFFFF_8000                 // base 0xFFFF_8000_0000_3000: canonical
            case .typeFieldSet: return 0x0000_0900 << 32    // an 8-byte TSS descriptor's type there
            case .sFlagSet: return 0x0000_1000 << 32
            case .nonCanonicalBase: return 0x0000_8000      // base 0x0000_8000_0000_3000
            }
        }
    }

    @Test(arguments: Load.allCases, UpperHalf.allCases)
    func upperHalfIsChecked(_ load: Load, _ upper: UpperHalf) throws {
        let type: UInt64 = load == .ltr ? 0x89 : 0x82       // present, DPL 0, available 64-bit TSS / LDT
        let low: UInt64 = 0x67 | UInt64(0x3000) << 16 | type << 40
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            Gates.setGDTEntry(m, Self.selector, (low, upper.qword))
        }) { a in
            Gates.begin(&a)
            a.mov(.eax, Int(Self.selector))
            if load == .ltr { a.ltr(.ax) } else { a.lldt(.ax) }
        }
        #expect(run.reason == .halted)
        let loaded = load == .ltr ? m.cpu.taskRegister : m.cpu.ldtr
        if upper == .valid {
            #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
            #expect(loaded.selector == Self.selector && loaded.base == 0xFFFF_8000_0000_3000)
        } else {
            #expect(m.events.deliveries.map(\.vector) == [13], "\(m.events.deliveries)")
            #expect(m.events.deliveries.first?.errorCode == UInt32(Self.selector), "#GP(selector)")
            #expect(loaded.selector != Self.selector, "nothing loaded")
            if load == .ltr {
                #expect(m.accessByte(Self.selector) == 0x89, "the TSS was not marked busy")
            }
        }
    }

    /// MOV SS with a null selector in 64-bit mode at level 0 loads it (SDM Vol. 2, MOV: #GP only
    /// outside 64-bit mode, at CPL 3 or with RPL ≠ CPL); the stack keeps working. Linux's
    /// startup_64 does `xor %eax,%eax; mov %eax,%ss`. RPL ≠ CPL (selector 3) and ring 3 fault.
    @Test(arguments: [(UInt16(0), false, false), (3, false, true), (0, true, true)])
    func nullStackSegmentIn64BitMode(_ selector: UInt16, _ ring3: Bool, _ faults: Bool) throws {
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in Gates.prepare(m) }) { a in
            Gates.begin(&a, ring3: ring3)
            a.mov(.eax, Int(selector))
            a.mov(.ss, .ax)
            a.push(0x1234)
            a.pop(.rbx)
        }
        #expect(run.reason == .halted)
        if faults {
            #expect(m.events.deliveries.map(\.vector) == [13], "\(m.events.deliveries)")
        } else {
            #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
            #expect(m.cpu.segs[SegmentRegister.ss.rawValue].selector == 0)
            #expect(m.cpu.register(.rbx) == 0x1234)
        }
    }

    /// A REP string instruction in 64-bit code above 64 KiB that repeats in several chunks
    /// resumes at its own RIP: rewinding the instruction pointer between chunks masked it to
    /// 16 bits (CS.D is 0 in 64-bit code), so Linux's decompressor, copying itself with
    /// `std; rep movsq` at 0x10002AA, went on at 0x2AA.
    @Test func repeatedStringInstructionAbove64KiBResumesAtItsRIP() throws {
        let code = 0x1_2000, count = 3 * CPU.stringChunk + 5
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            m.bus.load([0xF3, 0xA4, 0xF4], at: code)     // rep movsb; hlt
        }) { a in
            Gates.begin(&a)
            a.mov(.ecx, count)
            a.mov(.esi, 0x4_0000)
            a.mov(.edi, 0x8_0000)
            a.mov(.eax, code)
            a.jmp(Reg64.rax)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
        #expect(m.cpu.register(.rcx) == 0)
        #expect(m.cpu.register(.rdi) == UInt64(0x8_0000 + count))
        #expect(m.cpu.instructionPointer == UInt64(code + 3), "halted after the HLT at \(code + 2)")
    }

    /// In 64-bit mode RBP and RSP are 64-bit stack addresses whatever SS.B says (a null SS has
    /// B = 0, a flat data SS B = 1): LEAVE takes all of RBP, ENTER stores and loads all of the
    /// frame pointer, and POP FS moves all of RSP. The stack here is at 4 GiB + 8000h (a 1 GiB page
    /// at 4 GiB mapping physical 0); Linux runs with a null SS and its stacks at FFFFFFFF8xxxxxxxh.
    @Test(arguments: [false, true])
    func stackAddressesAre64BitIn64BitMode(_ nullStackSegment: Bool) throws {
        let high: Int = 0x1_0000_8000
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            m.setQword(0x87, at: LongModePagingTests.pdpt + 4 * 8)
            m.setQword(0x1122_3344_5566_7788, at: 0x8000)
        }) { a in
            Gates.begin(&a)
            if nullStackSegment {
                a.xor(.eax, .eax)
                a.mov(.ss, .ax)
            }
            a.movabs(.rbp, high)
            a.leave()                             // RSP = 4 GiB + 8008h, RBP = [4 GiB + 8000h]
            a.mov(.r8, .rbp)
            a.mov(.r9, .rsp)
            a.movabs(.rsp, high + 0x100)
            a.movabs(.rbp, 0x5555_6666_7777_8888)
            a.enter(0x10, 0)                      // push RBP; RBP = RSP; RSP -= 10h
            a.mov(.r10, .rbp)
            a.mov(.r11, .rsp)
            a.push(0)
            a.pop(.fs)
            a.mov(.r12, .rsp)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
        #expect(m.cpu.register(.r8) == 0x1122_3344_5566_7788)
        #expect(m.cpu.register(.r9) == UInt64(high + 8))
        #expect(m.cpu.register(.r10) == UInt64(high + 0xF8))
        #expect(m.cpu.register(.r11) == UInt64(high + 0xE8))
        #expect(m.cpu.register(.r12) == UInt64(high + 0xE8))
        #expect(m.physicalQword(at: 0x80F8) == 0x5555_6666_7777_8888)
    }

    /// MOV to CR3 in IA-32e mode: a bit at or above MAXPHYADDR (CPUID 80000008h EAX[7:0]), bit 63
    /// included, is #GP(0) and CR3 keeps its value (SDM Vol. 3A, 4.5.2; Vol. 2, MOV CR). Bits
    /// below it load (PWT here).
    @Test(arguments: [UInt64(1) << CPU.physicalAddressBits, 1 << 51, 1 << 63, 1 << 3])
    func cr3BitsAboveMaxPhysicalAddressAreGP(_ bit: UInt64) throws {
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in Gates.prepare(m) }) { a in
            Gates.begin(&a)
            a.mov(.rax, .cr3)
            a.movabs(.rcx, Int(bitPattern: UInt(bit)))
            a.or(.rax, .rcx)
            a.mov(.cr3, .rax)
        }
        #expect(run.reason == .halted)
        let reserved = bit >> CPU.physicalAddressBits != 0
        #expect(m.events.deliveries.map(\.vector) == (reserved ? [13] : []), "\(m.events.deliveries)")
        if reserved { #expect(m.events.deliveries.first?.errorCode == 0) }
        #expect(m.cpu.cr3 == UInt64(LongModePagingTests.pml4) | (reserved ? 0 : bit))
    }

    /// A 64-bit IDT gate's last dword is reserved with no type field (SDM Vol. 3A, 6.14.1 and
    /// Figure 6-8; INT n lists no fault for it, unlike the "upper type field" of a 64-bit call
    /// gate), so a nonzero value at bits 12:8 there does not fault: delivery proceeds, as in QEMU.
    /// Bochs (long_mode_int) does raise #GP(vector × 8 + 2 + EXT) here; we follow the SDM.
    @Test func idtGateUpperTypeFieldIsIgnored() throws {
        let (m, run) = try LongModeExecutionTests.run64(prepare: { m, _ in
            Gates.prepare(m)
            m.setQword(0x0000_1F00 << 32, at: Gates.idt + 16 * 0x40 + 8)
        }) { a in
            Gates.begin(&a)
            a.int(0x40)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40], "\(m.events.deliveries)")
        #expect(m.cpu.rip == UInt64(Gates.handler) + 1, "halted in the handler")
    }
}
