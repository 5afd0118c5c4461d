/// Documented differences between the 80286 the vectors were captured on and this
/// 386-and-later CPU, by instruction form. A failing test counts as "documented"
/// only when its form is listed here and the rule recognises the failure.
struct KnownDifference: Sendable {
    let reason: String
    let explains: @Sendable (VectorTest, [String]) -> Bool

    func explains(_ test: VectorTest, _ mismatches: [String]) -> Bool { explains(test, mismatches) }
}

enum KnownDifferences {
    static let byForm: [String: KnownDifference] = [:]
}
