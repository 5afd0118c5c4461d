import Firmware
import Hardware
import Machine
import Testing
import X86
import X86Asm

/// A guest that writes pseudo-random values to every I/O port, as bytes, then words, then
/// dwords (reading each port back after the write), and halts. Whatever devices make of it —
/// resets included — the machine must neither crash nor hang the test process.
///
/// The sweep keeps its position in RAM at 0000:0600, so after a reset it triggers (INIT, hard,
/// or a full reset with RAM kept) the firmware boots it again and it resumes after the port
/// that reset the machine.
///
/// The ACPI PM block is taken out of the sweep (on every boot the guest clears ACPI_EN in the
/// LPC bridge, which the firmware set): a write of SLP_EN with S5's SLP_TYP to PM1_CNT powers
/// the machine off by design, which no resume can follow. `ACPIPowerManagementTests` writes
/// garbage to every register of the block instead. The pvpanic device (505h) stays in the
/// sweep with `--on-panic none`: a write of PANICKED stops the run by design under the default
/// policy; with `none` it is only traced.
@Suite struct PortRobustnessTests {
    enum State {
        static let base: UInt64 = 0x600
        static let magic = 0x5A5A
        /// word: `magic` once the sweep has started
        static let valid = 0x600
        /// word: 0 bytes, 1 words, 2 dwords, 3 done
        static let phase = 0x602
        /// word: the port being written
        static let port = 0x604
        /// dword: xorshift32 state
        static let random = 0x606
        /// word: boots that resumed the sweep
        static let resumes = 0x60A
    }

    static func sweepGuest(seed: UInt32) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let resume = a.newLabel("resume"), loop = a.newLabel("loop"), done = a.newLabel("done")
            let notByte = a.newLabel(), dword = a.newLabel(), next = a.newLabel(), nextPort = a.newLabel()
            a.mov(.dx, 0xCF8)                    // LPC bridge 00:1F.0, ACPI_CNTL (44h) ← 0
            a.mov(.eax, 0x8000_F844)
            a.out(.dx, .eax)
            a.mov(.dx, 0xCFC)
            a.mov(.al, 0)
            a.out(.dx, .al)
            a.mov(.dx, 0xCF8)                    // and deselect it, so the sweep's CFCh writes miss it
            a.xor(.eax, .eax)
            a.out(.dx, .eax)
            a.cmp(Mem(disp: State.valid, size: .word), State.magic)
            a.jcc(.e, resume)
            a.mov(Mem(disp: State.valid, size: .word), State.magic)
            a.mov(Mem(disp: State.phase, size: .word), 0)
            a.mov(Mem(disp: State.port, size: .word), 0)
            a.mov(Mem(disp: State.random, size: .dword), Int(seed))
            a.mov(Mem(disp: State.resumes, size: .word), 0)
            a.jmp(loop)

            a.bind(resume)                       // skip the port whose write reset the machine
            a.inc(Mem(disp: State.resumes, size: .word))
            a.jmp(nextPort)

            a.bind(loop)
            a.cmp(Mem(disp: State.phase, size: .word), 3)
            a.jcc(.ae, done)
            a.mov(.eax, Mem(disp: State.random))  // xorshift32
            for (shiftLeft, amount) in [(true, UInt8(13)), (false, 17), (true, 5)] {
                a.mov(.ebx, .eax)
                if shiftLeft { a.shl(.ebx, .immediate(amount)) } else { a.shr(.ebx, .immediate(amount)) }
                a.xor(.eax, .ebx)
            }
            a.mov(Mem(disp: State.random), .eax)
            a.mov(.dx, Mem(disp: State.port))
            a.mov(.cx, Mem(disp: State.phase))
            a.cmp(.cx, 0)
            a.jcc(.ne, notByte)
            a.out(.dx, .al)
            a.in(.al, .dx)
            a.jmp(next)
            a.bind(notByte)
            a.cmp(.cx, 1)
            a.jcc(.ne, dword)
            a.out(.dx, .ax)
            a.in(.ax, .dx)
            a.jmp(next)
            a.bind(dword)
            a.out(.dx, .eax)
            a.in(.eax, .dx)
            a.bind(next)
            a.cli()
            a.bind(nextPort)
            a.inc(Mem(disp: State.port, size: .word))
            a.jcc(.nz, loop)
            a.inc(Mem(disp: State.phase, size: .word))
            a.jmp(loop)

            a.bind(done)
            a.haltLoop(interruptsEnabled: false)
        }
    }

    static let cap: UInt64 = 40_000_000

    @Test(arguments: [UInt32(0x1234_5678), 0xC0FF_EE01], BoardProfile.allCases)
    func randomWritesToEveryPortEndTheRun(seed: UInt32, board: BoardProfile) throws {
        let run = try TestBoard.run(payload: Self.sweepGuest(seed: seed), board: board) { configuration in
            configuration.maxInstructions = Self.cap
            configuration.powerCycleMemory = .keep
            configuration.onPanic = .none
        }
        let machine = run.machine

        let state = machine.readMemory(State.base, count: 12)
        let word = { (offset: Int) in Int(state[offset]) | Int(state[offset + 1]) << 8 }
        let phase = word(State.phase - Int(State.base)), port = word(State.port - Int(State.base))
        let resumes = word(State.resumes - Int(State.base))
        let records = run.records
        let resetKinds = records.named("reset").compactMap { $0.event["kind"]?.text }
        let sources = records.named("reset-request").compactMap { $0.event["source"]?.text }
        let report = """
            port sweep seed \(String(seed, radix: 16)) on \(board.rawValue): \(run.outcome.summary) \
            (status \(run.outcome.exitStatus)) after \(machine.instructionCount) instructions, \
            \(String(format: "%.3f", Double(machine.now) / 1e9)) s virtual; \
            sweep phase \(phase) port \(String(port, radix: 16)), resumed \(resumes)×; \
            resets \(resetKinds) from \(sources); \(records.count) trace records
            """
        print(report)
        // The state report of whatever the machine ended in must still be producible.
        #expect(!machine.stateReport().isEmpty)
        #expect(word(0) == State.magic, "the sweep never started: \(report)")
        #expect(phase == 3 && run.outcome == .allHalted, "the sweep did not finish and halt: \(report)")
    }
}
