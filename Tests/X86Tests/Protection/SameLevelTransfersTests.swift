import Testing
@testable import X86
import X86Asm

/// The same-level delivery and IRET taken while the TLB already maps the IDT entry, the code
/// descriptor and the frame (SameLevelTransfers.swift). The first event of each guest goes the
/// general way (nothing is mapped yet, the handler's descriptor is not yet accessed); later
/// ones take the short way. Each handler records what it saw, so every test checks that all
/// deliveries saw the same, and that it is right.
@Suite struct SameLevelTransfersTests {
    typealias Selector = PM.Selector
    static let vector: UInt8 = 0x50
    static let records = 0x3000
    static let recordSize = 32
    static let deliveries = 3

    /// Handler: stores ESP, CS and the frame's first `dwords` dwords at [EDI] and moves EDI to
    /// the next record; moves the saved EIP on by `skip` bytes; drops an error code; IRETD.
    static func recordAndReturn(_ a: inout Assembler, dwords: Int, skip: Int = 0, errorCode: Bool = false) {
        a.mov(Mem(.edi, disp: 0, size: .dword), .esp)
        a.mov(.eax, .cs)
        a.mov(Mem(.edi, disp: 4, size: .dword), .eax)
        for i in 0..<dwords {
            a.mov(.eax, Mem(.esp, disp: 4 * i, size: .dword))
            a.mov(Mem(.edi, disp: 8 + 4 * i, size: .dword), .eax)
        }
        a.add(.edi, recordSize)
        if skip != 0 { a.add(Mem(.esp, disp: errorCode ? 4 : 0, size: .dword), skip) }
        if errorCode { a.add(.esp, 4) }
        a.iretd()
    }

    /// The records, each as [ESP, CS, frame…].
    private func records(_ m: TestMachine, dwords: Int) -> [[UInt32]] {
        (0..<Self.deliveries).map { n in
            (0..<(2 + dwords)).map { m.bus.dword(at: Self.records + n * Self.recordSize + 4 * $0) }
        }
    }

    /// Runs `prologue`, then `trigger` `deliveries` times in a LOOP, with EDI at the records.
    private func runLoop(_ m: TestMachine, ring3: Bool = false, stack: Int? = nil, handlerSegment: UInt16 = Selector.code32,
                         gateType: UInt8 = 0xE, vector: UInt8 = SameLevelTransfersTests.vector,
                         prologue: (inout Assembler) -> Void = { _ in },
                         trigger: (inout Assembler) -> Void,
                         handler: (inout Assembler) -> Void) throws -> (PMRun, Label, Label) {
        var handlerLabel: Label!, site: Label!, after: Label!
        let run = try m.runPM({ a in
            handlerLabel = a.newLabel(); site = a.newLabel(); after = a.newLabel()
            let loop = a.newLabel(), done = a.newLabel()
            if let stack { a.mov(.esp, stack) }
            if ring3 { a.enterRing3() }
            prologue(&a)
            a.mov(.edi, Self.records)
            a.mov(.ecx, Self.deliveries)
            a.bind(loop)
            a.bind(site)
            trigger(&a)
            a.bind(after)
            a.loop(loop)
            a.pushfd()
            a.pop(Mem(disp: Self.records + Self.deliveries * Self.recordSize, size: .dword))
            a.jmp(done)
            a.bind(handlerLabel)
            handler(&a)
            a.bind(done)
        }, prepare: { a in
            m.setIDTGate(vector, target: handlerSegment, offset: a.address(of: handlerLabel)!, type: gateType, dpl: 3)
        })
        return (run, site, after)
    }

    @Test func repeatedIntAndIretAtRing0SeeTheSameFrame() throws {
        let m = TestMachine.protected()
        let (run, _, after) = try runLoop(m, trigger: { $0.int(Self.vector) },
                                          handler: { Self.recordAndReturn(&$0, dwords: 3) })
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.count == Self.deliveries)
        let expected: [UInt32] = [ProtectedModeGuest.kernelStackTop - 12, UInt32(Selector.code32), run[after], UInt32(Selector.code32)]
        for record in records(m, dwords: 3) {
            #expect(Array(record.prefix(4)) == expected)
            #expect(record[4] & ~EFlags.arithmetic == 0x2, "the frame's EFLAGS")
        }
        #expect(m.r32(.rsp) == ProtectedModeGuest.kernelStackTop, "every IRETD popped its frame")
    }

    /// IF is set once before the loop: an interrupt gate clears it in the handler and only the
    /// IRETD's popped EFLAGS can set it again; a trap gate leaves it set.
    @Test(arguments: [UInt8(0xE), 0xF])
    func iretdRestoresIFAndOnlyATrapGateKeepsIt(gateType: UInt8) throws {
        let m = TestMachine.protected()
        let (run, _, _) = try runLoop(m, gateType: gateType, prologue: { $0.sti() }, trigger: { $0.int(Self.vector) },
                                      handler: { a in
            a.pushfd()
            a.pop(.eax)
            a.mov(Mem(.edi, disp: 20, size: .dword), .eax)
            Self.recordAndReturn(&a, dwords: 3)
        })
        #expect(run.reason == .halted)
        for record in records(m, dwords: 4) {
            #expect(record[4] & EFlags.interrupt != 0, "the pushed EFLAGS has IF")
            #expect((record[5] & EFlags.interrupt != 0) == (gateType == 0xF), "IF in the handler")
        }
        #expect(m.bus.dword(at: Self.records + Self.deliveries * Self.recordSize) & EFlags.interrupt != 0,
                "IF set again after the last IRETD")
    }

    @Test func repeatedFaultsPushTheirErrorCode() throws {
        let m = TestMachine.protected()
        let bad: UInt16 = 0x1F0   // an empty GDT slot
        let (run, site, _) = try runLoop(m, vector: ExceptionVector.generalProtection.rawValue, trigger: { a in
            a.mov(.ax, Int(bad))
            a.mov(.ds, .ax)
        }, handler: { Self.recordAndReturn(&$0, dwords: 3, skip: 2, errorCode: true) })
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.errorCode) == Array(repeating: UInt32(bad), count: Self.deliveries))
        let faulting = run[site] + 4   // after the 4-byte MOV AX
        for record in records(m, dwords: 3) {
            #expect(record == [ProtectedModeGuest.kernelStackTop - 16, UInt32(Selector.code32), UInt32(bad), faulting,
                               UInt32(Selector.code32)])
        }
    }

    @Test func conformingHandlerFromRing3StaysAtRing3() throws {
        let m = TestMachine.protected()
        let conforming: UInt16 = 0x48
        m.setSegment(conforming, access: PM.codeAccess(dpl: 0, conforming: true))
        let (run, _, after) = try runLoop(m, ring3: true, handlerSegment: conforming, trigger: { $0.int(Self.vector) },
                                          handler: { Self.recordAndReturn(&$0, dwords: 2) })
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.prefix(Self.deliveries).map(\.vector) == Array(repeating: Self.vector, count: Self.deliveries))
        for record in records(m, dwords: 2) {
            #expect(record == [PM.userStack - 12, UInt32(conforming | 3), run[after], UInt32(Selector.userCode)])
        }
        #expect(m.accessByte(conforming) & 1 != 0, "the first delivery marked the handler's descriptor accessed")
    }

    @Test func framesAcrossAPageBoundaryAndWithPagingOn() throws {
        let m = TestMachine.protected()
        m.identityMap32()
        let stack = 0x6008   // each frame spans 0x5FFC…0x6007
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            let loop = a.newLabel(), done = a.newLabel()
            a.enablePaging()
            a.mov(.esp, stack)
            a.mov(.edi, Self.records)
            a.mov(.ecx, Self.deliveries)
            a.bind(loop)
            a.int(Self.vector)
            a.loop(loop)
            a.mov(.esp, 0x5800)   // then a frame inside one page
            a.int(Self.vector)
            a.int(Self.vector)
            a.jmp(done)
            a.bind(handler)
            Self.recordAndReturn(&a, dwords: 2)
            a.bind(done)
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.count == Self.deliveries + 2)
        let straddling = records(m, dwords: 2).map { $0[0] }
        #expect(straddling == Array(repeating: UInt32(stack - 12), count: Self.deliveries))
        #expect(m.bus.dword(at: Self.records + 3 * Self.recordSize) == 0x5800 - 12)
        #expect(m.bus.dword(at: Self.records + 4 * Self.recordSize) == 0x5800 - 12)
        #expect(m.pte(0x5FFC) & 0x40 != 0 && m.pte(0x6000) & 0x40 != 0, "both stack pages dirty")
    }

    @Test func iretdWithVMSetAtRing0StillEntersVirtual8086Mode() throws {
        let m = TestMachine.protected()
        m.setTSSStack(level: 0, ss: Selector.data32, esp: ProtectedModeGuest.kernelStackTop)
        var handler: Label!
        let run = try m.runPM({ a in
            handler = a.newLabel()
            let v86 = a.newLabel()
            for _ in 0..<2 {
                // A same-level IRETD first, so the frame's page and the code descriptor are mapped.
                a.int(Self.vector)
            }
            for value in [0, 0, 0, 0, 0x800, 0x700] { a.push(value) }   // GS FS DS ES SS ESP
            a.push(Int(EFlags.virtual8086 | 0x2))
            a.push(0)
            a.push(v86)
            a.iretd()
            a.bits(.b16)
            a.bind(v86)
            a.mov(.bx, .sp)
            a.hlt()   // IOPL 0: #GP to the ring-0 stub
            a.bits(.b32)
            a.bind(handler)
            a.iretd()
        }, prepare: { a in
            m.setIDTGate(Self.vector, target: Selector.code32, offset: a.address(of: handler)!, type: 0xE)
        })
        #expect(run.reason == .halted)
        #expect(m.r16(.rbx) == 0x700, "virtual-8086 mode ran with the frame's SP")
        #expect(m.handledVectors == [ExceptionVector.generalProtection.rawValue])
    }
}
