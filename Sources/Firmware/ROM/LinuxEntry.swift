import X86Asm

/// The ROM's Linux boot: the machine lays the boot out (``LinuxLoad``) and hands it to the
/// firmware as one file of the firmware configuration interface (``fileName``), a generic load
/// list; the ROM finds it in the directory on every boot, enters 32-bit protected mode, has the
/// interface's DMA copy each chunk into place and enters the kernel by the boot protocol's
/// "32-bit boot protocol" (Linux's `Documentation/arch/x86/boot.rst`).
///
/// The file's format, all fields 32-bit little-endian:
///
///     chunk count, entry point, ESI (the boot_params address)
///     for each chunk: address, byte count, the bytes
///
/// No file, or a chunk count of 0, means "no Linux kernel".
public enum LinuxEntry {
    /// The firmware configuration file that carries the load.
    public static let fileName = "etc/resetvector/linux"
    /// The boot protocol's `__BOOT_CS` and `__BOOT_DS`: flat 4 GiB code and data.
    public static let codeSelector: UInt16 = 0x10
    public static let dataSelector: UInt16 = 0x18
    /// POST codes: leaving real mode to load a Linux kernel; the kernel loaded, jumping to it;
    /// a DMA copy failed (the ROM halts).
    public static let postCode: UInt8 = 0x0B
    public static let entryPostCode: UInt8 = 0x0C
    public static let failurePostCode: UInt8 = 0xEB
    /// The firmware log milestones for the same steps.
    public static let milestone = "linux"
    public static let failureMilestone = "linux-load-failed"
    /// The stack the ROM uses in protected mode (the DMA descriptor lives on it).
    static let stackTop = 0x7000
    /// The fw_cfg DMA address register (high half; the low half, which starts a transfer, at +4).
    static let dmaAddressPort: UInt16 = 0x514
}

extension LinuxLoad {
    /// The load as the ROM reads it from the file ``LinuxEntry/fileName``.
    public var firmwareConfigurationFile: [UInt8] {
        var item: [UInt8] = []
        item.reserveCapacity(12 + chunks.reduce(0) { $0 + 8 + $1.bytes.count })
        item.append(uint32: UInt32(chunks.count))
        item.append(uint32: entry)
        item.append(uint32: LinuxLoad.bootParamsAddress)
        for chunk in chunks {
            item.append(uint32: chunk.address)
            item.append(uint32: UInt32(chunk.bytes.count))
            item.append(contentsOf: chunk.bytes)
        }
        return item
    }
}

extension Assembler {
    /// Emits the ROM's Linux step, for 16-bit real-mode code with DS = CS = F000h;
    /// `lookup` is the ROM's ``emitFirmwareConfigLookup()`` routine and `log` its milestone routine.
    ///
    /// With no load in the firmware configuration it falls through (EAX, EBX, ECX, EDX, EDI,
    /// BP clobbered). Otherwise it logs ``LinuxEntry/milestone``, sends ``LinuxEntry/postCode``
    /// and never returns: it loads a GDT whose selectors 10h and 18h are flat 4 GiB code and
    /// data, sets CR0.PE, far-jumps to 32-bit code, loads DS, ES, FS, GS and SS with 18h, and
    /// for each chunk reads its address and length through the data port and has the DMA
    /// interface copy its bytes (an `FWCfgDmaAccess` with control READ on the stack; the
    /// transfer continues the selected file where the data port left it). Then it sends
    /// ``LinuxEntry/entryPostCode`` and jumps to the kernel in the state the 32-bit boot
    /// protocol asks for: CS = 10h, DS = ES = SS = 18h, paging off, IF = 0, ESI = boot_params,
    /// EBP = EDI = EBX = 0. A DMA error halts with ``LinuxEntry/failurePostCode``.
    public mutating func emitLinuxBoot(log: Label, lookup: Label) {
        let noKernel = newLabel("noLinuxKernel"), fileName = newLabel("linuxFileName")
        let milestone = newLabel("linuxMilestone"), failureText = newLabel("linuxFailureText")
        let gdt = newLabel("linuxGDT"), gdtPointer = newLabel("linuxGDTPointer")
        let failed = newLabel("linuxLoadFailed")
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
        outByte(0x80, LinuxEntry.postCode)
        cli()
        enterProtectedMode(gdtr: Mem(label: gdtPointer, size: .dword, segment: .cs),
                           codeSelector: LinuxEntry.codeSelector, dataSelector: LinuxEntry.dataSelector)
        cld()
        mov(.esp, LinuxEntry.stackTop)
        mov(.edi, .ebx)                   // EDI = chunks left
        mov(.edx, Int(FirmwareConfigInterface.dataPort))
        readLittleEndianDword()
        mov(.ebp, .eax)                   // EBP = entry point
        readLittleEndianDword()
        push(.eax)                        // [ESP] = boot_params
        let nextChunk = newLabel()
        bind(nextChunk)
        readLittleEndianDword()
        mov(.ebx, .eax)                   // EBX = address
        readLittleEndianDword()           // EAX = length
        // FWCfgDmaAccess, big-endian: control, length, address (high, low).
        bswap(.ebx)
        push(.ebx)
        push(0, size: .dword)
        bswap(.eax)
        push(.eax)
        push(0x0200_0000, size: .dword)   // control: READ (02h)
        mov(.esi, .esp)
        mov(.dx, Int(LinuxEntry.dmaAddressPort))
        xor(.eax, .eax)
        out(.dx, .eax)                    // high half of the descriptor's address: 0
        mov(.eax, .esi)
        bswap(.eax)
        add(.dx, 4)
        out(.dx, .eax)                    // low half: the transfer runs now
        mov(.eax, Mem(.esi, size: .dword)) // control as the device left it: 0 when done
        add(.esp, 16)
        mov(.edx, Int(FirmwareConfigInterface.dataPort))
        test(.eax, .eax)
        jcc(.nz, failed)
        dec(.edi)
        jcc(.nz, nextChunk)
        pop(.esi)                         // ESI = boot_params
        outByte(0x80, LinuxEntry.entryPostCode)
        xor(.ebx, .ebx)
        xor(.edi, .edi)
        xor(.eax, .eax)
        mov(.ecx, .ebp)
        xor(.ebp, .ebp)
        jmp(Reg32.ecx)

        bind(failed)
        outByte(0x80, LinuxEntry.failurePostCode)
        mov(.dx, Int(ResetVectorROM.firmwareLogPort))
        mov(.esi, failureText)
        let nextByte = newLabel(), stop = newLabel()
        bind(nextByte)
        lodsb()
        test(.al, .al)
        jccShort(.z, stop)
        out(.dx, .al)
        jmpShort(nextByte)
        bind(stop)
        cli()
        hlt()
        jmpShort(stop)

        // Null descriptor twice, then flat 4 GiB code (type 9Bh) and data (93h) with G = D = 1
        // at 10h and 18h; the accessed bits are preset, so the CPU never writes to the ROM.
        align(8)
        bind(gdt)
        dd(0); dd(0)
        dd(0); dd(0)
        dd(0x0000_FFFF); dd(0x00CF_9B00)
        dd(0x0000_FFFF); dd(0x00CF_9300)
        bind(gdtPointer)
        dw(UInt16(4 * 8 - 1))
        dd(gdt)
        emitFirmwareConfigName(LinuxEntry.fileName, label: fileName)
        bind(milestone)
        db(Array(LinuxEntry.milestone.utf8) + [0])
        bind(failureText)
        db(Array(LinuxEntry.failureMilestone.utf8) + [0x0A, 0])
        bits(.b16)
        bind(noKernel)
    }
}
