import Testing
import X86

/// Two processors on one memory, in one `CodeCoherence` domain: a store by either to bytes the
/// other has decoded drops the other's blocks (cross-modifying code, SDM Vol. 3A, 9.1.3).
@Suite struct CodeCoherenceTests {
    /// Where the looping processor's code lies, and the byte it stores to on each pass.
    static let loopOrigin: UInt64 = 0x5000
    static let marker = 0x3000

    let bus = TestBus(ramSize: 0x2_0000)
    let coherence = CodeCoherence()
    let looping: CPU
    let writer: CPU

    init() {
        looping = CPU(bus: bus, index: 0, codeCoherence: coherence)
        writer = CPU(bus: bus, index: 1, codeCoherence: coherence)
        // loop: mov byte [3000h], 1; jmp loop
        bus.load([0xC6, 0x06, 0x00, 0x30, 0x01, 0xEB, 0xF9], at: Int(CodeCoherenceTests.loopOrigin))
        start(looping, at: CodeCoherenceTests.loopOrigin)
    }

    private func start(_ cpu: CPU, at address: UInt64) {
        for s in [SegmentRegister.cs, .ds, .es, .ss] { cpu.loadRealModeSegment(s, selector: 0) }
        cpu.instructionPointer = address
    }

    /// The writer runs `code` (followed by HLT) from 7000h.
    private func writerRuns(_ code: [UInt8]) {
        bus.load(code + [0xF4], at: 0x7000)
        writer.invalidateCode(physicalAddress: 0x7000, length: code.count + 1)
        start(writer, at: 0x7000)
        #expect(writer.run(limit: 100) == .halted)
    }

    @Test func aStoreByAnotherProcessorReachesTheLoopingOnesCode() {
        #expect(looping.run(limit: 100) == .limitReached)
        #expect(bus.byte(at: CodeCoherenceTests.marker) == 1)
        let pagesBefore = looping.decodedCodeSize.pages
        #expect(pagesBefore >= 1)

        // mov byte [5004h], 2: the immediate of the looping processor's MOV.
        writerRuns([0xC6, 0x06, 0x04, 0x50, 0x02])
        #expect(looping.decodedCodeSize.pages == pagesBefore - 1, "its blocks on the page were dropped")
        #expect(looping.run(limit: 100) == .limitReached)
        #expect(bus.byte(at: CodeCoherenceTests.marker) == 2, "the looping processor runs the new byte")
    }

    @Test func aStoreBesideTheDecodedBytesKeepsThem() {
        #expect(looping.run(limit: 100) == .limitReached)
        let pagesBefore = looping.decodedCodeSize.pages
        // mov byte [5800h], 7: the same page, far from the loop's seven bytes.
        writerRuns([0xC6, 0x06, 0x00, 0x58, 0x07])
        #expect(bus.byte(at: 0x5800) == 7)
        #expect(looping.decodedCodeSize.pages == pagesBefore)
        #expect(looping.run(limit: 100) == .limitReached)
        #expect(bus.byte(at: CodeCoherenceTests.marker) == 1)
    }
}
