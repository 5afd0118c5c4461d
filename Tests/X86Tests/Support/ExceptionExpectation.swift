import Testing
import X86
import X86Asm

/// Runs a guest that must raise `vector`: `build` binds the label it passes where the pushed
/// return address has to point (the faulting instruction for a fault, the next one for a trap).
/// Checks that exactly that vector reached its handler stub, from `source`, with that return
/// address; returns the machine for further checks. `machine` may come prepared (segments, RAM).
@discardableResult
func runExpectingException(_ vector: ExceptionVector, source: InterruptSource = .exception,
                           on machine: TestMachine = TestMachine(),
                           sourceLocation: SourceLocation = #_sourceLocation,
                           _ build: (inout Assembler, Label) -> Void) throws -> TestMachine {
    let m = machine
    var a = Assembler(bits: .b16, origin: TestMachine.codeOrigin)
    let mark = a.newLabel()
    build(&a, mark)
    a.hlt()
    try m.load(a)
    #expect(m.run() == .halted, sourceLocation: sourceLocation)
    #expect(m.handledVectors == [vector.rawValue], sourceLocation: sourceLocation)
    #expect(m.events.deliveries.map(\.source) == [source], sourceLocation: sourceLocation)
    #expect(m.frame.ip == UInt16(a.address(of: mark)!), "pushed IP", sourceLocation: sourceLocation)
    #expect(m.frame.cs == 0, sourceLocation: sourceLocation)
    return m
}
