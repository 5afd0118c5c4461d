import X86Asm

/// A small Multiboot kernel that reports on the debug console what it was handed: EAX, the
/// machine state (CR0, EFLAGS, segment selectors), every field of the information structure
/// it follows (memory sizes, command line, each memory map entry, each module's addresses,
/// string and first bytes, the boot loader's name), whether its bss came zeroed, and the
/// firmware's boot counter. It can reset the machine on its first boot, after spoiling its
/// bss and the command line in memory, so the second boot shows the firmware loading afresh.
///
/// It links at 1 MiB and is packaged either as an ELF executable or as a flat image whose
/// Multiboot header carries the address fields (the "a.out kludge").
enum MultibootProbe {
    static let loadAddress: UInt32 = 0x10_0000
    static let bssSize = 0x1000
    /// The bytes at the start of the bss the probe checks (the stack grows down from its end).
    static let checkedBssBytes = 0x100
    static let port: UInt8 = 0xE9
    /// How many of a module's bytes the probe prints.
    static let moduleBytesShown = 32

    enum Packaging: String, CaseIterable, CustomStringConvertible {
        case elf, addressFields
        var description: String { rawValue }
    }

    /// How the probe resets the machine on its first boot.
    enum Reset: String, CaseIterable, CustomStringConvertible {
        case port92, cf9Hard, cf9Full, tripleFault
        var description: String { rawValue }
    }

    /// A packaged probe.
    struct Kernel {
        /// The kernel file.
        let file: [UInt8]
        /// Its image in memory from `loadAddress`, bss excluded.
        let image: [UInt8]
        /// The entry point's physical address.
        let entry: UInt32
    }

    static func kernel(_ packaging: Packaging, resetOnFirstBoot reset: Reset? = nil) throws -> Kernel {
        let image = try assemble(addressFields: packaging == .addressFields, reset: reset)
        switch packaging {
        case .addressFields:
            return Kernel(file: image.bytes, image: image.bytes, entry: image.entry)
        case .elf:
            let file = BootImage.elf(entry: image.entry, segments: [
                .init(at: loadAddress, bytes: image.bytes, memorySize: UInt32(image.bytes.count + bssSize)),
            ])
            return Kernel(file: file, image: image.bytes, entry: image.entry)
        }
    }

    private static func assemble(addressFields: Bool, reset: Reset?) throws -> (bytes: [UInt8], entry: UInt32) {
        var a = Assembler(bits: .b32, origin: loadAddress)
        let entry = a.newLabel("entry"), imageEnd = a.newLabel("imageEnd")
        let putHex = a.newLabel("putHex"), putString = a.newLabel("putString"), putBytes = a.newLabel("putBytes")
        var strings: [(Label, String)] = []
        func say(_ text: String) {
            let label = a.newLabel()
            strings.append((label, text))
            a.mov(.esi, label)
            a.call(putString)
        }
        func hex(_ value: Mem) {
            a.mov(.eax, value)
            a.call(putHex)
        }

        // The Multiboot header: page-aligned modules and memory information required.
        let flags: UInt32 = 0b11 | (addressFields ? 1 << 16 : 0)
        a.dd(0x1BAD_B002)
        a.dd(flags)
        a.dd(0 &- 0x1BAD_B002 &- flags)
        if addressFields {
            a.dd(loadAddress)                          // header_addr: the header opens the image
            a.dd(loadAddress)                          // load_addr
            a.dd(imageEnd)                             // load_end_addr
            a.dd(imageEnd, plus: bssSize)              // bss_end_addr
            a.dd(entry)                                // entry_addr
        }

        // putHex, putString (`emitPrintRoutines`); putBytes: ECX bytes at ESI.
        a.emitPrintRoutines(port: port, putHex: putHex, putString: putString)
        a.bind(putBytes)
        let bytesDone = a.newLabel(), nextByte = a.newLabel()
        a.jecxz(bytesDone)
        a.bind(nextByte)
        a.lodsb()
        a.out(.immediate(port), .al)
        a.loop(nextByte)
        a.bind(bytesDone)
        a.ret()

        a.bind(entry)
        a.mov(.ebp, .eax)
        a.mov(.esp, imageEnd)
        a.add(.esp, bssSize)
        say("magic=")
        a.mov(.eax, .ebp)
        a.call(putHex)
        say("\ncr0=")
        a.mov(.eax, .cr0)
        a.call(putHex)
        say(" eflags=")
        a.pushfd()
        a.pop(.eax)
        a.call(putHex)
        for segment in [SegReg.cs, .ds, .es, .fs, .gs, .ss] {
            say(" \(segment)=")
            a.mov(.eax, segment)
            a.call(putHex)
        }
        say("\nboot=")
        a.outByte(0x70, 0x80 | 0x5F)
        a.in(.al, 0x71)
        a.movzx(.eax, .al)
        a.call(putHex)
        say("\nflags=")
        hex(Mem(.ebx))
        say("\nmem=")
        hex(Mem(.ebx, disp: 4))
        say(" ")
        hex(Mem(.ebx, disp: 8))
        say("\ncmdline=")
        a.mov(.esi, Mem(.ebx, disp: 16))
        a.call(putString)

        // Memory map: each entry's size field says how far the next one is (3.3).
        let mapNext = a.newLabel(), mapDone = a.newLabel()
        a.mov(.edi, Mem(.ebx, disp: 48))
        a.mov(.ebp, .edi)
        a.add(.ebp, Mem(.ebx, disp: 44))
        a.bind(mapNext)
        a.cmp(.edi, .ebp)
        a.jcc(.ae, mapDone)
        say("\nmmap=")
        hex(Mem(.edi))
        say(" ")
        hex(Mem(.edi, disp: 8))
        hex(Mem(.edi, disp: 4))
        say(" ")
        hex(Mem(.edi, disp: 16))
        hex(Mem(.edi, disp: 12))
        say(" ")
        hex(Mem(.edi, disp: 20))
        a.mov(.eax, Mem(.edi))
        a.lea(.edi, Mem(.edi, index: .eax, disp: 4))
        a.jmp(mapNext)
        a.bind(mapDone)

        // Modules: start, end, string, first bytes.
        let moduleNext = a.newLabel(), modulesDone = a.newLabel()
        say("\nmods=")
        hex(Mem(.ebx, disp: 20))
        a.mov(.edi, Mem(.ebx, disp: 24))
        a.mov(.ebp, Mem(.ebx, disp: 20))
        a.bind(moduleNext)
        a.test(.ebp, .ebp)
        a.jcc(.z, modulesDone)
        say("\nmod=")
        hex(Mem(.edi))
        say(" ")
        hex(Mem(.edi, disp: 4))
        say(" ")
        a.mov(.esi, Mem(.edi, disp: 8))
        a.call(putString)
        say(" ")
        a.mov(.esi, Mem(.edi))
        a.mov(.ecx, Mem(.edi, disp: 4))
        a.sub(.ecx, .esi)
        let shortModule = a.newLabel()
        a.cmp(.ecx, moduleBytesShown)
        a.jccShort(.be, shortModule)
        a.mov(.ecx, moduleBytesShown)
        a.bind(shortModule)
        a.call(putBytes)
        a.add(.edi, 16)
        a.dec(.ebp)
        a.jmp(moduleNext)
        a.bind(modulesDone)

        say("\nloader=")
        a.mov(.esi, Mem(.ebx, disp: 64))
        a.call(putString)

        // The bss: OR of its first bytes.
        let dirty = a.newLabel(), bssReported = a.newLabel(), orNext = a.newLabel()
        a.mov(.esi, imageEnd)
        a.mov(.ecx, checkedBssBytes / 4)
        a.xor(.edx, .edx)
        a.bind(orNext)
        a.lodsd()
        a.or(.edx, .eax)
        a.loop(orNext)
        a.test(.edx, .edx)
        a.jccShort(.nz, dirty)
        say("\nbss=zero\n")
        a.jmpShort(bssReported)
        a.bind(dirty)
        say("\nbss=dirty\n")
        a.bind(bssReported)

        if let reset {
            // First boot: spoil the bss and the command line, then reset.
            let halt = a.newLabel()
            a.outByte(0x70, 0x80 | 0x5F)
            a.in(.al, 0x71)
            a.cmp(.al, 1)
            a.jcc(.ne, halt)
            a.mov(.eax, imageEnd)
            a.mov(Mem(.eax, size: .dword), -1)
            a.mov(.eax, Mem(.ebx, disp: 16))
            a.mov(Mem(.eax, size: .byte), Int(UInt8(ascii: "#")))
            switch reset {
            case .port92:
                a.in(.al, 0x92)
                a.or(.al, 1)
                a.out(0x92, .al)
            case .cf9Hard, .cf9Full:
                a.outByte(0xCF9, 0x02)
                a.outByte(0xCF9, reset == .cf9Hard ? 0x06 : 0x0E)
            case .tripleFault:
                let emptyIDT = a.newLabel()
                a.lidt(Mem(label: emptyIDT))
                a.int3()
                a.bind(emptyIDT)
                a.dw(0)
                a.dd(0)
            }
            a.bind(halt)
        }
        a.emitStopAndStrings(strings)
        a.align(4)
        a.bind(imageEnd)
        let bytes = try a.finish()
        return (bytes, a.address(of: entry)!)
    }
}
