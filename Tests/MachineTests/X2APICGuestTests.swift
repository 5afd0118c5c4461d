import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// x2APIC mode on a whole machine, and the trace events of the local APICs: `ipi` with its
/// shorthand, `nmi` on the CPU that receives one, and `apic-timer` when armed and fired.
@Suite struct X2APICGuestTests {
    /// Where the guests leave their results.
    static let results = 0x500

    /// Four processors. The BSP switches its APIC to x2APIC mode (the page at FEE00000h then
    /// reads as nothing), sends INIT to all excluding self and a start-up IPI to each AP by its
    /// 32-bit physical ID through MSR 830h (twice, as the MP specification says; the second
    /// finds them running). Each AP, still in xAPIC mode after the firmware's INIT, switches to
    /// x2APIC mode, enables its APIC through MSR 80Fh, records its x2APIC ID and logical ID and
    /// sends the BSP a fixed IPI with vector 40h + ID. The BSP counts the three in, sends itself
    /// a SELF IPI (vector 44h), sends AP 2 an NMI by its logical x2APIC ID (cluster 0, bit 2),
    /// waits for that AP's NMI handler, and reports the count through the exit port.
    @Test func theBootstrapProcessorStartsX2APICProcessors() throws {
        let r = Self.results
        let payload = try SmallGuest.assemble { a in
            let handlerBase = a.newLabel("handlers"), common = a.newLabel("common"), nmi = a.newLabel("nmi")
            let wait = a.newLabel("wait"), waitNMI = a.newLabel("waitNMI")
            a.emitUnrealMode([.fs])
            a.mov(.eax, Mem(disp: 0xFEE0_0030, size: .dword, segment: .fs))
            a.mov(Mem(disp: r + 0x30, size: .dword), .eax)                  // the version, by MMIO
            for n in 1...4 {                                                   // vectors 41h–44h
                a.mov(Mem(disp: (0x40 + n) * 4, size: .word), 0)
                a.mov(Mem(disp: (0x40 + n) * 4 + 2, size: .word), 0)
            }
            a.mov(.ax, handlerBase)
            for n in 1...4 {
                a.mov(Mem(disp: (0x40 + n) * 4, size: .word), .ax)
                a.add(.ax, 6)                                                  // each stub: inc byte; jmp short
            }
            a.mov(.ax, nmi)
            a.mov(Mem(disp: 2 * 4, size: .word), .ax)
            a.mov(Mem(disp: 2 * 4 + 2, size: .word), 0)
            // xAPIC → x2APIC.
            a.mov(.ecx, 0x1B)
            a.rdmsr()
            a.or(.eax, 0x400)
            a.wrmsr()
            a.mov(.eax, Mem(disp: 0xFEE0_0030, size: .dword, segment: .fs))
            a.mov(Mem(disp: r + 0x34, size: .dword), .eax)                  // nothing there now
            a.mov(.ecx, 0x802)
            a.rdmsr()
            a.mov(Mem(disp: r + 0x4, size: .dword), .eax)                   // the BSP's x2APIC ID
            // INIT to all excluding self; then SIPI 90h to x2APIC IDs 1, 2, 3, twice.
            a.mov(.ecx, 0x830)
            a.mov(.eax, 0x000C_4500)
            a.xor(.edx, .edx)
            a.wrmsr()
            for round in 0..<2 {
                let delay = a.newLabel("delay\(round)")
                a.mov(.cx, 30_000)
                a.bind(delay)
                a.loop(delay)
                for id in 1...3 {
                    a.mov(.ecx, 0x830)
                    a.mov(.eax, 0x0000_4690)
                    a.mov(.edx, id)
                    a.wrmsr()
                }
            }
            a.sti()
            a.bind(wait)
            a.cmp(Mem(disp: r, size: .word), 3)
            a.jcc(.b, wait)
            a.mov(.ecx, 0x83F)                                                 // SELF IPI, vector 44h
            a.mov(.eax, 0x44)
            a.xor(.edx, .edx)
            a.wrmsr()
            a.mov(.ecx, 0x830)                                                 // NMI, logical, to cluster 0 bit 2
            a.mov(.eax, 0x0000_4C00)
            a.mov(.edx, 0x0000_0004)
            a.wrmsr()
            a.bind(waitNMI)
            a.cmp(Mem(disp: r + 0x40, size: .byte), 1)
            a.jcc(.b, waitNMI)
            a.cli()
            a.mov(.al, Mem(disp: r, size: .byte))
            a.out(0xF4, .al)
            // Handlers: per vector, count it (byte r+10h+n), then count all and EOI via MSR 80Bh.
            a.bind(handlerBase)
            for n in 1...4 {
                a.inc(Mem(disp: r + 0x10 + n, size: .byte))                     // 4 bytes
                a.jmpShort(common)                                             // 2 bytes
            }
            a.bind(common)
            a.push(.eax)
            a.push(.ecx)
            a.push(.edx)
            a.inc(Mem(disp: r, size: .word))
            a.mov(.ecx, 0x80B)
            a.xor(.eax, .eax)
            a.xor(.edx, .edx)
            a.wrmsr()
            a.pop(.edx)
            a.pop(.ecx)
            a.pop(.eax)
            a.iret()
            // The NMI handler, which AP 2 runs.
            a.bind(nmi)
            a.inc(Mem(disp: r + 0x40, size: .byte))
            a.iret()
        }
        var ap = Assembler(bits: .b16, origin: 0)
        let park = ap.newLabel()
        ap.xor(.ax, .ax)
        ap.mov(.ds, .ax)
        ap.mov(.ecx, 0x1B)
        ap.rdmsr()
        ap.or(.eax, 0x400)
        ap.wrmsr()
        ap.mov(.ecx, 0x80F)
        ap.mov(.eax, 0x1FF)
        ap.xor(.edx, .edx)
        ap.wrmsr()
        ap.mov(.ecx, 0x802)
        ap.rdmsr()
        ap.mov(.esi, .eax)
        ap.mov(.ecx, 0x80D)
        ap.rdmsr()
        ap.mov(Mem(index: .esi, scale: 4, disp: r + 0x20, size: .dword), .eax)   // its LDR
        ap.mov(.eax, .esi)
        ap.add(.eax, 0x4040)                                                  // fixed, vector 40h + ID
        ap.xor(.edx, .edx)                                                    // to x2APIC ID 0
        ap.mov(.ecx, 0x830)
        ap.wrmsr()
        ap.bind(park)
        ap.cli()
        ap.hlt()
        ap.jmpShort(park)
        let apCode = try ap.finish()
        let run = try TestBoard.run(payload: payload, configure: {
            $0.processorCount = 4
            $0.exitPort = 0xF4
        }, prepare: { $0.writeMemory(apCode, at: 0x9_0000) })

        #expect(run.outcome == .exitRequested(status: 4 * 2 + 1), "three APs and the SELF IPI: \(run.outcome)")
        let memory = run.machine.readMemory(UInt64(r), count: 0x48)
        func word(_ offset: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(memory[offset + $1]) << (8 * UInt32($1)) } }
        #expect(word(0x30) == LocalAPIC.version && word(0x34) == 0xFFFF_FFFF, "the page is not decoded in x2APIC mode")
        #expect(word(0x4) == 0, "the BSP's x2APIC ID")
        #expect(Array(memory[0x11...0x14]) == [1, 1, 1, 1], "vectors 41h, 42h, 43h and 44h once each")
        #expect((1...3).map { word(0x20 + 4 * $0) } == [0x2, 0x4, 0x8], "logical x2APIC IDs: cluster 0, bit ID")
        #expect(memory[0x40] == 1, "AP 2 took the NMI")
        #expect(run.machine.cpus.allSatisfy { $0.isInX2APICMode })

        let guest = run.records.firstGuestRecords
        let ipis = guest.filter { $0.event.name == "ipi" }
        let fromBSP = ipis.filter { $0.event.cpu == 0 }
        #expect(fromBSP.map { $0.event["mode"] } == ["init"] + Array(repeating: "startup", count: 6) + ["fixed", "nmi"])
        #expect(fromBSP.first?.event["shorthand"] == "all-but-self" && fromBSP.first?.event["to"] == .numbers([1, 2, 3]))
        #expect(fromBSP[1...3].map { $0.event["destination"] } == ["x2apic-physical 1", "x2apic-physical 2", "x2apic-physical 3"])
        #expect(fromBSP[1...3].map { $0.event["to"] } == [.numbers([1]), .numbers([2]), .numbers([3])])
        #expect(fromBSP[1...3].allSatisfy { $0.event["shorthand"] == "none" && $0.event["vector"] == 0x90 })
        let selfIPI = fromBSP[7].event
        #expect(selfIPI["shorthand"] == "self" && selfIPI["vector"] == 0x44 && selfIPI["to"] == .numbers([0]))
        let nmiIPI = fromBSP[8].event
        #expect(nmiIPI["destination"] == "x2apic-logical 0x4" && nmiIPI["to"] == .numbers([2]))
        #expect(guest.filter { $0.event.name == "sipi" }.map(\.event.cpu) == [1, 2, 3], "the second round is ignored")
        for id in 1...3 {
            let own = ipis.filter { $0.event.cpu == id }
            #expect(own.count == 1)
            #expect(own.first?.event["mode"] == "fixed" && own.first?.event["vector"] == .number(UInt64(0x40 + id)))
            #expect(own.first?.event["destination"] == "x2apic-physical 0" && own.first?.event["to"] == .numbers([0]))
        }
        let nmis = guest.filter { $0.event.name == "nmi" }
        #expect(nmis.map(\.event.cpu) == [2])
        #expect(nmis.first?.event["source"] == "ipi" && nmis.first?.event["from"] == 0)
    }

    /// A guest arms the local APIC timer once (one-shot, 50 µs at divide-by-1, vector 40h) and
    /// then periodically (every 100 µs); the trace shows each arming with its mode and deadline
    /// and each firing with its vector. Without a trace audience nothing of the timer is kept.
    @Test func apicTimerEventsWhenArmedAndFired() throws {
        let payload = try SmallGuest.assemble { a in
            let handler = a.newLabel("timer"), wait = a.newLabel(), waitMore = a.newLabel()
            a.emitUnrealMode([.fs])
            a.mov(.ax, handler)
            a.mov(Mem(disp: 0x40 * 4, size: .word), .ax)
            a.mov(Mem(disp: 0x40 * 4 + 2, size: .word), 0)
            a.mov(Mem(disp: 0xFEE0_03E0, size: .dword, segment: .fs), 0xB)        // divide by 1
            a.mov(Mem(disp: 0xFEE0_0320, size: .dword, segment: .fs), 0x40)       // one-shot, vector 40h
            a.mov(Mem(disp: 0xFEE0_0380, size: .dword, segment: .fs), 50_000)
            a.sti()
            a.bind(wait)
            a.cmp(Mem(disp: Self.results, size: .byte), 1)
            a.jcc(.b, wait)
            a.mov(Mem(disp: 0xFEE0_0320, size: .dword, segment: .fs), 0x2_0040)   // periodic
            a.mov(Mem(disp: 0xFEE0_0380, size: .dword, segment: .fs), 100_000)
            a.bind(waitMore)
            a.cmp(Mem(disp: Self.results, size: .byte), 4)
            a.jcc(.b, waitMore)
            a.mov(Mem(disp: 0xFEE0_0320, size: .dword, segment: .fs), 0x3_0040)   // periodic, masked
            a.haltLoop(interruptsEnabled: false)
            a.bind(handler)
            a.inc(Mem(disp: Self.results, size: .byte))
            a.mov(Mem(disp: 0xFEE0_00B0, size: .dword, segment: .fs), 0)          // EOI
            a.iret()
        }
        let run = try TestBoard.run(payload: payload)
        #expect(run.outcome == .allHalted)
        let timer = run.records.filter { $0.event.name == "apic-timer" }
        #expect(timer.map { $0.event["state"] } == ["armed", "fired", "armed", "fired", "fired", "fired"],
                "\(timer.map(EventTrace.humanLine))")
        guard timer.count == 6 else { return }
        #expect(timer.allSatisfy { $0.event.cpu == 0 })
        #expect(timer[0].event["mode"] == "one-shot" && timer[2].event["mode"] == "periodic")
        for (armed, fired) in [(0, 1), (2, 3)] {
            guard case .number(let deadline) = timer[armed].event["deadline"] else {
                Issue.record("no deadline in \(EventTrace.humanLine(timer[armed]))")
                continue
            }
            #expect(deadline == timer[armed].time + (armed == 0 ? 50_000 : 100_000), "armed at its write")
            #expect(timer[fired].time >= deadline && timer[fired].time - deadline < 100, "fired at its deadline")
        }
        #expect(timer[3].time - timer[2].time == 100_000 || timer[3].time - timer[2].time < 100_100)
        #expect(timer.dropFirst().allSatisfy { $0.event["state"] == "armed" || $0.event["vector"] == 0x40 })

        // The same run with nobody watching: the timer leaves nothing in the recent ring.
        let quiet = try Machine(try TestBoard.configuration(payload: payload).with { $0.keepTrace = false })
        #expect(!quiet.trace.isTracing)
        let quietOutcome = quiet.run()
        #expect(quietOutcome == .allHalted)
        #expect(!quiet.trace.recent.contains { $0.event.name == "apic-timer" })
        #expect(quiet.trace.recent.contains { $0.event.name == "halt" })
    }
}
