import Firmware
import X86Asm

/// Small real-mode guests the tests assemble; the firmware loads them at 0000:7C00.
enum SmallGuest {
    static let origin: UInt32 = 0x7C00
    /// A debug console port the tests attach when a guest reports through one.
    static let debugPort: UInt16 = 0xE9

    /// A guest: segments zeroed, stack below the code, then `body`.
    static func assemble(_ body: (inout Assembler) throws -> Void) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.es, .ax)
        a.mov(.ss, .ax)
        a.mov(.sp, Int(origin))
        try body(&a)
        return try a.finish()
    }

    /// `cli; hlt` (or `sti; hlt`) in a loop, with the PICs as the firmware left them
    /// (everything masked but the cascade).
    static func haltForever(interruptsEnabled: Bool) throws -> [UInt8] {
        try assemble { a in a.haltLoop(interruptsEnabled: interruptsEnabled) }
    }

    /// `rep stosb` of 4 KiB in a loop: busy work whose instructions repeat.
    static func repeatedStoresForever() throws -> [UInt8] {
        try assemble { a in
            a.pointExtraSegmentAtScratch()
            let again = a.newLabel()
            a.bind(again)
            a.repeatedStoreRound()
            a.jmpShort(again)
        }
    }

    /// `jmp $`.
    static func spin() throws -> [UInt8] {
        try assemble { a in
            let here = a.newLabel()
            a.bind(here)
            a.jmpShort(here)
        }
    }
}

extension Assembler {
    /// `cli` or `sti`, then `hlt` forever.
    mutating func haltLoop(interruptsEnabled: Bool) {
        let stop = newLabel()
        bind(stop)
        if interruptsEnabled { sti() } else { cli() }
        hlt()
        jmpShort(stop)
    }

    /// ES = 1000h: 64 KiB of scratch RAM at 10000h for `repeatedStoreRound`.
    mutating func pointExtraSegmentAtScratch() {
        mov(.ax, 0x1000)
        mov(.es, .ax)
    }

    /// `rep stosb` of 4096 bytes at ES:0 (one REP instruction, 4096 iterations).
    mutating func repeatedStoreRound() {
        cld()
        xor(.di, .di)
        mov(.cx, 4096)
        stosb(.rep)
    }

    /// Writes EAX to a byte-wide port, low byte first (EAX is shifted away).
    mutating func writeBytes(ofEAXTo port: UInt8) {
        for _ in 0..<4 {
            out(.immediate(port), .al)
            shr(.eax, 8)
        }
    }

    /// Reads CMOS byte `index` into AL.
    mutating func readCMOS(_ index: UInt8) {
        outByte(0x70, index)
        `in`(.al, 0x71)
    }
}
