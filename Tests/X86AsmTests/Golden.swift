import Testing
import X86Asm

/// Checks the assembler's output against golden bytes produced by nasm 2.16.
///
/// Each `check` names the nasm source the bytes came from (lines separated by `\n`,
/// assembled after `bits 16`/`bits 32`/`bits 64` and `org` matching this `Golden`), so a case
/// can be regenerated with `nasm -f bin`: `Tools/check-x86asm-golden.py` re-checks them all,
/// and with `--fill` writes nasm's bytes into new cases whose hex string is left empty.
struct Golden {
    let bits: Bits
    let origin: UInt32

    init(_ bits: Bits, origin: UInt32 = 0) {
        self.bits = bits
        self.origin = origin
    }

    func check(
        _ nasm: String, _ expected: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ build: (inout Assembler) -> Void
    ) {
        var assembler = Assembler(bits: bits, origin: origin)
        build(&assembler)
        do {
            let bytes = try assembler.finish()
            #expect(hex(bytes) == expected, "\(nasm)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(nasm): \(error)", sourceLocation: sourceLocation)
        }
    }
}

/// Bytes as upper-case hex pairs separated by spaces, as in the golden strings.
func hex(_ bytes: [UInt8]) -> String {
    bytes.map { byte in
        let digits = String(byte, radix: 16, uppercase: true)
        return byte < 0x10 ? "0" + digits : digits
    }.joined(separator: " ")
}
