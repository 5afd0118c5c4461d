import X86Asm

/// The ROM's Multiboot boot, in the manner of QEMU's multiboot option ROM: the machine lays
/// the boot out (``MultibootLoad``) and hands it to the firmware as one file of the firmware
/// configuration interface (``fileName``); the ROM finds it in the directory on every boot,
/// enters 32-bit protected mode, copies each chunk into place and jumps to the kernel.
///
/// The file's format, all fields 32-bit little-endian:
///
///     chunk count, entry point, information structure address
///     for each chunk: address, byte count, the bytes, zero-fill count
///
/// No file, or a chunk count of 0, means "no Multiboot kernel".
public enum MultibootEntry {
    /// The firmware configuration file that carries the load.
    public static let fileName = "etc/resetvector/multiboot"
    /// Selector 08h: flat 4 GiB 32-bit code; selector 10h: flat 4 GiB data.
    public static let codeSelector: UInt16 = 0x08
    public static let dataSelector: UInt16 = 0x10
}

extension MultibootLoad {
    /// The load as the ROM reads it from the file ``MultibootEntry/fileName``.
    public var firmwareConfigurationFile: [UInt8] {
        var item: [UInt8] = []
        item.append(uint32: UInt32(chunks.count))
        item.append(uint32: entry)
        item.append(uint32: informationAddress)
        for chunk in chunks {
            item.append(uint32: chunk.address)
            item.append(uint32: UInt32(chunk.bytes.count))
            item.append(contentsOf: chunk.bytes)
            item.append(uint32: chunk.zeroFill)
        }
        return item
    }
}

extension Assembler {
    /// Emits the ROM's Multiboot step, for 16-bit real-mode code with DS = CS = F000h;
    /// `lookup` is the ROM's ``emitFirmwareConfigLookup()`` routine.
    ///
    /// With no load in the firmware configuration it falls through (EAX, EBX, ECX, EDX, EDI,
    /// BP clobbered). Otherwise it logs `milestone` through `log`, sends `PostCode.multiboot` and never
    /// returns: it loads a GDT of its own, sets CR0.PE, far-jumps to 32-bit code, loads every
    /// data segment register with the flat selector, copies each chunk from the data port
    /// with `rep insb` and zero-fills with `rep stosb`, sends `PostCode.multibootEntry`, and
    /// jumps to the kernel in the state of the Multiboot Specification 0.6.96, section 3.2
    /// ("Machine state"): EAX = 2BADB002h, EBX = the information structure's address, CS a
    /// flat 32-bit read/execute segment, DS/ES/FS/GS/SS flat read/write, A20 on (POST opened
    /// it), CR0.PG = 0 and PE = 1, IF = 0 and VM = 0; ESP is undefined.
    mutating func emitMultibootBoot(log: Label, milestone: Label, lookup: Label) {
        let noKernel = newLabel("noMultibootKernel"), fileName = newLabel("multibootFileName")
        let gdt = newLabel("multibootGDT"), gdtPointer = newLabel("multibootGDTPointer")
        mov(.si, fileName)
        call(lookup)
        jcc(.c, noKernel)
        selectFirmwareConfigItemInBX()
        readLittleEndianDword()
        mov(.ebx, .eax)                   // EBX = chunk count, kept across the mode switch
        test(.ebx, .ebx)
        jcc(.z, noKernel)

        mov(.si, milestone)
        call(log)
        outByte(0x80, ResetVectorROM.PostCode.multiboot.rawValue)
        cli()
        enterProtectedMode(gdtr: Mem(label: gdtPointer, size: .dword, segment: .cs),
                           codeSelector: MultibootEntry.codeSelector, dataSelector: MultibootEntry.dataSelector)
        cld()
        mov(.esi, .ebx)                   // ESI = chunks left
        mov(.edx, Int(FirmwareConfigInterface.dataPort))
        readLittleEndianDword()
        mov(.ebp, .eax)                   // EBP = entry point
        readLittleEndianDword()
        mov(.ebx, .eax)                   // EBX = information structure
        let nextChunk = newLabel()
        bind(nextChunk)
        readLittleEndianDword()
        mov(.edi, .eax)
        readLittleEndianDword()
        mov(.ecx, .eax)
        insb(.rep)
        readLittleEndianDword()
        mov(.ecx, .eax)
        xor(.eax, .eax)
        stosb(.rep)
        dec(.esi)
        jcc(.nz, nextChunk)
        outByte(0x80, ResetVectorROM.PostCode.multibootEntry.rawValue)
        mov(.eax, Int(MultibootLoad.bootloaderMagic))
        jmp(Reg32.ebp)

        // Null descriptor, then flat 4 GiB code (type 9Bh) and data (93h) with G = D = 1;
        // the accessed bits are preset, so the CPU never writes to the ROM.
        align(8)
        bind(gdt)
        dd(0); dd(0)
        dd(0x0000_FFFF); dd(0x00CF_9B00)
        dd(0x0000_FFFF); dd(0x00CF_9300)
        bind(gdtPointer)
        dw(UInt16(3 * 8 - 1))
        dd(gdt)
        emitFirmwareConfigName(MultibootEntry.fileName, label: fileName)
        bits(.b16)
        bind(noKernel)
    }
}
