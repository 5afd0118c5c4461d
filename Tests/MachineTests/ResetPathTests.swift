import Firmware
import Hardware
import Machine
import Testing

/// Every legacy reset path, on both board profiles: the request in the trace, the board's
/// answer, the bootstrap processor at F000:FFF0, the firmware's POST again, and the guest
/// reporting that it is back.
@Suite struct ResetPathTests {
    /// The firmware's milestones on a boot without the Ctrl-Alt-Del flag.
    static func bootMilestones(warm: Bool) -> [String] {
        ["reset-vector", warm ? "warm-start" : "cold-start", "ivt", "pic", "pit", "processors", "keyboard", "a20", "serial", "boot"]
    }

    @Test(arguments: ResetGuest.rebootingAfterReset, BoardProfile.allCases)
    func resetRequestIsAnsweredByTheBoardAndTheFirmwareRunsAgain(guest: ResetGuest, board: BoardProfile) throws {
        let run = try TestBoard.run(guest, board: board)
        let records = run.records
        let source = try #require(guest.expectedSource)
        #expect(run.outcome == .allHalted)

        let requests = records.named("reset-request")
        try #require(requests.count == 1, "reset requests: \(requests.map(\.line))")
        let request = requests[0].event
        #expect(request.cpu == 0)
        #expect(request["source"] == .text(source.rawValue))
        #expect(request["port"]?.number == guest.expectedPort.map(UInt64.init))
        if let value = guest.expectedValue {
            #expect(request["value"] == .number(value))
        } else if guest == .port92 {
            #expect(request["value"]?.number.map { $0 & 1 } == 1, "INIT_NOW must be the bit written 0 → 1")
        }
        #expect(request["requested"]?.text == guest.expectedRequestedKind?.rawValue)

        let requestIndex = try #require(records.firstIndex(of: "reset-request"))
        let resets = records.named("reset")
        try #require(resets.count == 1, "resets: \(resets.map(\.line))")
        let resetIndex = try #require(records.firstIndex(of: "reset", from: requestIndex))
        #expect(records[resetIndex].event["kind"] == .text(guest.expectedAnswer(on: board)!.rawValue))
        #expect(records[resetIndex].event["cause"] == .text(source.rawValue))

        let startIndex = try #require(records.firstIndex(of: "cpu-start", from: resetIndex))
        let start = records[startIndex].event
        #expect(start.cpu == 0)
        #expect(start["cs"] == 0xF000)
        #expect(start["ip"] == 0xFFF0)
        #expect(records.named("cpu-start").count == 2)
        #expect(run.machine.boots == 2)

        let entries = records.firmwareEntries
        try #require(entries.count == 2, "firmware entries at \(entries)")
        #expect(entries[0] < requestIndex)
        #expect(entries[1] > startIndex)
        #expect(records.milestones(from: entries[0]) == Self.bootMilestones(warm: false))
        #expect(records.milestones(from: entries[1]) == Self.bootMilestones(warm: false))

        #expect(run.serialText.contains("boot 1, cold start"))
        #expect(run.serialText.contains("boot 2, cold start"))
        #expect(run.serialText.contains(guest.backLine))
        #expect(!run.serialText.contains(guest.nothingLine))
    }

    /// INT3 with an IDT of limit 0: #GP for the INT, #GP again delivering it, so #DF, whose
    /// delivery faults too: shutdown. The `shutdown` event carries that chain, before the
    /// board's answer is requested.
    @Test(arguments: BoardProfile.allCases)
    func tripleFaultShutdownCarriesTheVectorChain(board: BoardProfile) throws {
        let run = try TestBoard.run(.tripleFault, board: board)
        let records = run.records
        let shutdowns = records.named("shutdown")
        try #require(shutdowns.count == 1)
        #expect(shutdowns[0].event.cpu == 0)
        #expect(shutdowns[0].event["vector"] == .numbers([3, 13, 8, 13]))

        let doubleFault = try #require(records.firstIndex(of: "double-fault"))
        let shutdown = try #require(records.firstIndex(of: "shutdown"))
        let request = try #require(records.firstIndex(of: "reset-request"))
        #expect(doubleFault < shutdown)
        #expect(shutdown < request)
        #expect(records[request].event.cpu == 0)
    }

    /// A far jump to F000:FFF0 (from real mode, or from 64-bit mode the way Linux's `reboot=b`
    /// gets there) and the BIOS's Ctrl-Alt-Del handler (flag 1234h, jump to FFFF:0000) enter the
    /// firmware again without any reset: no request, no CPU start, but a second firmware entry;
    /// only Ctrl-Alt-Del makes it a warm start.
    @Test(arguments: [ResetGuest.resetVectorJump, .longModeBIOSReboot, .ctrlAltDel], BoardProfile.allCases)
    func softwareRestartReentersTheFirmwareWithoutAReset(guest: ResetGuest, board: BoardProfile) throws {
        let run = try TestBoard.run(guest, board: board)
        let records = run.records
        let warm = guest == .ctrlAltDel
        #expect(run.outcome == .allHalted)
        #expect(records.named("reset-request").isEmpty)
        #expect(records.named("reset").isEmpty)
        #expect(records.named("cpu-start").count == 1)
        #expect(run.machine.boots == 1)

        let entries = records.firmwareEntries
        try #require(entries.count == 2, "firmware entries at \(entries)")
        #expect(records.milestones(from: entries[1]) == Self.bootMilestones(warm: warm))
        #expect(run.serialText.contains("boot 2, \(warm ? "warm" : "cold") start"))
        #expect(run.serialText.contains(guest.backLine))

        let keys = records.named("key")
        if warm {
            try #require(keys.count == 1)
            #expect(keys[0].event["scancodes"] == .numbers(guest.scancodesToType.map(UInt64.init)))
            let keyIndex = try #require(records.firstIndex(of: "key"))
            #expect(entries[0] < keyIndex && keyIndex < entries[1])
            #expect(run.serialText.contains("guest ctrl-alt-del: waiting for Ctrl-Alt-Del"))
        } else {
            #expect(keys.isEmpty)
        }
    }

    /// 0xCF9 sits inside PCI configuration mechanism #1's CONFIG_ADDRESS (0xCF8–0xCFB) but only
    /// byte accesses reach it: a dword CONFIG_ADDRESS whose second byte is 0Eh (a cold reset
    /// if it reached 0xCF9) resets nothing, and a byte at 0xCF9 leaves CONFIG_ADDRESS alone.
    @Test func pciConfigurationAddressAndResetControlShareTheirPorts() throws {
        let payload = try SmallGuest.assemble { a in
            let console = UInt8(SmallGuest.debugPort)
            a.mov(.dx, 0xCF8)
            a.mov(.eax, 0x8000_0E00)             // bus 0, device 1, function 6
            a.out(.dx, .eax)
            a.in(.eax, .dx)
            a.writeBytes(ofEAXTo: console)
            a.mov(.eax, 0x8000_0000)             // the host bridge, 00:00.0, register 0
            a.out(.dx, .eax)
            a.outByte(0xCF9, 0x02)               // SYS_RST only: no reset starts
            a.mov(.dx, 0xCF8)
            a.in(.eax, .dx)
            a.writeBytes(ofEAXTo: console)
            a.mov(.dx, 0xCFC)
            a.in(.eax, .dx)                      // vendor and device ID
            a.writeBytes(ofEAXTo: console)
            a.mov(.dx, 0xCF9)
            a.in(.al, .dx)
            a.out(.immediate(console), .al)
            a.haltLoop(interruptsEnabled: false)
        }
        let console = ByteCapture()
        let run = try TestBoard.run(payload: payload) { configuration in
            configuration.attachDebugConsole(console)
        }
        #expect(run.outcome == .allHalted)
        #expect(run.records.named("reset-request").isEmpty)
        #expect(run.records.named("reset").isEmpty)
        #expect(console.bytes == [0x00, 0x0E, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x86, 0x80, 0xC0, 0x29, 0x02])
    }
}
