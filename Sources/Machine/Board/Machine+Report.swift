import Hardware
import X86

extension Machine {
    /// Every CPU's registers and the most recent trace events, for a paused machine.
    public func stateReport() -> String {
        var lines: [String] = []
        for cpu in cpus {
            lines.append(Machine.describe(cpu))
        }
        lines.append("last trace events:")
        for record in trace.recent.suffix(16) {
            lines.append("  " + EventTrace.humanLine(record))
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ cpu: CPU) -> String {
        func hex(_ v: UInt64, _ width: Int) -> String {
            let digits = String(v, radix: 16, uppercase: true)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        let r = { (g: GeneralRegister) in hex(cpu.register(g) & 0xFFFF_FFFF, 8) }
        var text = "cpu\(cpu.index) \(cpu.activity) instructions=\(cpu.instructionsRetired) deliveries=\(cpu.eventsDelivered)\n"
        text += "  EAX=\(r(.rax)) EBX=\(r(.rbx)) ECX=\(r(.rcx)) EDX=\(r(.rdx))\n"
        text += "  ESI=\(r(.rsi)) EDI=\(r(.rdi)) EBP=\(r(.rbp)) ESP=\(r(.rsp))\n"
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
