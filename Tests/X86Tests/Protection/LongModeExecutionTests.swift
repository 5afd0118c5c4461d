import Testing
@testable import X86
import X86Asm

/// 64-bit code (SDM Vol. 2, 2.2 and Vol. 3A, 10.8.5): a far jump to a code segment with L = 1
/// once IA-32e mode is active enters 64-bit mode, where REX prefixes, 64-bit operands, the
/// 64-bit stack and RIP-relative operands run. EFER.LME is set directly (see LongModePagingTests).
/// The MSRs of SYSCALL are set directly too, where the test is about the instruction.
@Suite struct LongModeExecutionTests {
    static let code64: UInt16 = PM.Selector.free
    private typealias Paging = LongModePagingTests

    /// Enters 64-bit mode from the protected-mode prologue and runs `body` as 64-bit code.
    static func run64(prepare: (TestMachine, Assembler) -> Void = { _, _ in },
                       _ body: (inout Assembler) -> Void) throws -> (TestMachine, PMRun) {
        let m = TestMachine.protected()
        Paging.build(m)
        // A 64-bit code segment: L = 1, D = 0, present, DPL 0, execute/read.
        m.bus.load(ProtectedModeGuest.segment(base: 0, limit: 0xF_FFFF, access: 0x9A, flags: 0xA),
                   at: ProtectedModeGuest.gdtBase + Int(Self.code64))
        m.cpu.efer = ExtendedFeatureEnable.longModeEnable
        var entry: Label!
        let run = try m.runPM({ a in
            entry = a.newLabel()
            a.enablePaging(cr3: Paging.pml4, cr4: Paging.pae)
            a.jmpFar(segment: Self.code64, entry)
            a.bits(.b64)
            a.bind(entry)
            body(&a)
        }, prepare: { a in prepare(m, a) })
        return (m, run)
    }

    @Test func sixtyFourBitCodeRuns() throws {
        var data: Label!, subroutine: Label!
        let (m, run) = try Self.run64 { a in
            data = a.newLabel(); subroutine = a.newLabel()
            a.movabs(.rax, 0x1122_3344_5566_7788)
            a.mov(.r9, .rax)
            a.add(.r9, -0x10)                    // an imm8 sign-extended to 64 bits
            a.mov(.rsp, 0x9000)
            a.push(.r9)
            a.pop(.r10)
            a.call(subroutine)
            a.mov(Mem(rip: data), .r10)          // RIP-relative store and load
            a.mov(.r11, Mem(rip: data))
            a.mov(.ecx, Int(bitPattern: 0x8000_0001))
            a.movsxd(.r12, .ecx)
            a.mov(.r14d, -1)                     // a 32-bit write clears bits 63:32
            a.shl(.rax, 8)
            let done = a.newLabel()
            a.jmp(done)
            a.bind(subroutine)
            a.mov(.r13, Int(bitPattern: 0xFFFF_FFFF_8000_0000))
            a.ret()
            a.bind(data)
            a.dq(0)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.r9) == 0x1122_3344_5566_7778)
        #expect(m.cpu.register(.r10) == 0x1122_3344_5566_7778, "PUSH/POP move 64 bits")
        #expect(m.cpu.register(.r11) == 0x1122_3344_5566_7778)
        #expect(m.cpu.register(.r12) == 0xFFFF_FFFF_8000_0001, "MOVSXD")
        #expect(m.cpu.register(.r13) == 0xFFFF_FFFF_8000_0000, "MOV r64, imm32 sign-extends")
        #expect(m.cpu.register(.r14) == 0x0000_0000_FFFF_FFFF)
        #expect(m.cpu.register(.rax) == 0x2233_4455_6677_8800)
        #expect(m.cpu.register(.rsp) == 0x9000, "the call and return balanced on the 64-bit stack")
        #expect(m.bus.dword(at: Int(run.assembler.address(of: data)!)) == 0x5566_7778)
    }

    @Test func stringInstructionsAndByteRegistersUseREX() throws {
        let (m, run) = try Self.run64 { a in
            a.xor(.edx, .edx)
            a.mov(.rdi, 0x3000)
            a.mov(.rcx, 4)
            a.movabs(.rax, 0x0102_0304_0506_0708)
            a.stosq(.rep)
            a.mov(.sil, 0x5A)                    // SIL, not DH: a REX prefix makes 4–7 the low bytes
            a.mov(.r15b, .sil)
            a.movabs(.rbx, -1)
            a.db([0x48, 0xED])                   // IN EAX, DX with REX.W: still a 32-bit port read
            a.mov(.rbx, .rax)
        }
        m.expectClean(run)
        #expect(m.bus.dword(at: 0x3018) == 0x0506_0708 && m.bus.dword(at: 0x301C) == 0x0102_0304)
        #expect(m.cpu.register(.rdi) == 0x3020 && m.cpu.register(.rcx) == 0)
        #expect(m.cpu.register(.r15) & 0xFF == 0x5A)
        #expect(m.cpu.register(.rdx) & 0xFF00 == 0, "DH untouched")
        #expect(m.cpu.register(.rbx) == 0xFFFF_FFFF, "REX.W does not widen port I/O; the 32-bit result clears bits 63:32")
    }

    /// The 64-bit IDT (SDM Vol. 3A, 6.14): INT n, a fault without an error code (#UD) and one with
    /// (#GP from a non-canonical address) reach 64-bit handlers, which return with IRETQ. The
    /// handlers check the frame: the #GP handler takes the error code and a 16-byte aligned stack.
    @Test func eventsGoThroughThe64BitIDTAndIRETQReturns() throws {
        var idt: Label!, idtPointer: Label!, onInt: Label!, onUD: Label!, onGP: Label!
        let (m, run) = try Self.run64 { a in
            idt = a.newLabel(); idtPointer = a.newLabel()
            onInt = a.newLabel(); onUD = a.newLabel(); onGP = a.newLabel()
            a.mov(.rsp, 0x9008)                      // not 16-byte aligned: delivery aligns it
            a.lidt(Mem(rip: idtPointer))
            a.int(0x40)
            a.ud2()
            a.movabs(.rax, Int(bitPattern: 0x8000_0000_0000_0000))
            a.mov(.rbx, Mem(.rax, size: .qword))     // 3 bytes: 48 8B 18
            a.mov(.r13, 0x13)
            let done = a.newLabel()
            a.jmp(done)
            a.bind(onInt)
            a.mov(.r15, 0x4040)
            a.mov(.r8, .rsp)                         // the frame's bottom, to check its alignment
            a.iretq()
            a.bind(onUD)
            a.add(Mem(.rsp, size: .qword), 2)        // skip UD2
            a.iretq()
            a.bind(onGP)
            a.pop(.r14)                              // the error code
            a.add(Mem(.rsp, size: .qword), 3)        // skip the faulting MOV
            a.iretq()
            a.align(16)
            a.bind(idt)
            for vector in 0...0x40 {
                switch vector {
                case 6: a.gateDescriptor64(handler: onUD, selector: Self.code64)
                case 13: a.gateDescriptor64(handler: onGP, selector: Self.code64)
                case 0x40: a.gateDescriptor64(handler: onInt, selector: Self.code64, type: 0xF)
                default: a.dq(0); a.dq(0)
                }
            }
            a.bind(idtPointer)
            a.dw(0x41 * 16 - 1)
            a.dq(idt)
            a.bind(done)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.map(\.vector) == [0x40, 6, 13])
        #expect(m.cpu.register(.r15) == 0x4040)
        #expect(m.cpu.register(.r8) == 0x9000 - 40, "five 8-byte slots below the 16-byte aligned RSP")
        #expect(m.cpu.register(.r14) == 0, "#GP(0) for a non-canonical address")
        #expect(m.cpu.register(.r13) == 0x13, "execution went on after each return")
        #expect(m.cpu.register(.rsp) == 0x9008, "IRETQ restored RSP")
    }

    /// SYSRETQ to CPL 3, SYSCALL back through IA32_LSTAR with RCX and R11 holding the return
    /// address and RFLAGS and IA32_FMASK's bits cleared, then SWAPGS and a GS-relative load.
    @Test func syscallSysretAndSwapGS() throws {
        var user: Label!, kernel: Label!, afterSyscall: Label!
        let (m, run) = try Self.run64(prepare: { m, a in
            m.cpu.efer |= ExtendedFeatureEnable.systemCallEnable
            m.cpu.msrs.star = 0x50 << 48 | UInt64(Self.code64) << 32
            m.cpu.msrs.longModeSystemCallTarget = UInt64(a.address(of: kernel)!)
            m.cpu.msrs.systemCallFlagMask = UInt64(EFlags.direction)
            m.cpu.msrs.kernelGSBase = 0x5000
            m.bus.setDword(0xBEEF, at: 0x5010)
        }) { a in
            user = a.newLabel(); kernel = a.newLabel(); afterSyscall = a.newLabel()
            a.movabs(.rcx, 0)
            a.lea(.rcx, Mem(rip: user))
            a.mov(.r11, 0x402)                       // DF set, IF clear
            a.sysretq()
            a.bind(user)
            a.mov(.eax, 0x55)
            a.syscall()
            a.bind(afterSyscall)
            a.hlt()
            a.bind(kernel)
            a.mov(.r12, .rcx)
            a.mov(.r13, .r11)
            a.pushfq()
            a.pop(.r14)
            a.swapgs()
            a.mov(.r15, Mem(disp: 0x10, size: .qword, segment: .gs))
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
        #expect(m.cpu.register(.r12) == UInt64(run.assembler.address(of: afterSyscall)!), "RCX: the return address")
        #expect(m.cpu.register(.r13) & 0x400 != 0, "R11: RFLAGS at SYSCALL, DF set")
        #expect(m.cpu.register(.r14) & 0x400 == 0, "IA32_FMASK cleared DF")
        #expect(m.cpu.register(.rax) == 0x55, "user code ran at CPL 3 between")
        #expect(m.cpu.segment(.cs).selector == Self.code64 && m.cpu.segment(.ss).selector == Self.code64 + 8)
        #expect(m.cpu.register(.r15) & 0xFFFF_FFFF == 0xBEEF, "GS now has the kernel's base")
        #expect(m.cpu.msrs.kernelGSBase == 0)
    }

    /// SYSCALL with IA32_FMASK all ones: RFLAGS ← RFLAGS AND NOT(FMASK) clears every flag it
    /// can, status flags included (even while they are kept lazily), but bit 1 stays set: it is
    /// reserved and always 1 (SDM Vol. 2, SYSCALL; Vol. 1, 3.4.3). Found by the long-mode system
    /// robustness sweep.
    @Test func syscallWithEveryFlagMaskedKeepsReservedBitOne() throws {
        var kernel: Label!
        let (m, run) = try Self.run64(prepare: { m, a in
            m.cpu.efer |= ExtendedFeatureEnable.systemCallEnable
            m.cpu.msrs.star = UInt64(Self.code64) << 32
            m.cpu.msrs.longModeSystemCallTarget = UInt64(a.address(of: kernel)!)
            m.cpu.msrs.systemCallFlagMask = 0xFFFF_FFFF
        }) { a in
            kernel = a.newLabel()
            a.mov(.eax, -1)
            a.add(.eax, 2)                           // CF set, kept lazily
            a.syscall()
            a.bind(kernel)
            a.pushfq()
            a.pop(.r14)
        }
        #expect(run.reason == .halted)
        #expect(m.events.deliveries.isEmpty, "\(m.events.deliveries)")
        #expect(m.cpu.register(.r11) & 1 == 1, "R11: RFLAGS at SYSCALL, CF set")
        #expect(m.cpu.register(.r14) == 0x2, "every flag cleared but reserved bit 1")
    }

    /// REX.B does not extend MMX or x87 register operands: 41 0F 71 D0 04 shifts MM0, and
    /// 41 D9 E8 (FLD1 with rm = 8) loads 1.0. Found by the long-mode robustness sweep (an
    /// MMX register index of 8 trapped the emulator).
    @Test func rexBIsIgnoredForMMXAndX87RegisterOperands() throws {
        let (m, run) = try Self.run64 { a in
            a.movabs(.rax, 0x0010_0020_0040_0080)
            a.db([0x48, 0x0F, 0x6E, 0xC0])               // movq mm0, rax
            a.db([0x41, 0x0F, 0x71, 0xD0, 0x04])         // psrlw mm0 (REX.B), 4
            a.db([0x0F, 0x7E, 0xC3])                     // movd ebx, mm0
            a.db([0x0F, 0x77])                           // emms
            a.db([0x41, 0xD9, 0xE8])                     // fld1 (REX.B)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rbx) == 0x0004_0008, "MM0's low dword, each word shifted right by 4")
        #expect(m.cpu.fpu.st(0) == Extended80.one)
    }

    /// MMX MOVD with REX.W is MOVQ (SDM Vol. 2, MOVD/MOVQ): REX.W 0F 6E loads all 64 bits of a
    /// general register or qword into MMn, REX.W 0F 7E stores all 64 bits; without REX.W they
    /// stay 32-bit (the register destination zero-extended).
    @Test func mmxMovqWithREXWMovesSixtyFourBits() throws {
        let (m, run) = try Self.run64(prepare: { m, _ in m.setQword(0xCAFE_F00D_1234_5678, at: 0x3008) }) { a in
            a.movabs(.rax, 0x1122_3344_5566_7788)
            a.movabs(.rcx, -1)
            a.mov(.rdi, 0x3000)
            a.db([0x48, 0x0F, 0x6E, 0xC0])               // movq mm0, rax
            a.db([0x48, 0x0F, 0x7E, 0xC3])               // movq rbx, mm0
            a.db([0x49, 0x0F, 0x7E, 0xC7])               // movq r15, mm0 (REX.B names R15)
            a.db([0x0F, 0x7E, 0xC1])                     // movd ecx, mm0
            a.db([0x48, 0x0F, 0x7E, 0x07])               // movq [rdi], mm0
            a.db([0x48, 0x0F, 0x6E, 0x4F, 0x08])         // movq mm1, [rdi + 8]
            a.db([0x48, 0x0F, 0x7E, 0xCA])               // movq rdx, mm1
            a.db([0x0F, 0x77])                           // emms
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rbx) == 0x1122_3344_5566_7788)
        #expect(m.cpu.register(.r15) == 0x1122_3344_5566_7788)
        #expect(m.cpu.register(.rcx) == 0x5566_7788, "MOVD: 32 bits, zero-extended")
        #expect(m.physicalQword(at: 0x3000) == 0x1122_3344_5566_7788)
        #expect(m.cpu.register(.rdx) == 0xCAFE_F00D_1234_5678)
    }

    /// Far transfers in 64-bit mode with 8-byte offsets: RETFQ, JMP m16:64 and CALL m16:64.
    @Test func farTransfersWithSixtyFourBitOffsets() throws {
        var afterReturn: Label!, jumpTarget: Label!, callee: Label!, jumpPointer: Label!, callPointer: Label!
        let (m, run) = try Self.run64 { a in
            afterReturn = a.newLabel(); jumpTarget = a.newLabel(); callee = a.newLabel()
            jumpPointer = a.newLabel(); callPointer = a.newLabel()
            a.mov(.rsp, 0x9000)
            a.push(Int(Self.code64))
            a.lea(.rax, Mem(rip: afterReturn))
            a.push(.rax)
            a.retf(size: .qword)
            a.hlt()                              // not reached
            a.bind(afterReturn)
            a.mov(.r8, 1)
            a.jmpFar(Mem(rip: jumpPointer, size: .qword))
            a.hlt()                              // not reached
            a.bind(jumpTarget)
            a.mov(.r9, 2)
            a.callFar(Mem(rip: callPointer, size: .qword))
            a.mov(.r11, .rsp)
            let done = a.newLabel()
            a.jmp(done)
            a.bind(callee)
            a.mov(.r10, Mem(.rsp, disp: 8, size: .qword))   // the pushed CS
            a.retf(size: .qword)
            a.bind(jumpPointer)
            a.dq(jumpTarget)
            a.dw(Self.code64)
            a.bind(callPointer)
            a.dq(callee)
            a.dw(Self.code64)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.r8) == 1 && m.cpu.register(.r9) == 2)
        #expect(m.cpu.register(.r10) == UInt64(Self.code64), "CALL far pushed CS in an 8-byte slot")
        #expect(m.cpu.register(.r11) == 0x9000, "the stack balanced")
        #expect(m.cpu.segment(.cs).selector == Self.code64)
    }

    /// Descriptor tables above 4 GiB: a GDT at 4 GiB + 500h (a 1 GiB page onto physical 0, so it
    /// is the same table) serves a far jump, and LTR reads a 16-byte TSS descriptor whose base
    /// has bits 63:32 set.
    @Test func descriptorTablesAboveFourGiB() throws {
        let tss: UInt16 = 0x50
        var pointer: Label!, target: Label!, farPointer: Label!
        let (m, run) = try Self.run64(prepare: { m, _ in
            m.setQword(0x87, at: Paging.pdpt + 4 * 8)   // linear 4–5 GiB → physical 0–1 GiB
            // A 64-bit TSS descriptor: base 0x1_0000_3000, limit 0x67, type 9, present.
            let low: UInt64 = 0x67 | UInt64(0x3000) << 16 | 0x89 << 40
            m.setQword(low, at: ProtectedModeGuest.gdtBase + Int(tss))
            m.setQword(0x1, at: ProtectedModeGuest.gdtBase + Int(tss) + 8)
        }) { a in
            pointer = a.newLabel(); target = a.newLabel(); farPointer = a.newLabel()
            a.lgdt(Mem(rip: pointer))
            a.jmpFar(Mem(rip: farPointer, size: .qword))
            a.bind(target)
            a.mov(.eax, Int(tss))
            a.ltr(.ax)
            let done = a.newLabel()
            a.jmp(done)
            a.bind(pointer)
            a.dw(UInt16(PM.gdtLimit))
            a.dq(0x1_0000_0000 + UInt64(ProtectedModeGuest.gdtBase))
            a.bind(farPointer)
            a.dq(target)
            a.dw(Self.code64)
            a.bind(done)
        }
        m.expectClean(run)
        #expect(m.cpu.gdtr.base == 0x1_0000_0000 + UInt64(ProtectedModeGuest.gdtBase))
        #expect(m.cpu.taskRegister.base == 0x1_0000_3000, "the 16-byte descriptor's upper base")
    }

    /// CMPXCHG16B: equal → RCX:RBX stored and ZF set; unequal → RDX:RAX loaded and ZF clear.
    @Test func compareAndExchangeSixteenBytes() throws {
        let (m, run) = try Self.run64(prepare: { m, _ in
            m.setQword(0x1111, at: 0x4000)
            m.setQword(0x2222, at: 0x4008)
        }) { a in
            a.mov(.rax, 0x1111); a.mov(.rdx, 0x2222)
            a.mov(.rbx, 0x3333); a.mov(.rcx, 0x4444)
            a.mov(.rsi, 0x4000)
            a.cmpxchg16b(Mem(.rsi))
            a.setcc(.z, .r8b)
            a.cmpxchg16b(Mem(.rsi))                  // now unequal: loads RDX:RAX
            a.setcc(.z, .r9b)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.r8) & 0xFF == 1 && m.cpu.register(.r9) & 0xFF == 0)
        #expect(m.physicalQword(at: 0x4000) == 0x3333 && m.physicalQword(at: 0x4008) == 0x4444)
        #expect(m.cpu.register(.rax) == 0x3333 && m.cpu.register(.rdx) == 0x4444)
    }

    /// RDTSCP in 64-bit mode: 32-bit results, so bits 63:32 of RAX, RDX and RCX are cleared.
    @Test func rdtscpClearsTheUpperHalves() throws {
        let (m, run) = try Self.run64(prepare: { m, _ in m.cpu.msrs.timeStampCounterAux = 0x8000_0003 }) { a in
            a.movabs(.rax, -1); a.movabs(.rdx, -1); a.movabs(.rcx, -1)
            a.rdtscp()
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rcx) == 0x8000_0003)
        #expect(m.cpu.register(.rdx) == 0 && m.cpu.register(.rax) >> 32 == 0)
        #expect(m.cpu.register(.rax) > 0, "the counter ran")
    }

    /// MOV to and from CR8 (64-bit mode, REX.R): the task priority in bits 3:0; reserved bits #GP.
    @Test func controlRegister8HoldsTheTaskPriority() throws {
        let (m, run) = try Self.run64 { a in
            a.mov(.rax, 9)
            a.mov(.cr8, .rax)
            a.mov(.rbx, .cr8)
            a.mov(.rax, 0x10)
            a.mov(.cr8, .rax)                        // bit 4 is reserved
        }
        // The test's IDT is a legacy one, so the #GP ends in shutdown; the first event tells.
        #expect(run.reason == .shutdown && m.events.deliveries.first?.vector == 13)
        #expect(m.cpu.register(.rbx) == 9 && m.cpu.cr8 == 9)
    }

    /// Linear addresses are 64 bits wide in 64-bit mode: the second half of a 16-byte SSE store
    /// and the rest of an FXSAVE image above 4 GiB land beside their first bytes, not at the same
    /// offset below 4 GiB (which a 32-bit wrap would reach). FXSAVE keeps XMM8–15 there, and
    /// REX.W widens MOVQ and MOVNTI to 64 bits. Linear 4 GiB is a 1 GiB page onto
    /// physical 0; linear 7000h is remapped onto physical 8000h, so a wrapped access shows there.
    @Test func sseAndFXSAVEOperandsAboveFourGiB() throws {
        var fld1: Label!
        let (m, run) = try Self.run64(prepare: { m, _ in Self.mapAboveFourGiB(m) }) { a in
            a.mov(.rax, .cr4)
            a.or(.rax, 1 << 9)                                  // OSFXSR
            a.mov(.cr4, .rax)
            a.movabs(.rax, 0x1122_3344_5566_7788)
            a.movq(XMM(0), .rax)
            a.movabs(.rax, Int(bitPattern: 0x99AA_BBCC_DDEE_FF00))
            a.movq(XMM(1), .rax)
            a.paddq(XMM(0), XMM(1))
            a.movabs(.rbx, 0x1_0000_A000)
            a.movdqu(Mem(.rbx, disp: 0x10), XMM(1))             // the TLB misses: the slow path
            a.movdqu(Mem(.rbx, disp: 0x20), XMM(0))             // the TLB maps the page now
            a.movdqu(XMM(2), Mem(.rbx, disp: 0x10))
            a.fxsave(Mem(.rbx, disp: 0x200))
            // REX.W makes MOVNTI store 64 bits.
            a.mov(.rax, -3)
            a.db([0x48, 0x0F, 0xC3, 0x43, 0x30])          // movnti [rbx+0x30], rax
            // FXSAVE in 64-bit mode saves XMM8–15; FXSAVE64 stores FIP as a 64-bit offset.
            a.movq(XMM(9), .rax)
            a.fninit()
            fld1 = a.newLabel()
            a.bind(fld1)
            a.db([0xD9, 0xE8])                            // fld1
            a.fxsave(Mem(.rbx, disp: 0x400))
            a.db([0x48, 0x0F, 0xAE, 0x83, 0x00, 0x06, 0x00, 0x00])   // fxsave64 [rbx+0x600]
        }
        m.expectClean(run)
        #expect(m.physicalQword(at: 0xA010) == 0x99AA_BBCC_DDEE_FF00)
        #expect(m.physicalQword(at: 0xA018) == 0, "MOVQ xmm, r64 clears the upper quadword")
        #expect(m.physicalQword(at: 0xA020) == 0xAACC_EF11_3355_7688, "PADDQ")
        #expect(m.cpu.xmmRegister(2) == UInt128(0x99AA_BBCC_DDEE_FF00))
        #expect(m.bus.dword(at: 0xA200 + 24) == MXCSR.initial, "FXSAVE's MXCSR at offset 24")
        #expect(m.physicalQword(at: 0xA200 + 160 + 16) == 0x99AA_BBCC_DDEE_FF00, "XMM1 in the image")
        #expect(m.physicalQword(at: 0xA030) == UInt64(bitPattern: -3), "MOVNTI m64")
        let fip = UInt64(run.assembler.address(of: fld1)!)
        #expect(m.physicalQword(at: 0xA400 + 160 + 16 * 9) == UInt64(bitPattern: -3), "XMM9 in the 64-bit image")
        #expect(m.bus.dword(at: 0xA400 + 8) == UInt32(fip) && m.bus.dword(at: 0xA400 + 12) == UInt32(Self.code64),
                "FXSAVE: FIP, then FCS")
        #expect(m.physicalQword(at: 0xA600 + 8) == fip, "FXSAVE64: a 64-bit FIP, no FCS")
        Self.expectNothingWrapped(m)
    }

    /// Linear 4 GiB as a 1 GiB page onto physical 0, and linear A000h remapped onto physical
    /// B000h, both pages cleared: an access above 4 GiB that wrongly wraps to 32 bits shows at
    /// B000h instead of A000h.
    static func mapAboveFourGiB(_ m: TestMachine) {
        m.setQword(0x87, at: Paging.pdpt + 8 * 4)
        m.setQword(0xB000 | 7, at: Paging.table + 8 * 0xA)
        for offset in stride(from: 0, to: 0x2000, by: 8) { m.setQword(0, at: 0xA000 + offset) }
    }

    static func expectNothingWrapped(_ m: TestMachine, sourceLocation: SourceLocation = #_sourceLocation) {
        let wrapped = stride(from: 0, to: 0x1000, by: 8).filter { m.physicalQword(at: 0xB000 + $0) != 0 }
        #expect(wrapped == [], "written below 4 GiB", sourceLocation: sourceLocation)
    }

    /// The I/O permission bitmap of a 64-bit TSS based above 4 GiB is read there: its bit for
    /// port 80h denies IN at CPL 3 with IOPL 0 (#GP(0)), where the same offsets below 4 GiB
    /// (zeros) would allow it.
    @Test func ioBitmapOfATaskStateSegmentAboveFourGiB() throws {
        let tss: UInt16 = 0x50
        var user: Label!
        let (m, run) = try Self.run64(prepare: { m, a in
            Self.mapAboveFourGiB(m)
            let low: UInt64 = 0x88 | UInt64(0xA000) << 16 | 0x89 << 40      // limit 88h, type 9, present
            m.setQword(low, at: ProtectedModeGuest.gdtBase + Int(tss))
            m.setQword(0x1, at: ProtectedModeGuest.gdtBase + Int(tss) + 8)   // base bits 63:32
            m.bus.setDword(0x68 << 16, at: 0xA000 + 0x64)                    // I/O map base 68h
            for offset in 0x68...0x88 { m.bus.ram[0xA000 + offset] = 0xFF }  // every port denied
            m.cpu.efer |= ExtendedFeatureEnable.systemCallEnable
            m.cpu.msrs.star = 0x50 << 48 | UInt64(Self.code64) << 32
        }) { a in
            user = a.newLabel()
            a.mov(.eax, Int(tss))
            a.ltr(.ax)
            a.lea(.rcx, Mem(rip: user))
            a.mov(.r11, 0x002)                       // IOPL 0
            a.sysretq()
            a.bind(user)
            a.in(.al, 0x80)
        }
        // The test's IDT is a legacy one, so the #GP ends in shutdown; the first event tells.
        let first = try #require(m.events.deliveries.first)
        #expect(run.reason == .shutdown && first.vector == 13 && first.errorCode == 0, "\(m.events.deliveries)")
        #expect(first.cs == 0x63 && first.ip == UInt64(run.assembler.address(of: user)!), "IN at CPL 3 faulted")
        #expect(m.cpu.taskRegister.base == 0x1_0000_A000)
    }

    /// Debug registers in 64-bit mode hold 64-bit linear addresses: a data breakpoint above
    /// 4 GiB traps on a write there (not at the same offset below 4 GiB); MOV to and from DR0–3
    /// moves 64 bits, and a 1 in bits 63:32 of DR7 is #GP(0).
    @Test func debugRegistersHoldSixtyFourBitAddresses() throws {
        var trapped: Label!
        let (m, run) = try Self.run64(prepare: { m, _ in Self.mapAboveFourGiB(m) }) { a in
            trapped = a.newLabel()
            a.mov(.edx, 0xA010)
            a.xor(.ecx, .ecx)
            a.mov(Mem(.rdx), .rcx)                        // the low page in the TLB, writable
            a.movabs(.rbx, 0x1_0000_A010)
            a.mov(.dr0, .rbx)
            a.mov(.rsi, .dr0)
            a.mov(.eax, 0x000D_0001)                      // DR0: L0, write, 8 bytes
            a.mov(.dr7, .rax)
            a.mov(Mem(.rdx), .rcx)                        // below 4 GiB: no hit
            a.mov(Mem(.rbx), .rcx)                        // the watched qword: #DB after it
            a.bind(trapped)
        }
        #expect(m.cpu.register(.rsi) == 0x1_0000_A010, "MOV from DR0 gives 64 bits")
        let first = try #require(m.events.deliveries.first, "\(run.reason)")
        #expect(first.vector == 1 && m.cpu.debugRegister(6) & 1 != 0, "\(m.events.deliveries)")
        #expect(first.ip == UInt64(run.assembler.address(of: trapped)!), "the trap follows the store above 4 GiB")
    }

    @Test func aOneInTheUpperHalfOfDR7IsAGeneralProtectionFault() throws {
        let (m, run) = try Self.run64 { a in
            a.movabs(.rax, 0x1_0000_0000)
            a.mov(.dr7, .rax)
        }
        #expect(m.events.deliveries.first?.vector == 13, "\(run.reason) \(m.events.deliveries)")
        #expect(m.cpu.debugRegister(7) == 0x400)
    }

    /// REP STOSQ and REP MOVSQ above 4 GiB (the kernel's memset and memcpy in a 64-bit OS):
    /// RDI and RSI are 64-bit offsets, not cut to 32 bits, on the fast path as on the slow one.
    @Test func repeatedStringsAboveFourGiB() throws {
        let (m, run) = try Self.run64(prepare: { m, _ in Self.mapAboveFourGiB(m) }) { a in
            a.cld()
            a.mov(.edx, 0xA000)
            a.xor(.ecx, .ecx)
            a.mov(Mem(.rdx), .rcx)                        // the low page in the TLB too, writable
            a.movabs(.rdi, 0x1_0000_A100)
            a.movabs(.rax, 0x0123_4567_89AB_CDEF)
            a.mov(.ecx, 16)
            a.stosq(.rep)                                 // the TLB misses first: slow, then fast
            a.movabs(.rsi, 0x1_0000_A100)
            a.movabs(.rdi, 0x1_0000_A300)
            a.mov(.ecx, 16)
            a.movsq(.rep)
        }
        m.expectClean(run)
        for i in 0..<16 {
            #expect(m.physicalQword(at: 0xA100 + 8 * i) == 0x0123_4567_89AB_CDEF)
            #expect(m.physicalQword(at: 0xA300 + 8 * i) == 0x0123_4567_89AB_CDEF)
        }
        #expect(m.cpu.register(.rdi) == 0x1_0000_A380 && m.cpu.register(.rsi) == 0x1_0000_A180)
        Self.expectNothingWrapped(m)
    }

    // MARK: Found by the 64-bit differential oracle (Tools/differential)

    /// CDQE and CQO are CWDE and CDQ with REX.W (SDM Vol. 2A, CBW/CWDE/CDQE, CWD/CDQ/CQO).
    @Test func cdqeAndCqoSignExtendToSixtyFourBits() throws {
        let (m, run) = try Self.run64 { a in
            a.movabs(.rax, 0x1234_5678_8000_0000)
            a.movabs(.rdx, 0x1111_2222_3333_4444)
            a.db([0x48, 0x98])                   // cdqe
            a.mov(.rbx, .rax)
            a.db([0x48, 0x99])                   // cqo
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rbx) == 0xFFFF_FFFF_8000_0000, "CDQE")
        #expect(m.cpu.register(.rdx) == ~0, "CQO")
    }

    /// 90h with REX.B is XCHG rAX, R8, not NOP (SDM Vol. 2B, XCHG and NOP).
    @Test func ninetyWithRexBExchangesWithR8() throws {
        let (m, run) = try Self.run64 { a in
            a.mov(.eax, 1)
            a.mov(.r8d, 2)
            a.db([0x49, 0x90])                   // xchg rax, r8
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rax) == 2 && m.cpu.register(.r8) == 1)
    }

    /// A 32-bit destination register is zero-extended even when the instruction leaves its low
    /// half as it was: a false CMOVcc (SDM Vol. 2A, CMOVcc) and a masked shift count of 0.
    @Test func unchangedThirtyTwoBitDestinationsAreZeroExtended() throws {
        let (m, run) = try Self.run64 { a in
            a.movabs(.rax, 0x2AAA_AAAA_0000_0001)
            a.mov(.rbx, .rax)
            a.mov(.rsi, .rax)
            a.mov(.rdi, .rax)
            a.xor(.ecx, .ecx)                    // ZF = 1, CL = 0
            a.db([0x0F, 0x45, 0xC1])             // cmovne eax, ecx (false)
            a.db([0xC1, 0xE3, 0x20])             // shl ebx, 32 (count masked to 0)
            a.db([0x0F, 0xA4, 0xCE, 0x00])       // shld esi, ecx, 0
            a.db([0x0F, 0xAD, 0xCF])             // shrd edi, ecx, cl (CL = 0)
        }
        m.expectClean(run)
        #expect(m.cpu.register(.rax) == 1, "false CMOVNE")
        #expect(m.cpu.register(.rbx) == 1, "SHL by an immediate 32")
        #expect(m.cpu.register(.rsi) == 1, "SHLD by 0")
        #expect(m.cpu.register(.rdi) == 1, "SHRD by CL = 0")
    }

    /// With REX.W, MOVD becomes MOVQ r/m64 and the scalar conversions take or give 64-bit
    /// integers (SDM Vol. 2B, MOVD/MOVQ; Vol. 2A, CVTSI2SD, CVTTSD2SI), indefinite 2^63.
    @Test func rexWGivesSSEGeneralRegisterFormsSixtyFourBits() throws {
        let (m, run) = try Self.run64 { a in
            a.mov(.rax, .cr4)
            a.or(.rax, 1 << 9)                   // OSFXSR
            a.mov(.cr4, .rax)
            a.movabs(.rax, 0x1234_5678_9ABC_DEF0)
            a.db([0x66, 0x48, 0x0F, 0x6E, 0xC0]) // movq xmm0, rax
            a.db([0x66, 0x48, 0x0F, 0x7E, 0xC3]) // movq rbx, xmm0
            a.movabs(.rcx, 0x10_0000_0001)
            a.db([0xF2, 0x48, 0x0F, 0x2A, 0xC9]) // cvtsi2sd xmm1, rcx
            a.db([0xF2, 0x48, 0x0F, 0x2C, 0xD1]) // cvttsd2si rdx, xmm1
            a.movabs(.rsi, 0x43E0_0000_0000_0000) // 2^63: out of range
            a.db([0x66, 0x48, 0x0F, 0x6E, 0xD6]) // movq xmm2, rsi
            a.db([0xF2, 0x48, 0x0F, 0x2D, 0xFA]) // cvtsd2si rdi, xmm2
        }
        m.expectClean(run)
        #expect(m.cpu.xmmRegister(0) == 0x1234_5678_9ABC_DEF0)
        #expect(m.cpu.register(.rbx) == 0x1234_5678_9ABC_DEF0)
        #expect(m.cpu.xmmRegister(1) & UInt128(UInt64.max) == UInt128(Double(0x10_0000_0001).bitPattern))
        #expect(m.cpu.register(.rdx) == 0x10_0000_0001)
        #expect(m.cpu.register(.rdi) == 0x8000_0000_0000_0000)
    }
}
