import Hardware
import X86

extension Machine {
    /// Every CPU's registers and the most recent trace events, for a paused machine.
    public func stateReport() -> String {
        var lines: [String] = []
        for cpu in cpus {
            lines.append(Machine.describe(cpu))
            if let code = codeAround(cpu) { lines.append(code) }
        }
        lines.append("last trace events:")
        for record in trace.recent.suffix(16) {
            lines.append("  " + EventTrace.humanLine(record))
        }
        return lines.joined(separator: "\n")
    }

    /// The bytes around a running CPU's CS:EIP, as Linux's oops shows them: 16 before and 16
    /// from the next instruction, that one's first byte in angle brackets (what a spin loop or
    /// a fault is executing, without a debugger). Only the readable part is shown.
    private func codeAround(_ cpu: CPU) -> String? {
        guard cpu.activity != .waitingForStartup else { return nil }
        let linear = cpu.segment(.cs).base &+ cpu.instructionPointer
        let next = Machine.inLongMode(cpu) ? linear : linear & 0xFFFF_FFFF
        let bytes = (-16..<16).compactMap { offset -> String? in
            let address = next &+ UInt64(bitPattern: Int64(offset))
            guard let byte = debugRead(linear: address, count: 1, cpu: cpu.index)?.first else { return nil }
            let digits = Machine.hex(UInt64(byte), 2)
            return offset == 0 ? "<\(digits)>" : digits
        }
        return bytes.isEmpty ? nil : "  code: " + bytes.joined(separator: " ")
    }

    /// Whether the CPU is in IA-32e mode (EFER.LMA).
    static func inLongMode(_ cpu: CPU) -> Bool { cpu.extendedFeatureEnable & ExtendedFeatureEnable.longModeActive != 0 }

    /// `v` in upper-case hexadecimal, zero-padded to `width` digits.
    static func hex(_ v: UInt64, _ width: Int) -> String {
        let digits = String(v, radix: 16, uppercase: true)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    static func describe(_ cpu: CPU) -> String {
        var text = "cpu\(cpu.index) \(cpu.activity) instructions=\(cpu.instructionsRetired) deliveries=\(cpu.eventsDelivered)\n"
        if inLongMode(cpu) {
            // In IA-32e mode all 64 bits and R8–R15 matter (a kernel's pointers are in the upper half).
            let r = { (g: GeneralRegister) in hex(cpu.register(g), 16) }
            text += "  RAX=\(r(.rax)) RBX=\(r(.rbx)) RCX=\(r(.rcx)) RDX=\(r(.rdx))\n"
            text += "  RSI=\(r(.rsi)) RDI=\(r(.rdi)) RBP=\(r(.rbp)) RSP=\(r(.rsp))\n"
            text += "  R8=\(r(.r8)) R9=\(r(.r9)) R10=\(r(.r10)) R11=\(r(.r11))\n"
            text += "  R12=\(r(.r12)) R13=\(r(.r13)) R14=\(r(.r14)) R15=\(r(.r15))\n"
        } else {
            let r = { (g: GeneralRegister) in hex(cpu.register(g) & 0xFFFF_FFFF, 8) }
            text += "  EAX=\(r(.rax)) EBX=\(r(.rbx)) ECX=\(r(.rcx)) EDX=\(r(.rdx))\n"
            text += "  ESI=\(r(.rsi)) EDI=\(r(.rdi)) EBP=\(r(.rbp)) ESP=\(r(.rsp))\n"
        }
        text += "  EIP=\(hex(cpu.instructionPointer, 8)) EFLAGS=\(hex(UInt64(cpu.eflags), 8))"
        text += " CR0=\(hex(UInt64(cpu.controlRegister0), 8)) CR2=\(hex(cpu.controlRegister2, 8))"
        text += " CR3=\(hex(cpu.controlRegister3, 8)) CR4=\(hex(UInt64(cpu.controlRegister4), 8))\n"
        for s in SegmentRegister.allCases {
            let c = cpu.segment(s)
            text += "  \(s)=\(hex(UInt64(c.selector), 4)) base=\(hex(c.base, 8)) limit=\(hex(UInt64(c.limit), 8)) attr=\(hex(UInt64(c.attributes), 4))\n"
        }
        let idt = cpu.interruptDescriptorTable, gdt = cpu.globalDescriptorTable
        text += "  GDTR=\(hex(gdt.base, 8)):\(hex(UInt64(gdt.limit), 4)) IDTR=\(hex(idt.base, 8)):\(hex(UInt64(idt.limit), 4))"
        if !cpu.shutdownChain.isEmpty { text += " shutdown chain=\(cpu.shutdownChain)" }
        return text
    }
}
