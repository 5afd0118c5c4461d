/// The documented differences between the 80286 the vectors were captured on and this
/// 386-and-later CPU. Each is a rule about hardware, so it decides by what a test does — its
/// bytes, the 286's outcome and this CPU's — and applies to every form that does it. A failing
/// test counts as "documented" only when a rule recognises exactly what went differently.
struct KnownDifference: Sendable {
    let reason: String
    let recognises: @Sendable (VectorTest, Outcome) -> Bool

    func explains(_ test: VectorTest, _ outcome: Outcome) -> Bool { recognises(test, outcome) }
}

enum KnownDifferences {
    /// Prefix bytes of a test's instruction.
    static func prefixes(_ test: VectorTest) -> ArraySlice<UInt8> {
        let prefixBytes: Set<UInt8> = [0x26, 0x2E, 0x36, 0x3E, 0xF0, 0xF2, 0xF3]
        return test.bytes.prefix(while: prefixBytes.contains)
    }

    /// The opcode byte after the prefixes, and the byte after it (the ModRM byte, when the
    /// opcode has one).
    static func opcode(_ test: VectorTest) -> (opcode: UInt8, next: UInt8) {
        let at = prefixes(test).count
        let byte = { (index: Int) in index < test.bytes.count ? test.bytes[index] : 0 }
        return (byte(at), byte(at + 1))
    }

    /// Whether LOCK is allowed on the instruction on 386 and later processors: one of the
    /// read-modify-write instructions the SDM lists under LOCK, with a memory destination
    /// (SDM Vol. 2A, "LOCK—Assert LOCK# Signal Prefix").
    static func acceptsLock(_ test: VectorTest) -> Bool {
        let (opcode, modrm) = opcode(test)
        let memoryDestination = modrm >> 6 != 3
        let reg = (modrm >> 3) & 7
        let lockable: Bool = switch opcode {
        case 0x00, 0x01, 0x08, 0x09, 0x10, 0x11, 0x18, 0x19, 0x20, 0x21, 0x28, 0x29, 0x30, 0x31: true
        case 0x80, 0x81, 0x82, 0x83: reg != 7          // not CMP
        case 0x86, 0x87: true                          // XCHG
        case 0xF6, 0xF7: reg == 2 || reg == 3          // NOT, NEG
        case 0xFE, 0xFF: reg <= 1                      // INC, DEC
        default: false
        }
        return lockable && memoryDestination
    }

    static let stringOpcodes: Set<UInt8> = [0x6C, 0x6D, 0x6E, 0x6F, 0xA4, 0xA5, 0xA6, 0xA7, 0xAA, 0xAB, 0xAC, 0xAD, 0xAE, 0xAF]

    static let all: [KnownDifference] = [
        KnownDifference(
            reason: "LOCK on an instruction that cannot be locked raises #UD on 386+; the 286 ignores it",
            recognises: { test, outcome in
                prefixes(test).contains(0xF0) && !acceptsLock(test)
                    && outcome.delivered.first == 6 && test.exception?.number != 6
            }),
        KnownDifference(
            reason: "the 286 raises interrupt 13 past 10 instruction bytes; 386+ allows 15",
            recognises: { test, outcome in
                // The bytes end with the HLT the vectors append.
                test.bytes.count - 1 > 10 && test.bytes.count - 1 <= 15
                    && test.exception?.number == 13 && outcome.delivered.isEmpty
            }),
        KnownDifference(
            reason: "MOV to or from FS/GS: the 286 has no FS or GS and raises #UD",
            recognises: { test, outcome in
                let (opcode, modrm) = opcode(test)
                return (opcode == 0x8C || opcode == 0x8E) && (modrm >> 3) & 7 >= 4
                    && test.exception?.number == 6 && outcome.delivered.isEmpty
            }),
        KnownDifference(
            reason: "POP r/m faulting on its destination: the 286 has already incremented SP; 386+ restores it",
            recognises: { test, outcome in
                opcode(test).opcode == 0x8F && outcome.delivered == [13] && test.exception?.number == 13
                    && outcome.mismatches.contains { $0.field == "sp" && $0.actual &+ 2 == $0.expected }
            }),
        KnownDifference(
            // Only a reference through SS can raise #SS, so the rule needs no list of forms: any
            // instruction whose stack or BP-based operand crosses offset FFFFh shows it.
            reason: "a real-mode SS limit violation is #SS (12) on 386+; the 286 reports interrupt 13",
            recognises: { test, outcome in outcome.delivered.first == 12 && test.exception?.number == 13 }),
        KnownDifference(
            reason: "the 286 has already stepped SI/DI/CX when a string word access at offset FFFFh faults; 386+ restarts cleanly",
            recognises: { test, outcome in
                stringOpcodes.contains(opcode(test).opcode) && outcome.delivered == [13] && test.exception?.number == 13
                    && outcome.mismatches.allSatisfy { ["si", "di", "cx"].contains($0.field) }
            }),
        KnownDifference(
            reason: "POPF/IRET in real mode can set FLAGS bits 12-15 (IOPL, NT) on 386+; the 286 keeps them clear",
            recognises: { test, outcome in
                [0x9D, 0xCF].contains(opcode(test).opcode)
                    && outcome.mismatches.allSatisfy { $0.field == "flags" && ($0.actual ^ $0.expected) & ~0xF000 == 0 }
            }),
    ]
}
