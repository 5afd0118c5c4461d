import Testing
import X86
import X86Asm

/// Small guests that several suites need.
enum Guests {
    /// Loads `lidt [limit 0]; int3`: nothing can be delivered, so INT3 escalates through
    /// #GP and #DF to shutdown. Runs it and expects the shutdown.
    static func tripleFault(on m: TestMachine, sourceLocation: SourceLocation = #_sourceLocation) throws {
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        let descriptor = a.newLabel()
        a.lidt(Mem(label: descriptor))
        a.int3()
        a.bind(descriptor)
        a.dw(0)
        a.dd(0)
        try m.load(a)
        #expect(m.run() == .shutdown, sourceLocation: sourceLocation)
    }
}

/// A 64 KiB ROM: at FFF0h `mov al, 0x11; out 0x80, al; jmp F000:entry`; at `entry`
/// `mov al, 0x22; out 0x80, al; mov ax, cs; out 0x80, ax; hlt`.
enum ResetROM {
    static let entry: UInt32 = 0xE05B
    /// Length of the code at `entry` (the halted IP is just past it).
    static let bytesAfterEntry: UInt64 = 2 + 2 + 2 + 2 + 1

    static func image() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: 0)
        a.fill(to: entry, byte: 0xFF)
        a.mov(.al, 0x22)
        a.out(0x80, .al)
        a.mov(.ax, .cs)
        a.out(0x80, .ax)
        a.hlt()
        a.fill(to: 0xFFF0, byte: 0xFF)
        a.mov(.al, 0x11)
        a.out(0x80, .al)
        a.jmpFar(segment: 0xF000, offset: entry)
        a.fill(to: 0x1_0000, byte: 0xFF)
        return try a.finish()
    }
}
