import Testing
import X86
import X86Asm

/// Accesses that leave plain RAM: MMIO through `Bus.readPhysical`/`writePhysical`, ROM that
/// ignores writes, and accesses straddling two pages.
@Suite struct PhysicalMemoryTests {
    /// A flat DS (cached 4 GiB limit) reaching the local APIC's page, which is not RAM.
    @Test func unmappedPhysicalMemoryGoesThroughTheBus() throws {
        let m = TestMachine()
        m.cpu.setSegment(.ds, SegmentCache(selector: 0, base: 0, limit: 0xFFFF_FFFF, attributes: 0x93))
        m.expectCleanHalt(try m.run { a in
            a.mov(.esi, 0xFEE0_0080)
            a.mov(Mem(.esi), .eax)
            a.mov(.ebx, Mem(.esi))
            a.hlt()
        })
        #expect(m.bus.unmappedWrites.count == 1)
        #expect(m.bus.unmappedWrites.first.map { [$0.address, UInt64($0.size), $0.value] } == [0xFEE0_0080, 4, 0])
        #expect(m.r32(.rbx) == 0xFFFF_FFFF, "an unclaimed read floats high")
    }

    @Test func romIgnoresWrites() throws {
        let m = TestMachine(rom: try ResetROM.image())
        m.expectCleanHalt(try m.run { a in
            a.mov(.ax, 0xF000)
            a.mov(.ds, .ax)
            a.mov(Mem(disp: 0xFFF0, size: .byte), 0x90)
            a.mov(.bl, Mem(disp: 0xFFF0))
            a.hlt()
        })
        #expect(m.r16(.rbx) & 0xFF == 0xB0, "still the ROM's `mov al, …` opcode")
        #expect(m.bus.rom[m.bus.rom.count - 16] == 0xB0)
    }

    @Test func wordAndDwordAccessesStraddlingAPage() throws {
        let m = try runSnippet { a in
            a.mov(Mem(disp: 0x4FFF, size: .word), 0xBEEF)
            a.mov(Mem(disp: 0x5FFE, size: .dword), 0x1234_5678)
            a.mov(.ax, Mem(disp: 0x4FFF))
            a.mov(.ebx, Mem(disp: 0x5FFE))
        }
        #expect(m.bus.byte(at: 0x4FFF) == 0xEF && m.bus.byte(at: 0x5000) == 0xBE)
        #expect(m.bus.dword(at: 0x5FFE) == 0x1234_5678)
        #expect(m.r16(.rax) == 0xBEEF && m.r32(.rbx) == 0x1234_5678)
    }
}
