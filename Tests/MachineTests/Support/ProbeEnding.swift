import X86Asm

extension Assembler {
    /// The probes' common ending: a `cli; hlt` loop, then each string (NUL-terminated) at its label.
    mutating func emitStopAndStrings(_ strings: [(Label, String)]) {
        let stop = newLabel()
        bind(stop)
        cli()
        hlt()
        jmpShort(stop)
        for (label, text) in strings {
            bind(label)
            ascii(text)
            db([0])
        }
    }
}
