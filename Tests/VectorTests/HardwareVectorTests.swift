import Foundation
import Testing
@testable import VectorHarness

/// Runs every hardware-captured 80286 real-mode vector in `../shared/vectors/80286-real`
/// (beside the repository) through the same harness as `resetvector vectors`.
@Suite struct HardwareVectorTests {
    static let directory: String = {
        let repositoryRoot = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return repositoryRoot.deletingLastPathComponent().appendingPathComponent("shared/vectors/80286-real").path
    }()

    @Test func everyFormPassesOrDiffersOnlyAsDocumented() throws {
        let files = try VectorRunner.vectorFiles(in: Self.directory)
        #expect(files.count == 325, "the sampled suite has 325 instruction forms")
        let runner = VectorRunner(metadataDirectory: Self.directory, keepFailures: 3)
        var passed = 0, documented = 0
        for file in files {
            let result = try runner.run(file: file)
            #expect(result.failed == 0, "\(result.name): \(result.failures.joined(separator: "; "))")
            passed += result.passed
            documented += result.documented
        }
        #expect(passed + documented == 73_650)
        // The documented differences stay a small minority: most are LOCK on forms the 286 accepts.
        #expect(documented < 2_500)
    }

    /// A test of `bytes` (HLT appended) that the 286 ran to its end without an exception.
    private func vector(_ bytes: [UInt8], exception: UInt8? = nil) -> VectorTest {
        let empty = VectorTest.State(regs: [:], ram: [])
        return VectorTest(name: "synthetic", bytes: bytes + [0xF4], initial: empty, final: empty,
                          exception: exception.map { VectorTest.ExceptionInfo(number: $0, flagAddress: 0) }, hash: "")
    }

    private func explained(_ test: VectorTest, delivered: [UInt8], mismatches: [Mismatch] = []) -> Bool {
        let outcome = Outcome(mismatches: mismatches, delivered: delivered)
        return KnownDifferences.all.contains { $0.explains(test, outcome) }
    }

    @Test func rulesDecideByWhatTheTestDoesNotByItsForm() {
        // LOCK: #UD is documented for a register destination or a non-lockable instruction,
        // whatever the form, and never for a lockable one with a memory destination.
        #expect(explained(vector([0xF0, 0x01, 0xC0]), delivered: [6]), "LOCK ADD AX, AX")
        #expect(explained(vector([0xF0, 0x20, 0xC0]), delivered: [6]), "LOCK AND AL, AL")
        #expect(explained(vector([0xF0, 0x80, 0xF8, 0x01]), delivered: [6]), "LOCK CMP AL, 1")
        #expect(explained(vector([0xF0, 0x90]), delivered: [6]), "LOCK NOP")
        #expect(!explained(vector([0xF0, 0x01, 0x00]), delivered: [6]), "LOCK ADD [BX+SI], AX is lockable")
        #expect(!explained(vector([0xF0, 0x80, 0x0F, 0x01]), delivered: [6]), "LOCK OR byte [BX], 1 is lockable")
        // A stack-limit #SS where the 286 gave interrupt 13, in any form.
        #expect(explained(vector([0x01, 0x46, 0xFF], exception: 13), delivered: [12]), "ADD [BP-1], AX")
        // POPF/IRET's FLAGS bits 12-15 are documented for POPF and IRET only.
        let flags = [Mismatch(field: "flags", actual: 0x7002, expected: 0x0002)]
        #expect(explained(vector([0x9D]), delivered: [], mismatches: flags))
        #expect(!explained(vector([0x9C]), delivered: [], mismatches: flags))
        // Nothing explains a plain difference.
        #expect(!explained(vector([0x90]), delivered: [], mismatches: [Mismatch(field: "ax", actual: 1, expected: 2)]))
    }

    @Test func malformedDirectoryIsAnErrorNotACrash() {
        #expect(throws: VectorError.self) { try VectorRunner.vectorFiles(in: "/nonexistent/vectors") }
    }
}
