@testable import X86
import Testing
import X86Asm

/// The x87 in 32-bit protected mode: #MF through the IDT, the protected-mode environment
/// layout with selectors (SDM Vol. 1, Figure 8-9), and stores checked against the segment.
@Suite struct X87ProtectedModeTests {
    typealias G = X87Guest
    typealias P = ProtectedModeGuest

    @Test func floatingPointErrorIsDeliveredThroughTheIDT() throws {
        let m = TestMachine()
        try m.runProtected { a in
            a.mov(.eax, .cr0)
            a.or(.eax, Int(ControlRegister0.numericError))
            a.mov(.cr0, .eax)
            a.fninit()
            G.loadControlWord(&a, 0x037B)
            a.x87(0xD9, 0xE8)
            a.x87(0xD9, 0xEE)
            a.x87(0xDE, 0xF9)                               // 1 / 0, ZE unmasked
            a.fwait()
        }
        #expect(m.handledVectors == [ExceptionVector.x87FloatingPoint.rawValue])
    }

    @Test func environmentCarriesSelectorsAndOffsets() throws {
        let m = TestMachine()
        var faddOffset: UInt32 = 0
        try m.runProtected { a in
            a.fninit()
            a.x87(0xD9, 0xE8)
            faddOffset = a.position
            a.x87(.fadd64, G.at(0x10))                      // DC 05 disp32: FOP 0x405
            a.x87(.fnstenv, G.at(0x100))
            a.fxsave(G.at(0x200))
        }
        #expect(m.handledVectors.isEmpty)
        let dwords = (0..<7).map { m.bus.dword(at: G.data + 0x100 + 4 * $0) }
        #expect(dwords == [0xFFFF_037F, 0xFFFF_3800, 0xFFFF_3FFF, faddOffset, 0x0405_0000 | UInt32(P.Selector.code32),
                           UInt32(G.data + 0x10), 0xFFFF_0000 | UInt32(P.Selector.data32)])
        #expect(m.bus.word(at: G.data + 0x200 + 12) == P.Selector.code32, "FXSAVE FCS")
        #expect(m.bus.word(at: G.data + 0x200 + 20) == P.Selector.data32, "FXSAVE FDS")
        #expect(m.bus.dword(at: G.data + 0x200 + 8) == faddOffset, "FXSAVE FIP")
    }

    /// FNSAVE into a read-only data segment is #GP(0) before any byte is written.
    @Test func storesIntoAReadOnlySegmentFault() throws {
        let m = TestMachine()
        let descriptor = P.segment(base: 0, limit: 0xFFFFF, access: 0x90, flags: 0xC)   // read-only data
        try m.runProtected { a in
            let slot = P.gdtBase + Int(P.Selector.free)
            a.mov(Mem(disp: slot, size: .dword), Int(descriptor[0..<4].reversed().reduce(0) { $0 << 8 | Int($1) }))
            a.mov(Mem(disp: slot + 4, size: .dword), Int(descriptor[4..<8].reversed().reduce(0) { $0 << 8 | Int($1) }))
            a.mov(.ax, Int(P.Selector.free))
            a.mov(.es, .ax)
            a.fninit()
            a.x87(.fnsave, Mem(disp: G.data + 0x100, segment: .es))
        }
        #expect(m.handledVectors == [ExceptionVector.generalProtection.rawValue])
        #expect(m.reportedErrorCodes == [0])
        #expect(m.memory(0x100, count: 108).allSatisfy { $0 == 0 })
    }
}
