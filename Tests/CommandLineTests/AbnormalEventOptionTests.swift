import Foundation
import Testing

/// `--watchdog-action`, `--on-panic`, `--at` and `--device i6300esb` as a user types them.
@Suite(.timeLimit(.minutes(2))) struct AbnormalEventOptionTests {
    static let badCommands: [CommandLineErrorTests.BadCommand] = [
        .init(["run", "--at", "5=reset"], "'--at <at>': time '5' needs a unit: ns, us, ms or s"),
        .init(["run", "--at", "5ms"], "'--at <at>': expected TIME=ACTION"),
        .init(["run", "--at", "=reset"], "'--at <at>': expected TIME=ACTION"),
        .init(["run", "--at", "5ms="], "'--at <at>': expected TIME=ACTION"),
        .init(["run", "--at", "5ms=explode"], "unknown action 'explode' (known: power-button, reset, ctrl-alt-del, nmi, power-off)"),
        .init(["run", "--at", "5xs=reset"], "time '5xs' is not a number with a unit"),
        .init(["run", "--at=-5ms=reset"], "time '-5ms' is not a number with a unit"),
        .init(["run", "--at", "1.2.3ms=reset"], "time '1.2.3ms' is not a number with a unit"),
        .init(["run", "--at", "1.5ns=nmi"], "time '1.5ns' is finer than a nanosecond"),
        .init(["run", "--at", "99999999999s=nmi"], "time '99999999999s' is too large"),
        .init(["run", "--at", "99999999999999999999ms=nmi"], "time '99999999999999999999ms' is too large"),
        .init(["run", "--at"], "Missing value for '--at <at>'"),
        .init(["run", "--watchdog-action", "explode"], "'--watchdog-action <watchdog-action>'"),
        .init(["run", "--watchdog-action", "nmi"], "--watchdog-action needs a watchdog: add --device i6300esb"),
        .init(["run", "--on-panic", "explode"], "'--on-panic <on-panic>'"),
        .init(["run", "--device", "i6300esb,iobase=0x10"], "i6300esb takes no properties"),
    ]

    @Test(arguments: badCommands)
    func aUsageErrorIsOneLineAndStatus64(_ command: CommandLineErrorTests.BadCommand) throws {
        try command.expectRefused(status: 64)
    }

    /// `--guest watchdog-bite` brings its watchdog; the default action resets the board.
    @Test(arguments: [[], ["--device", "i6300esb", "--watchdog-action", "reset"]])
    func theWatchdogGuestIsBitten(_ extra: [String]) throws {
        let result = try Invocation.run(["run", "--guest", "watchdog-bite", "--exit-on-halt"] + extra)
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.standardOutput.contains("guest watchdog-bite: back after the reset; the watchdog's timeout status is set"))
    }

    @Test(arguments: [("power-off", Int32(0), "powered off"), ("pause", 2, "paused: the watchdog expired"),
                      ("none", 0, "all CPUs halted"), ("nmi", 0, "all CPUs halted")])
    func watchdogActions(action: String, status: Int32, summary: String) throws {
        let result = try Invocation.run(["run", "--guest", "watchdog-bite", "--exit-on-halt", "--serial", "none",
                                         "--watchdog-action", action])
        #expect(result.status == status)
        #expect(result.errorLines.first.map(String.init) == "resetvector: \(summary)"
                || result.errorLines.first?.hasPrefix("resetvector: \(summary)") == true, "\(result.standardError)")
    }

    @Test(arguments: [("pause", Int32(2)), ("exit", 10), ("reboot", 0), ("none", 0)])
    func panicPolicies(policy: String, status: Int32) throws {
        let result = try Invocation.run(["run", "--guest", "panic", "--exit-on-halt", "--on-panic", policy])
        #expect(result.status == status, "\(result.standardError)")
        switch policy {
        case "exit":
            #expect(result.errorLines == ["resetvector: the guest panicked (pvpanic events 0x1: panicked)"])
        case "reboot":
            #expect(result.standardOutput.contains("guest panic: back after the reset"))
        case "none":
            #expect(result.standardOutput.contains("guest panic: still running after the panic report"))
        default:
            #expect(result.errorLines.first?.hasPrefix("resetvector: paused: the guest panicked") == true)
        }
    }

    /// A scripted session: the reset button at 2 ms, the power cut at 4.5 ms; the JSON trace
    /// shows the actions at exactly their times, and a second run writes the same trace.
    @Test func aScriptedSessionIsTheSameEveryTime() throws {
        let directory = try TemporaryDirectory()
        var traces: [String] = []
        for run in 0..<2 {
            let path = directory.path("trace\(run).jsonl")
            let result = try Invocation.run(["run", "--guest", "panic", "--on-panic", "none", "--serial", "none",
                                             "--at", "4.5ms=power-off", "--at", "2ms=reset", "--trace-json", path])
            #expect(result.status == 0, "\(result.standardError)")
            #expect(result.errorLines == ["resetvector: powered off"])
            traces.append(try String(contentsOfFile: path, encoding: .utf8))
        }
        #expect(traces[0] == traces[1])
        let actions = traces[0].split(separator: "\n").filter { $0.contains("\"user-action\"") }
        #expect(actions.count == 2)
        #expect(actions.first?.contains("2000000") == true, "\(actions)")
        #expect(actions.last?.contains("4500000") == true, "\(actions)")
    }

    @Test func theDemoHasTheNewRows() throws {
        let result = try Invocation.run(["demo"])
        #expect(result.status == 0, "\(result.standardError)")
        for row in ["== watchdog-bite:", "== panic:", "watchdog stage=2 action=reset", "reset-request source=panic",
                    "serial: guest watchdog-bite: back after the reset; the watchdog's timeout status is set"] {
            #expect(result.standardOutput.contains(row), "demo lacks \(row)")
        }
    }
}
