import X86Asm

/// Guests for the command-line tests, assembled with the project's assembler: real-mode
/// payloads the built-in firmware loads at 0000:7C00, and a Multiboot kernel.
enum TestGuest {
    static let origin: UInt32 = 0x7C00
    static let debugPort = 0xE9

    /// Writes `text` to the debug console at 0xE9, then `cli; hlt`.
    static func debugConsoleMessage(_ text: String) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        for byte in text.utf8 {
            a.mov(.al, Int(byte))
            a.out(.immediate(UInt8(debugPort)), .al)
        }
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// Enters ACPI S3 through PM1a_CNT (the firmware's PMBASE 600h: SLP_TYP 101b, SLP_EN)
    /// with no wake source armed, then halts; woken, the firmware boots it again (no waking
    /// vector), so it suspends again.
    static func suspendToRAM() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        a.mov(.dx, 0x604)
        a.mov(.ax, 0x3400)
        a.out(.dx, .ax)
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// Writes `value` to the exit port 0xF4.
    static func exitPortWrite(_ value: UInt8) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        a.mov(.al, Int(value))
        a.out(.immediate(0xF4), .al)
        a.cli()
        a.hlt()
        return try a.finish()
    }

    /// `jmp $`: runs until stopped.
    static func spin() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let here = a.newLabel()
        a.bind(here)
        a.jmpShort(here)
        return try a.finish()
    }

    /// The word `watchedWord` stores to and reads.
    static let watchedAddress = 0x500

    /// Stores 1234h at `watchedAddress` twice (the second store writes the value already
    /// there), reads it back, then `cli; hlt`; with the address right after each access.
    static func watchedWord() throws -> (code: [UInt8], afterAccesses: [UInt32]) {
        var a = Assembler(bits: .b16, origin: origin)
        let stored = a.newLabel(), storedAgain = a.newLabel(), read = a.newLabel()
        a.mov(Mem(disp: watchedAddress, size: .word), 0x1234)
        a.bind(stored)
        a.mov(Mem(disp: watchedAddress, size: .word), 0x1234)
        a.bind(storedAgain)
        a.mov(.ax, Mem(disp: watchedAddress, size: .word))
        a.bind(read)
        a.cli()
        a.hlt()
        return (try a.finish(), [stored, storedAgain, read].map { a.address(of: $0)! })
    }

    /// COM1's base port.
    static let serialPort = 0x3F8

    /// Writes `prompt` to COM1, then echoes every byte COM1 receives, polling the line status
    /// register's data-ready bit (LSR bit 0, at base + 5).
    static func serialEcho(prompt: String) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        a.mov(.dx, serialPort)
        for byte in prompt.utf8 {
            a.mov(.al, Int(byte))
            a.out(.dx, .al)
        }
        let poll = a.newLabel()
        a.bind(poll)
        a.mov(.dx, serialPort + 5)
        a.in(.al, .dx)
        a.test(.al, 1)
        a.jccShort(.z, poll)
        a.mov(.dx, serialPort)
        a.in(.al, .dx)
        a.out(.dx, .al)
        a.jmpShort(poll)
        return try a.finish()
    }

    /// A Multiboot kernel (header with address fields, loaded at 1 MiB) that writes its command
    /// line and then "|" to the debug console, then halts.
    static func multibootCommandLineEcho() throws -> [UInt8] {
        let base: UInt32 = 0x10_0000
        let magic: UInt32 = 0x1BAD_B002, flags: UInt32 = 1 << 16
        var a = Assembler(bits: .b32, origin: base)
        let header = a.newLabel(), entry = a.newLabel(), next = a.newLabel(), done = a.newLabel()
        a.bind(header)
        a.dd(magic)
        a.dd(flags)
        a.dd(0 &- magic &- flags)
        a.dd(header)                      // header_addr
        a.dd(header)                      // load_addr
        a.dd(0)                           // load_end_addr: the whole file
        a.dd(0)                           // bss_end_addr: none
        a.dd(entry)                       // entry_addr
        a.bind(entry)
        a.mov(.esi, Mem(.ebx, disp: 16))  // multiboot_info.cmdline
        a.bind(next)
        a.lodsb()
        a.test(.al, .al)
        a.jccShort(.z, done)
        a.out(.immediate(UInt8(debugPort)), .al)
        a.jmpShort(next)
        a.bind(done)
        a.mov(.al, Int(UInt8(ascii: "|")))
        a.out(.immediate(UInt8(debugPort)), .al)
        a.cli()
        a.hlt()
        return try a.finish()
    }
}
