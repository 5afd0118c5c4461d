import X86Asm

/// The project's own reset-vector firmware: a 64 KiB ROM doing what a BIOS's early POST does.
///
/// It is machine code emitted by Swift through `X86Asm` rather than assembled by an external
/// tool, so the build needs nothing beyond the Swift toolchain and the source is ordinary
/// Swift that tests can read. At F000:FFF0 the CPU finds a far jump to `entry`, which:
///
/// 1. reads the CMOS shutdown status byte (0x0F) and clears it. Codes 05h and 0Ah resume a
///    program through the far pointer at 0040:0067 (05h sends the PICs an EOI first), as
///    AT BIOSes do for software that reset the CPU to leave protected mode; then programs the
///    chipset's power-management decode and, on a wake from S3 (WAK_STS with SLP_TYP still
///    S3's), resumes the OS at the FACS waking vector (`S3Resume.swift`);
/// 2. tells a warm restart (BIOS data area word 0040:0072 = 1234h, left by Ctrl-Alt-Del)
///    from a cold start, and counts boots in CMOS byte 5Fh;
/// 3. fills the interrupt vector table (IRQ handlers that send EOI, a timer tick counter at
///    0040:006C, INT 10h AH=0Eh teletype output to COM1, IRET for the rest);
/// 4. programs both 8259 PICs (vectors 08h and 70h, everything masked but the cascade),
///    the bootstrap processor's local APIC as a virtual wire for them
///    (`LocalAPICSetup.swift`), and the 8254's channel 0 (mode 3, 18.2 Hz); counts the
///    processors with INIT and start-up IPIs, parks the APs waiting for a start-up IPI and
///    writes the MP tables in the EBDA (`ProcessorCount.swift`);
/// 5. initializes the 8042 (self-test, command byte, keyboard enabled) and opens the
///    A20 gate through its output port;
/// 6. sets COM1 to 115200 8N1 with FIFOs and prints a banner;
/// 7. boots a Multiboot kernel in 32-bit protected mode when the firmware configuration
///    interface (QEMU's fw_cfg) holds one (`MultibootEntry.swift`); otherwise copies the
///    boot payload from it to 0000:7C00 and jumps there with DL = 80h. Both are named files
///    the ROM finds in the interface's directory (`FirmwareConfigLookup.swift`).
///
/// Every step is reported as a milestone line on port 0x402 (a `firmware` trace event)
/// and as a POST code on port 0x80.
public enum ResetVectorROM {
    public static let size = 64 << 10
    /// Physical address of the ROM's first byte below 1 MiB (it also appears below 4 GiB).
    public static let origin: UInt32 = 0xF0000
    public static let serialPort: UInt16 = 0x3F8
    public static let firmwareLogPort: UInt16 = 0x402
    public static let bootAddress: UInt32 = 0x7C00
    /// The firmware configuration file holding the boot payload.
    public static let payloadFileName = "etc/resetvector/boot-payload"
    /// CMOS byte holding the boot counter.
    public static let bootCounterIndex: UInt8 = 0x5F
    /// POST codes, in order.
    public enum PostCode: UInt8 {
        case entry = 0x01, shutdownStatusRead = 0x02, interruptTable = 0x03, interruptControllers = 0x04
        case timer = 0x05, a20 = 0x06, serial = 0x07, payloadLoaded = 0x08, noPayload = 0xEE
        /// Leaving real mode to load a Multiboot kernel; the kernel loaded, jumping to it.
        case multiboot = 0x09, multibootEntry = 0x0A
    }

    public static func image() throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let printString = a.newLabel("printString")
        let printDecimal = a.newLabel("printDecimal"), serialPutChar = a.newLabel("serialPutChar")
        let entry = a.newLabel("entry")

        // MARK: Subroutines (near calls within segment F000)

        // logWithNewline: DS:SI → firmware log port, then a newline (one milestone).
        let logBody = a.emitPortStringRoutine(port: firmwareLogPort)
        let logWithNewline = a.newLabel("logWithNewline")
        a.bind(logWithNewline)
        a.call(logBody)
        a.mov(.dx, Int(firmwareLogPort))
        a.mov(.al, 0x0A)
        a.out(.dx, .al)
        a.ret()

        // firmwareConfigLookup: CS:SI names a file → CF clear, BX = key, ECX = size.
        let firmwareConfigLookup = a.emitFirmwareConfigLookup()

        // serialPutChar: AL → COM1 once the transmitter holding register is empty.
        a.bind(serialPutChar)
        a.push(.dx)
        a.push(.ax)
        let waitTHRE = a.newLabel()
        a.mov(.dx, Int(serialPort + 5))
        a.bind(waitTHRE)
        a.in(.al, .dx)
        a.test(.al, 0x20)
        a.jccShort(.z, waitTHRE)
        a.pop(.ax)
        a.mov(.dx, Int(serialPort))
        a.out(.dx, .al)
        a.pop(.dx)
        a.ret()

        // printString: NUL-terminated DS:SI → COM1.
        a.bind(printString)
        let printNext = a.newLabel(), printDone = a.newLabel()
        a.bind(printNext)
        a.lodsb()
        a.test(.al, .al)
        a.jccShort(.z, printDone)
        a.call(serialPutChar)
        a.jmpShort(printNext)
        a.bind(printDone)
        a.ret()

        // printDecimal: AL (0–255) → COM1 in decimal, no leading zeros.
        a.bind(printDecimal)
        a.xor(.ah, .ah)
        a.mov(.bl, 100)
        a.div(.bl)                        // AL = hundreds, AH = rest
        let skipHundreds = a.newLabel(), skipTens = a.newLabel()
        a.mov(.cl, .ah)
        a.test(.al, .al)
        a.jccShort(.z, skipHundreds)
        a.add(.al, 0x30)
        a.call(serialPutChar)
        a.bind(skipHundreds)
        a.mov(.ch, .al)                   // nonzero when hundreds were printed ('1'–'2')
        a.mov(.al, .cl)
        a.xor(.ah, .ah)
        a.mov(.bl, 10)
        a.div(.bl)                        // AL = tens, AH = units
        a.mov(.cl, .ah)
        a.test(.al, .al)
        let printTens = a.newLabel()
        a.jccShort(.nz, printTens)
        a.test(.ch, .ch)
        a.jccShort(.z, skipTens)
        a.bind(printTens)
        a.add(.al, 0x30)
        a.call(serialPutChar)
        a.bind(skipTens)
        a.mov(.al, .cl)
        a.add(.al, 0x30)
        a.call(serialPutChar)
        a.ret()

        // MARK: Interrupt handlers

        let iretStub = a.newLabel("iretStub"), masterIRQ = a.newLabel("masterIRQ")
        let slaveIRQ = a.newLabel("slaveIRQ"), timerIRQ = a.newLabel("timerIRQ"), videoService = a.newLabel("int10")
        a.bind(iretStub)
        a.iret()
        a.bind(masterIRQ)
        a.push(.ax)
        a.outByte(0x20, 0x20)
        a.pop(.ax)
        a.iret()
        a.bind(slaveIRQ)
        a.push(.ax)
        a.outByte(0xA0, 0x20)
        a.outByte(0x20, 0x20)
        a.pop(.ax)
        a.iret()
        a.bind(timerIRQ)
        a.push(.ds)
        a.push(.ax)
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.add(Mem(disp: 0x46C, size: .word), 1)
        a.adc(Mem(disp: 0x46E, size: .word), 0)
        a.outByte(0x20, 0x20)
        a.pop(.ax)
        a.pop(.ds)
        a.iret()
        // INT 10h: only AH = 0Eh (teletype), written to COM1.
        a.bind(videoService)
        let videoDone = a.newLabel()
        a.cmp(.ah, 0x0E)
        a.jccShort(.ne, videoDone)
        a.call(serialPutChar)
        a.bind(videoDone)
        a.iret()

        // MARK: Strings

        let banner = a.emitString("\r\nResetVector firmware: boot ")
        let coldText = a.emitString(", cold start\r\n")
        let warmText = a.emitString(", warm start\r\n")
        let noPayloadText = a.emitString("no boot payload; halted\r\n")
        let payloadFile = a.emitFirmwareConfigName(payloadFileName)
        let milestones = Dictionary(uniqueKeysWithValues: [
            "reset-vector", "cold-start", "warm-start", "resume", S3Resume.milestone, S3Resume.noVectorMilestone, "ivt", "pic", "pit", "processors", "keyboard", "a20", "serial",
            "boot", "no-payload", "multiboot",
        ].map { ($0, a.emitString($0)) })

        // MARK: POST

        a.bind(entry)
        a.cli()
        a.cld()
        a.xor(.ax, .ax)
        a.mov(.ss, .ax)
        a.mov(.sp, 0x7000)
        a.mov(.ax, 0xF000)
        a.mov(.ds, .ax)
        a.outByte(0x80, PostCode.entry.rawValue)
        a.mov(.si, milestones["reset-vector"]!)
        a.call(logWithNewline)

        // 1. CMOS shutdown status byte, read and cleared with NMI masked.
        a.outByte(0x70, 0x8F)
        a.in(.al, 0x71)
        a.mov(.bl, .al)
        a.outByte(0x70, 0x8F)
        a.outByte(0x71, 0)
        a.outByte(0x80, PostCode.shutdownStatusRead.rawValue)
        let notResume = a.newLabel(), resume = a.newLabel()
        a.cmp(.bl, 0x0A)
        a.jcc(.e, resume)
        a.cmp(.bl, 0x05)
        a.jcc(.ne, notResume)
        a.outByte(0x20, 0x20)             // 05h: EOI, then resume like 0Ah
        a.bind(resume)
        a.mov(.si, milestones["resume"]!)
        a.call(logWithNewline)
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.jmpFar(Mem(disp: 0x467, size: .word))
        a.bind(notResume)

        // 1b. The power-management decode, and a wake from S3 (S3Resume.swift): on a resume
        //     the ROM jumps to the OS's waking vector here.
        a.emitPowerManagementDecode()
        a.emitS3Resume(log: logWithNewline, lookup: firmwareConfigLookup, milestone: milestones[S3Resume.milestone]!,
                       noVector: milestones[S3Resume.noVectorMilestone]!)

        // 2. Warm or cold; boot counter.
        let cold = a.newLabel(), startKnown = a.newLabel()
        a.xor(.ax, .ax)
        a.mov(.es, .ax)
        a.cmp(Mem(disp: 0x472, size: .word, segment: .es), 0x1234)
        a.jccShort(.ne, cold)
        a.mov(Mem(disp: 0x472, size: .word, segment: .es), 0)
        a.mov(.bh, 1)                     // BH = 1: warm start
        a.mov(.si, milestones["warm-start"]!)
        a.jmpShort(startKnown)
        a.bind(cold)
        a.mov(.bh, 0)
        a.mov(.si, milestones["cold-start"]!)
        a.bind(startKnown)
        a.call(logWithNewline)
        a.outByte(0x70, 0x80 | bootCounterIndex)
        a.in(.al, 0x71)
        a.inc(.al)
        a.mov(.bl, .al)                   // BL = boot number
        a.outByte(0x70, 0x80 | bootCounterIndex)
        a.mov(.al, .bl)
        a.out(0x71, .al)

        // 3. Interrupt vector table and BIOS data area.
        a.xor(.di, .di)
        a.mov(.cx, 256)
        let fillVector = a.newLabel()
        a.bind(fillVector)
        a.mov(.ax, iretStub)
        a.mov(Mem(.di, size: .word, segment: .es), .ax)
        a.mov(Mem(.di, disp: 2, size: .word, segment: .es), 0xF000)
        a.add(.di, 4)
        a.loop(fillVector)
        let handlers = [(0x08...0x08, timerIRQ), (0x09...0x0F, masterIRQ), (0x70...0x77, slaveIRQ), (0x10...0x10, videoService)]
        for (vectors, handler) in handlers {
            a.mov(.ax, handler)
            for vector in vectors { a.mov(Mem(disp: vector * 4, segment: .es), .ax) }
        }
        a.mov(Mem(disp: 0x400, size: .word, segment: .es), Int(serialPort))   // COM1 base
        a.mov(Mem(disp: 0x40E, size: .word, segment: .es), Int(MemoryMap.conventionalMemoryEnd >> 4))   // EBDA segment
        a.mov(Mem(disp: 0x413, size: .word, segment: .es), Int(MemoryMap.conventionalMemoryEnd >> 10)) // KiB below it
        a.mov(Mem(disp: 0x46C, size: .word, segment: .es), 0)
        a.mov(Mem(disp: 0x46E, size: .word, segment: .es), 0)
        a.outByte(0x80, PostCode.interruptTable.rawValue)
        a.mov(.si, milestones["ivt"]!)
        a.call(logWithNewline)

        // 4. PICs: ICW1–ICW4, then mask all but the cascade; PIT channel 0, mode 3, 18.2 Hz.
        for (port, icw2, icw3) in [(UInt16(0x20), UInt8(0x08), UInt8(0x04)), (0xA0, 0x70, 0x02)] {
            a.outByte(port, 0x11)
            a.outByte(port + 1, icw2)
            a.outByte(port + 1, icw3)
            a.outByte(port + 1, 0x01)
        }
        a.outByte(0x21, 0xFB)
        a.outByte(0xA1, 0xFF)
        a.emitLocalAPICVirtualWire()
        a.outByte(0x80, PostCode.interruptControllers.rawValue)
        a.mov(.si, milestones["pic"]!)
        a.call(logWithNewline)
        a.outByte(0x43, 0x36)
        a.outByte(0x40, 0)
        a.outByte(0x40, 0)
        a.outByte(0x80, PostCode.timer.rawValue)
        a.mov(.si, milestones["pit"]!)
        a.call(logWithNewline)
        a.emitProcessorCountAndTables()
        a.mov(.si, milestones["processors"]!)
        a.call(logWithNewline)

        // 5. The 8042: self-test (AAh → 55h), command byte 45h (keyboard IRQ on, system flag,
        //    set-1 translation), keyboard interface enabled; then A20 through its output
        //    port (D1h, then DFh: A20 on, reset line released).
        a.waitKeyboardControllerReady()
        a.outByte(0x64, 0xAA)
        let selfTestDone = a.newLabel()
        a.bind(selfTestDone)
        a.in(.al, 0x64)
        a.test(.al, 0x01)
        a.jccShort(.z, selfTestDone)
        a.in(.al, 0x60)
        a.waitKeyboardControllerReady()
        a.outByte(0x64, 0x60)
        a.waitKeyboardControllerReady()
        a.outByte(0x60, 0x45)
        a.waitKeyboardControllerReady()
        a.outByte(0x64, 0xAE)
        a.mov(.si, milestones["keyboard"]!)
        a.call(logWithNewline)
        a.waitKeyboardControllerReady()
        a.outByte(0x64, 0xD1)
        a.waitKeyboardControllerReady()
        a.outByte(0x60, 0xDF)
        a.waitKeyboardControllerReady()
        a.outByte(0x80, PostCode.a20.rawValue)
        a.mov(.si, milestones["a20"]!)
        a.call(logWithNewline)

        // 6. COM1: 115200 8N1, FIFOs on, DTR/RTS/OUT2; banner.
        a.emitSerialSetup()
        a.outByte(0x80, PostCode.serial.rawValue)
        a.mov(.si, milestones["serial"]!)
        a.call(logWithNewline)
        a.mov(.si, banner)
        a.call(printString)
        a.mov(.al, .bl)
        a.push(.bx)
        a.call(printDecimal)
        a.pop(.bx)
        let printedStart = a.newLabel()
        a.mov(.si, coldText)
        a.test(.bh, .bh)
        a.jccShort(.z, printedStart)
        a.mov(.si, warmText)
        a.bind(printedStart)
        a.call(printString)

        a.emitACPISetup(log: logWithNewline, lookup: firmwareConfigLookup)   // PM decode and ACPI tables (ACPISetup.swift)

        // 7. A Multiboot kernel, if there is one (never returns then).
        a.emitMultibootBoot(log: logWithNewline, milestone: milestones["multiboot"]!, lookup: firmwareConfigLookup)
        a.emitLinuxBoot(log: logWithNewline, lookup: firmwareConfigLookup)   // a Linux bzImage (LinuxEntry.swift)

        // Boot payload: found in the directory, copied in 32 KiB chunks.
        let noPayload = a.newLabel(), chunk = a.newLabel(), lastChunk = a.newLabel(), copy = a.newLabel()
        a.mov(.si, payloadFile)
        a.call(firmwareConfigLookup)
        a.jcc(.c, noPayload)
        a.test(.ecx, .ecx)
        a.jcc(.z, noPayload)
        a.selectFirmwareConfigItemInBX()
        a.mov(.eax, .ecx)
        a.shr(.eax, 16)
        a.mov(.bx, .ax)                   // BX:CX = payload size
        a.mov(.ax, Int(bootAddress >> 4))
        a.mov(.es, .ax)
        a.bind(chunk)                     // BX:CX bytes left, ES:0 the destination
        a.xor(.di, .di)
        a.test(.bx, .bx)
        a.jccShort(.nz, copy)
        a.cmp(.cx, 0x8000)
        a.jccShort(.be, lastChunk)
        a.bind(copy)
        a.push(.cx)
        a.mov(.cx, 0x8000)
        a.insb(.rep)
        a.pop(.cx)
        a.sub(.cx, 0x8000)
        a.sbb(.bx, 0)
        a.mov(.ax, .es)
        a.add(.ax, 0x800)
        a.mov(.es, .ax)
        a.jmpShort(chunk)
        a.bind(lastChunk)
        a.insb(.rep)
        a.outByte(0x80, PostCode.payloadLoaded.rawValue)
        a.mov(.si, milestones["boot"]!)
        a.call(logWithNewline)
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        a.mov(.es, .ax)
        a.mov(.dx, 0x80)
        a.sti()
        a.jmpFar(segment: 0, offset: bootAddress)

        a.bind(noPayload)
        a.outByte(0x80, PostCode.noPayload.rawValue)
        a.mov(.si, milestones["no-payload"]!)
        a.call(logWithNewline)
        a.mov(.si, noPayloadText)
        a.call(printString)
        let stop = a.newLabel()
        a.bind(stop)
        a.cli()
        a.hlt()
        a.jmpShort(stop)

        // MARK: Reset vector, BIOS date and model byte

        a.fill(to: ProcessorCount.startupPage, byte: 0xFF)
        a.emitApplicationProcessorCheckIn()
        a.fill(to: 0xFFFF0, byte: 0xFF)
        a.jmpFar(segment: 0xF000, entry)
        a.ascii("11/21/26")
        a.db([0x00, 0xFC, 0x00])          // model byte FC: AT class
        let image = try a.finish()
        precondition(image.count == size, "the ROM must fill exactly 64 KiB")
        return image
    }
}
