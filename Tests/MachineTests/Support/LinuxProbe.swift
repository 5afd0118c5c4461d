import Firmware
import X86Asm

/// bzImage files built byte by byte (Linux's `Documentation/arch/x86/boot.rst`): a boot sector
/// and setup sectors holding the setup header, then the protected-mode kernel.
enum SyntheticBzImage {
    struct Header {
        var magic = Array("HdrS".utf8)
        var version: UInt16 = 0x020F
        var loadFlags: UInt8 = 0x01
        /// The header's value (0 means 4).
        var setupSectors: UInt8 = 4
        var relocatable = true
        var kernelAlignment: UInt32 = 0x20_0000
        var commandLineSize: UInt32 = 2047
        var initrdAddressMax: UInt32 = 0x7FFF_FFFF
        var preferredAddress: UInt64 = 0x100_0000
        var initSize: UInt32 = 0x10_0000
        /// syssize in 16-byte paragraphs (default: the payload's).
        var systemParagraphs: UInt32?
        /// xloadflags (protocol 2.12); bit 0, XLF_KERNEL_64, marks a 64-bit kernel.
        var xLoadFlags: UInt16 = 0
    }

    static func make(_ header: Header = Header(), payload: [UInt8] = [UInt8](repeating: 0x90, count: 64)) -> [UInt8] {
        let sectors = header.setupSectors == 0 ? 4 : Int(header.setupSectors)
        var file = [UInt8](repeating: 0, count: (sectors + 1) * 512)
        func put(_ value: UInt64, at offset: Int, bytes: Int) {
            for i in 0..<bytes { file[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
        typealias F = LinuxKernelImage.Field
        file[F.setupSectors] = header.setupSectors
        put(UInt64(header.systemParagraphs ?? UInt32((payload.count + 15) / 16)), at: F.sysSize, bytes: 4)
        put(0xAA55, at: F.bootFlag, bytes: 2)
        file[F.jump] = 0xEB
        file[F.jump + 1] = 0x6A                      // the header ends at 0x26C (protocol 2.15)
        file.replaceSubrange(0x202..<0x206, with: header.magic)
        put(UInt64(header.version), at: F.version, bytes: 2)
        file[F.loadFlags] = header.loadFlags
        put(0x10_0000, at: F.code32Start, bytes: 4)
        put(UInt64(header.initrdAddressMax), at: F.initrdAddressMax, bytes: 4)
        put(UInt64(header.kernelAlignment), at: F.kernelAlignment, bytes: 4)
        file[F.relocatableKernel] = header.relocatable ? 1 : 0
        put(UInt64(header.commandLineSize), at: F.commandLineSize, bytes: 4)
        put(header.preferredAddress, at: F.preferredAddress, bytes: 8)
        put(UInt64(header.initSize), at: F.initSize, bytes: 4)
        put(UInt64(header.xLoadFlags), at: F.xLoadFlags, bytes: 2)
        let padded = payload + [UInt8](repeating: 0, count: (16 - payload.count % 16) % 16)
        return file + padded
    }
}

/// A tiny 32-bit "kernel" for the 32-bit boot protocol: it reports on COM1 what it was handed
/// (ESI and the registers the protocol zeroes, the segment selectors, CR0.PE/PG and IF, the
/// boot_params fields a loader fills: type_of_loader, loadflags, heap_end_ptr, code32_start,
/// the command line, the initrd's place, size and first bytes, the e820 table) and the
/// firmware's boot counter. On the first boot it spoils the command line and the initrd in
/// memory and resets the machine through 0xCF9 (hard reset, RAM kept); the second boot shows
/// the firmware loading everything afresh. Then it halts with interrupts off.
enum LinuxProbe {
    static let loadAddress: UInt32 = 0x100_0000
    static let initrdBytesShown = 16

    static func kernel(resetOnFirstBoot: Bool = true) throws -> [UInt8] {
        var header = SyntheticBzImage.Header()
        header.preferredAddress = UInt64(loadAddress)
        return SyntheticBzImage.make(header, payload: try payload(resetOnFirstBoot: resetOnFirstBoot))
    }

    private static func payload(resetOnFirstBoot: Bool) throws -> [UInt8] {
        var a = Assembler(bits: .b32, origin: loadAddress)
        let putHex = a.newLabel("putHex"), putString = a.newLabel("putString"), putChar = a.newLabel("putChar")
        let stack = a.newLabel("stack")
        var strings: [(Label, String)] = []
        func say(_ text: String) {
            let label = a.newLabel()
            strings.append((label, text))
            a.push(.esi)
            a.mov(.esi, label)
            a.call(putString)
            a.pop(.esi)
        }
        func hex(_ value: Mem) {
            a.mov(.eax, value)
            a.call(putHex)
        }
        let entry = a.newLabel("entry")
        a.jmp(entry)

        // putChar: AL → COM1. putHex: EAX as 8 hex digits (EAX kept). putString: NUL-terminated ESI.
        a.bind(putChar)
        a.push(.edx)
        a.mov(.dx, 0x3F8)
        a.out(.dx, .al)
        a.pop(.edx)
        a.ret()
        a.bind(putHex)
        a.push(.ecx)
        a.mov(.ecx, 8)
        let digit = a.newLabel(), decimal = a.newLabel()
        a.bind(digit)
        a.rol(.eax, 4)
        a.push(.eax)
        a.and(.al, 0x0F)
        a.cmp(.al, 10)
        a.jccShort(.b, decimal)
        a.add(.al, Int(UInt8(ascii: "a")) - 10 - 0x30)
        a.bind(decimal)
        a.add(.al, 0x30)
        a.call(putChar)
        a.pop(.eax)
        a.loop(digit)
        a.pop(.ecx)
        a.ret()
        a.bind(putString)
        let stringDone = a.newLabel(), nextCharacter = a.newLabel()
        a.bind(nextCharacter)
        a.lodsb()
        a.test(.al, .al)
        a.jccShort(.z, stringDone)
        a.call(putChar)
        a.jmpShort(nextCharacter)
        a.bind(stringDone)
        a.ret()

        a.bind(entry)
        // Registers first, before anything changes them.
        a.mov(.esp, stack)
        a.push(.eax)
        a.push(.ebp)
        a.push(.edi)
        a.push(.ebx)
        say("esi=")
        a.mov(.eax, .esi)
        a.call(putHex)
        for name in ["ebx", "edi", "ebp"] {
            say(" \(name)=")
            a.pop(.eax)
            a.call(putHex)
        }
        a.pop(.eax)
        for segment in [SegReg.cs, .ds, .es, .ss] {
            say(" \(segment)=")
            a.mov(.eax, segment)
            a.call(putHex)
        }
        say("\ncr0.pe.pg=")
        a.mov(.eax, .cr0)
        a.and(.eax, Int(bitPattern: 0x8000_0001))
        a.call(putHex)
        say(" if=")
        a.pushfd()
        a.pop(.eax)
        a.and(.eax, 0x200)
        a.call(putHex)
        say("\nloader=")
        a.movzx(.eax, Mem(.esi, disp: 0x210, size: .byte))
        a.call(putHex)
        say(" loadflags=")
        a.movzx(.eax, Mem(.esi, disp: 0x211, size: .byte))
        a.call(putHex)
        say(" heap=")
        a.movzx(.eax, Mem(.esi, disp: 0x224, size: .word))
        a.call(putHex)
        say(" code32=")
        hex(Mem(.esi, disp: 0x214))
        say(" version=")
        a.movzx(.eax, Mem(.esi, disp: 0x206, size: .word))
        a.call(putHex)
        say("\ncmdline=")
        a.push(.esi)
        a.mov(.esi, Mem(.esi, disp: 0x228))
        a.call(putString)
        a.pop(.esi)
        say("\ninitrd=")
        hex(Mem(.esi, disp: 0x218))
        say(" ")
        hex(Mem(.esi, disp: 0x21C))
        say(" ")
        a.push(.esi)
        a.mov(.esi, Mem(.esi, disp: 0x218))
        a.mov(.ecx, initrdBytesShown)
        let initrdByte = a.newLabel()
        a.bind(initrdByte)
        a.lodsb()
        a.call(putChar)
        a.loop(initrdByte)
        a.pop(.esi)

        // The e820 table: count, then base, length, type of each entry.
        say("\ne820=")
        a.movzx(.ebp, Mem(.esi, disp: 0x1E8, size: .byte))
        a.mov(.eax, .ebp)
        a.call(putHex)
        a.lea(.edi, Mem(.esi, disp: 0x2D0))
        let mapNext = a.newLabel(), mapDone = a.newLabel()
        a.bind(mapNext)
        a.test(.ebp, .ebp)
        a.jcc(.z, mapDone)
        say("\ne820=")
        hex(Mem(.edi, disp: 4))
        hex(Mem(.edi))
        say(" ")
        hex(Mem(.edi, disp: 12))
        hex(Mem(.edi, disp: 8))
        say(" ")
        hex(Mem(.edi, disp: 16))
        a.add(.edi, 20)
        a.dec(.ebp)
        a.jmp(mapNext)
        a.bind(mapDone)
        say("\nboot=")
        a.mov(.al, 0x80 | 0x5F)
        a.out(0x70, .al)
        a.in(.al, 0x71)
        a.movzx(.eax, .al)
        a.call(putHex)
        say("\n")

        if resetOnFirstBoot {
            let halt = a.newLabel()
            a.mov(.al, 0x80 | 0x5F)
            a.out(0x70, .al)
            a.in(.al, 0x71)
            a.cmp(.al, 1)
            a.jcc(.ne, halt)
            a.mov(.eax, Mem(.esi, disp: 0x228))
            a.mov(Mem(.eax, size: .byte), Int(UInt8(ascii: "#")))
            a.mov(.eax, Mem(.esi, disp: 0x218))
            a.mov(Mem(.eax, size: .byte), Int(UInt8(ascii: "#")))
            a.mov(.dx, 0xCF9)
            a.mov(.al, 0x02)
            a.out(.dx, .al)
            a.mov(.al, 0x06)
            a.out(.dx, .al)
            a.bind(halt)
        }
        a.emitStopAndStrings(strings)
        a.align(16)
        a.db([UInt8](repeating: 0, count: 256))
        a.bind(stack)
        return try a.finish()
    }
}
