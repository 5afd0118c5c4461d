import Foundation
import X86

/// The outcome of a file of differential cases.
public struct DifferentialResult: Sendable {
    public internal(set) var passed = 0
    public internal(set) var failed = 0
    /// Reports of the first few failing cases.
    public internal(set) var failures: [DifferentialFailure] = []
}

/// A case whose final state on this CPU differs from unicorn's.
public struct DifferentialFailure: Sendable, CustomStringConvertible {
    public let index: Int
    public let code: [UInt8]
    public let assembly: [String]
    /// One line per difference: `field=ours want unicorn's`, or why the run stopped.
    public let differences: [String]

    /// The case, then its first six differences, one per indented line.
    public var description: String {
        let bytes = code.map { String(format: "%02x", $0) }.joined(separator: " ")
        let shown = differences.prefix(6) + (differences.count > 6 ? ["... \(differences.count - 6) more"] : [])
        return "case \(index): \(assembly.joined(separator: "; ")) [\(bytes)]\n"
            + shown.map { "    " + $0 }.joined(separator: "\n")
    }
}

/// Runs differential cases (`Tools/differential/oracle.py`) on the CPU — in 32-bit flat
/// protected mode or in 64-bit mode, at CPL 3 (`DifferentialEntry`) — and compares each
/// with unicorn's final state: the general registers (less bits the case marks undefined),
/// EIP/RIP, the EFLAGS bits the case marks defined, the XMM registers, the MXCSR bits the case
/// marks compared, and every byte of the data window.
///
/// A stream ends at the HLT the runner appends, which at CPL 3 raises #GP (SDM Vol. 2A, HLT):
/// the final state is the one the #GP finds, taken as it is delivered (the IDT's limit of 0
/// then ends the run in shutdown without touching registers or memory).
public final class DifferentialRunner: CPUObserver {
    /// RAM from 0 up: the entry code below `DifferentialEntry.reservedEnd`, then room for a
    /// case's data window and code (all within the 2 MiB the 64-bit page tables map).
    static let memorySize = 0x40000
    private let bus = FlatMemoryBus(size: memorySize)
    private let cpu: CPU
    private let keepFailures: Int
    /// The entry code by mode.
    private let entries: [Int: [UInt8]]
    /// The window as unicorn left it, rebuilt for each case.
    private var expectedWindow: [UInt8] = []
    private var delivered: [UInt8] = []
    /// The general registers, EFLAGS and instruction pointer as the first delivery found them.
    private var atFirstDelivery: (registers: [UInt64], eflags: UInt32, instructionPointer: UInt64)?

    /// `keepFailures`: how many failing cases `run(file:)` reports in full.
    public init(keepFailures: Int = 10) throws(DifferentialError) {
        cpu = CPU(bus: bus)
        self.keepFailures = keepFailures
        var entries: [Int: [UInt8]] = [:]
        for mode in Self.registers.keys {
            do {
                entries[mode] = try DifferentialEntry.code(mode: mode)
            } catch {
                throw .harness("the \(mode)-bit entry code does not assemble: \(error)")
            }
        }
        self.entries = entries
        cpu.observer = self
    }

    /// Runs every case of a JSON Lines file (plain or gzip-compressed).
    public func run(file path: String) throws(DifferentialError) -> DifferentialResult {
        var result = DifferentialResult()
        var reader: GzipLineReader
        do {
            reader = try GzipLineReader(path: path)
        } catch {
            throw .unreadable(path, reason: "no such file or not readable")
        }
        let decoder = JSONDecoder()
        var lineNumber = 0
        while true {
            let line: String?
            do {
                line = try reader.nextLine()
            } catch {
                if case .corrupt(_, let reason) = error {
                // zlib's message may start with the path already.
                throw .unreadable(path, reason: reason.hasPrefix(path + ": ") ? String(reason.dropFirst(path.count + 2)) : reason)
            }
            throw .unreadable(path, reason: error.description)
            }
            guard let line else { break }
            lineNumber += 1
            if line.allSatisfy(\.isWhitespace) { continue }
            let testCase: DifferentialCase
            do {
                testCase = try decoder.decode(DifferentialCase.self, from: Data(line.utf8))
            } catch {
                throw .malformed(file: path, line: lineNumber, reason: Self.describe(error))
            }
            if let problem = Self.problem(with: testCase) {
                throw .unsupported(file: path, line: lineNumber, reason: problem)
            }
            let differences = differences(testCase)
            if differences.isEmpty {
                result.passed += 1
            } else {
                result.failed += 1
                if result.failures.count < keepFailures {
                    result.failures.append(DifferentialFailure(index: testCase.index, code: testCase.code,
                                                               assembly: testCase.assembly, differences: differences))
                }
            }
        }
        if result.passed + result.failed == 0 { throw .empty(path) }
        return result
    }

    /// What keeps this runner from running a well-formed case, or `nil` if nothing does.
    static func problem(with testCase: DifferentialCase) -> String? {
        guard let registers = registers[testCase.mode] else { return "mode \(testCase.mode) is not supported (only 32 and 64)" }
        let reserved = DifferentialEntry.reservedEnd
        let window = testCase.windowAddress..<testCase.windowAddress &+ UInt64(max(testCase.windowSize, 0))
        let code = testCase.codeAddress..<testCase.codeAddress &+ UInt64(testCase.code.count + 1)
        for (name, range) in [("data window", window), ("code", code)]
        where range.lowerBound < reserved || range.upperBound > UInt64(memorySize) || range.isEmpty {
            return "the \(name) must lie within \(hex(reserved))h..\(hex(memorySize))h"
        }
        if window.overlaps(code) { return "the code overlaps the data window" }
        for state in [testCase.initial, testCase.final] {
            for run in state.memory where run.address < window.lowerBound || run.address &+ UInt64(run.bytes.count) > window.upperBound {
                return "memory at \(hex(run.address))h lies outside the data window"
            }
            if let (missing, _) = registers.first(where: { state.registers[$0.0] == nil }) { return "no value for \(missing)" }
        }
        let xmmCount = testCase.mode == 64 ? 16 : 8
        if !testCase.initial.xmm.isEmpty || !testCase.final.xmm.isEmpty {
            guard testCase.initial.xmm.count == xmmCount, testCase.final.xmm.count == xmmCount else {
                return "a \(testCase.mode)-bit case has \(xmmCount) XMM registers in both states"
            }
        }
        if testCase.comparedMXCSR != 0 && (testCase.initial.mxcsr == nil || testCase.final.mxcsr == nil) {
            return "MXCSR is compared but not given"
        }
        if testCase.final.instructionPointer == nil { return "no final \(testCase.mode == 64 ? "rip" : "eip")" }
        return nil
    }

    /// The general registers a case gives, by name, for each mode.
    static let registers: [Int: [(String, GeneralRegister)]] = [
        32: [("eax", .rax), ("ecx", .rcx), ("edx", .rdx), ("ebx", .rbx), ("esp", .rsp), ("ebp", .rbp), ("esi", .rsi), ("edi", .rdi)],
        64: [("rax", .rax), ("rcx", .rcx), ("rdx", .rdx), ("rbx", .rbx), ("rsp", .rsp), ("rbp", .rbp), ("rsi", .rsi), ("rdi", .rdi),
             ("r8", .r8), ("r9", .r9), ("r10", .r10), ("r11", .r11), ("r12", .r12), ("r13", .r13), ("r14", .r14), ("r15", .r15)],
    ]

    /// A decoding error in one line: which field, and what is wrong with it.
    static func describe(_ error: any Error) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
        }
        switch error as? DecodingError {
        case .keyNotFound(let key, let context)?: return "missing field \(path(context.codingPath + [key]))"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?:
            return "field \(path(context.codingPath)) has the wrong type"
        case .dataCorrupted(let context)?:
            return context.codingPath.isEmpty ? "not JSON" : "field \(path(context.codingPath)): \(context.debugDescription)"
        default: return "\(error)"
        }
    }

    /// Runs one case; returns each difference from unicorn's final state (none: it passed).
    public func differences(_ testCase: DifferentialCase) -> [String] {
        load(testCase)
        let stop = cpu.run(limit: 100_000)
        let registers = Self.registers[testCase.mode] ?? []
        let end = testCase.codeAddress &+ UInt64(testCase.code.count)
        var differences: [String] = []
        // The final general registers, EFLAGS and instruction pointer (at the HLT).
        let registerValues: [UInt64], eflags: UInt32, instructionPointer: UInt64
        if let state = atFirstDelivery, delivered.first == 13, state.instructionPointer == end {
            (registerValues, eflags, instructionPointer) = state
        } else {
            differences.append("stopped: \(stop)" + (cpu.shutdownChain.isEmpty ? "" : " after exceptions \(cpu.shutdownChain)"))
            if !delivered.isEmpty {
                differences.append("delivered exceptions \(delivered)" + (atFirstDelivery.map { " at \(hex($0.instructionPointer))" } ?? ""))
            }
            // EIP is past the HLT that follows the stream.
            (registerValues, eflags, instructionPointer) = atFirstDelivery
                ?? (registers.map { cpu.register($0.1) }, cpu.eflags, cpu.instructionPointer &- 1)
        }
        let width: UInt64 = testCase.mode == 64 ? ~0 : 0xFFFF_FFFF
        let expected = testCase.final
        var mismatches: [Mismatch] = []
        if instructionPointer != expected.instructionPointer {
            mismatches.append(Mismatch(field: testCase.mode == 64 ? "rip" : "eip", actual: instructionPointer, expected: expected.instructionPointer ?? 0))
        }
        for ((name, _), ours) in zip(registers, registerValues) {
            let compared = width & ~(testCase.undefinedRegisters[name] ?? 0)
            let want = expected.registers[name] ?? 0
            if (ours ^ want) & compared != 0 { mismatches.append(Mismatch(field: name, actual: ours & width, expected: want)) }
        }
        differences += mismatches.map(\.description)
        let flagDifference = (eflags ^ expected.eflags) & testCase.definedFlags
        if flagDifference != 0 {
            differences.append("eflags=\(hex(eflags)) want \(hex(expected.eflags)) (\(Self.flagNames(flagDifference)) differ)")
        }
        for (number, want) in expected.xmm.enumerated() where cpu.xmmRegister(number) != want {
            differences.append("xmm\(number)=\(Self.hex128(cpu.xmmRegister(number))) want \(Self.hex128(want))")
        }
        if let want = expected.mxcsr, (cpu.mxcsr ^ want) & testCase.comparedMXCSR != 0 {
            differences.append("mxcsr=\(hex(cpu.mxcsr)) want \(hex(want)) (compared bits \(hex(testCase.comparedMXCSR)))")
        }
        differences += windowDifferences(testCase)
        return differences
    }

    /// 128 bits as 32 hex digits, with an underscore between the two halves.
    static func hex128(_ value: UInt128) -> String {
        let digits = String(value, radix: 16, uppercase: true)
        let padded = String(repeating: "0", count: 32 - digits.count) + digits
        return padded.prefix(16) + "_" + padded.suffix(16)
    }

    /// Names of the EFLAGS bits set in `bits`.
    static func flagNames(_ bits: UInt32) -> String {
        let names: [(UInt32, String)] = [(0x1, "CF"), (0x4, "PF"), (0x10, "AF"), (0x40, "ZF"), (0x80, "SF"),
                                         (0x100, "TF"), (0x200, "IF"), (0x400, "DF"), (0x800, "OF")]
        let known = names.filter { bits & $0.0 != 0 }.map(\.1)
        let other = bits & ~names.reduce(0) { $0 | $1.0 }
        return (known + (other != 0 ? ["bits \(hex(other))h"] : [])).joined(separator: " ")
    }

    /// Resets the CPU and memory and puts the case's state where the entry code loads it.
    private func load(_ testCase: DifferentialCase) {
        cpu.powerOnReset()
        delivered = []
        atFirstDelivery = nil
        let window = bus.memory + Int(testCase.windowAddress)
        window.initialize(repeating: 0, count: testCase.windowSize)
        for run in testCase.initial.memory {
            for (offset, byte) in run.bytes.enumerated() { bus.memory[Int(run.address) + offset] = byte }
        }
        let code = Int(testCase.codeAddress)
        for (offset, byte) in (testCase.code + [0xF4]).enumerated() { bus.memory[code + offset] = byte }

        let entry = entries[testCase.mode] ?? []
        for (offset, byte) in entry.enumerated() { bus.memory[Int(DifferentialEntry.entryAddress) + offset] = byte }

        typealias Block = DifferentialEntry.StateBlock
        let state = bus.memory + DifferentialEntry.stateAddress
        state.initialize(repeating: 0, count: Block.size)
        func store<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { bytes in
                for (i, byte) in bytes.enumerated() { state[offset + i] = byte }
            }
        }
        // Only the status flags and DF: the entry loads them at CPL 0, where any bit would load.
        store(UInt64(testCase.initial.eflags & 0xCD5 | 0x2), at: Block.flags)
        for (number, (name, _)) in (Self.registers[testCase.mode] ?? []).enumerated() {
            store(testCase.initial.registers[name] ?? 0, at: Block.register(number))
        }
        store(testCase.codeAddress, at: Block.instructionPointer)
        store(testCase.initial.mxcsr ?? 0x1F80, at: Block.mxcsr)
        for (number, value) in testCase.initial.xmm.enumerated() { store(value, at: Block.xmm + 16 * number) }

        cpu.loadRealModeSegment(.cs, selector: 0)
        cpu.instructionPointer = UInt64(DifferentialEntry.entryAddress)
    }

    /// The data window's bytes that differ from unicorn's: the window starts as zeros with the
    /// bytes unicorn read, and must end with the bytes it read or wrote at their final values.
    private func windowDifferences(_ testCase: DifferentialCase) -> [String] {
        let size = testCase.windowSize
        if expectedWindow.count != size { expectedWindow = [UInt8](repeating: 0, count: size) }
        let base = testCase.windowAddress
        return expectedWindow.withUnsafeMutableBufferPointer { expected -> [String] in
            expected.initialize(repeating: 0)
            for run in testCase.initial.memory + testCase.final.memory {
                for (offset, byte) in run.bytes.enumerated() { expected[Int(run.address - base) + offset] = byte }
            }
            let ours = bus.memory + Int(base)
            if memcmp(ours, expected.baseAddress!, size) == 0 { return [] }
            let differing = (0..<size).filter { ours[$0] != expected[$0] }
            let shown = differing.prefix(6).map { Mismatch(field: "[\(hex(base + UInt64($0)))]", actual: ours[$0], expected: expected[$0]).description }
            return shown + (differing.count > 6 ? ["... \(differing.count - 6) more bytes of the window differ"] : [])
        }
    }

    public func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?) {
        if delivered.isEmpty {
            let registers = (0..<16).map { cpu.register(GeneralRegister(rawValue: $0)!) }
            atFirstDelivery = (registers, cpu.eflags, cpu.instructionPointer)
        }
        delivered.append(vector)
    }
    public func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8]) {}
}
