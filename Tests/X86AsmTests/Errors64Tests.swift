import Testing
import X86Asm

/// Instructions and operands that one mode has and another lacks: ``Assembler/finish()``
/// throws, naming the first and where it is.
@Suite struct Errors64Tests {
    /// Expects `build`, assembled at origin 0 in `bits` after a one-byte `nop`, to make
    /// ``Assembler/finish()`` throw `expected`.
    private func expect(
        _ bits: Bits, _ expected: AssemblerError, sourceLocation: SourceLocation = #_sourceLocation,
        _ build: (inout Assembler) -> Void
    ) {
        var a = Assembler(bits: bits)
        a.nop()
        build(&a)
        #expect(throws: expected, sourceLocation: sourceLocation) { try a.finish() }
    }

    private func invalid(_ instruction: String, in bits: Bits = .b64) -> AssemblerError {
        .invalidInstruction(instruction, bits: bits, position: 1)
    }

    @Test func highByteRegistersWithREX() {
        let highByte = { (register: Reg8) in AssemblerError.highByteRegisterWithREX(register, position: 1) }
        expect(.b64, highByte(.ah)) { $0.mov(.ah, .r8b) }
        expect(.b64, highByte(.bh)) { $0.mov(.sil, .bh) }
        expect(.b64, highByte(.ch)) { $0.add(Mem(.r8), .ch) }
        expect(.b64, highByte(.dh)) { $0.movzx(.rax, Reg8.dh) }
        expect(.b64, highByte(.ah)) { $0.movzx(.r9d, Reg8.ah) }
        expect(.b64, highByte(.bh)) { $0.mov(Mem(.rax, index: .r12), .bh) }
    }

    @Test func longModeOperandsOutsideLongMode() {
        let needsLongMode = AssemblerError.operandNeedsLongMode(position: 1)
        for bits in [Bits.b16, .b32] {
            expect(bits, needsLongMode) { $0.add(.rax, 1) }
            expect(bits, needsLongMode) { $0.mov(.r8d, 1) }
            expect(bits, needsLongMode) { $0.mov(.al, .spl) }
            expect(bits, needsLongMode) { $0.mov(.eax, Mem(.rax)) }
            expect(bits, needsLongMode) { $0.mov(.eax, Mem(rip: 0)) }
            expect(bits, needsLongMode) { $0.push(.rax) }
            expect(bits, needsLongMode) { $0.jmp(.r8) }
            expect(bits, needsLongMode) { $0.movsq() }
            expect(bits, needsLongMode) { $0.cdqe() }
            expect(bits, needsLongMode) { $0.cmpxchg16b(Mem(.edi)) }
            expect(bits, needsLongMode) { $0.iretq() }
            expect(bits, needsLongMode) { $0.mov(.cr0, .rax) }
            expect(bits, needsLongMode) { $0.mov(.cr8, .eax) }
            expect(bits, needsLongMode) { $0.mov(.rax, 1) }
            expect(bits, needsLongMode) { $0.mov(Mem(disp: 0, size: .qword), 1) }
        }
    }

    @Test func longModeOnlyInstructions() {
        expect(.b32, invalid("swapgs", in: .b32)) { $0.swapgs() }
        expect(.b16, invalid("pushfq", in: .b16)) { $0.pushfq() }
        expect(.b32, invalid("popfq", in: .b32)) { $0.popfq() }
        expect(.b32, invalid("jrcxz", in: .b32)) { a in let l = a.newLabel(); a.bind(l); a.jrcxz(l) }
    }

    @Test func instructionsGoneFromLongMode() {
        expect(.b64, invalid("pusha")) { $0.pusha() }
        expect(.b64, invalid("popa")) { $0.popa() }
        expect(.b64, invalid("pushad")) { $0.pushad() }
        expect(.b64, invalid("popad")) { $0.popad() }
        expect(.b64, invalid("pushfd")) { $0.pushfd() }
        expect(.b64, invalid("popfd")) { $0.popfd() }
        for segment in [SegReg.es, .cs, .ss, .ds] {
            expect(.b64, invalid("push \(segment)")) { $0.push(segment) }
        }
        for segment in [SegReg.es, .ss, .ds] {
            expect(.b64, invalid("pop \(segment)")) { $0.pop(segment) }
        }
        expect(.b64, invalid("daa")) { $0.daa() }
        expect(.b64, invalid("das")) { $0.das() }
        expect(.b64, invalid("aaa")) { $0.aaa() }
        expect(.b64, invalid("aas")) { $0.aas() }
        expect(.b64, invalid("aam")) { $0.aam() }
        expect(.b64, invalid("aad")) { $0.aad() }
        expect(.b64, invalid("into")) { $0.into() }
        expect(.b64, invalid("bound")) { $0.bound(.eax, Mem(.rax)) }
        expect(.b64, invalid("arpl")) { $0.arpl(.ax, .bx) }
        expect(.b64, invalid("jcxz")) { a in let l = a.newLabel(); a.bind(l); a.jcxz(l) }
        expect(.b64, invalid("jmp far ptr")) { $0.jmpFar(segment: 8, offset: 0x1000) }
        expect(.b64, invalid("call far ptr")) { a in let l = a.newLabel(); a.bind(l); a.callFar(segment: 8, l) }
    }

    @Test func operandFormsGoneFromLongMode() {
        expect(.b64, invalid("push dword")) { $0.push(.eax) }
        expect(.b64, invalid("pop dword")) { $0.pop(.r9d) }
        expect(.b64, invalid("push dword")) { $0.push(Mem(.rax, size: .dword)) }
        expect(.b64, invalid("push dword")) { $0.push(1, size: .dword) }
        expect(.b64, invalid("jmp dword")) { $0.jmp(.eax) }
        expect(.b64, invalid("call word")) { $0.call(.ax) }
        expect(.b64, invalid("call dword")) { $0.call(Mem(.rax, size: .dword)) }
        expect(.b64, invalid("mov with eax and a control or debug register")) { $0.mov(.cr0, .eax) }
        expect(.b64, invalid("mov with ecx and a control or debug register")) { $0.mov(.ecx, .dr7) }
        expect(.b64, invalid("16-bit addressing")) { $0.mov(.ax, Mem(.bx, .si)) }
    }

    @Test func firstErrorWins() {
        var a = Assembler(bits: .b64, origin: 0x1000)
        a.mov(.rax, .rbx)
        a.pusha()
        a.mov(.ah, .r8b)
        #expect(throws: AssemblerError.invalidInstruction("pusha", bits: .b64, position: 0x1003)) { try a.finish() }
    }
}
