import Testing
import X86Asm

@Suite struct StringTests {
    @Test func strings16() {
        let g = Golden(.b16)
        g.check("movsb\nmovsw\nmovsd", "A4 A5 66 A5") { $0.movsb(); $0.movsw(); $0.movsd() }
        g.check("cmpsb\ncmpsw\ncmpsd", "A6 A7 66 A7") { $0.cmpsb(); $0.cmpsw(); $0.cmpsd() }
        g.check("stosb\nstosw\nstosd", "AA AB 66 AB") { $0.stosb(); $0.stosw(); $0.stosd() }
        g.check("lodsb\nlodsw\nlodsd", "AC AD 66 AD") { $0.lodsb(); $0.lodsw(); $0.lodsd() }
        g.check("scasb\nscasw\nscasd", "AE AF 66 AF") { $0.scasb(); $0.scasw(); $0.scasd() }
        g.check("insb\ninsw\ninsd", "6C 6D 66 6D") { $0.insb(); $0.insw(); $0.insd() }
        g.check("outsb\noutsw\noutsd", "6E 6F 66 6F") { $0.outsb(); $0.outsw(); $0.outsd() }
        g.check("rep movsb", "F3 A4") { $0.movsb(.rep) }
        g.check("rep movsd", "F3 66 A5") { $0.movsd(.rep) }
        g.check("rep stosw", "F3 AB") { $0.stosw(.rep) }
        g.check("repe cmpsb", "F3 A6") { $0.cmpsb(.repe) }
        g.check("repne scasb", "F2 AE") { $0.scasb(.repne) }
        g.check("repne cmpsd", "F2 66 A7") { $0.cmpsd(.repne) }
        g.check("rep insw", "F3 6D") { $0.insw(.rep) }
        g.check("rep outsb", "F3 6E") { $0.outsb(.rep) }
        g.check("rep lodsb", "F3 AC") { $0.lodsb(.rep) }
    }

    @Test func strings32() {
        let g = Golden(.b32)
        g.check("movsb\nmovsw\nmovsd", "A4 66 A5 A5") { $0.movsb(); $0.movsw(); $0.movsd() }
        g.check("cmpsb\ncmpsw\ncmpsd", "A6 66 A7 A7") { $0.cmpsb(); $0.cmpsw(); $0.cmpsd() }
        g.check("stosb\nstosw\nstosd", "AA 66 AB AB") { $0.stosb(); $0.stosw(); $0.stosd() }
        g.check("lodsb\nlodsw\nlodsd", "AC 66 AD AD") { $0.lodsb(); $0.lodsw(); $0.lodsd() }
        g.check("scasb\nscasw\nscasd", "AE 66 AF AF") { $0.scasb(); $0.scasw(); $0.scasd() }
        g.check("insb\ninsw\ninsd", "6C 66 6D 6D") { $0.insb(); $0.insw(); $0.insd() }
        g.check("outsb\noutsw\noutsd", "6E 66 6F 6F") { $0.outsb(); $0.outsw(); $0.outsd() }
        g.check("rep movsd", "F3 A5") { $0.movsd(.rep) }
        g.check("rep stosw", "F3 66 AB") { $0.stosw(.rep) }
        g.check("repe cmpsw", "F3 66 A7") { $0.cmpsw(.repe) }
        g.check("repne scasd", "F2 AF") { $0.scasd(.repne) }
        g.check("rep outsd", "F3 6F") { $0.outsd(.rep) }
    }
}
