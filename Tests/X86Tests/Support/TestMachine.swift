import Testing
import X86
import X86Asm

/// A CPU on a `TestBus`, with a real-mode interrupt vector table whose handlers are tiny stubs.
///
/// Memory map (all in RAM, real mode, segment 0 unless noted):
///
/// | linear | use |
/// | --- | --- |
/// | 0000–03FF | IVT: vector n → `stubSegment`:n×8 |
/// | 1000–17FF | handler stubs, 8 bytes each |
/// | 3000–3FFF | `data`: the guests' scratch area |
/// | 6000–6FFF | stack (SS:SP = 0000:7000) |
/// | 7C00– | guest code (CS:IP = 0000:7C00) |
///
/// The CPU starts in its power-on state; `load(_:)` puts a guest in place and points the
/// registers at it.
final class TestMachine {
    static let codeOrigin: UInt32 = 0x7C00
    static let stackTop: UInt16 = 0x7000
    static let data = 0x3000
    static let stubSegment: UInt16 = 0x0100
    static let stubSize = 8
    /// The port each stub writes its vector number to.
    static let handlerPort: UInt8 = 0xF4

    /// What the handler stub of every vector does.
    enum HandlerStub {
        /// Writes the vector to `handlerPort`, then HLT; IRET if anything wakes it.
        case reportAndHalt
        /// Writes the vector to `handlerPort`, then IRET.
        case reportAndReturn
        /// HLT only (touches no register and no stack).
        case haltOnly

        func code(vector: UInt8) -> [UInt8] {
            let report: [UInt8] = [0x50, 0xB0, vector, 0xE6, TestMachine.handlerPort, 0x58]   // push ax; mov al, n; out; pop ax
            switch self {
            case .reportAndHalt: return report + [0xF4, 0xCF]
            case .reportAndReturn: return report + [0xCF, 0x90]
            case .haltOnly: return [0xF4, 0xCF, 0x90, 0x90, 0x90, 0x90, 0x90, 0x90]
            }
        }
    }

    let bus: TestBus
    let cpu: CPU
    let events = EventRecorder()
    let interrupts = TestInterruptController()

    init(ramSize: Int = 0x20_0000, rom: [UInt8] = [], index: Int = 0, isBootstrapProcessor: Bool = true,
         stubs: HandlerStub = .reportAndHalt) {
        bus = TestBus(ramSize: ramSize, rom: rom)
        cpu = CPU(bus: bus, index: index, isBootstrapProcessor: isBootstrapProcessor)
        cpu.observer = events
        cpu.interruptController = interrupts
        interrupts.cpu = cpu
        installStubs(stubs)
    }

    /// Writes the IVT and the 256 stubs.
    func installStubs(_ stub: HandlerStub) {
        for vector in 0...255 {
            let offset = vector * TestMachine.stubSize
            bus.load(stub.code(vector: UInt8(vector)), at: Int(TestMachine.stubSegment) * 16 + offset)
            setVector(UInt8(vector), segment: TestMachine.stubSegment, offset: UInt16(offset))
        }
    }

    /// Points IVT entry `vector` (in the table at linear 0) at `segment:offset`.
    func setVector(_ vector: UInt8, segment: UInt16 = 0, offset: UInt16) {
        bus.setWord(offset, at: Int(vector) * 4)
        bus.setWord(segment, at: Int(vector) * 4 + 2)
    }

    /// Points IVT entry `vector` at a label of a guest assembled for segment 0.
    func setVector(_ vector: UInt8, to label: Label, in assembler: Assembler) {
        setVector(vector, offset: UInt16(assembler.address(of: label)!))
    }

    /// Appends PUSHF, POP AX, OR AX TF, PUSH AX, POPF: TF = 1 from the instruction after the
    /// POPF on, which is the first one single-stepped (AX is changed).
    static func emitTrapFlagOn(_ a: inout Assembler) {
        a.pushf()
        a.pop(.ax)
        a.or(.ax, Int(EFlags.trap))
        a.push(.ax)
        a.popf()
    }

    /// Appends a #DB handler that stores each trap's return IP at DS:DI and advances DI by 2
    /// (the guest points DI at `data` first); install it as vector 1 with `setVector`.
    static func emitTrapLogger(_ a: inout Assembler) -> Label {
        let handler = a.newLabel()
        a.bind(handler)
        a.mov(.bp, .sp)
        a.mov(.si, Mem(.bp))
        a.mov(Mem(.di), .si)
        a.add(.di, 2)
        a.iret()
        return handler
    }

    /// The return IPs the handler of `emitTrapLogger` stored, in order.
    var loggedTrapAddresses: [UInt16] {
        let count = (Int(r16(.rdi)) - TestMachine.data) / 2
        return (0..<count).map { bus.word(at: TestMachine.data + 2 * $0) }
    }

    /// Assembles the guest, loads it at its origin (a linear address, segment 0) and enters it
    /// in real mode: CS:IP = 0:origin, SS:SP = 0:`stackTop`, DS = ES = FS = GS = 0.
    func load(_ assembler: Assembler) throws {
        var copy = assembler
        load(try copy.finish(), at: assembler.origin)
    }

    /// Loads machine code at `origin` (a linear address, segment 0) and enters it as `load(_:)` does.
    func load(_ code: [UInt8], at origin: UInt32 = TestMachine.codeOrigin) {
        bus.load(code, at: Int(origin))
        cpu.invalidateCode(physicalAddress: UInt64(origin), length: code.count)
        for s in [SegmentRegister.cs, .ds, .es, .fs, .gs, .ss] { cpu.loadRealModeSegment(s, selector: 0) }
        cpu.instructionPointer = UInt64(origin)
        cpu.setRegister(.rsp, UInt64(TestMachine.stackTop))
    }

    /// Runs with an instruction budget.
    @discardableResult
    func run(budget: Int = 100_000) -> StopReason {
        cpu.run(limit: budget)
    }

    /// Assembles `build` at the code origin, loads it and runs it.
    @discardableResult
    func run(budget: Int = 100_000, _ build: (inout Assembler) -> Void) throws -> StopReason {
        var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
        build(&a)
        try load(a)
        return run(budget: budget)
    }

    // MARK: Observations

    /// Vectors whose handler stub ran, in order.
    var handledVectors: [UInt8] { bus.writes(to: UInt16(TestMachine.handlerPort)).map { UInt8(truncatingIfNeeded: $0) } }

    func reg(_ r: X86.GeneralRegister) -> UInt64 { cpu.register(r) }
    func r16(_ r: X86.GeneralRegister) -> UInt16 { UInt16(truncatingIfNeeded: cpu.register(r)) }
    func r32(_ r: X86.GeneralRegister) -> UInt32 { UInt32(truncatingIfNeeded: cpu.register(r)) }
    func flag(_ bit: UInt32) -> Bool { cpu.eflags & bit != 0 }

    /// The real-mode interrupt frame on top of the stack: what a stub halted on sees.
    var frame: (ip: UInt16, cs: UInt16, flags: UInt16) {
        let top = Int(cpu.segment(.ss).base) + Int(r16(.rsp))
        return (bus.word(at: top), bus.word(at: top + 2), bus.word(at: top + 4))
    }

    /// Expects the guest to have stopped on its own HLT, with no interrupt or exception on the way.
    func expectCleanHalt(_ reason: StopReason, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(reason == .halted, sourceLocation: sourceLocation)
        #expect(events.deliveries.isEmpty, "unexpected deliveries: \(events.deliveries)", sourceLocation: sourceLocation)
    }
}

/// Runs a real-mode snippet to its final HLT and returns the machine for inspection.
/// Fails the test if anything interrupts it.
func runSnippet(sourceLocation: SourceLocation = #_sourceLocation,
                _ build: (inout Assembler) -> Void) throws -> TestMachine {
    let m = TestMachine()
    let reason = try m.run { a in
        build(&a)
        a.hlt()
    }
    m.expectCleanHalt(reason, sourceLocation: sourceLocation)
    return m
}

extension TestMachine {
    /// Puts back the pages a run dirtied from `pristine` (a copy of RAM taken before), and
    /// forgets the run's port log and events: the robustness sweeps' reset between runs.
    func restoreRAM(from pristine: [UInt8]) {
        pristine.withUnsafeBytes { image in
            for page in bus.dirtyPages {
                let start = Int(page) << 12
                UnsafeMutableRawPointer(bus.ram.baseAddress! + start)
                    .copyMemory(from: image.baseAddress! + start, byteCount: TestBus.pageSize)
            }
        }
        bus.forgetDirtyPages()
        bus.clearLogs()
        events.clear()
    }
}
