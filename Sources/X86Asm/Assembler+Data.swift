extension Assembler {
    /// Appends bytes of data (nasm's `db`).
    public mutating func db(_ bytes: [UInt8]) {
        emit(bytes)
    }

    /// Appends a little-endian word (nasm's `dw`).
    public mutating func dw(_ value: UInt16) {
        emit(Int(value), bytes: 2)
    }

    /// Appends the low 16 bits of `label`'s address plus `addend`, e.g. an offset in a table.
    public mutating func dw(_ label: Label, plus addend: Int = 0) {
        emit(addend, plus: label, bytes: 2)
    }

    /// Appends a little-endian doubleword (nasm's `dd`).
    public mutating func dd(_ value: UInt32) {
        emit(Int(value), bytes: 4)
    }

    /// Appends `label`'s address plus `addend` as a doubleword, e.g. a pointer in a table.
    public mutating func dd(_ label: Label, plus addend: Int = 0) {
        emit(addend, plus: label, bytes: 4)
    }

    /// Appends a little-endian quadword (nasm's `dq`).
    public mutating func dq(_ value: UInt64) {
        emit(Int(bitPattern: UInt(value)), bytes: 8)
    }

    /// Appends `label`'s address plus `addend` as a quadword, e.g. a pointer in 64-bit code.
    public mutating func dq(_ label: Label, plus addend: Int = 0) {
        emit(addend, plus: label, bytes: 8)
    }

    /// Appends the UTF-8 bytes of `string`, which must be ASCII, with no terminator.
    public mutating func ascii(_ string: String) {
        precondition(string.utf8.allSatisfy { $0 < 0x80 }, "\"\(string)\" is not ASCII")
        emit(Array(string.utf8))
    }

    /// Pads with `fill` until ``position`` is a multiple of `boundary` (nasm's `align`).
    public mutating func align(_ boundary: Int, fill: UInt8 = 0) {
        precondition(boundary > 0, "alignment must be positive")
        let remainder = Int(position % UInt32(boundary))
        if remainder != 0 {
            emit(Array(repeating: fill, count: boundary - remainder))
        }
    }

    /// Pads with `byte` until ``position`` reaches `address`, as a ROM image needs before its
    /// reset vector. If the code has already passed `address`, ``finish()`` throws
    /// ``AssemblerError/fillTargetPassed(target:position:)``.
    public mutating func fill(to address: UInt32, byte: UInt8 = 0) {
        guard address >= position else {
            deferredErrors.append(.fillTargetPassed(target: address, position: position))
            return
        }
        emit(Array(repeating: byte, count: Int(address - position)))
    }
}
