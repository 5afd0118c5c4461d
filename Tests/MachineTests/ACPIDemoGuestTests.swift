import Firmware
import Hardware
@testable import Machine
import Testing
import X86Asm

/// The built-in ACPI guests (`resetvector demo` rows): each finds the tables as an OS does and
/// uses what they say.
@Suite struct ACPIDemoGuestTests {
    static let resetGuests: [ResetGuest] = [.acpiResetIO, .acpiResetMemory, .acpiResetPCI]

    @Test(arguments: resetGuests, BoardProfile.allCases)
    func eachResetGuestWritesResetRegisterInItsSpace(guest: ResetGuest, board: BoardProfile) throws {
        let run = try TestBoard.run(guest, board: board)
        let space = switch guest {
        case .acpiResetIO: "System I/O"
        case .acpiResetMemory: "System Memory"
        default: "PCI configuration space"
        }
        #expect(run.serialText.contains("guest \(guest.rawValue): writing RESET_VALUE to RESET_REG in \(space)\r\n"))
        #expect(run.serialText.contains(guest.backLine), "\(run.serialText)")
        let request = try #require(run.records.named("reset-request").first).event
        switch guest {
        case .acpiResetIO: #expect(request["port"] == 0xCF9)
        case .acpiResetMemory: #expect(request["space"] == "memory")
        default: #expect(request["space"] == "pci")
        }
        #expect(run.records.named("reset").first?.event["kind"] == "hard")
        #expect(run.outcome == .allHalted)
    }

    /// `run --acpi-reset none --guest acpi-reset-io`: the guest finds RESET_REG_SUP clear and says so.
    @Test func aResetGuestReportsAFADTWithoutAResetRegister() throws {
        let run = try TestBoard.run(.acpiResetIO) { $0.acpiReset = .none }
        #expect(run.serialText.contains("guest acpi-reset-io: the FADT's RESET_REG_SUP flag is clear: no reset register"))
        #expect(run.records.named("reset-request").isEmpty)
    }

    /// The guest writes where the FADT says, whatever its name: here the PCI register.
    @Test func aResetGuestFollowsTheFADTNotItsName() throws {
        let run = try TestBoard.run(.acpiResetIO) { $0.acpiReset = .pci }
        #expect(run.serialText.contains("in PCI configuration space"))
        #expect(run.records.named("reset-request").first?.event["space"] == "pci")
    }

    @Test(arguments: BoardProfile.allCases)
    func thePowerOffGuestReadsS5FromTheDSDT(board: BoardProfile) throws {
        let run = try TestBoard.run(.acpiPowerOff, board: board)
        #expect(run.serialText.contains("guest acpi-poweroff: \\_S5 gives SLP_TYP 7\r\n"), "\(run.serialText)")
        #expect(run.outcome == .poweredOff)
        #expect(run.outcome.exitStatus == 0)
        #expect(run.records.named("sleep-request").first?.event["value"] == 0x3C00)
        #expect(run.records.named("power-off").count == 1)
    }

    /// Each `acpi-reset-*` guest names the `--acpi-reset` choice its demo row runs with.
    @Test func theGuestsDescribeThemselves() {
        for guest in Self.resetGuests {
            #expect(guest.method.contains("--acpi-reset \(guest.acpiResetSpace!)"))
        }
        #expect(ResetGuest.acpiPowerOff.acpiResetSpace == nil)
    }

    /// Runs the Firmware's walk to the FADT after `patch` changed the RSDP the firmware
    /// installed at 9F010h (flat DS); the console gets the FADT's address (4 bytes), or `F`
    /// and the failing step.
    static func walk(patch: (inout Assembler) -> Void) throws -> (address: UInt32?, failure: UInt8?, expected: UInt32) {
        let console = ByteCapture()
        let run = try TestBoard.run(payload: try SmallGuest.assemble { a in
            let start = a.newLabel(), fail = a.newLabel()
            a.jmp(start)
            let sum = a.emitACPIChecksumRoutine()
            a.bind(start)
            a.emitUnrealMode([.ds, .es])
            patch(&a)
            a.emitFindFADT(sum: sum, fail: fail)
            a.mov(.eax, .esi)
            a.writeBytes(ofEAXTo: UInt8(SmallGuest.debugPort))
            a.haltLoop(interruptsEnabled: false)
            a.bind(fail)
            a.mov(.al, 0x46)
            a.out(.immediate(UInt8(SmallGuest.debugPort)), .al)
            a.mov(.ax, .bp)
            a.out(.immediate(UInt8(SmallGuest.debugPort)), .al)
            a.haltLoop(interruptsEnabled: false)
        }) { $0.attachDebugConsole(console) }
        let expected = try #require(ACPIBoard.installation(run.machine.configuration)?.layout.address(of: "FACP"))
        let bytes = console.bytes
        if bytes.count == 2, bytes[0] == 0x46 { return (nil, bytes[1], expected) }
        try #require(bytes.count == 4, "\(bytes)")
        return (bytes.reversed().reduce(0) { $0 << 8 | UInt32($1) }, nil, expected)
    }

    @Test func theWalkFindsTheFADTThroughTheXSDT() throws {
        let result = try Self.walk { _ in }
        #expect(result.address == result.expected)
    }

    /// An RSDP of revision 0 has no XSDT: the walk takes the RSDT (the XSDT address, garbage
    /// here, is not looked at).
    @Test func aRevision0RSDPLeadsThroughTheRSDT() throws {
        let result = try Self.walk { a in
            a.mov(Mem(disp: 0x9F010 + 15, size: .byte), 0)                   // revision 0
            a.add(Mem(disp: 0x9F010 + 8, size: .byte), 2)                     // checksum kept
            a.mov(Mem(disp: 0x9F010 + 24, size: .dword), 0x1234_5678)
        }
        #expect(result.address == result.expected)
    }

    /// Garbage where the tables should be: the walk stops at the failing step, never running
    /// off into memory.
    @Test(arguments: [(0x9F010, ACPITableWalkStep.noRSDP), (0x9F010 + 9, .rsdpChecksum), (0x9F010 + 33, .extendedChecksum)])
    func aDamagedRSDPStopsTheWalk(address: Int, step: ACPITableWalkStep) throws {
        let result = try Self.walk { a in a.xor(Mem(disp: address, size: .byte), 0x5A) }
        #expect(result.failure == UInt8(step.rawValue))
    }
}
