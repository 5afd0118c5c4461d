import X86Asm

/// Small routines and idioms the ROM and the built-in guests share.
extension Assembler {
    /// `mov al, value; out port, al` (ports above 0xFF go through DX).
    public mutating func outByte(_ port: UInt16, _ value: UInt8) {
        mov(.al, Int(value))
        if port <= 0xFF {
            out(.immediate(UInt8(port)), .al)
        } else {
            mov(.dx, Int(port))
            out(.dx, .al)
        }
    }

    /// COM1 at 115200 baud, 8N1, FIFOs on, DTR/RTS/OUT2, interrupts off (the ROM's set-up,
    /// which an OS restores after S3, where the UART lost power). Clobbers AL, DX.
    public mutating func emitSerialSetup() {
        outByte(0x3FB, 0x80)
        outByte(0x3F8, 0x01)
        outByte(0x3F9, 0x00)
        outByte(0x3FB, 0x03)
        outByte(0x3FA, 0xC7)
        outByte(0x3FC, 0x0B)
        outByte(0x3F9, 0x00)
    }

    /// Waits until the 8042 can take a byte (status bit 1, input buffer full, clear).
    public mutating func waitKeyboardControllerReady() {
        let wait = newLabel()
        bind(wait)
        `in`(.al, 0x64)
        test(.al, 0x02)
        jccShort(.nz, wait)
    }

    /// Emits a routine that writes the NUL-terminated string at DS:SI to `port` byte by
    /// byte (SI advances; AX, DX clobbered), and returns its label for `call`.
    public mutating func emitPortStringRoutine(port: UInt16) -> Label {
        let routine = newLabel(), next = newLabel(), done = newLabel()
        bind(routine)
        mov(.dx, Int(port))
        bind(next)
        lodsb()
        test(.al, .al)
        jccShort(.z, done)
        out(.dx, .al)
        jmpShort(next)
        bind(done)
        ret()
        return routine
    }

    /// A NUL-terminated ASCII string at the current position; returns its label.
    public mutating func emitString(_ text: String) -> Label {
        let label = newLabel()
        bind(label)
        ascii(text)
        db([0])
        return label
    }
}
