import Testing
@testable import X86
import X86Asm

@Suite struct ProtectedModeEntryTests {
    typealias Selector = ProtectedModeGuest.Selector

    @Test func entersFlat32BitModeAndRunsThere() throws {
        let m = TestMachine()
        let reason = try m.runProtected { a in
            a.mov(.eax, 0x1234_5678)
            a.mov(Mem(disp: 0x10_0000, size: .dword), .eax)   // above 1 MiB through a 4 GiB segment
            a.mov(.ebx, Mem(disp: 0x10_0000, size: .dword))
        }
        m.expectCleanHalt(reason)
        #expect(m.r32(.rbx) == 0x1234_5678)
        #expect(m.cpu.segment(.cs).selector == Selector.code32)
        #expect(m.cpu.segment(.cs).defaultSize32)
        #expect(m.cpu.segment(.ss).limit == 0xFFFF_FFFF)
    }

    @Test func nullDataSegmentFaultsOnUseWithGP0() throws {
        let m = TestMachine()
        let reason = try m.runProtected { a in
            a.xor(.eax, .eax)
            a.mov(.ds, .ax)
            a.mov(.ebx, Mem(disp: 0x100, size: .dword))
        }
        #expect(reason == .halted)
        #expect(m.handledVectors == [13])
        #expect(m.reportedErrorCodes == [0])
    }

    @Test func loadingASelectorBeyondTheGDTLimitIsGPWithTheSelector() throws {
        let m = TestMachine()
        try m.runProtected { a in
            a.mov(.ax, 0x80)
            a.mov(.ds, .ax)
        }
        #expect(m.handledVectors == [13])
        #expect(m.reportedErrorCodes == [0x80])
    }

    @Test func writingThroughACodeSegmentIsGP() throws {
        let m = TestMachine()
        try m.runProtected { a in
            a.mov(Mem(.eax, size: .dword, segment: .cs), .eax)
        }
        #expect(m.handledVectors == [13])
        #expect(m.reportedErrorCodes == [0])
    }

    @Test func returnsToRealModeKeepingTheCachedLimit() throws {
        // "Unreal mode": a 4 GiB data segment loaded in protected mode stays usable after CR0.PE is cleared.
        let m = TestMachine()
        let reason = try m.run { a in
            ProtectedModeGuest.install(on: m)
            ProtectedModeGuest.enter(&a)
            let real = a.newLabel(), back = a.newLabel()
            a.jmpFar(segment: Selector.code16, real)
            a.bits(.b16)
            a.bind(real)
            a.mov(.eax, .cr0)
            a.and(.eax, ~1)
            a.mov(.cr0, .eax)
            a.jmpFar(segment: 0, back)
            a.bind(back)
            a.xor(.ax, .ax)
            a.mov(.ds, .ax)
            a.mov(.ss, .ax)
            a.mov(.sp, 0x7000)
            a.mov(.eax, 0xCAFE_F00D)
            a.mov(Mem(.esi, disp: 0x20_0000 - 0x1000, size: .dword), .eax)   // beyond 64 KiB
            a.mov(.ebx, Mem(.esi, disp: 0x20_0000 - 0x1000, size: .dword))
            a.hlt()
        }
        m.expectCleanHalt(reason)
        #expect(!m.cpu.isProtectedMode)
        #expect(m.r32(.rbx) == 0xCAFE_F00D)
    }
}
