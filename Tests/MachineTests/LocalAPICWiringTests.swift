import Firmware
import Machine
import Testing
import X86Asm

/// How the 8259 pair reaches a processor through the APICs, as on a PC: its INTR is wired to
/// every LINT0 and to the I/O APIC's pin 0, so a guest picks the route (MP specification 1.4,
/// 3.6.2); and where a CPU finds its local APIC page (IA32_APIC_BASE).
@Suite struct LocalAPICWiringTests {
    /// Where the guests leave their results.
    static let results = 0x500

    /// How a guest sets up the path from the 8259 to the CPU before counting timer ticks.
    enum Route: CaseIterable {
        /// As the firmware leaves it: LINT0 of the BSP in ExtINT mode.
        case firmwareVirtualWire
        /// LINT0 masked: no route.
        case lint0Masked
        /// LINT0 masked, the APIC globally disabled: LINT0 is the CPU's INTR pin again.
        case apicGloballyDisabled
        /// LINT0 masked, the I/O APIC's pin 0 sends ExtINT messages to APIC 0.
        case ioAPICExternalInterrupt

        var reachesTheCPU: Bool { self != .lint0Masked }
    }

    /// A 10 kHz timer runs for about 1 ms of virtual time (1 M instructions) with interrupts
    /// on; its handler counts ticks at 0:500h.
    @Test(arguments: Route.allCases)
    func timerTicksReachTheBootstrapProcessor(route: Route) throws {
        let payload = try SmallGuest.assemble { a in
            let handler = a.newLabel("tick"), wait = a.newLabel()
            a.emitUnrealMode([.fs])
            a.mov(Mem(disp: Self.results, size: .word), 0)
            a.mov(.ax, handler)
            a.mov(Mem(disp: 8 * 4, size: .word), .ax)
            a.mov(Mem(disp: 8 * 4 + 2, size: .word), 0)
            if route != .firmwareVirtualWire {
                a.mov(Mem(disp: 0xFEE0_0350, size: .dword, segment: .fs), 0x1_8700)
            }
            switch route {
            case .apicGloballyDisabled:
                a.mov(.ecx, 0x1B)
                a.mov(.eax, 0xFEE0_0000)                       // bit 11 (enable) clear
                a.xor(.edx, .edx)
                a.wrmsr()
            case .ioAPICExternalInterrupt:
                a.mov(Mem(disp: 0xFEC0_0000, size: .dword, segment: .fs), 0x10)
                a.mov(Mem(disp: 0xFEC0_0010, size: .dword, segment: .fs), 0x700)   // ExtINT, edge, APIC 0
            case .firmwareVirtualWire, .lint0Masked:
                break
            }
            a.outByte(0x43, 0x36)                                 // channel 0, mode 3, 119 clocks
            a.outByte(0x40, 119)
            a.outByte(0x40, 0)
            a.outByte(0x21, 0xFA)                                 // IRQ 0 unmasked
            a.sti()
            a.mov(.ecx, 500_000)
            a.bind(wait)
            a.dec(.ecx)
            a.jccShort(.nz, wait)
            a.haltLoop(interruptsEnabled: false)
            a.bind(handler)
            a.inc(Mem(disp: Self.results, size: .word))
            a.outByte(0x20, 0x20)
            a.iret()
        }
        let run = try TestBoard.run(payload: payload)
        let ticks = run.machine.readMemory(UInt64(Self.results), count: 2).le16(at: 0)
        if route.reachesTheCPU {
            #expect((9...11).contains(ticks), "\(ticks) ticks in 1 ms at 10 kHz")
        } else {
            #expect(ticks == 0)
        }
    }

    /// IA32_APIC_BASE moves the page: the registers answer at the new address, the old one
    /// shows what lies there (nothing: all ones), and moving back uncovers the RAM beneath.
    @Test func theAPICPageFollowsItsBaseRegister() throws {
        let ram = 0x20_0000
        let payload = try SmallGuest.assemble { a in
            a.emitUnrealMode([.fs])
            a.mov(Mem(disp: ram + 0x30, size: .dword, segment: .fs), 0x1234_5678)
            for (step, base) in [(0, ram), (1, 0xFEE0_0000)] {
                a.mov(.ecx, 0x1B)
                a.mov(.eax, base | 0x800)
                a.xor(.edx, .edx)
                a.wrmsr()
                a.mov(.eax, Mem(disp: ram + 0x30, size: .dword, segment: .fs))
                a.mov(Mem(disp: Self.results + 8 * step, size: .dword), .eax)
                a.mov(.eax, Mem(disp: 0xFEE0_0030, size: .dword, segment: .fs))
                a.mov(Mem(disp: Self.results + 8 * step + 4, size: .dword), .eax)
            }
            a.haltLoop(interruptsEnabled: false)
        }
        let run = try TestBoard.run(payload: payload)
        let words = run.machine.readMemory(UInt64(Self.results), count: 16)
        #expect(words.le32(at: 0) == 0x0005_0014)                 // version, at the new base
        #expect(words.le32(at: 4) == 0xFFFF_FFFF)                 // nothing at FEE00030h
        #expect(words.le32(at: 8) == 0x1234_5678)                 // the RAM, uncovered
        #expect(words.le32(at: 12) == 0x0005_0014)
    }

    /// The local APIC timer in TSC-deadline mode: armed 100 µs of TSC ahead through
    /// IA32_TSC_DEADLINE, it interrupts when the TSC reaches the deadline (the handler reads
    /// the TSC) and the MSR reads 0 afterwards.
    @Test func tscDeadlineTimerFiresAtItsDeadline() throws {
        let payload = try SmallGuest.assemble { a in
            let handler = a.newLabel("timer"), wait = a.newLabel()
            a.emitUnrealMode([.fs])
            a.mov(.ax, handler)
            a.mov(Mem(disp: 0x40 * 4, size: .word), .ax)
            a.mov(Mem(disp: 0x40 * 4 + 2, size: .word), 0)
            a.mov(Mem(disp: 0xFEE0_0320, size: .dword, segment: .fs), 0x4_0040)   // TSC-deadline, vector 40h
            a.rdtsc()
            a.add(.eax, 100_000)
            a.adc(.edx, 0)
            a.mov(Mem(disp: Self.results, size: .dword), .eax)                // the deadline
            a.mov(.ecx, 0x6E0)
            a.wrmsr()
            a.sti()
            a.mov(.ecx, 100_000)                                              // 200 µs
            a.bind(wait)
            a.dec(.ecx)
            a.jccShort(.nz, wait)
            a.cli()
            a.mov(.ecx, 0x6E0)
            a.rdmsr()
            a.mov(Mem(disp: Self.results + 8, size: .dword), .eax)            // 0: disarmed
            a.haltLoop(interruptsEnabled: false)
            a.bind(handler)
            a.rdtsc()
            a.mov(Mem(disp: Self.results + 4, size: .dword), .eax)            // when it fired
            a.mov(Mem(disp: 0xFEE0_00B0, size: .dword, segment: .fs), 0)      // EOI
            a.iret()
        }
        let run = try TestBoard.run(payload: payload)
        let words = run.machine.readMemory(UInt64(Self.results), count: 12)
        let deadline = words.le32(at: 0), fired = words.le32(at: 4)
        #expect(fired >= deadline && fired - deadline < 50, "deadline \(deadline), fired at \(fired)")
        #expect(words.le32(at: 8) == 0)
    }
}

private extension Array where Element == UInt8 {
    func le16(at offset: Int) -> UInt16 { UInt16(self[offset]) | UInt16(self[offset + 1]) << 8 }
}
