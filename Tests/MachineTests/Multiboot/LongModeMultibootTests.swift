import Machine
import Testing
import X86Asm

/// A Multiboot kernel that switches to long mode by itself, as 64-bit kernels booted by a
/// Multiboot loader do: the firmware enters it in 32-bit protected mode; it checks CPUID for
/// long mode, builds 4-level tables (2 MiB pages over the first GiB), sets CR4.PAE, CR3,
/// EFER.LME with WRMSR and CR0.PG, far-jumps to its 64-bit code segment, and reports on the
/// debug console from 64-bit code.
@Suite struct LongModeMultibootTests {
    static let loadAddress: UInt32 = 0x10_0000
    static let tables: Int = 0x20_0000          // PML4, PDPT, directory: 3 pages above the image
    static let port: UInt8 = 0xE9

    static func kernel() throws -> [UInt8] {
        var a = Assembler(bits: .b32, origin: loadAddress)
        let entry = a.newLabel(), imageEnd = a.newLabel(), gdt = a.newLabel(), gdtPointer = a.newLabel()
        let hasLongMode = a.newLabel(), message = a.newLabel(), stop = a.newLabel()
        a.dd(0x1BAD_B002)
        a.dd(1 << 16)
        a.dd(0 &- 0x1BAD_B002 &- (1 << 16))
        a.dd(loadAddress); a.dd(loadAddress); a.dd(imageEnd); a.dd(imageEnd, plus: 0x1000); a.dd(entry)

        a.bind(entry)
        a.mov(.eax, Int(bitPattern: 0x8000_0001))
        a.cpuid()
        a.test(.edx, 1 << 29)
        a.jcc(.nz, hasLongMode)
        a.mov(.al, Int(UInt8(ascii: "!")))
        a.out(.immediate(port), .al)
        a.cli(); a.hlt()

        a.bind(hasLongMode)
        a.buildIdentityPageTables(at: tables, twoMiBPages: 512)           // the first GiB
        a.lgdt(Mem(disp: 0, label: gdtPointer))
        a.enterLongMode(pml4: tables, codeSelector: 0x08)
        a.mov(.rsp, 0x9_0000)
        a.lea(.rsi, Mem(rip: message))
        let print = a.newLabel(), printed = a.newLabel()
        a.bind(print)
        a.mov(.al, Mem(.rsi, size: .byte))
        a.test(.al, .al)
        a.jcc(.z, printed)
        a.out(.immediate(port), .al)
        a.inc(.rsi)
        a.jmp(print)
        a.bind(printed)
        // A 64-bit product, printed as 16 hex digits.
        a.movabs(.rbx, 0x1_0000_0001)
        a.movabs(.rax, 0xFFFF_FFFF)
        a.imul(.rax, .rbx)
        a.mov(.ecx, 16)
        let digit = a.newLabel(), decimal = a.newLabel()
        a.bind(digit)
        a.rol(.rax, 4)
        a.mov(.rdx, .rax)
        a.and(.edx, 0xF)
        a.add(.edx, 0x30)
        a.cmp(.edx, 0x39)
        a.jcc(.be, decimal)
        a.add(.edx, 0x27)
        a.bind(decimal)
        a.xchg(.rax, .rdx)
        a.out(.immediate(port), .al)
        a.xchg(.rax, .rdx)
        a.dec(.ecx)
        a.jcc(.nz, digit)
        a.mov(.al, 0x0A)
        a.out(.immediate(port), .al)
        a.bind(stop)
        a.cli(); a.hlt()
        a.jmp(stop)

        a.bind(message)
        a.ascii("64-bit mode: ")
        a.db([0])
        a.align(8)
        a.bind(gdt)
        a.dq(0)
        a.longModeCodeDescriptor()
        a.bind(gdtPointer)
        a.dw(15)
        a.dd(gdt)
        a.bind(imageEnd)
        return try a.finish()
    }

    @Test func multibootKernelSwitchesToLongModeItself() throws {
        let console = ByteCapture()
        let kernel = try Self.kernel()
        _ = try TestBoard.run(payload: []) { configuration in
            configuration.memorySize = 32 << 20
            configuration.multiboot = MultibootBoot(kernel: kernel, modules: [], commandLine: "")
            configuration.attachDebugConsole(console, port: UInt16(Self.port))
        }
        #expect(console.text == "64-bit mode: ffffffffffffffff\n")
    }
}
