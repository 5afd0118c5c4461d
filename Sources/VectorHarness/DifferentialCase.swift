import Foundation

/// One case of the differential oracle (`Tools/differential/oracle.py`): a short instruction
/// stream, the state it starts from and the state unicorn (QEMU's CPU) ended in. See the
/// generator's docstring for the JSON format.
public struct DifferentialCase: Sendable {
    /// A run of bytes in the data window.
    public struct MemoryRun: Sendable, Equatable {
        public var address: UInt64
        public var bytes: [UInt8]
    }

    /// Registers (by lower-case name: `eax` … `edi` in 32-bit mode, `rax` … `r15` in 64-bit
    /// mode), EFLAGS, the XMM registers and MXCSR (when the case has them) and data-window bytes.
    public struct State: Sendable {
        public var registers: [String: UInt64]
        public var eflags: UInt32
        /// Where the stream ended (the final state only): `eip` or `rip` in the JSON.
        public var instructionPointer: UInt64?
        /// XMM0 … XMM7 (32-bit mode) or XMM15 (64-bit mode); empty in a case without SSE state.
        public var xmm: [UInt128]
        public var mxcsr: UInt32?
        public var memory: [MemoryRun]
    }

    /// The case's number in its file's sweep.
    public let index: Int
    /// The processor mode the stream runs in: 32 (protected mode) or 64 (64-bit mode).
    public let mode: Int
    public let codeAddress: UInt64
    public let windowAddress: UInt64
    public let windowSize: Int
    /// The instruction stream, without the HLT the runner appends.
    public let code: [UInt8]
    /// The generator's text for each instruction.
    public let assembly: [String]
    public var initial: State
    /// unicorn's final state: the bytes it read or wrote, with their final values.
    public var final: State
    /// The EFLAGS bits whose final value is architecturally defined, the ones compared.
    public let definedFlags: UInt32
    /// Bits of registers the stream leaves architecturally undefined, not compared.
    public let undefinedRegisters: [String: UInt64]
    /// The MXCSR bits compared (`compared_mxcsr`; none when absent).
    public let comparedMXCSR: UInt32
}

extension DifferentialCase.MemoryRun: Decodable {
    /// `[address, "hex bytes"]`.
    public init(from decoder: any Decoder) throws {
        var pair = try decoder.unkeyedContainer()
        address = try pair.decode(UInt64.self)
        bytes = try decodeHex(try pair.decode(String.self), in: pair)
    }
}

extension DifferentialCase.State: Decodable {
    enum CodingKeys: String, CodingKey {
        case registers, eflags, memory, eip, rip, xmm, mxcsr
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        registers = try container.decode([String: UInt64].self, forKey: .registers)
        eflags = try container.decode(UInt32.self, forKey: .eflags)
        instructionPointer = try container.decodeIfPresent(UInt64.self, forKey: .rip)
            ?? container.decodeIfPresent(UInt64.self, forKey: .eip)
        xmm = try (container.decodeIfPresent([String].self, forKey: .xmm) ?? []).map { text in
            guard text.count == 32, let value = UInt128(text, radix: 16) else {
                throw DecodingError.dataCorruptedError(forKey: .xmm, in: container, debugDescription: "not 32 hex digits: \(text.prefix(40))")
            }
            return value
        }
        mxcsr = try container.decodeIfPresent(UInt32.self, forKey: .mxcsr)
        memory = try container.decode([DifferentialCase.MemoryRun].self, forKey: .memory)
    }
}

extension DifferentialCase: Decodable {
    enum CodingKeys: String, CodingKey {
        case index, mode, code, asm, initial, final
        case codeAddress = "code_address"
        case dataWindow = "data_window"
        case definedFlags = "defined_flags"
        case undefinedRegisters = "undefined_registers"
        case comparedMXCSR = "compared_mxcsr"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        index = try container.decode(Int.self, forKey: .index)
        mode = try container.decode(Int.self, forKey: .mode)
        codeAddress = try container.decode(UInt64.self, forKey: .codeAddress)
        var window = try container.nestedUnkeyedContainer(forKey: .dataWindow)
        windowAddress = try window.decode(UInt64.self)
        windowSize = try window.decode(Int.self)
        code = try decodeHex(try container.decode(String.self, forKey: .code), in: container, key: .code)
        assembly = try container.decodeIfPresent([String].self, forKey: .asm) ?? []
        initial = try container.decode(State.self, forKey: .initial)
        final = try container.decode(State.self, forKey: .final)
        definedFlags = try container.decode(UInt32.self, forKey: .definedFlags)
        undefinedRegisters = try container.decodeIfPresent([String: UInt64].self, forKey: .undefinedRegisters) ?? [:]
        comparedMXCSR = try container.decodeIfPresent(UInt32.self, forKey: .comparedMXCSR) ?? 0
    }
}

/// Bytes from a string of hex digit pairs; anything else is a decoding error at `container`.
private func decodeHex(_ text: String, in container: UnkeyedDecodingContainer) throws -> [UInt8] {
    guard let bytes = bytes(fromHex: text) else {
        throw DecodingError.dataCorruptedError(in: container, debugDescription: "not hex bytes: \(text.prefix(40))")
    }
    return bytes
}

private func decodeHex<K>(_ text: String, in container: KeyedDecodingContainer<K>, key: K) throws -> [UInt8] {
    guard let bytes = bytes(fromHex: text) else {
        throw DecodingError.dataCorruptedError(forKey: key, in: container, debugDescription: "not hex bytes: \(text.prefix(40))")
    }
    return bytes
}

private func bytes(fromHex text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var bytes: [UInt8] = []
    bytes.reserveCapacity(digits.count / 2)
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let high = hexValue(digits[i]), let low = hexValue(digits[i + 1]) else { return nil }
        bytes.append(high << 4 | low)
    }
    return bytes
}

private func hexValue(_ digit: UInt8) -> UInt8? {
    switch digit {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): digit - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// Errors reading differential case files.
public enum DifferentialError: Error, CustomStringConvertible, Equatable {
    case unreadable(String, reason: String)
    case malformed(file: String, line: Int, reason: String)
    /// A well-formed case this runner cannot run: another mode, or a layout that does not fit.
    case unsupported(file: String, line: Int, reason: String)
    /// The file holds no cases.
    case empty(String)
    /// The harness itself is broken (its entry code did not assemble).
    case harness(String)

    public var description: String {
        switch self {
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .malformed(let file, let line, let reason): "\(file):\(line): malformed case: \(reason)"
        case .unsupported(let file, let line, let reason): "\(file):\(line): unsupported case: \(reason)"
        case .empty(let path): "\(path): no cases in the file"
        case .harness(let reason): "differential harness: \(reason)"
        }
    }
}
