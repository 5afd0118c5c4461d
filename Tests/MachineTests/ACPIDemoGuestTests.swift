import Firmware
import Hardware
@testable import Machine
import Testing

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
}
