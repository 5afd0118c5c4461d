import Testing
@testable import X86
import X86Asm

/// I/O protection (SDM Vol. 1, 19.5): CPL ≤ IOPL allows every port; otherwise each port's bit
/// in the TSS I/O-permission bitmap must be clear.
@Suite struct IOPermissionTests {
    typealias Selector = PM.Selector
    static let bitmap = ProtectedModeGuest.tssBase + 0x68

    /// Clears the bitmap bits of `ports`.
    static func allow(_ m: TestMachine, _ ports: [UInt16]) {
        for port in ports {
            let address = bitmap + Int(port >> 3)
            m.bus.load([m.bus.byte(at: address) & ~(1 << UInt8(port & 7))], at: address)
        }
    }

    /// Runs `body` at CPL 3 with IOPL `iopl`; returns the machine, the run and a mark bound before `body`.
    private func ring3(iopl: Int = 0, setup: (TestMachine) -> Void = { _ in }, _ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun, Label) {
        let m = TestMachine.protected()
        setup(m)
        var mark: Label!
        let run = try m.runPM { a in
            mark = a.newLabel()
            a.iretToRing3(flags: 0x2 | iopl << 12)
            a.mov(.eax, 0x1122_3344)
            a.mov(.edx, 0x80)
            a.bind(mark)
            body(&a)
            a.int(0x40)
        }
        return (m, run, mark)
    }

    @Test func ring0WithIOPL0MayUseAnyPort() throws {
        let m = TestMachine.protected()
        let run = try m.runPM { a in
            a.mov(.al, 0x5A)
            a.out(0x80, .al)
            a.in(.al, 0x61)
        }
        m.expectClean(run)
        #expect(m.bus.writes(to: 0x80) == [0x5A])
    }

    @Test func ring3WithIOPL3IgnoresTheBitmap() throws {
        let (m, run, _) = try ring3(iopl: 3) { a in
            a.out(0x80, .al)
            a.in(.eax, .dx)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        #expect(m.bus.writes(to: 0x80) == [0x44])
    }

    @Test func ring3WithASetBitmapBitIsGP0AndChangesNothing() throws {
        let (m, run, mark) = try ring3 { a in
            a.in(.al, 0x80)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        #expect(m.bus.writes(to: 0x80) == [])
        let (o, orun, omark) = try ring3 { a in
            a.out(.dx, .al)
        }
        o.expectException(orun, 13, errorCode: 0, at: omark)
        #expect(o.bus.writes(to: 0x80) == [])
    }

    @Test func clearBitsAllowExactlyTheirPorts() throws {
        let (m, run, _) = try ring3(setup: { Self.allow($0, [0x80]) }) { a in
            a.out(0x80, .al)
        }
        #expect(m.handledVectors == [0x40])
        #expect(m.bus.writes(to: 0x80) == [0x44])
        #expect(run.reason == .halted)
        let (n, nrun, nmark) = try ring3(setup: { Self.allow($0, [0x80]) }) { a in
            a.out(0x81, .al)
        }
        n.expectException(nrun, 13, errorCode: 0, at: nmark)
    }

    @Test func wideAccessesNeedEveryPortsBit() throws {
        // A word at 0x87 covers 0x87 and 0x88: two bitmap bytes.
        let (m, run, mark) = try ring3(setup: { Self.allow($0, [0x87]) }) { a in
            a.out(0x87, .ax)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
        let (w, wrun, _) = try ring3(setup: { Self.allow($0, [0x87, 0x88]) }) { a in
            a.out(0x87, .ax)
        }
        #expect(wrun.reason == .halted)
        #expect(w.handledVectors == [0x40])
        #expect(w.bus.writes(to: 0x87) == [0x3344])
        let (d, drun, dmark) = try ring3(setup: { Self.allow($0, [0x84, 0x85, 0x86]) }) { a in
            a.out(0x84, .eax)
        }
        d.expectException(drun, 13, errorCode: 0, at: dmark)
        let (e, erun, _) = try ring3(setup: { Self.allow($0, [0x84, 0x85, 0x86, 0x87]) }) { a in
            a.out(0x84, .eax)
        }
        #expect(erun.reason == .halted)
        #expect(e.bus.writes(to: 0x84) == [0x1122_3344])
    }

    @Test func portsBeyondTheTSSLimitAreDenied() throws {
        // TSS limit 0x68 + 0x10: the bitmap covers ports 0–0x7F, and port 0x78's check reads
        // bytes 0x77–0x78 (inside); port 0x80's would read 0x78–0x79 (outside).
        let shortTSS: (TestMachine) -> Void = { m in
            m.setSystemSegment(Selector.tss, base: UInt32(ProtectedModeGuest.tssBase), limit: 0x78, type: 9)
            for i in 0..<0x20 { m.bus.load([0], at: Self.bitmap + i) }
        }
        let (m, run, _) = try ring3(setup: shortTSS) { a in
            a.out(0x78, .al)
        }
        #expect(run.reason == .halted)
        #expect(m.handledVectors == [0x40])
        let (n, nrun, nmark) = try ring3(setup: shortTSS) { a in
            a.out(0x80, .al)
        }
        n.expectException(nrun, 13, errorCode: 0, at: nmark)
    }

    @Test func bitmapBaseBeyondTheLimitDeniesEverything() throws {
        let (m, run, mark) = try ring3(setup: { m in
            Self.allow(m, [0x80])
            m.bus.setWord(0x8000, at: ProtectedModeGuest.tssBase + 0x66)
        }) { a in
            a.out(0x80, .al)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }

    @Test func stringIOChecksThePortToo() throws {
        let (m, run, mark) = try ring3 { a in
            a.mov(.esi, 0x3000)
            a.mov(.ecx, 4)
            a.outsb(.rep)
        }
        m.expectException(run, 13, errorCode: 0)
        #expect(m.stackDword(1) == run[mark] + 10, "the OUTSB after two 5-byte MOVs")
        #expect(m.r32(.rsi) == 0x3000)
        #expect(m.r32(.rcx) == 4)
        let (a, arun, _) = try ring3(setup: { Self.allow($0, [0x80]) }) { a in
            a.mov(.edi, 0x3000)
            a.mov(.ecx, 2)
            a.insb(.rep)
            a.mov(.ebx, .edi)
        }
        #expect(arun.reason == .halted)
        #expect(a.handledVectors == [0x40])
        #expect(a.r32(.rbx) == 0x3002)
        #expect(a.bus.word(at: 0x3000) == 0xFFFF)
    }

    @Test func sixteenBitTSSHasNoBitmap() throws {
        let (m, run, mark) = try ring3(setup: { m in
            // The TSS the prologue loads is a 286 TSS here (ring-0 stack at SP0/SS0 = 2/4).
            m.setSystemSegment(Selector.tss, base: UInt32(ProtectedModeGuest.tssBase), limit: 0x2B + 0x400, type: 1)
            m.bus.setWord(UInt16(ProtectedModeGuest.kernelStackTop), at: ProtectedModeGuest.tssBase + 2)
            m.bus.setWord(Selector.data32, at: ProtectedModeGuest.tssBase + 4)
            Self.allow(m, [0x80])
        }) { a in
            a.out(0x80, .al)
        }
        m.expectException(run, 13, errorCode: 0, at: mark)
    }
}
