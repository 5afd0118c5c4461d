import X86Asm

/// The `resetvector bench` workload that looks like real code: flat 32-bit code at CPL 0 with
/// 4 KiB paging, spread over five code pages, calling eight routines through a table of
/// function pointers.
///
/// The routines: a bitwise CRC-32 and an FNV-1a hash (byte loads, shifts, data-dependent
/// branches), a 6×6 matrix multiply (IMUL, scaled-index loads), a walk of a 64-node linked list
/// whose nodes lie on 64 pages, a byte-by-byte string copy and length, 32-by-32-bit divisions,
/// a bitmap allocator (BSF, BTS, BTR, PUSH/POP) and an insertion sort.
///
/// What synthetic loops hide, this workload has on purpose:
/// - every routine's data lies on pages that share the software TLB's slots with the
///   routine's own code page (`page(sharingSlotWith:number:)`), so data accesses evict the
///   translation of the code that makes them;
/// - the stack lies on the main loop's code page (its top is that page's end, as a boot
///   sector's stack sits just below its code), so every call and push writes to a page that
///   holds decoded code.
///
/// Each iteration adds the routines' results to a checksum; the guest halts when done.
public enum RealCodeBenchmarkWorkload {
    public static let origin: UInt32 = 0x1000
    public static let memorySize = 32 << 20
    /// Iterations of the main loop in the standard run (≈ 300 M instructions).
    public static let standardIterations: UInt32 = 55_000
    /// Where the checksum of all routines' results is kept.
    public static let checksumAddress = 0x9_0000

    static let gdtBase = 0x0500
    static let pageDirectory = 0x10_0000
    static let iterationsAddress = 0x9_0004
    static let functionTable = 0x9_0100
    static let listHead = 0x9_0040
    static let listBase = 0x80_0000
    static let listStride = 0x1040
    static let listLength = 64
    /// The code pages, in order: the main loop (and the stack), then the routines.
    static let mainPage = 0x2000
    static let crcPage = 0x3000, matrixPage = 0x4000, listPage = 0x5000, arithmeticPage = 0x6000

    /// A data page whose software-TLB slot is the one of the code page at `codePage`.
    ///
    /// The TLB indexes by linear page number folded with the bits 8 above it
    /// (`(p ^ p >> 8) & 0xFF`), so page `(k << 8) | (c ^ k)` shares page `c`'s slot for every
    /// `k`; `number` picks k from 10h up (16 MiB and above).
    static func page(sharingSlotWith codePage: Int, number: Int) -> Int {
        let c = codePage >> 12, k = 0x10 + number
        return (k << 8 | (c ^ k)) << 12
    }

    static var crcBuffer: Int { page(sharingSlotWith: crcPage, number: 0) }
    static var matrixA: Int { page(sharingSlotWith: matrixPage, number: 0) }
    static var matrixB: Int { page(sharingSlotWith: matrixPage, number: 1) }
    static var matrixC: Int { page(sharingSlotWith: matrixPage, number: 2) }
    static var sourceString: Int { page(sharingSlotWith: listPage, number: 0) }
    static var copiedString: Int { page(sharingSlotWith: listPage, number: 1) }
    static var bitmap: Int { page(sharingSlotWith: arithmeticPage, number: 0) }
    static var sortTemplate: Int { page(sharingSlotWith: arithmeticPage, number: 1) }
    static var sortArray: Int { page(sharingSlotWith: arithmeticPage, number: 1) + 0x100 }
    static let sortLength = 12
    static let matrixOrder = 6

    /// The program's bytes, to load at `origin`.
    public static func program(iterations: UInt32) throws -> [UInt8] {
        var a = Assembler(bits: .b16, origin: origin)
        let gdtr = a.newLabel("gdtr"), start = a.newLabel("start"), main = a.newLabel("main")
        let routines = ["crc32", "hash", "matrix", "list", "string", "divide", "bitmap", "sort"].map { a.newLabel($0) }
        let setup = FlatPagedSetup(gdtBase: gdtBase, pageDirectory: pageDirectory, memorySize: memorySize,
                                   stackTop: mainPage + 0x1000)
        a.jmp(start)
        setup.emitGDTR(&a, label: gdtr)
        a.bind(start)
        a.cli()
        a.xor(.ax, .ax)
        a.mov(.ds, .ax)
        setup.emitEntry(&a, gdtr: gdtr)
        for (index, routine) in routines.enumerated() {
            a.mov(.eax, routine)
            a.mov(Mem(disp: functionTable + 4 * index), .eax)
        }
        a.mov(Mem(disp: iterationsAddress, size: .dword), Int(iterations))
        a.mov(Mem(disp: checksumAddress, size: .dword), 0)
        emitDataSetup(&a)
        a.jmp(main)

        a.align(0x1000)
        a.bind(main)
        let loop = a.newLabel("loop")
        a.bind(loop)
        for index in routines.indices {
            a.call(Mem(disp: functionTable + 4 * index, size: .dword))
            a.add(Mem(disp: checksumAddress, size: .dword), .eax)
        }
        a.dec(Mem(disp: iterationsAddress, size: .dword))
        a.jcc(.nz, loop)
        a.hlt()

        a.align(0x1000)
        emitCRC32(&a, routines[0])
        emitHash(&a, routines[1])
        a.align(0x1000)
        emitMatrixMultiply(&a, routines[2])
        a.align(0x1000)
        emitListWalk(&a, routines[3])
        emitStringCopy(&a, routines[4])
        a.align(0x1000)
        emitDivisions(&a, routines[5])
        emitBitmapAllocator(&a, routines[6])
        emitInsertionSort(&a, routines[7])
        return try a.finish()
    }

    // MARK: Data

    /// EAX ← EAX · 1103515245 + 12345, the C library's classic generator.
    private static func emitNextRandom(_ a: inout Assembler) {
        a.imul(.eax, .eax, 1_103_515_245)
        a.add(.eax, 12345)
    }

    /// Fills the routines' data: random bytes and dwords, a string, the list, the bitmap.
    private static func emitDataSetup(_ a: inout Assembler) {
        a.mov(.eax, 2026)
        // 256 random bytes for the CRC and the hash; 64 random dwords for each matrix and the sort.
        for (base, count, scale) in [(crcBuffer, 256, 1), (matrixA, 64, 4), (matrixB, 64, 4), (sortTemplate, sortLength, 4)] {
            let fill = a.newLabel()
            a.mov(.edi, base)
            a.mov(.ecx, count)
            a.bind(fill)
            emitNextRandom(&a)
            a.mov(.ebx, .eax)
            if scale == 1 {
                a.shr(.ebx, 16)
                a.mov(Mem(.edi), .bl)
            } else {
                a.sar(.ebx, 20)
                a.mov(Mem(.edi), .ebx)
            }
            a.add(.edi, scale)
            a.loop(fill)
        }
        // A 63-character string: the alphabet, over and over.
        let letters = a.newLabel()
        a.mov(.edi, sourceString)
        a.xor(.ecx, .ecx)
        a.bind(letters)
        a.mov(.eax, .ecx)
        a.xor(.edx, .edx)
        a.mov(.ebx, 26)
        a.div(.ebx)
        a.add(.dl, Int(UInt8(ascii: "A")))
        a.mov(Mem(.edi, index: .ecx), .dl)
        a.inc(.ecx)
        a.cmp(.ecx, 63)
        a.jccShort(.ne, letters)
        a.mov(Mem(.edi, index: .ecx, size: .byte), 0)
        // The list: node i at listBase + i·listStride holds {next, 3i + 1}; next is node (i + 23) mod 64.
        let node = a.newLabel()
        a.xor(.ecx, .ecx)
        a.bind(node)
        a.imul(.edi, .ecx, listStride)
        a.lea(.edx, Mem(.ecx, disp: 23))
        a.and(.edx, listLength - 1)
        a.imul(.edx, .edx, listStride)
        a.add(.edx, listBase)
        a.mov(Mem(.edi, disp: listBase), .edx)
        a.lea(.eax, Mem(.ecx, index: .ecx, scale: 2, disp: 1))
        a.mov(Mem(.edi, disp: listBase + 4), .eax)
        a.inc(.ecx)
        a.cmp(.ecx, listLength)
        a.jccShort(.ne, node)
        a.mov(Mem(disp: listHead, size: .dword), listBase)
        // The bitmap: 112 of its 256 bits taken.
        for (index, value) in [0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF, 0x0000_FFFF, 0, 0, 0, 0].enumerated() {
            a.mov(Mem(disp: bitmap + 4 * index, size: .dword), value)
        }
    }

    // MARK: Routines (each returns its result in EAX and may clobber every other register)

    /// Bitwise CRC-32 (polynomial EDB88320h) of 32 bytes.
    private static func emitCRC32(_ a: inout Assembler, _ routine: Label) {
        let byteLoop = a.newLabel(), bitLoop = a.newLabel(), noXor = a.newLabel()
        a.bind(routine)
        a.mov(.esi, crcBuffer)
        a.mov(.ecx, 32)
        a.mov(.eax, -1)
        a.bind(byteLoop)
        a.movzx(.edx, Mem(.esi, size: .byte))
        a.xor(.eax, .edx)
        a.mov(.ebx, 8)
        a.bind(bitLoop)
        a.shr(.eax, 1)
        a.jccShort(.nc, noXor)
        a.xor(.eax, Int(bitPattern: 0xEDB8_8320))
        a.bind(noXor)
        a.dec(.ebx)
        a.jccShort(.nz, bitLoop)
        a.inc(.esi)
        a.dec(.ecx)
        a.jccShort(.nz, byteLoop)
        a.not(.eax)
        a.ret()
    }

    /// FNV-1a of 64 bytes.
    private static func emitHash(_ a: inout Assembler, _ routine: Label) {
        let next = a.newLabel()
        a.bind(routine)
        a.mov(.esi, crcBuffer + 64)
        a.mov(.ecx, 64)
        a.mov(.eax, Int(bitPattern: 0x811C_9DC5))
        a.bind(next)
        a.movzx(.edx, Mem(.esi, size: .byte))
        a.xor(.eax, .edx)
        a.imul(.eax, .eax, 16_777_619)
        a.inc(.esi)
        a.dec(.ecx)
        a.jccShort(.nz, next)
        a.ret()
    }

    /// C = A × B for 6×6 dword matrices stored with rows 32 bytes apart.
    private static func emitMatrixMultiply(_ a: inout Assembler, _ routine: Label) {
        let row = a.newLabel(), column = a.newLabel(), term = a.newLabel()
        a.bind(routine)
        a.xor(.esi, .esi)                        // row offset i·32
        a.bind(row)
        a.xor(.edi, .edi)                        // column offset j·4
        a.bind(column)
        a.xor(.eax, .eax)
        a.xor(.ecx, .ecx)                        // k
        a.bind(term)
        a.mov(.edx, Mem(.esi, index: .ecx, scale: 4, disp: matrixA))
        a.mov(.ebx, .ecx)
        a.shl(.ebx, 5)
        a.imul(.edx, Mem(.ebx, index: .edi, disp: matrixB))
        a.add(.eax, .edx)
        a.inc(.ecx)
        a.cmp(.ecx, matrixOrder)
        a.jccShort(.ne, term)
        a.mov(Mem(.esi, index: .edi, disp: matrixC), .eax)
        a.add(.edi, 4)
        a.cmp(.edi, 4 * matrixOrder)
        a.jccShort(.ne, column)
        a.add(.esi, 32)
        a.cmp(.esi, 32 * matrixOrder)
        a.jccShort(.ne, row)
        a.mov(.eax, Mem(disp: matrixC + 32 + 4, size: .dword))
        a.ret()
    }

    /// The sum of the list's values, following 64 next pointers.
    private static func emitListWalk(_ a: inout Assembler, _ routine: Label) {
        let next = a.newLabel()
        a.bind(routine)
        a.mov(.esi, Mem(disp: listHead, size: .dword))
        a.xor(.eax, .eax)
        a.mov(.ecx, listLength)
        a.bind(next)
        a.add(.eax, Mem(.esi, disp: 4))
        a.mov(.esi, Mem(.esi))
        a.dec(.ecx)
        a.jccShort(.nz, next)
        a.ret()
    }

    /// Copies the string byte by byte, then measures the copy.
    private static func emitStringCopy(_ a: inout Assembler, _ routine: Label) {
        let copy = a.newLabel(), measure = a.newLabel(), done = a.newLabel()
        a.bind(routine)
        a.mov(.esi, sourceString)
        a.mov(.edi, copiedString)
        a.bind(copy)
        a.mov(.al, Mem(.esi))
        a.mov(Mem(.edi), .al)
        a.inc(.esi)
        a.inc(.edi)
        a.test(.al, .al)
        a.jccShort(.nz, copy)
        a.mov(.edi, copiedString)
        a.bind(measure)
        a.cmp(Mem(.edi, size: .byte), 0)
        a.jccShort(.e, done)
        a.inc(.edi)
        a.jmpShort(measure)
        a.bind(done)
        a.mov(.eax, .edi)
        a.sub(.eax, copiedString)
        a.ret()
    }

    /// Sixteen 64-by-32-bit divisions (EDX:EAX / EBX, the high half below the divisor).
    private static func emitDivisions(_ a: inout Assembler, _ routine: Label) {
        let next = a.newLabel()
        a.bind(routine)
        a.mov(.ecx, 16)
        a.mov(.ebx, 0x1_2345)
        a.xor(.esi, .esi)
        a.bind(next)
        a.mov(.edx, .ecx)
        a.mov(.eax, Int(bitPattern: 0xDEAD_BEEF))
        a.xor(.eax, .esi)
        a.div(.ebx)
        a.add(.esi, .eax)
        a.add(.esi, .edx)
        a.dec(.ecx)
        a.jccShort(.nz, next)
        a.mov(.eax, .esi)
        a.ret()
    }

    /// Takes the four lowest free bits of the bitmap (a scan with BSF, then BTS), keeping their
    /// numbers on the stack, then frees them again (BTR) and returns their sum.
    private static func emitBitmapAllocator(_ a: inout Assembler, _ routine: Label) {
        let allocate = a.newLabel(), scan = a.newLabel(), found = a.newLabel(), free = a.newLabel()
        a.bind(routine)
        a.mov(.ecx, 4)
        a.bind(allocate)
        a.xor(.ebx, .ebx)
        a.bind(scan)
        a.mov(.eax, Mem(index: .ebx, scale: 4, disp: bitmap))
        a.not(.eax)
        a.test(.eax, .eax)
        a.jccShort(.nz, found)
        a.inc(.ebx)
        a.jmpShort(scan)
        a.bind(found)
        a.bsf(.eax, .eax)
        a.bts(Mem(index: .ebx, scale: 4, disp: bitmap), .eax)
        a.shl(.ebx, 5)
        a.add(.eax, .ebx)
        a.push(.eax)
        a.dec(.ecx)
        a.jccShort(.nz, allocate)
        a.mov(.ecx, 4)
        a.xor(.edx, .edx)
        a.bind(free)
        a.pop(.eax)
        a.add(.edx, .eax)
        a.btr(Mem(disp: bitmap), .eax)
        a.dec(.ecx)
        a.jccShort(.nz, free)
        a.mov(.eax, .edx)
        a.ret()
    }

    /// Copies 12 dwords from the template and sorts them by insertion (signed).
    private static func emitInsertionSort(_ a: inout Assembler, _ routine: Label) {
        let outer = a.newLabel(), inner = a.newLabel(), place = a.newLabel()
        a.bind(routine)
        a.mov(.esi, sortTemplate)
        a.mov(.edi, sortArray)
        a.mov(.ecx, sortLength)
        a.movsd(.rep)
        a.mov(.ecx, 1)
        a.bind(outer)
        a.mov(.eax, Mem(index: .ecx, scale: 4, disp: sortArray))
        a.mov(.edx, .ecx)
        a.bind(inner)
        a.test(.edx, .edx)
        a.jccShort(.z, place)
        a.mov(.ebx, Mem(index: .edx, scale: 4, disp: sortArray - 4))
        a.cmp(.ebx, .eax)
        a.jccShort(.le, place)
        a.mov(Mem(index: .edx, scale: 4, disp: sortArray), .ebx)
        a.dec(.edx)
        a.jmpShort(inner)
        a.bind(place)
        a.mov(Mem(index: .edx, scale: 4, disp: sortArray), .eax)
        a.inc(.ecx)
        a.cmp(.ecx, sortLength)
        a.jccShort(.ne, outer)
        a.mov(.eax, Mem(disp: sortArray + 20, size: .dword))
        a.ret()
    }
}
