@testable import X86
import Foundation
import Testing

/// Every SSE/SSE2 instruction form on registers, against unicorn (QEMU's CPU): 2131 vectors
/// made by Tools/sse-reference/gen_sse.py, covering the four rounding modes and DAZ for the
/// arithmetic and conversions, all eight compare predicates (NaNs included), MIN/MAX with NaNs
/// and zeros, moves, shuffles, and every integer instruction on XMM and (the SSE additions) on
/// MMX registers. Results only: MXCSR flags, the SSE NaN rules for arithmetic and FTZ, where
/// unicorn departs from the SDM, are covered by the other suites.
@Suite struct SSEReferenceTests {
    static let vectors: [Substring] = {
        let path = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Tools/sse-reference/unicorn-vectors.txt").path
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n")
    }()

    @Test func everyVectorMatches() throws {
        #expect(Self.vectors.count == 2131)
        var failures: [String] = []
        let m = SSEGuest.machine()
        for line in Self.vectors {
            let f = line.split(separator: " ").map(String.init)
            let code = SSEGuest.bytes(f[0])
            let mxcsr = UInt32(f[4], radix: 16)!
            m.cpu.sse.mxcsr = mxcsr
            m.cpu.fpu = FPUState()
            let reason = SSEGuest.run(m, code: code, xmm0: UInt128(f[1], radix: 16)!, xmm1: UInt128(f[2], radix: 16)!,
                                      eax: UInt32(f[3], radix: 16)!)
            let xmm0 = m.cpu.xmmRegister(0)
            let eax = m.r32(.rax)
            if reason != .halted || !m.events.deliveries.isEmpty || xmm0 != UInt128(f[5], radix: 16)! || eax != UInt32(f[6], radix: 16)! {
                failures.append("\(line) → \(String(xmm0, radix: 16)) \(String(eax, radix: 16)) \(m.events.deliveries)")
                m.events.clear()
            }
        }
        #expect(failures.isEmpty, "\(failures.count) failures:\n\(failures.prefix(40).joined(separator: "\n"))")
    }
}
