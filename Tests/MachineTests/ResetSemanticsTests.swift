import Firmware
import Hardware
import Machine
import Testing
import X86Asm

/// What each reset kind keeps: INIT and a hard reset keep RAM, a full reset keeps it only
/// when the power-cycle policy says so; the battery-backed CMOS (the boot counter) survives
/// every kind; INIT leaves devices alone while a platform reset restores them.
@Suite struct ResetSemanticsTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let guest: ResetGuest
        let board: BoardProfile
        let powerCycleMemory: PowerCycleMemory
        let answer: ResetKind
        let ramKept: Bool
        var testDescription: String { "\(guest.rawValue) on \(board.rawValue), power cycle \(powerCycleMemory.rawValue)" }
    }

    static let cases: [Case] = [
        Case(guest: .i8042Pulse, board: .pc, powerCycleMemory: .clear, answer: .initSignal, ramKept: true),
        Case(guest: .tripleFault, board: .pc, powerCycleMemory: .clear, answer: .initSignal, ramKept: true),
        Case(guest: .cf9Warm, board: .pc, powerCycleMemory: .clear, answer: .hard, ramKept: true),
        Case(guest: .i8042Pulse, board: .qemu, powerCycleMemory: .clear, answer: .hard, ramKept: true),
        Case(guest: .cf9Cold, board: .pc, powerCycleMemory: .clear, answer: .full, ramKept: false),
        Case(guest: .cf9Cold, board: .pc, powerCycleMemory: .keep, answer: .full, ramKept: true),
    ]

    /// A marker above 1 MiB (where neither the firmware nor the guest writes) and one in
    /// conventional memory below the guest.
    static let markers: [(address: UInt64, bytes: [UInt8])] = [
        (0x10_0000, Array("RAM survives?".utf8)),
        (0x0600, [0xDE, 0xAD, 0xBE, 0xEF]),
    ]

    @Test(arguments: cases)
    func ramAndTheCMOSBootCounterAcrossAReset(_ c: Case) throws {
        let run = try TestBoard.run(c.guest, board: c.board) { configuration in
            configuration.powerCycleMemory = c.powerCycleMemory
        } prepare: { machine in
            for marker in Self.markers { machine.writeMemory(marker.bytes, at: marker.address) }
        }
        let resets = run.records.named("reset")
        try #require(resets.count == 1)
        #expect(resets[0].event["kind"] == .text(c.answer.rawValue))

        for marker in Self.markers {
            let after = run.machine.readMemory(marker.address, count: marker.bytes.count)
            let expected = c.ramKept ? marker.bytes : [UInt8](repeating: 0, count: marker.bytes.count)
            #expect(after == expected, "RAM at \(String(marker.address, radix: 16))h after a \(c.answer.rawValue) reset")
        }
        // CMOS 5Fh counts boots and the guest's second run depends on it.
        #expect(run.serialText.contains("boot 2, cold start"))
        #expect(run.serialText.contains(c.guest.backLine))
    }

    /// A guest that writes `value` to `port` on its first boot and, once the firmware has run
    /// again, reads the port back to the debug console.
    static func resetThenReadBack(port: UInt16, value: UInt8) throws -> [UInt8] {
        try SmallGuest.assemble { a in
            let second = a.newLabel()
            a.readCMOS(ResetVectorROM.bootCounterIndex)
            a.cmp(.al, 2)
            a.jcc(.ae, second)
            a.mov(.dx, Int(port))
            a.mov(.al, Int(value))
            a.out(.dx, .al)
            a.haltLoop(interruptsEnabled: false)
            a.bind(second)
            a.mov(.dx, Int(port))
            a.in(.al, .dx)
            a.out(.immediate(UInt8(SmallGuest.debugPort)), .al)
            a.haltLoop(interruptsEnabled: false)
        }
    }

    /// INIT reaches CPUs only, so the register that asked for it keeps its state; a platform
    /// reset returns it to power-on. Port 0x92's INIT_NOW stays 1 until software clears it;
    /// 0xCF9's RST_CPU reads 0 once the reset began, and without SYS_RST the reset is a soft
    /// one (INIT) on `pc`, FULL_RST notwithstanding.
    @Test(arguments: [
        (UInt16(0x92), UInt8(0x01), BoardProfile.pc, ResetKind.initSignal, UInt8(0x01)),
        (0x92, 0x01, .qemu, .hard, 0x00),
        (0xCF9, 0x04, .pc, .initSignal, 0x00),
        (0xCF9, 0x0C, .pc, .initSignal, 0x08),
        (0xCF9, 0x04, .qemu, .hard, 0x00),
        (0xCF9, 0x0E, .pc, .full, 0x00),
    ])
    func resetRegisterAfterTheReset(port: UInt16, value: UInt8, board: BoardProfile, kind: ResetKind, readBack: UInt8) throws {
        let console = ByteCapture()
        let run = try TestBoard.run(payload: Self.resetThenReadBack(port: port, value: value), board: board) { configuration in
            configuration.attachDebugConsole(console)
        }
        let resets = run.records.named("reset")
        try #require(resets.count == 1)
        #expect(resets[0].event["kind"] == .text(kind.rawValue))
        #expect(console.bytes == [readBack])
    }
}
