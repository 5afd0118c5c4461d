/// The documented differences between the 80286 the vectors were captured on and this
/// 386-and-later CPU. A failing test counts as "documented" only when its form is listed
/// under a difference and that difference's rule recognises exactly what went differently.
struct KnownDifference: Sendable {
    let reason: String
    let forms: Set<String>
    let recognises: @Sendable (VectorTest, Outcome) -> Bool

    func explains(_ test: VectorTest, _ outcome: Outcome) -> Bool { recognises(test, outcome) }
}

enum KnownDifferences {
    static func applying(to form: String) -> [KnownDifference] {
        all.filter { $0.forms.contains(form) }
    }

    /// Prefix bytes of a test's instruction.
    static func prefixes(_ test: VectorTest) -> ArraySlice<UInt8> {
        let prefixBytes: Set<UInt8> = [0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3]
        return test.bytes.prefix(while: prefixBytes.contains)
    }

    static let all: [KnownDifference] = [
        KnownDifference(
            reason: "LOCK on an instruction that cannot be locked raises #UD on 386+; the 286 ignores it",
            forms: lockForms,
            recognises: { test, outcome in
                prefixes(test).contains(0xF0) && outcome.delivered.first == 6 && test.exception?.number != 6
            }),
        KnownDifference(
            reason: "the 286 raises interrupt 13 past 10 instruction bytes; 386+ allows 15",
            forms: ["81.0", "81.1", "81.3", "81.5", "81.6", "81.7", "F7.0"],
            recognises: { test, outcome in
                test.bytes.count - 1 > 10 && test.exception?.number == 13 && outcome.delivered.isEmpty
            }),
        KnownDifference(
            reason: "MOV to or from FS/GS: the 286 has no FS or GS and raises #UD",
            forms: ["8C", "8E"],
            recognises: { test, outcome in
                let modrm = test.bytes[prefixes(test).count + 1]
                return (modrm >> 3) & 7 >= 4 && test.exception?.number == 6 && outcome.delivered.isEmpty
            }),
        KnownDifference(
            reason: "POP r/m faulting on its destination: the 286 has already incremented SP; 386+ restores it",
            forms: ["8F"],
            recognises: { test, outcome in
                outcome.delivered == [13] && test.exception?.number == 13
                    && outcome.mismatches.contains { $0.field == "sp" && $0.actual &+ 2 == $0.expected }
            }),
        KnownDifference(
            reason: "a real-mode SS limit violation is #SS (12) on 386+; the 286 reports interrupt 13",
            forms: stackLimitForms,
            recognises: { test, outcome in outcome.delivered.first == 12 && test.exception?.number == 13 }),
        KnownDifference(
            reason: "the 286 has already stepped SI/DI/CX when a string word access at offset FFFFh faults; 386+ restarts cleanly",
            forms: ["6D", "6F", "A5", "A7", "AB", "AD", "AF"],
            recognises: { test, outcome in
                outcome.delivered == [13] && test.exception?.number == 13
                    && outcome.mismatches.allSatisfy { ["si", "di", "cx"].contains($0.field) }
            }),
        KnownDifference(
            reason: "POPF/IRET in real mode can set FLAGS bits 12-15 (IOPL, NT) on 386+; the 286 keeps them clear",
            forms: ["9D", "CF"],
            recognises: { _, outcome in
                outcome.mismatches.allSatisfy { $0.field == "flags" && ($0.actual ^ $0.expected) & ~0xF000 == 0 }
            }),
    ]

    /// Forms whose sampled tests put LOCK on a register destination or a non-lockable instruction.
    static let lockForms: Set<String> = [
        "00", "01", "02", "03", "06", "07", "08", "09", "0A", "0B", "0E", "10", "11", "12", "13",
        "16", "17", "18", "1A", "1B", "1E", "1F", "21", "22", "23", "28", "29", "2A", "2B", "30",
        "32", "33", "38", "39", "3A", "3B", "50", "51", "52", "53", "54", "55", "56", "57", "58",
        "59", "5A", "5B", "5C", "5D", "5E", "5F", "60", "61", "62", "68", "69", "6A", "6B", "6C",
        "6D", "6E", "6F", "80.0", "80.2", "80.3", "80.4", "80.5", "80.6", "80.7", "81.1", "81.2",
        "81.3", "81.4", "81.5", "81.6", "81.7", "82.0", "82.1", "82.3", "82.4", "82.6", "82.7",
        "83.0", "83.1", "83.2", "83.3", "83.4", "83.6", "83.7", "84", "85", "87", "88", "89", "8A",
        "8B", "8C", "8D", "8E", "8F", "9A", "9C", "9D", "A0", "A1", "A2", "A3", "A4", "A5", "A6",
        "A7", "AA", "AB", "AC", "AD", "AE", "AF", "C0.0", "C0.1", "C0.2", "C0.3", "C0.4", "C0.5",
        "C0.6", "C0.7", "C1.0", "C1.1", "C1.2", "C1.3", "C1.4", "C1.5", "C1.6", "C1.7", "C2", "C3",
        "C4", "C5", "C6", "C7", "C9", "CA", "CB", "CC", "CD", "CE", "CF", "D0.0", "D0.1", "D0.2",
        "D0.3", "D0.4", "D0.5", "D0.6", "D0.7", "D1.0", "D1.1", "D1.2", "D1.3", "D1.4", "D1.5",
        "D1.6", "D1.7", "D2.0", "D2.1", "D2.2", "D2.3", "D2.4", "D2.5", "D2.6", "D2.7", "D3.0",
        "D3.1", "D3.2", "D3.3", "D3.4", "D3.5", "D3.6", "D3.7", "D4", "D5", "D6", "D7", "D8", "E0",
        "E1", "E2", "E3", "E4", "E5", "E6", "E7", "E8", "E9", "EA", "EB", "EC", "ED", "EE", "EF",
        "F6.0", "F6.1", "F6.2", "F6.3", "F6.4", "F6.5", "F6.6", "F6.7", "F7.0", "F7.1", "F7.2",
        "F7.4", "F7.5", "F7.6", "F7.7", "FE.0", "FE.1", "FF.0", "FF.1", "FF.2", "FF.3", "FF.4",
        "FF.5", "FF.6",
    ]
    /// Forms whose sampled tests overrun the stack segment at offset FFFFh.
    static let stackLimitForms: Set<String> = [
        "07", "13", "17", "1F", "31", "3B", "61", "81.3", "83.7", "C1.6", "C1.7", "C2", "C3", "C9",
        "CA", "CB", "D3.2", "D3.3", "F7.7", "FF.6",
    ]
}
