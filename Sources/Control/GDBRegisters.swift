import X86

/// The register files gdb's i386 and x86-64 target descriptions define (gdb's
/// features/i386/32bit-core.xml, 32bit-sse.xml, 64bit-core.xml, 64bit-sse.xml and
/// 64bit-segments.xml): the order of the `g` packet and the numbers of `p`/`P`. Only the x86-64
/// description has the segment bases (gdb 13's i386 architecture without a Linux OS ABI
/// fails an internal assertion on 32bit-segments.xml).
///
/// gdb reads the description once per connection and rejects one that does not match the
/// program it debugs (an x86-64 ELF with the i386 description, or the reverse, ends the
/// connection), so the description cannot follow the CPU's mode within a connection: the x86-64
/// one shows whole 64-bit registers in every mode (their low halves are the 32-bit and 16-bit
/// registers), the i386 one their low halves in every mode.
public enum GDBArchitecture: String, Equatable, Sendable, CaseIterable {
    case i386
    case x86_64 = "x86-64"

    /// x86-64 while `cpu` is in long mode (IA32_EFER.LMA), i386 otherwise.
    init(of cpu: CPU) {
        self = cpu.extendedFeatureEnable & (1 << 10) != 0 ? .x86_64 : .i386
    }

    /// What one register holds.
    enum Register: Equatable {
        case general(GeneralRegister)
        case instructionPointer
        case flags
        case segment(SegmentRegister)
        /// ST(i), 80 bits, from the FXSAVE image.
        case stack(Int)
        /// An x87 control register (fctrl, fstat, ftag, fiseg, fioff, foseg, fooff, fop).
        case x87(String)
        case xmm(Int)
        case mxcsr
        /// The FS or GS base (fs_base, gs_base: a 64-bit kernel's per-CPU and a thread's TLS base).
        case segmentBase(SegmentRegister)
    }

    var registers: [(name: String, register: Register)] {
        let generals: [(String, GeneralRegister)] = switch self {
        case .i386:
            [("eax", .rax), ("ecx", .rcx), ("edx", .rdx), ("ebx", .rbx), ("esp", .rsp), ("ebp", .rbp), ("esi", .rsi), ("edi", .rdi)]
        case .x86_64:
            [("rax", .rax), ("rbx", .rbx), ("rcx", .rcx), ("rdx", .rdx), ("rsi", .rsi), ("rdi", .rdi), ("rbp", .rbp), ("rsp", .rsp),
             ("r8", .r8), ("r9", .r9), ("r10", .r10), ("r11", .r11), ("r12", .r12), ("r13", .r13), ("r14", .r14), ("r15", .r15)]
        }
        var list = generals.map { ($0.0, Register.general($0.1)) }
        list.append((self == .i386 ? "eip" : "rip", .instructionPointer))
        list.append(("eflags", .flags))
        for (name, segment) in [("cs", SegmentRegister.cs), ("ss", .ss), ("ds", .ds), ("es", .es), ("fs", .fs), ("gs", .gs)] {
            list.append((name, .segment(segment)))
        }
        for i in 0..<8 { list.append(("st\(i)", .stack(i))) }
        for name in ["fctrl", "fstat", "ftag", "fiseg", "fioff", "foseg", "fooff", "fop"] { list.append((name, .x87(name))) }
        for i in 0..<(self == .i386 ? 8 : 16) { list.append(("xmm\(i)", .xmm(i))) }
        list.append(("mxcsr", .mxcsr))
        if self == .x86_64 {
            list.append(("fs_base", .segmentBase(.fs)))
            list.append(("gs_base", .segmentBase(.gs)))
        }
        return list
    }

    /// The register's width in bytes.
    func size(of register: Register) -> Int {
        switch register {
        case .general, .instructionPointer: self == .i386 ? 4 : 8
        case .segmentBase: 8
        case .flags, .segment, .x87, .mxcsr: 4
        case .stack: 10
        case .xmm: 16
        }
    }

    /// The register's value, little-endian, as the `g` and `p` packets carry it.
    func value(of register: Register, cpu: CPU, fxsave: [UInt8]) -> [UInt8] {
        func le(_ value: UInt64, _ width: Int) -> [UInt8] { (0..<width).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
        func word(_ offset: Int, _ width: Int) -> UInt64 { fxsave[offset..<offset + width].reversed().reduce(0) { $0 << 8 | UInt64($1) } }
        switch register {
        case .general(let r): return le(cpu.register(r), size(of: register))
        case .instructionPointer: return le(cpu.instructionPointer, size(of: register))
        case .flags: return le(UInt64(cpu.eflags), 4)
        case .segment(let s): return le(UInt64(cpu.segment(s).selector), 4)
        case .segmentBase(let s): return le(cpu.segment(s).base, size(of: register))
        case .stack(let i): return Array(fxsave[32 + 16 * i..<32 + 16 * i + 10])
        case .xmm(let i): return Array(fxsave[160 + 16 * i..<176 + 16 * i])
        case .mxcsr: return le(word(24, 4), 4)
        case .x87(let name):
            let value: UInt64 = switch name {
            case "fctrl": word(0, 2)
            case "fstat": word(2, 2)
            case "ftag": Self.fullTagWord(fxsave)
            case "fiseg": word(12, 2)
            case "fioff": word(8, 4)
            case "foseg": word(20, 2)
            case "fooff": word(16, 4)
            default: word(6, 2) & 0x7FF                   // fop: the opcode's low 11 bits
            }
            return le(value, 4)
        }
    }

    /// The x87 tag word gdb shows, from FXSAVE's abridged one (a bit per physical register)
    /// and the registers' contents: 00 valid, 01 zero, 10 special, 11 empty (SDM Vol. 1, 8.1.7).
    static func fullTagWord(_ fxsave: [UInt8]) -> UInt64 {
        let abridged = fxsave[4], top = Int(fxsave[3] >> 3) & 7
        var tags: UInt64 = 0
        for physical in 0..<8 {
            var tag: UInt64 = 3
            if abridged & (1 << physical) != 0 {
                let offset = 32 + 16 * ((physical - top + 8) & 7)
                let exponent = (UInt16(fxsave[offset + 9]) << 8 | UInt16(fxsave[offset + 8])) & 0x7FFF
                let mantissa = fxsave[offset..<offset + 8].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                let integerBit = fxsave[offset + 7] & 0x80 != 0
                tag = exponent == 0 && mantissa == 0 ? 1 : (exponent == 0x7FFF || exponent == 0 || !integerBit) ? 2 : 0
            }
            tags |= tag << (2 * UInt64(physical))
        }
        return tags
    }

    /// Writes a register from `p`/`P`/`G` bytes; false for what cannot be written here
    /// (x87 and SSE registers, segment bases, and segment registers outside real mode).
    func write(_ register: Register, _ bytes: [UInt8], cpu: CPU) -> Bool {
        let value = bytes.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        switch register {
        case .general(let r):
            cpu.setRegister(r, self == .i386 ? (cpu.register(r) & ~0xFFFF_FFFF) | value : value)
        case .instructionPointer:
            cpu.instructionPointer = value
        case .flags:
            cpu.eflags = UInt32(truncatingIfNeeded: value)
        case .segment(let s):
            guard !cpu.isProtectedMode else { return cpu.segment(s).selector == UInt16(truncatingIfNeeded: value) }
            cpu.loadRealModeSegment(s, selector: UInt16(truncatingIfNeeded: value))
        case .stack, .x87, .xmm, .mxcsr, .segmentBase:
            return false
        }
        return true
    }

    /// The target description gdb reads with `qXfer:features:read:target.xml`.
    var targetDescription: String {
        let architecture = self == .i386 ? "i386" : "i386:x86-64"
        var xml = """
            <?xml version="1.0"?>
            <!DOCTYPE target SYSTEM "gdb-target.dtd">
            <target version="1.0">
            <architecture>\(architecture)</architecture>
            <feature name="org.gnu.gdb.i386.core">

            """
        var sseOpened = false
        for (number, (name, register)) in registers.enumerated() {
            let bits = size(of: register) * 8
            let type: String
            switch register {
            case .instructionPointer: type = "code_ptr"
            case .general(let r) where r == .rsp || r == .rbp: type = "data_ptr"
            case .stack: type = "i387_ext"
            case .xmm: type = "vec128"
            default: type = self == .x86_64 && bits == 64 ? "int64" : "int32"
            }
            if case .xmm = register, !sseOpened {
                sseOpened = true
                xml += """
                    </feature>
                    <feature name="org.gnu.gdb.i386.sse">
                    <vector id="v4f" type="ieee_single" count="4"/>
                    <vector id="v2d" type="ieee_double" count="2"/>
                    <vector id="v16i8" type="int8" count="16"/>
                    <vector id="v8i16" type="int16" count="8"/>
                    <vector id="v4i32" type="int32" count="4"/>
                    <vector id="v2i64" type="int64" count="2"/>
                    <union id="vec128">
                    <field name="v4_float" type="v4f"/><field name="v2_double" type="v2d"/><field name="v16_int8" type="v16i8"/>
                    <field name="v8_int16" type="v8i16"/><field name="v4_int32" type="v4i32"/><field name="v2_int64" type="v2i64"/>
                    <field name="uint128" type="uint128"/>
                    </union>

                    """
            }
            if case .segmentBase(.fs) = register { xml += "</feature>\n<feature name=\"org.gnu.gdb.i386.segments\">\n" }
            var group = ""
            if case .stack = register { group = " group=\"float\"" }
            if case .x87 = register { group = " group=\"float\"" }
            if case .xmm = register { group = " group=\"vector\"" }
            if case .mxcsr = register { group = " group=\"vector\"" }
            xml += "<reg name=\"\(name)\" bitsize=\"\(bits)\" type=\"\(type)\" regnum=\"\(number)\"\(group)/>\n"
        }
        xml += "</feature>\n</target>\n"
        return xml
    }
}
