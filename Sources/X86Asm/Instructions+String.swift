/// A repeat prefix for a string instruction.
public enum RepeatPrefix: Hashable, Sendable {
    /// `rep`: repeat `cx`/`ecx`/`rcx` times (`F3`).
    case rep
    /// `repe`/`repz`: repeat while equal, at most `cx`/`ecx`/`rcx` times (`F3`).
    case repe
    /// `repne`/`repnz`: repeat while not equal, at most `cx`/`ecx`/`rcx` times (`F2`).
    case repne

    var byte: UInt8 { self == .repne ? 0xF2 : 0xF3 }
}

extension Assembler {
    /// Emits a string instruction whose byte form is `opcode` and word/dword/qword form
    /// `opcode | 1`; the repeat prefix comes before REX.W.
    private mutating func string(_ opcode: UInt8, _ size: OperandSize, _ prefix: RepeatPrefix?) {
        if let prefix { emit(prefix.byte) }
        emit([size.opcode(opcode)], size: size)
    }

    /// `movsb`: copies a byte from `ds:[si]` to `es:[di]`.
    public mutating func movsb(_ prefix: RepeatPrefix? = nil) { string(0xA4, .byte, prefix) }
    /// `movsw`: copies a word from `ds:[si]` to `es:[di]`.
    public mutating func movsw(_ prefix: RepeatPrefix? = nil) { string(0xA4, .word, prefix) }
    /// `movsd`: copies a doubleword from `ds:[si]` to `es:[di]`.
    public mutating func movsd(_ prefix: RepeatPrefix? = nil) { string(0xA4, .dword, prefix) }
    /// `movsq` (64-bit code): copies a quadword from `[rsi]` to `[rdi]`.
    public mutating func movsq(_ prefix: RepeatPrefix? = nil) { string(0xA4, .qword, prefix) }
    /// `cmpsb`: compares the byte at `ds:[si]` with the one at `es:[di]`.
    public mutating func cmpsb(_ prefix: RepeatPrefix? = nil) { string(0xA6, .byte, prefix) }
    /// `cmpsw`: compares the word at `ds:[si]` with the one at `es:[di]`.
    public mutating func cmpsw(_ prefix: RepeatPrefix? = nil) { string(0xA6, .word, prefix) }
    /// `cmpsd`: compares the doubleword at `ds:[si]` with the one at `es:[di]`.
    public mutating func cmpsd(_ prefix: RepeatPrefix? = nil) { string(0xA6, .dword, prefix) }
    /// `cmpsq` (64-bit code): compares the quadword at `[rsi]` with the one at `[rdi]`.
    public mutating func cmpsq(_ prefix: RepeatPrefix? = nil) { string(0xA6, .qword, prefix) }
    /// `stosb`: stores `al` at `es:[di]`.
    public mutating func stosb(_ prefix: RepeatPrefix? = nil) { string(0xAA, .byte, prefix) }
    /// `stosw`: stores `ax` at `es:[di]`.
    public mutating func stosw(_ prefix: RepeatPrefix? = nil) { string(0xAA, .word, prefix) }
    /// `stosd`: stores `eax` at `es:[di]`.
    public mutating func stosd(_ prefix: RepeatPrefix? = nil) { string(0xAA, .dword, prefix) }
    /// `stosq` (64-bit code): stores `rax` at `[rdi]`.
    public mutating func stosq(_ prefix: RepeatPrefix? = nil) { string(0xAA, .qword, prefix) }
    /// `lodsb`: loads `al` from `ds:[si]`.
    public mutating func lodsb(_ prefix: RepeatPrefix? = nil) { string(0xAC, .byte, prefix) }
    /// `lodsw`: loads `ax` from `ds:[si]`.
    public mutating func lodsw(_ prefix: RepeatPrefix? = nil) { string(0xAC, .word, prefix) }
    /// `lodsd`: loads `eax` from `ds:[si]`.
    public mutating func lodsd(_ prefix: RepeatPrefix? = nil) { string(0xAC, .dword, prefix) }
    /// `lodsq` (64-bit code): loads `rax` from `[rsi]`.
    public mutating func lodsq(_ prefix: RepeatPrefix? = nil) { string(0xAC, .qword, prefix) }
    /// `scasb`: compares `al` with the byte at `es:[di]`.
    public mutating func scasb(_ prefix: RepeatPrefix? = nil) { string(0xAE, .byte, prefix) }
    /// `scasw`: compares `ax` with the word at `es:[di]`.
    public mutating func scasw(_ prefix: RepeatPrefix? = nil) { string(0xAE, .word, prefix) }
    /// `scasd`: compares `eax` with the doubleword at `es:[di]`.
    public mutating func scasd(_ prefix: RepeatPrefix? = nil) { string(0xAE, .dword, prefix) }
    /// `scasq` (64-bit code): compares `rax` with the quadword at `[rdi]`.
    public mutating func scasq(_ prefix: RepeatPrefix? = nil) { string(0xAE, .qword, prefix) }
    /// `insb`: reads a byte from port `dx` to `es:[di]`.
    public mutating func insb(_ prefix: RepeatPrefix? = nil) { string(0x6C, .byte, prefix) }
    /// `insw`: reads a word from port `dx` to `es:[di]`.
    public mutating func insw(_ prefix: RepeatPrefix? = nil) { string(0x6C, .word, prefix) }
    /// `insd`: reads a doubleword from port `dx` to `es:[di]`.
    public mutating func insd(_ prefix: RepeatPrefix? = nil) { string(0x6C, .dword, prefix) }
    /// `outsb`: writes the byte at `ds:[si]` to port `dx`.
    public mutating func outsb(_ prefix: RepeatPrefix? = nil) { string(0x6E, .byte, prefix) }
    /// `outsw`: writes the word at `ds:[si]` to port `dx`.
    public mutating func outsw(_ prefix: RepeatPrefix? = nil) { string(0x6E, .word, prefix) }
    /// `outsd`: writes the doubleword at `ds:[si]` to port `dx`.
    public mutating func outsd(_ prefix: RepeatPrefix? = nil) { string(0x6E, .dword, prefix) }
}
