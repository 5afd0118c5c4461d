import Foundation
import Testing
import X86Asm

/// `--acpi-reset` chooses the register the board decodes (and the FADT names), and ACPI S5
/// ends a run with status 0.
@Suite(.timeLimit(.minutes(2))) struct ACPIOptionTests {
    /// Writes 06h to the LPC bridge's offset 50h through CF8h/CFCh, then `cli; hlt`.
    static func pciResetWrite() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: TestGuest.origin)
        a.mov(.eax, 0x8000_F850)
        a.mov(.dx, 0xCF8)
        a.out(.dx, .eax)
        a.mov(.dx, 0xCFC)
        a.mov(.al, 0x06)
        a.out(.dx, .al)
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// PM1a_CNT (600h + 4, where the firmware put the block) ← SLP_TYP 7 | SLP_EN, then `cli; hlt`.
    static func softOff() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: TestGuest.origin)
        a.mov(.dx, 0x604)
        a.mov(.ax, 7 << 10 | 1 << 13)
        a.out(.dx, .ax)
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// With `pci` the write resets the machine (`--on-reset exit`: status 8) and the trace names
    /// the register; with the other choices nothing decodes offset 50h and the guest halts.
    @Test(arguments: [("pci", Int32(8)), ("io", 0), ("mmio", 0), ("none", 0)])
    func acpiResetChoosesTheRegister(choice: String, status: Int32) throws {
        let directory = try TemporaryDirectory()
        let payload = try directory.file("reset.bin", Self.pciResetWrite())
        let trace = directory.path("trace.jsonl")
        let result = try Invocation.run(["run", "--payload", payload, "--serial", "none", "--exit-on-halt",
                                         "--on-reset", "exit", "--acpi-reset", choice, "--trace-json", trace])
        #expect(result.status == status, "\(result.standardError)")
        let lines = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
        let requests = lines.filter { $0.contains("\"reset-request\"") }
        if status == 8 {
            try #require(requests.count == 1)
            #expect(requests[0].contains("\"acpi-reset-reg\""))
            #expect(requests[0].contains("\"pci\""))
            #expect(result.errorLines.last == "resetvector: stopped at a hard reset requested by acpi-reset-reg")
        } else {
            #expect(requests.isEmpty)
        }
    }

    @Test func softOffEndsTheRunWithStatus0() throws {
        let directory = try TemporaryDirectory()
        let payload = try directory.file("off.bin", Self.softOff())
        let trace = directory.path("trace.jsonl")
        let result = try Invocation.run(["run", "--payload", payload, "--serial", "none", "--trace-json", trace])
        #expect(result.status == 0, "\(result.standardError)")
        #expect(result.errorLines == ["resetvector: powered off"])
        let text = try String(contentsOfFile: trace, encoding: .utf8)
        #expect(text.contains("\"power-off\""))
        #expect(text.contains("\"sleep-request\""))
    }

    /// An `acpi-reset-*` guest brings the reset register it is named after; an explicit
    /// `--acpi-reset` wins, and the guest writes where that FADT says.
    @Test(arguments: [(["--guest", "acpi-reset-pci"], "space=pci"), (["--guest", "acpi-reset-pci", "--acpi-reset", "io"], "source=cf9"),
                      (["--acpi-reset", "mmio", "--guest", "acpi-reset-io"], "space=memory")])
    func aResetGuestBringsItsRegisterUnlessOneIsGiven(arguments: [String], request: String) throws {
        let result = try Invocation.run(["run", "--exit-on-halt", "--trace"] + arguments)
        #expect(result.status == 0, "\(result.standardError)")
        let requests = result.standardError.split(separator: "\n").filter { $0.contains("reset-request") }
        #expect(requests.count == 1 && requests[0].contains(request), "\(requests)")
    }
}
