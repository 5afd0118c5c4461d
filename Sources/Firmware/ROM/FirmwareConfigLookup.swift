import X86Asm

/// The board's firmware configuration interface (QEMU's fw_cfg) as the ROM reads it: a
/// 16-bit write of a key to the selector port, then byte reads from the data port. The
/// ROM's payloads are named files; it finds them in the file directory on every boot.
public enum FirmwareConfigInterface {
    public static let selectorPort: UInt16 = 0x510
    public static let dataPort: UInt16 = 0x511
    /// `FW_CFG_FILE_DIR`: a big-endian entry count, then 64-byte entries (big-endian size,
    /// big-endian key, two reserved bytes, a NUL-padded 56-byte name).
    public static let fileDirectoryKey: UInt16 = 0x0019
    /// The bytes of a name in a directory entry.
    public static let nameFieldSize = 56
}

extension Assembler {
    /// Emits a near subroutine for 16-bit real-mode code that finds a file in the firmware
    /// configuration's directory, and returns its label.
    ///
    /// In: CS:SI → the file's name, NUL-padded to 56 bytes (``emitFirmwareConfigName(_:)``).
    /// Out: CF clear, BX = the file's key and ECX = its size; or CF set when no entry has that
    /// name. It compares all 56 bytes of each entry's name, reading every byte, and leaves the
    /// directory selected. Clobbers EAX, DX, EDI and BP; SI is kept. It needs no RAM but the
    /// stack, so it works on every boot, whatever a reset did to memory.
    public mutating func emitFirmwareConfigLookup() -> Label {
        let lookup = newLabel("firmwareConfigLookup")
        let nextEntry = newLabel(), nameByte = newLabel(), sameByte = newLabel(), notFound = newLabel()
        bind(lookup)
        mov(.dx, Int(FirmwareConfigInterface.selectorPort))
        mov(.ax, Int(FirmwareConfigInterface.fileDirectoryKey))
        out(.dx, .ax)
        inc(.dx)
        readBigEndianDword()
        mov(.edi, .eax)                        // EDI = entries left
        bind(nextEntry)
        test(.edi, .edi)
        jcc(.z, notFound)
        dec(.edi)
        readBigEndianDword()
        mov(.ecx, .eax)                        // ECX = size
        `in`(.al, .dx); mov(.bh, .al)
        `in`(.al, .dx); mov(.bl, .al)          // BX = key
        `in`(.al, .dx); `in`(.al, .dx)         // reserved
        push(.si)
        mov(.bp, FirmwareConfigInterface.nameFieldSize)
        xor(.ah, .ah)                          // AH = 1 once a byte differs
        bind(nameByte)
        `in`(.al, .dx)
        cmp(.al, Mem(.si, size: .byte, segment: .cs))
        jccShort(.e, sameByte)
        mov(.ah, 1)
        bind(sameByte)
        inc(.si)
        dec(.bp)
        jccShort(.nz, nameByte)
        pop(.si)
        test(.ah, .ah)
        jcc(.nz, nextEntry)
        clc()
        ret()
        bind(notFound)
        stc()
        ret()
        return lookup
    }

    /// A file name NUL-padded to the directory's 56 bytes, at the current position (bound to
    /// `label` when given, for a name referred to before it is emitted); returns its label
    /// for ``emitFirmwareConfigLookup()``.
    @discardableResult
    public mutating func emitFirmwareConfigName(_ name: String, label: Label? = nil) -> Label {
        let bytes = Array(name.utf8)
        precondition(!bytes.isEmpty && bytes.count < FirmwareConfigInterface.nameFieldSize, "a fw_cfg name has 1 to 55 bytes")
        let label = label ?? newLabel()
        bind(label)
        db(bytes + [UInt8](repeating: 0, count: FirmwareConfigInterface.nameFieldSize - bytes.count))
        return label
    }

    /// Selects the key in BX (after a lookup) and leaves DX at the data port. Clobbers AX.
    public mutating func selectFirmwareConfigItemInBX() {
        mov(.dx, Int(FirmwareConfigInterface.selectorPort))
        mov(.ax, .bx)
        out(.dx, .ax)
        inc(.dx)
    }

    /// EAX = the next four bytes of the data port (DX) read as a big-endian number.
    mutating func readBigEndianDword() {
        for _ in 0..<4 {
            shl(.eax, 8)
            `in`(.al, .dx)
        }
    }

    /// EAX = the next four bytes of the data port (DX) read as a little-endian number. The
    /// data port is byte-wide, as QEMU's on x86: a 32-bit read would not stream 4 bytes.
    mutating func readLittleEndianDword() {
        for _ in 0..<4 {
            `in`(.al, .dx)
            ror(.eax, 8)
        }
    }
}
