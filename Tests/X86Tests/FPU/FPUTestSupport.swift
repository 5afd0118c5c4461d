@testable import X86
import Testing
import X86Asm

extension Extended80 {
    /// A value from its two halves as hex dumps show them: sign/exponent, significand.
    init(_ signExponent: UInt16, _ significand: UInt64) {
        self.init(significand: significand, signExponent: signExponent)
    }
}

/// x87 guests: data bytes at `TestMachine.data` (DS:0x3000), results read back from memory
/// and from the CPU's x87 state.
enum X87Guest {
    static let data = TestMachine.data

    /// `[0x3000 + offset]`.
    static func at(_ offset: Int) -> Mem { Mem(disp: data + offset) }

    /// Little-endian bytes of a value.
    static func bytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<MemoryLayout<T>.size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) }
    }

    static func bytes(_ value: Extended80) -> [UInt8] { bytes(value.significand) + bytes(value.signExponent) }

    /// Loads `data`, runs the guest (after an FNINIT: the power-up state has a full stack)
    /// to its final HLT and expects no interrupt or exception.
    static func run(data: [UInt8] = [], sourceLocation: SourceLocation = #_sourceLocation,
                    _ build: (inout Assembler) -> Void) throws -> TestMachine {
        let m = TestMachine()
        m.bus.load(data, at: X87Guest.data)
        let reason = try m.run { a in
            a.fninit()
            build(&a)
            a.hlt()
        }
        m.expectCleanHalt(reason, sourceLocation: sourceLocation)
        return m
    }

    /// Sets CR0 (real mode: PE clear) — ET is hardwired, CD/NW as at reset.
    static func setCR0(_ a: inout Assembler, _ bits: UInt32) {
        a.mov(.eax, Int(0x6000_0010 | bits))
        a.mov(.cr0, .eax)
    }

    /// Loads the FCW from a word placed in the guest (clobbers the word at data + 0xFE).
    static func loadControlWord(_ a: inout Assembler, _ value: UInt16) {
        a.mov(Mem(disp: data + 0xFE, size: .word), Int(value))
        a.x87(.fldcw, Mem(disp: data + 0xFE, size: .word))
    }
}

extension TestMachine {
    func memory(_ offset: Int, count: Int) -> [UInt8] {
        (0..<count).map { bus.byte(at: X87Guest.data + offset + $0) }
    }

    func extended(at offset: Int) -> Extended80 {
        let b = memory(offset, count: 10)
        let significand = b[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return Extended80(significand: significand, signExponent: UInt16(b[8]) | UInt16(b[9]) << 8)
    }

    func qword(at offset: Int) -> UInt64 {
        UInt64(bus.dword(at: X87Guest.data + offset)) | UInt64(bus.dword(at: X87Guest.data + offset + 4)) << 32
    }

    var fpu: FPUState { cpu.fpu }
}
