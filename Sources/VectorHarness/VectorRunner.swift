import Foundation
import X86

/// The outcome of one instruction form's file.
public struct FormResult: Sendable {
    public let name: String
    public internal(set) var passed = 0
    /// Failures not explained by a documented 286-versus-386 difference.
    public internal(set) var failed = 0
    /// Failures explained by the form's entry in `KnownDifferences`.
    public internal(set) var documented = 0
    /// How many failures each documented difference explained, by its reason.
    public internal(set) var documentedReasons: [String: Int] = [:]
    /// Descriptions of the first few unexplained failures.
    public internal(set) var failures: [String] = []
}

/// Runs SingleStepTests-format files (`*.jsonl.gz`) against the CPU: load the initial
/// registers and RAM, run until the HLT that follows the instruction, compare.
public final class VectorRunner: CPUObserver {
    private let bus = FlatMemoryBus(size: 16 << 20 + 1 << 16)
    private let cpu: CPU
    /// Vectors the CPU delivered during the current test.
    private(set) var delivered: [UInt8] = []
    private var flagMasks: [String: UInt16] = [:]
    private let keepFailures: Int

    /// `metadataDirectory` may hold upstream's `metadata.json` with masks for undefined flags.
    public init(metadataDirectory: String?, keepFailures: Int = 3) {
        cpu = CPU(bus: bus)
        self.keepFailures = keepFailures
        cpu.observer = self
        if let dir = metadataDirectory { loadFlagMasks(URL(fileURLWithPath: dir).appendingPathComponent("metadata.json")) }
    }

    private func loadFlagMasks(_ url: URL) {
        guard let data = try? Data(contentsOf: url),
              let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let opcodes = json["opcodes"] as? [String: Any] else { return }
        for (opcode, value) in opcodes {
            guard let entry = value as? [String: Any] else { continue }
            if let mask = entry["flags-mask"] as? Int { flagMasks[opcode] = UInt16(truncatingIfNeeded: mask) }
            if let regs = entry["reg"] as? [String: Any] {
                for (reg, sub) in regs {
                    if let mask = (sub as? [String: Any])?["flags-mask"] as? Int {
                        flagMasks["\(opcode).\(reg)"] = UInt16(truncatingIfNeeded: mask)
                    }
                }
            }
        }
    }

    /// Every `*.jsonl.gz` in a directory, sorted by name.
    public static func vectorFiles(in directory: String) throws(VectorError) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw .unreadable(directory)
        }
        let files = names.filter { $0.hasSuffix(".jsonl.gz") }.sorted()
        if files.isEmpty { throw .noVectorFiles(directory) }
        return files.map { (directory as NSString).appendingPathComponent($0) }
    }

    /// Runs every test of one file.
    public func run(file path: String) throws(VectorError) -> FormResult {
        let form = ((path as NSString).lastPathComponent as NSString).deletingPathExtension
            .replacingOccurrences(of: ".jsonl", with: "")
        var result = FormResult(name: form)
        var reader = try GzipLineReader(path: path)
        let decoder = JSONDecoder()
        let flagMask = flagMasks[form] ?? flagMasks[String(form.prefix(2))] ?? 0xFFFF
        let differences = KnownDifferences.all
        var lineNumber = 0
        while let line = try reader.nextLine() {
            lineNumber += 1
            if line.isEmpty { continue }
            let test: VectorTest
            do {
                test = try decoder.decode(VectorTest.self, from: Data(line.utf8))
            } catch {
                throw .malformed(file: path, line: lineNumber, reason: "\(error)")
            }
            let mismatches = check(test, flagMask: flagMask)
            let outcome = Outcome(mismatches: mismatches, delivered: delivered)
            if mismatches.isEmpty {
                result.passed += 1
            } else if let difference = differences.first(where: { $0.explains(test, outcome) }) {
                result.documented += 1
                result.documentedReasons[difference.reason, default: 0] += 1
            } else {
                result.failed += 1
                if result.failures.count < keepFailures {
                    let bytes = test.bytes.map { String($0, radix: 16) }.joined(separator: " ")
                    let expectedVectors = test.exception.map { [$0.number] } ?? []
                    result.failures.append("\(test.name) [\(bytes)] \(test.hash.prefix(8)): "
                        + mismatches.map(\.description).joined(separator: ", ")
                        + "; delivered \(delivered), 286 delivered \(expectedVectors)")
                }
            }
        }
        if result.passed + result.failed + result.documented == 0 { throw .empty(path) }
        return result
    }

    public func cpu(_ cpu: CPU, delivers vector: UInt8, source: InterruptSource, errorCode: UInt32?) {
        delivered.append(vector)
    }
    public func cpu(_ cpu: CPU, enteredShutdownAfter chain: [UInt8]) {}

    private static let registerOrder: [(String, GeneralRegister)] = [
        ("ax", .rax), ("bx", .rbx), ("cx", .rcx), ("dx", .rdx), ("sp", .rsp), ("bp", .rbp), ("si", .rsi), ("di", .rdi),
    ]
    private static let segmentOrder: [(String, SegmentRegister)] = [("cs", .cs), ("ss", .ss), ("ds", .ds), ("es", .es)]

    /// Runs one test; returns a description of each difference from the captured final state.
    func check(_ test: VectorTest, flagMask: UInt16) -> [Mismatch] {
        cpu.powerOnReset()
        delivered = []
        for pair in test.initial.ram where pair.count == 2 && Int(pair[0]) < bus.size {
            bus.memory[Int(pair[0])] = UInt8(truncatingIfNeeded: pair[1])
        }
        let regs = test.initial.regs
        for (name, r) in Self.registerOrder { cpu.setRegister(r, UInt64(regs[name] ?? 0)) }
        for (name, s) in Self.segmentOrder { cpu.loadRealModeSegment(s, selector: UInt16(regs[name] ?? 0)) }
        cpu.instructionPointer = UInt64(regs["ip"] ?? 0)
        // The captured 286 cannot hold FLAGS bits 12–15 in real mode (vectors README).
        cpu.eflags = (regs["flags"] ?? 2) & 0x0FFF
        cpu.interruptDescriptorTable = DescriptorTableRegister(base: 0, limit: 0x3FF)

        let stop = cpu.run(limit: 5_000)
        var mismatches: [Mismatch] = []
        if stop != .halted { mismatches.append(Mismatch(field: "stop reason \(stop)", actual: 0, expected: 0)) }

        let expected = test.final.regs
        func compare(_ name: String, _ actual: UInt32, mask: UInt32 = 0xFFFF) {
            let want = expected[name] ?? regs[name] ?? 0
            let wantMasked = name == "flags" ? want & 0x0FFF : want
            if actual & mask != wantMasked & mask {
                mismatches.append(Mismatch(field: name, actual: actual, expected: wantMasked))
            }
        }
        for (name, r) in Self.registerOrder { compare(name, UInt32(truncatingIfNeeded: cpu.register(r))) }
        for (name, s) in Self.segmentOrder { compare(name, UInt32(cpu.segment(s).selector)) }
        compare("ip", UInt32(truncatingIfNeeded: cpu.instructionPointer))
        compare("flags", cpu.eflags & 0xFFFF, mask: UInt32(flagMask))

        // Upstream's flag_address is sometimes one byte off; the FLAGS an exception pushed
        // sit at SS:SP+4 after the push, which the final registers give exactly.
        let finalSS = UInt32(expected["ss"] ?? regs["ss"] ?? 0)
        let finalSP = UInt32(expected["sp"] ?? regs["sp"] ?? 0)
        let flagAddress = test.exception.map { _ in Int(finalSS << 4 + (finalSP &+ 4) & 0xFFFF) }
        for pair in test.final.ram where pair.count == 2 && Int(pair[0]) < bus.size {
            let address = Int(pair[0])
            var actual = bus.memory[address]
            var want = UInt8(truncatingIfNeeded: pair[1])
            if let flagAddress, address == flagAddress || address == flagAddress + 1 {
                let byteMask = UInt8(truncatingIfNeeded: UInt32(flagMask) >> (address == flagAddress ? 0 : 8))
                actual &= byteMask
                want &= byteMask
            }
            if actual != want {
                mismatches.append(Mismatch(field: "[\(hex(address))]", actual: actual, expected: want))
            }
        }
        // Leave RAM clean for the next test.
        for pair in test.initial.ram where pair.count == 2 && Int(pair[0]) < bus.size { bus.memory[Int(pair[0])] = 0 }
        for pair in test.final.ram where pair.count == 2 && Int(pair[0]) < bus.size { bus.memory[Int(pair[0])] = 0 }
        return mismatches
    }
}

func hex(_ v: some BinaryInteger) -> String { String(v, radix: 16, uppercase: true) }

/// One difference between the CPU's final state and the expected one.
struct Mismatch: CustomStringConvertible {
    let field: String
    let actual: UInt64
    let expected: UInt64

    init(field: String, actual: some BinaryInteger, expected: some BinaryInteger) {
        self.field = field
        self.actual = UInt64(truncatingIfNeeded: actual)
        self.expected = UInt64(truncatingIfNeeded: expected)
    }

    var description: String { "\(field)=\(hex(actual)) want \(hex(expected))" }
}

/// What a failed test did: its mismatches and the vectors the CPU delivered.
struct Outcome {
    let mismatches: [Mismatch]
    let delivered: [UInt8]
}
