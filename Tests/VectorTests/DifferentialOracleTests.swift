import Foundation
import Testing
@testable import VectorHarness

/// The differential oracle: random instruction streams generated and run by unicorn
/// (`Tools/differential/oracle.py`), then run on the CPU by `DifferentialRunner`.
@Suite(.timeLimit(.minutes(2))) struct DifferentialOracleTests {
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Generates `count` cases from `seed` with python3 and unicorn into `file`. Fails, naming
    /// the reason, when python3 or unicorn is missing: the oracle never passes by not running.
    static func generate(mode: Int, seed: Int, count: Int, into file: String) throws {
        let oracle = repositoryRoot.appendingPathComponent("Tools/differential/oracle.py").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", oracle, "--mode", "\(mode)", "--seed", "\(seed)", "--count", "\(count)", "--out", file]
        let errors = Pipe()
        process.standardError = errors
        do {
            try process.run()
        } catch {
            Issue.record("cannot start python3 for the differential oracle: \(error)")
            throw error
        }
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        try #require(process.terminationStatus == 0, """
            the differential oracle needs python3 with unicorn 2.1.4 (`pip install unicorn==2.1.4`; .ci/run \
            installs it): oracle.py exited with status \(process.terminationStatus): \(message)
            """)
    }

    /// A fixed seed set per mode: integer, string, shift, multiply/divide, SSE/SSE2 and memory
    /// operands, in 32-bit protected mode (CPL 0) and 64-bit mode (CPL 3).
    @Test(arguments: [(32, 20_240_611), (64, 20_250_101)])
    func theCPUAgreesWithUnicornOnAFixedSeedSet(mode: Int, seed: Int) throws {
        let count = 2_000
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("differential-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try Self.generate(mode: mode, seed: seed, count: count, into: file)
        let result = try DifferentialRunner(keepFailures: 5).run(file: file)
        #expect(result.passed + result.failed == count)
        #expect(result.failed == 0, "\(result.failures.map(\.description).joined(separator: "\n"))")
    }

    // MARK: The runner against hand-made cases

    /// `add eax, ebx` with EAX = 1, EBX = 2: EAX = 3, PF set, the other status flags clear;
    /// `extra` adds fields or replaces them.
    static func addCase(_ extra: String = "", code: String = "01d8", final: String? = nil) -> String {
        let registers = #""eax":1,"ecx":0,"edx":0,"ebx":2,"esp":69632,"ebp":0,"esi":0,"edi":0"#
        let finalState = final ?? #"{"registers":{"eax":3,"ecx":0,"edx":0,"ebx":2,"esp":69632,"ebp":0,"esi":0,"edi":0},"eflags":6,"eip":131074,"memory":[]}"#
        return #"{"index":7,"mode":32,"code_address":131072,"data_window":[65536,65536],"code":"\#(code)","asm":["add eax, ebx"],"#
            + #""initial":{"registers":{\#(registers)},"eflags":2,"memory":[]},"final":\#(finalState),"defined_flags":4294967295"#
            + extra + "}"
    }

    static func decode(_ json: String) throws -> DifferentialCase {
        try JSONDecoder().decode(DifferentialCase.self, from: Data(json.utf8))
    }

    @Test func aCaseThatMatchesPasses() throws {
        #expect(try DifferentialRunner().differences(Self.decode(Self.addCase())) == [])
    }

    /// `add rax, r9` in 64-bit mode with RAX = 2^32, R9 = 2^32 + 2 and XMM15 as given: RAX =
    /// 2^33 + 2, the stream ending at the HLT's #GP at CPL 3.
    static func case64(finalRAX: String = "8589934594", finalXMM15: String = "000102030405060708090a0b0c0d0e0f") -> String {
        let names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + (8...15).map { "r\($0)" }
        func registers(_ rax: String) -> String {
            names.map { name in
                "\"\(name)\":" + (name == "rax" ? rax : name == "r9" ? "4294967298" : name == "rsp" ? "69632" : "0")
            }.joined(separator: ",")
        }
        let zeros = Array(repeating: "\"" + String(repeating: "0", count: 32) + "\"", count: 15)
        func xmm(_ last: String) -> String { "[" + (zeros + ["\"\(last)\""]).joined(separator: ",") + "]" }
        return #"{"index":3,"mode":64,"code_address":131072,"data_window":[65536,65536],"code":"4c01c8","asm":["add rax, r9"],"#
            + #""initial":{"registers":{\#(registers("4294967296"))},"eflags":2,"xmm":\#(xmm("000102030405060708090a0b0c0d0e0f")),"mxcsr":8064,"memory":[]},"#
            + #""final":{"registers":{\#(registers(finalRAX))},"eflags":2,"rip":131075,"xmm":\#(xmm(finalXMM15)),"mxcsr":8064,"memory":[]},"#
            + #""defined_flags":4294967295,"compared_mxcsr":65472}"#
    }

    @Test func aSixtyFourBitCaseRunsAtUserLevel() throws {
        #expect(try DifferentialRunner().differences(Self.decode(Self.case64())) == [])
        #expect(try DifferentialRunner().differences(Self.decode(Self.case64(finalRAX: "2"))) == ["rax=200000002 want 2"])
        #expect(try DifferentialRunner().differences(Self.decode(Self.case64(finalXMM15: "000102030405060708090a0b0c0d0e00")))
                == ["xmm15=0001020304050607_08090A0B0C0D0E0F want 0001020304050607_08090A0B0C0D0E00"])
    }

    /// 32-bit streams run at CPL 3 too: CLI with IOPL 0 is #GP(0) there (at CPL 0 it would
    /// have run), reported at the CLI rather than at the HLT's #GP after it.
    @Test func aThirtyTwoBitCaseRunsAtUserLevel() throws {
        let cli = try Self.decode(Self.addCase(code: "fa", final: #"{"registers":{"eax":1,"ecx":0,"edx":0,"ebx":2,"esp":69632,"ebp":0,"esi":0,"edi":0},"eflags":2,"eip":131073,"memory":[]}"#))
        let differences = try DifferentialRunner().differences(cli)
        #expect(differences.contains("delivered exceptions [13, 8] at 20000"), "\(differences)")
    }

    @Test func aPlantedRegisterValueFails() throws {
        var planted = try Self.decode(Self.addCase())
        planted.final.registers["eax"] = 4
        #expect(try DifferentialRunner().differences(planted) == ["eax=3 want 4"])
    }

    @Test func aPlantedFlagFailsOnlyWhereTheFlagIsDefined() throws {
        var planted = try Self.decode(Self.addCase())
        planted.final.eflags |= 0x800
        #expect(try DifferentialRunner().differences(planted) == ["eflags=6 want 806 (OF differ)"])
        let undefinedOF = try Self.decode(Self.addCase().replacingOccurrences(of: "4294967295", with: "\(0xFFFF_F7FF)"))
        var tolerated = undefinedOF
        tolerated.final.eflags |= 0x800
        #expect(try DifferentialRunner().differences(tolerated) == [])
    }

    @Test func anUndefinedRegisterIsNotCompared() throws {
        var planted = try Self.decode(Self.addCase(#","undefined_registers":{"eax":65535}"#))
        planted.final.registers["eax"] = 0xFFFF
        #expect(try DifferentialRunner().differences(planted) == [])
        planted.final.registers["eax"] = 0x1_0003
        #expect(try DifferentialRunner().differences(planted) == ["eax=3 want 10003"])
    }

    @Test func aWriteUnicornDidNotMakeFails() throws {
        // mov [ebx+0x10000], eax: a byte unicorn's final window does not show.
        let store = try Self.decode(Self.addCase(code: "898300000100", final: #"{"registers":{"eax":1,"ecx":0,"edx":0,"ebx":2,"esp":69632,"ebp":0,"esi":0,"edi":0},"eflags":2,"eip":131078,"memory":[]}"#))
        #expect(try DifferentialRunner().differences(store) == ["[10002]=1 want 0"])
        var recorded = store
        recorded.final.memory = [DifferentialCase.MemoryRun(address: 0x10002, bytes: [1, 0, 0, 0])]
        #expect(try DifferentialRunner().differences(recorded) == [])
    }

    @Test func anExceptionIsReported() throws {
        // div ecx with ECX = 0: #DE; the IDT has limit 0, so the CPU shuts down.
        let divide = try Self.decode(Self.addCase(code: "f7f1"))
        let differences = try DifferentialRunner().differences(divide)
        #expect(differences.first?.hasPrefix("stopped: shutdown after exceptions [0") == true, "\(differences)")
    }

    @Test func aFileWithAPlantedMismatchCountsAFailure() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("planted-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        let wrong = Self.addCase().replacingOccurrences(of: #""eax":3"#, with: #""eax":5"#)
        try (Self.addCase() + "\n" + wrong + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        let result = try DifferentialRunner().run(file: file)
        #expect(result.passed == 1)
        #expect(result.failed == 1)
        #expect(result.failures.first?.description == "case 7: add eax, ebx [01 d8]\n    eax=3 want 5")
    }

    // MARK: Bad input

    @Test(arguments: [
        ("not json", "malformed case: not JSON"),
        (#"{"index":1}"#, "malformed case: missing field .mode"),
        (addCase().replacingOccurrences(of: "01d8", with: "01dz"), "malformed case: field .code: not hex bytes"),
        (addCase().replacingOccurrences(of: #""mode":32"#, with: #""mode":16"#), "unsupported case: mode 16 is not supported"),
        (addCase().replacingOccurrences(of: #""mode":32"#, with: #""mode":64"#), "unsupported case: no value for rax"),
        (addCase().replacingOccurrences(of: #""eflags":2,"memory":[]"#, with: #""eflags":2,"memory":[[5,"00"]]"#),
         "unsupported case: memory at 5h lies outside the data window"),
        (addCase().replacingOccurrences(of: "[65536,65536]", with: "[0,65536]"), "unsupported case: the data window must lie within"),
        (addCase().replacingOccurrences(of: #""ebx":2,"esp""#, with: #""esp""#), "unsupported case: no value for ebx"),
    ])
    func badCasesAreOneClearError(line: String, message: String) throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).jsonl").path
        defer { try? FileManager.default.removeItem(atPath: file) }
        try (line + "\n").write(toFile: file, atomically: true, encoding: .utf8)
        do {
            _ = try DifferentialRunner().run(file: file)
            Issue.record("\(line) was accepted")
        } catch {
            #expect(error.description.contains("\(file):1: \(message)"), "\(error.description)")
        }
    }
}
