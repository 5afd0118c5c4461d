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

    @Test func aDifferenceOutsideItsDocumentedFormsIsAFailure() throws {
        // POPF's documented difference (FLAGS bits 12–15) applies to POPF and IRET only.
        let flagsDifference = { (form: String) in
            KnownDifferences.applying(to: form).contains { $0.reason.hasPrefix("POPF/IRET") }
        }
        #expect(flagsDifference("9D") && flagsDifference("CF"))
        #expect(!flagsDifference("9C"))
        #expect(KnownDifferences.applying(to: "90").isEmpty)
    }

    @Test func malformedDirectoryIsAnErrorNotACrash() {
        #expect(throws: VectorError.self) { try VectorRunner.vectorFiles(in: "/nonexistent/vectors") }
    }
}
