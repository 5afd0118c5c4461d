@testable import X86
import Foundation
import Testing
import X86Asm

/// SSE guests: real mode with CR4.OSFXSR (and OSXMMEXCPT unless a test clears it) set by the
/// test before the guest runs, operands placed in registers directly.
enum SSEGuest {
    static let data = TestMachine.data

    /// A machine with SSE enabled (CR4.OSFXSR | OSXMMEXCPT), `mxcsr` loaded.
    static func machine(mxcsr: UInt32 = MXCSR.initial, osxmmexcpt: Bool = true) -> TestMachine {
        let m = TestMachine()
        m.cpu.cr4 = ControlRegister4.osfxsr | (osxmmexcpt ? ControlRegister4.osxmmexcpt : 0)
        m.cpu.sse.mxcsr = mxcsr
        return m
    }

    /// Runs raw instruction bytes (then HLT) on `m` with XMM0, XMM1 and EAX given.
    static func run(_ m: TestMachine, code: [UInt8], xmm0: UInt128 = 0, xmm1: UInt128 = 0, eax: UInt32 = 0) -> StopReason {
        m.cpu.setXMMRegister(0, xmm0)
        m.cpu.setXMMRegister(1, xmm1)
        m.cpu.setRegister(.rax, UInt64(eax))
        m.cpu.activity = .active
        m.load(code + [0xF4])
        return m.run()
    }

    /// Runs bytes expecting a clean halt; returns XMM0.
    static func result(_ code: [UInt8], _ xmm0: UInt128, _ xmm1: UInt128, mxcsr: UInt32 = MXCSR.initial,
                       sourceLocation: SourceLocation = #_sourceLocation) -> (xmm0: UInt128, mxcsr: UInt32, machine: TestMachine) {
        let m = machine(mxcsr: mxcsr)
        m.expectCleanHalt(run(m, code: code, xmm0: xmm0, xmm1: xmm1), sourceLocation: sourceLocation)
        return (m.cpu.xmmRegister(0), m.cpu.mxcsr, m)
    }

    /// Hex bytes as nasm prints them.
    static func bytes(_ hex: String) -> [UInt8] {
        stride(from: 0, to: hex.count, by: 2).map { i in
            let start = hex.index(hex.startIndex, offsetBy: i)
            return UInt8(hex[start..<hex.index(start, offsetBy: 2)], radix: 16)!
        }
    }

    /// Guests assembled with X86Asm: 16-bit real mode, SSE enabled by the test machine.
    static func guest(mxcsr: UInt32 = MXCSR.initial, data: [UInt8] = [], osxmmexcpt: Bool = true,
                      _ build: (inout Assembler) -> Void) throws -> (TestMachine, StopReason) {
        let m = machine(mxcsr: mxcsr, osxmmexcpt: osxmmexcpt)
        m.bus.load(data, at: SSEGuest.data)
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        build(&a)
        a.hlt()
        try m.load(a)
        return (m, m.run())
    }

    /// Little-endian bytes of a 128-bit value.
    static func bytes(_ value: UInt128) -> [UInt8] { (0..<16).map { UInt8(truncatingIfNeeded: value >> UInt128(8 * $0)) } }
}

extension UInt128 {
    /// Four single-precision lanes, lane 0 first.
    init(singles l0: UInt32, _ l1: UInt32 = 0, _ l2: UInt32 = 0, _ l3: UInt32 = 0) {
        self = UInt128(l0) | UInt128(l1) << 32 | UInt128(l2) << 64 | UInt128(l3) << 96
    }
    /// Two double-precision lanes, lane 0 first.
    init(doubles l0: UInt64, _ l1: UInt64 = 0) { self = UInt128(l0) | UInt128(l1) << 64 }
    func single(_ i: Int) -> UInt32 { UInt32(truncatingIfNeeded: self >> UInt128(32 * i)) }
    func double(_ i: Int) -> UInt64 { UInt64(truncatingIfNeeded: self >> UInt128(64 * i)) }
}
