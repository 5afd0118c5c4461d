import Firmware
import Hardware
import Machine
import Testing
import X86Asm

/// QEMU's pc-testdev in a whole machine, used as kvm-unit-tests use it: a guest raises ISA
/// interrupt lines through port 2000h + n and takes them through the 8259 pair or the I/O
/// APIC, echoes bytes through the latch at E0h and keeps data in the I/O memory at FF000000h.
@Suite struct PCTestDeviceGuestTests {
    static let reportPort = UInt8(SmallGuest.debugPort)

    /// Runs `payload` with the pc-testdev, a debug console and an isa-debug-exit window at
    /// F4h–F7h (as kvm-unit-tests' `-device isa-debug-exit,iobase=0xf4,iosize=0x4`).
    static func run(_ payload: [UInt8], testDevice: Bool = true) throws -> (run: GuestRun, report: [UInt8]) {
        let report = ByteCapture()
        let run = try TestBoard.run(payload: payload) { configuration in
            configuration.pcTestDevice = testDevice
            configuration.exitPortRanges = [0xF4...0xF7]
            configuration.attachDebugConsole(report)
        }
        return (run, report.bytes)
    }

    /// Points real-mode vector `vector` at `handler`.
    static func setVector(_ a: inout Assembler, _ vector: Int, _ handler: Label) {
        a.mov(.ax, handler)
        a.mov(Mem(disp: vector * 4), .ax)
        a.mov(Mem(disp: vector * 4 + 2, size: .word), 0)
    }

    /// Writes the byte at `counter` to the report port.
    static func report(_ a: inout Assembler, _ counter: Label) {
        a.mov(.al, Mem(label: counter))
        a.out(.immediate(reportPort), .al)
    }

    /// Unmasks ISA line `line` at the 8259 pair (the firmware left all but the cascade
    /// masked, vectors 08h and 70h), then through port 2000h + line: raises it (one interrupt,
    /// taken at the next instruction boundary), writes 1 again (no new edge, no interrupt),
    /// lowers and raises it (a second one) and lowers it. The handler counts and sends EOIs;
    /// the guest reports the count before and after each step, then exits with it.
    static func picGuest(line: Int) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let handler = a.newLabel("irq"), count = a.newLabel("count")
            setVector(&a, line < 8 ? 0x08 + line : 0x70 + line - 8, handler)
            let maskPort: UInt8 = line < 8 ? 0x21 : 0xA1
            a.in(.al, .immediate(maskPort))
            a.and(.al, ~(1 << (line % 8)) & 0xFF)
            a.out(.immediate(maskPort), .al)
            a.mov(.dx, 0x2000 + line)
            report(&a, count)                        // 0
            a.sti()
            a.mov(.al, 1)
            a.out(.dx, .al)                          // rising edge
            report(&a, count)                        // 1
            a.mov(.al, 1)
            a.out(.dx, .al)                          // still high: nothing
            report(&a, count)                        // 1
            a.xor(.al, .al)
            a.out(.dx, .al)
            a.mov(.al, 1)
            a.out(.dx, .al)                          // low, then a new rising edge
            report(&a, count)                        // 2
            a.xor(.al, .al)
            a.out(.dx, .al)
            a.cli()
            a.mov(.al, Mem(label: count))
            a.out(0xF4, .al)
            a.haltLoop(interruptsEnabled: false)

            a.bind(handler)
            a.push(.ax)
            a.inc(Mem(label: count, size: .byte))
            if line >= 8 { a.outByte(0xA0, 0x20) }
            a.outByte(0x20, 0x20)
            a.pop(.ax)
            a.iret()
            a.bind(count)
            a.db([0])
        }
    }

    @Test(arguments: [5, 10])
    func anISALineRaisedThroughTheTestDeviceReachesThe8259(line: Int) throws {
        let (run, report) = try Self.run(Self.picGuest(line: line))
        #expect(report == [0, 1, 1, 2])
        #expect(run.outcome == .exitRequested(status: 2 << 1 | 1))
        let changes = run.records.named("testdev-irq")
        #expect(changes.map { $0.event["line"] } == Array(repeating: .number(UInt64(line)), count: 4))
        #expect(changes.map { $0.event["level"] } == [.number(1), .number(0), .number(1), .number(0)])
    }

    /// Without the device nothing answers at 2000h + n: the line never moves and the guest
    /// counts no interrupt.
    @Test func withoutTheDeviceNoInterruptArrives() throws {
        let (run, report) = try Self.run(Self.picGuest(line: 5), testDevice: false)
        #expect(report == [0, 0, 0, 0])
        #expect(run.outcome == .exitRequested(status: 1))
        #expect(run.records.named("testdev-irq").isEmpty)
    }

    /// Flat real mode ("unreal": DS with a 4 GiB limit) reaching the APICs at FEC00000h and
    /// FEE00000h; interrupts go through the real-mode IVT. The 8259 keeps line 10 masked, so
    /// only the I/O APIC can deliver it. The guest enables its local APIC (SVR = 1FFh), then:
    ///
    /// 1. pin 10 edge-triggered, vector 61h: raising line 10 gives one interrupt at once;
    /// 2. pin 10 level-triggered, vector 62h: the handler's first EOI leaves the line high, so
    ///    the I/O APIC sends it again; the second run lowers the line before its EOI: two;
    /// 3. pin 17 edge-triggered, vector 63h, through port 2011h (beyond the ISA lines): one.
    static func ioAPICGuest() throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let gdt = a.newLabel("gdt"), gdtr = a.newLabel("gdtr")
            let edge = a.newLabel("edge"), level = a.newLabel("level"), high = a.newLabel("high")
            let edgeCount = a.newLabel("edgeCount"), levelCount = a.newLabel("levelCount")
            let highCount = a.newLabel("highCount")
            setVector(&a, 0x61, edge)
            setVector(&a, 0x62, level)
            setVector(&a, 0x63, high)
            // Unreal mode: load a flat data segment in protected mode, keep it in real mode.
            a.lgdt(Mem(label: gdtr))
            a.mov(.eax, .cr0)
            a.or(.al, 1)
            a.mov(.cr0, .eax)
            a.mov(.bx, 0x10)
            a.mov(.ds, .bx)
            a.and(.al, 0xFE)
            a.mov(.cr0, .eax)

            func redirect(_ pin: Int, _ low: Int) {
                a.mov(Mem(disp: 0xFEC0_0000, size: .dword), 0x10 + 2 * pin)
                a.mov(Mem(disp: 0xFEC0_0010, size: .dword), low)
                a.mov(Mem(disp: 0xFEC0_0000, size: .dword), 0x11 + 2 * pin)
                a.mov(Mem(disp: 0xFEC0_0010, size: .dword), 0)     // physical destination: APIC 0
            }
            a.mov(Mem(disp: 0xFEE0_00F0, size: .dword), 0x1FF)    // software-enable, spurious FFh
            a.mov(.dx, 0x200A)

            redirect(10, 0x61)                                       // edge, fixed, unmasked
            a.sti()
            a.mov(.al, 1)
            a.out(.dx, .al)
            report(&a, edgeCount)
            a.xor(.al, .al)
            a.out(.dx, .al)

            redirect(10, 0x62 | 1 << 15)                             // level
            a.mov(.al, 1)
            a.out(.dx, .al)
            report(&a, levelCount)

            redirect(17, 0x63)
            a.mov(.dx, 0x2011)
            a.mov(.al, 1)
            a.out(.dx, .al)
            report(&a, highCount)
            a.xor(.al, .al)
            a.out(.dx, .al)
            a.haltLoop(interruptsEnabled: false)

            a.bind(edge)
            a.inc(Mem(label: edgeCount, size: .byte))
            a.mov(Mem(disp: 0xFEE0_00B0, size: .dword), 0)        // EOI
            a.iret()

            let eoi = a.newLabel("eoi")
            a.bind(level)
            a.push(.ax)
            a.push(.dx)
            a.inc(Mem(label: levelCount, size: .byte))
            a.cmp(Mem(label: levelCount, size: .byte), 2)
            a.jcc(.b, eoi)
            a.mov(.dx, 0x200A)
            a.xor(.al, .al)
            a.out(.dx, .al)                                          // lower the line first
            a.bind(eoi)
            a.mov(Mem(disp: 0xFEE0_00B0, size: .dword), 0)
            a.pop(.dx)
            a.pop(.ax)
            a.iret()

            a.bind(high)
            a.inc(Mem(label: highCount, size: .byte))
            a.mov(Mem(disp: 0xFEE0_00B0, size: .dword), 0)
            a.iret()

            a.bind(edgeCount)
            a.db([0])
            a.bind(levelCount)
            a.db([0])
            a.bind(highCount)
            a.db([0])
            a.emitFlatGDT(gdt: gdt, gdtr: gdtr)
        }
    }

    @Test func aLineRaisedThroughTheTestDeviceReachesTheIOAPIC() throws {
        let (run, report) = try Self.run(Self.ioAPICGuest())
        #expect(run.outcome == .allHalted)
        #expect(report == [1, 2, 1], "edge, level (delivered again until lowered), pin 17")
        let changes = run.records.named("testdev-irq").map { ($0.event["line"], $0.event["level"]) }
        #expect(changes.map(\.0) == [10, 10, 10, 10, 17, 17].map { TraceValue.number($0) })
        #expect(changes.map(\.1) == [1, 0, 1, 0, 1, 0].map { TraceValue.number($0) })
    }

    /// kvm-unit-tests' emulator checks on the device: `rep outsb` of a string to E0h leaves
    /// its last byte in the latch (its first, backwards); the I/O memory at FF000000h keeps
    /// what the CPU writes, read back unaligned. The guest reports each value it read.
    @Test func stringIOAndIOMemoryThroughTheCPU() throws {
        let payload = try SmallGuest.assemble { a in
            let text = a.newLabel("text"), gdt = a.newLabel("gdt"), gdtr = a.newLabel("gdtr")
            a.cld()
            a.mov(.si, text)
            a.mov(.cx, 16)
            a.mov(.dx, 0xE0)
            a.db([0xF3, 0x6E])                      // rep outsb
            a.in(.al, 0xE0)
            a.out(.immediate(Self.reportPort), .al)      // 'p'
            a.std()
            a.mov(.si, text)
            a.add(.si, 15)
            a.mov(.cx, 16)
            a.db([0xF3, 0x6E])
            a.cld()
            a.in(.al, 0xE0)
            a.out(.immediate(Self.reportPort), .al)      // 'a'
            a.mov(.eax, 0x4433_2211)
            a.out(0xE0, .eax)
            a.in(.ax, 0xE2)
            a.out(.immediate(Self.reportPort), .al)      // 33h
            a.in(.al, 0xEB)
            a.out(.immediate(Self.reportPort), .al)      // 44h, through the byte window

            a.lgdt(Mem(label: gdtr))
            a.mov(.eax, .cr0)
            a.or(.al, 1)
            a.mov(.cr0, .eax)
            a.mov(.bx, 0x10)
            a.mov(.ds, .bx)
            a.and(.al, 0xFE)
            a.mov(.cr0, .eax)
            a.mov(Mem(disp: 0xFF00_1000, size: .dword), 0x7856_3412)
            a.mov(.eax, Mem(disp: 0xFF00_1001, size: .dword))
            a.writeBytes(ofEAXTo: Self.reportPort)  // 34h 56h 78h 00h
            a.haltLoop(interruptsEnabled: false)

            a.bind(text)
            a.db(Array("abcdefghijklmnop".utf8))
            a.emitFlatGDT(gdt: gdt, gdtr: gdtr)
        }
        let (run, report) = try Self.run(payload)
        #expect(run.outcome == .allHalted)
        #expect(report == [UInt8(ascii: "p"), UInt8(ascii: "a"), 0x33, 0x44, 0x34, 0x56, 0x78, 0x00])
    }
}
