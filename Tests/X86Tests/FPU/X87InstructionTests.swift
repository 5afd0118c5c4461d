@testable import X86
import Testing
import X86Asm

/// x87 instructions executed by real-mode guests, checked by result bit patterns, status
/// bits and memory images. Expected values: exact arithmetic (Python `fractions`), mpmath
/// and the SDM.
@Suite struct X87InstructionTests {
    typealias G = X87Guest
    /// FCW with all exceptions masked, 64-bit precision, by rounding mode (RN, RD, RU, RZ).
    static let controlWords: [UInt16] = [0x037F, 0x077F, 0x0B7F, 0x0F7F]

    // MARK: State

    /// SDM Vol. 3A, Table 10-1 (power-up) against FNINIT (Vol. 2, FINIT).
    @Test func powerUpStateDiffersFromFninit() throws {
        let fresh = TestMachine()
        #expect(fresh.fpu.control == 0x0040)
        #expect(fresh.fpu.status == 0)
        #expect(fresh.fpu.tagWord == 0x5555)
        #expect(fresh.fpu.st(0) == .positiveZero)
        let m = try G.run { a in
            a.fninit()
            a.x87(.fnstcw, G.at(0))
            a.fnstswAX()
        }
        #expect(m.bus.word(at: G.data) == 0x037F)
        #expect(m.r16(.rax) == 0)
        #expect(m.fpu.tagWord == 0xFFFF)
    }

    // MARK: Constants, arithmetic, rounding and precision control

    /// SDM Vol. 1, 8.3.8: the constants' last bit follows RC.
    @Test(arguments: [
        (0xEB, [0xC235, 0xC234, 0xC235, 0xC234]),   // FLDPI  4000 C90FDAA22168C23x
        (0xE9, [0x8AFE, 0x8AFE, 0x8AFF, 0x8AFE]),                          // FLDL2T 4000 D49A784BCD1B8AFx
        (0xEA, [0xF0BC, 0xF0BB, 0xF0BC, 0xF0BB]),                          // FLDL2E 3FFF B8AA3B295C17F0Bx
        (0xEC, [0xF799, 0xF798, 0xF799, 0xF798]),                          // FLDLG2 3FFD 9A209A84FBCFF79x
        (0xED, [0x79AC, 0x79AB, 0x79AC, 0x79AB]),                          // FLDLN2 3FFE B17217F7D1CF79Ax
    ] as [(UInt8, [UInt64])])
    func constantsRoundByRoundingControl(opcode: UInt8, lowBits: [UInt64]) throws {
        let expected: [UInt8: Extended80] = [
            0xEB: Extended80(0x4000, 0xC90F_DAA2_2168_0000), 0xE9: Extended80(0x4000, 0xD49A_784B_CD1B_0000),
            0xEA: Extended80(0x3FFF, 0xB8AA_3B29_5C17_0000), 0xEC: Extended80(0x3FFD, 0x9A20_9A84_FBCF_0000),
            0xED: Extended80(0x3FFE, 0xB172_17F7_D1CF_0000),
        ]
        let m = try G.run { a in
            for (i, control) in Self.controlWords.enumerated() {
                G.loadControlWord(&a, control)
                a.x87(0xD9, opcode)
                a.x87(.fstp80, G.at(16 * i))
            }
        }
        for i in 0..<4 {
            var want = expected[opcode]!
            want.significand |= lowBits[i]
            #expect(m.extended(at: 16 * i) == want, "rounding mode \(i)")
        }
        #expect(m.fpu.statusFlags & FPUException.precision == 0, "constants raise no precision exception")
    }

    /// 1/3 by FIDIV under each precision control setting (SDM Vol. 1, 8.1.5.2).
    @Test func precisionControlRoundsTheSignificand() throws {
        let m = try G.run(data: G.bytes(UInt16(3))) { a in
            for (i, control) in [0x007F, 0x027F, 0x037F, 0x0B7F].enumerated() {
                G.loadControlWord(&a, UInt16(control))
                a.x87(0xD9, 0xE8)                           // fld1
                a.x87(.fidiv16, G.at(0))
                a.x87(.fstp80, G.at(16 + 16 * i))
            }
        }
        #expect(m.extended(at: 16) == Extended80(0x3FFD, 0xAAAA_AB00_0000_0000))
        #expect(m.extended(at: 32) == Extended80(0x3FFD, 0xAAAA_AAAA_AAAA_A800))
        #expect(m.extended(at: 48) == Extended80(0x3FFD, 0xAAAA_AAAA_AAAA_AAAB))
        #expect(m.extended(at: 64) == Extended80(0x3FFD, 0xAAAA_AAAA_AAAA_AAAB), "RU rounds 0xAAA…A up")
        #expect(m.fpu.statusFlags & FPUException.precision != 0)
    }

    @Test func squareRootOfTwoByRoundingMode() throws {
        let m = try G.run(data: G.bytes(UInt16(2))) { a in
            for (i, control) in [Self.controlWords[0], Self.controlWords[2]].enumerated() {
                G.loadControlWord(&a, control)
                a.x87(.fild16, G.at(0))
                a.x87(0xD9, 0xFA)                           // fsqrt
                a.x87(.fnstsw, G.at(48 + 2 * i))
                a.x87(.fstp80, G.at(16 + 16 * i))
            }
        }
        #expect(m.extended(at: 16) == Extended80(0x3FFF, 0xB504_F333_F9DE_6484))
        #expect(m.extended(at: 32) == Extended80(0x3FFF, 0xB504_F333_F9DE_6485))
        #expect(m.bus.word(at: G.data + 48) & 0x0220 == 0x0020, "PE; C1 clear: rounded down")
        #expect(m.bus.word(at: G.data + 50) & 0x0220 == 0x0220, "PE; C1 set: rounded up")
    }

    /// DC and DE register forms swap the mnemonics but keep the operation by ModR/M.reg.
    @Test func reversedRegisterFormsOperateOnTheRightOperands() throws {
        let m = try G.run(data: G.bytes(UInt16(8)) + G.bytes(UInt16(2))) { a in
            a.x87(.fild16, G.at(0))                         // 8
            a.x87(.fild16, G.at(2))                         // ST0 = 2, ST1 = 8
            a.x87(0xDC, 0xF9)                               // fdiv st1, st0: ST1 = 8 / 2
            a.x87(0xDE, 0xE9)                               // fsubp st1, st0: ST1 = 4 − 2, pop
            a.x87(.fistp16, G.at(4))
        }
        #expect(m.bus.word(at: G.data + 4) == 2)
        #expect(m.fpu.tagWord == 0xFFFF, "stack empty again")
    }

    // MARK: Stack faults

    @Test func maskedStackOverflowPushesIndefinite() throws {
        let m = try G.run { a in
            a.fninit()
            for _ in 0..<9 { a.x87(0xD9, 0xE8) }            // fld1 × 9
            a.fnstswAX()
        }
        #expect(m.r16(.rax) == 0x3A41, "TOP 7, C1, SF, IE")
        #expect(m.fpu.st(0) == .indefinite)
    }

    @Test func maskedStackUnderflowWritesIndefinite() throws {
        let m = try G.run { a in
            a.fninit()
            a.x87(0xD8, 0xC1)                               // fadd st0, st1 on an empty stack
            a.fnstswAX()
        }
        #expect(m.r16(.rax) == 0x0041, "SF, IE, C1 = 0")
        #expect(m.fpu.st(0) == .indefinite)
    }

    // MARK: Comparisons

    @Test func comparisonsSetConditionCodesAndEFlags() throws {
        let nan = G.bytes(UInt64(0x7FF8_0000_0000_0000))
        let m = try G.run(data: G.bytes(UInt16(2)) + [0, 0, 0, 0, 0, 0] + nan) { a in
            a.fninit()
            a.x87(0xD9, 0xE8)                               // fld1
            a.x87(.fild16, G.at(0))                         // ST0 = 2, ST1 = 1
            a.x87(0xD8, 0xD1)                               // fcom st1: greater
            a.x87(.fnstsw, G.at(16))
            a.x87(0xD9, 0xC9)                               // fxch
            a.x87(0xD8, 0xD1)                               // less
            a.x87(.fnstsw, G.at(18))
            a.x87(0xDB, 0xF1)                               // fcomi st0, st1: less → CF
            a.lahf()
            a.mov(G.at(20), .ah)
            a.x87(0xD9, 0xC0)                               // fld st0
            a.x87(0xDB, 0xE9)                               // fucomi: equal → ZF
            a.lahf()
            a.mov(G.at(21), .ah)
            a.x87(.fld64, G.at(8))                          // QNaN
            a.x87(0xDD, 0xE1)                               // fucom st1: unordered, no IE
            a.x87(.fnstsw, G.at(22))
            a.x87(0xD8, 0xD1)                               // fcom st1: unordered, IE
            a.x87(.fnstsw, G.at(24))
        }
        let codes: UInt16 = 0x4700
        #expect(m.bus.word(at: G.data + 16) & codes == 0)
        #expect(m.bus.word(at: G.data + 18) & codes == 0x0100)
        #expect(m.bus.byte(at: G.data + 20) & 0x45 == 0x01)
        #expect(m.bus.byte(at: G.data + 21) & 0x45 == 0x40)
        #expect(m.bus.word(at: G.data + 22) & (codes | 1) == 0x4500)
        #expect(m.bus.word(at: G.data + 24) & (codes | 1) == 0x4501)
    }

    @Test func fcmovMovesOnTheCondition() throws {
        let m = try G.run { a in
            a.fninit()
            a.x87(0xD9, 0xE8)                               // fld1
            a.x87(0xD9, 0xEE)                               // fldz: ST0 = 0, ST1 = 1
            a.clc()
            a.x87(0xDA, 0xC1)                               // fcmovb: CF clear, no move
            a.x87(.fst32, G.at(0))
            a.stc()
            a.x87(0xDA, 0xC1)                               // fcmovb: moves
            a.x87(.fst32, G.at(4))
        }
        #expect(m.bus.dword(at: G.data) == 0)
        #expect(m.bus.dword(at: G.data + 4) == 0x3F80_0000)
    }

    // MARK: Conversions

    /// FISTP of ±2.5 in each rounding mode.
    @Test func integerStoresRoundByRoundingControl() throws {
        let data = G.bytes(UInt64(0x4004_0000_0000_0000)) + G.bytes(UInt64(0xC004_0000_0000_0000))
        let m = try G.run(data: data) { a in
            for (i, control) in Self.controlWords.enumerated() {
                G.loadControlWord(&a, control)
                a.x87(.fld64, G.at(0))
                a.x87(.fistp16, G.at(16 + 4 * i))
                a.x87(.fld64, G.at(8))
                a.x87(.fistp16, G.at(18 + 4 * i))
            }
        }
        let results = (0..<4).map { (Int16(bitPattern: m.bus.word(at: G.data + 16 + 4 * $0)),
                                     Int16(bitPattern: m.bus.word(at: G.data + 18 + 4 * $0))) }
        #expect(results.map(\.0) == [2, 2, 3, 2])
        #expect(results.map(\.1) == [-2, -3, -2, -2])
    }

    @Test func integerStoreOutOfRangeIsIndefinite() throws {
        let m = try G.run(data: G.bytes(UInt32(70000))) { a in
            a.fninit()
            a.x87(.fild32, G.at(0))
            a.x87(.fistp16, G.at(8))
            a.fnstswAX()
        }
        #expect(m.bus.word(at: G.data + 8) == 0x8000)
        #expect(m.r16(.rax) & 0x3F == FPUException.invalid)
    }

    @Test func floatStoresRoundAndFlag() throws {
        let data = G.bytes(UInt16(3)) + [0, 0, 0, 0, 0, 0] + G.bytes(UInt64(0x7E37_E43C_8800_759C))   // 1e300
            + G.bytes(UInt64(0x37A1_6C26_2777_579C))                                                    // 1e-40
            + G.bytes(UInt32(0x7F80_0001))                                                              // SNaN
        let m = try G.run(data: data) { a in
            a.fninit()
            a.x87(0xD9, 0xE8)
            a.x87(.fidiv16, G.at(0))                        // 1/3
            a.x87(.fst32, G.at(32))
            a.x87(.fstp64, G.at(36))
            a.x87(.fld64, G.at(8))
            a.x87(.fstp32, G.at(44))                        // overflow → +∞
            a.x87(.fnstsw, G.at(48))
            a.fnclex()
            a.x87(.fld64, G.at(16))
            a.x87(.fstp32, G.at(52))                        // denormal single
            a.x87(.fnstsw, G.at(56))
            a.fnclex()
            a.x87(.fld32, G.at(24))                         // SNaN: IE, loaded quiet
            a.x87(.fnstsw, G.at(58))
            a.x87(.fstp32, G.at(60))
        }
        #expect(m.bus.dword(at: G.data + 32) == 0x3EAA_AAAB)
        #expect(m.qword(at: 36) == 0x3FD5_5555_5555_5555)
        #expect(m.bus.dword(at: G.data + 44) == 0x7F80_0000)
        #expect(m.bus.word(at: G.data + 48) & 0x3F == FPUException.overflow | FPUException.precision)
        #expect(m.bus.dword(at: G.data + 52) == 0x0001_16C2)
        #expect(m.bus.word(at: G.data + 56) & 0x3F == FPUException.underflow | FPUException.precision)
        #expect(m.bus.word(at: G.data + 58) & 0x3F == FPUException.invalid)
        #expect(m.bus.dword(at: G.data + 60) == 0x7FC0_0001)
    }

    @Test func packedBCDLoadsAndStores() throws {
        let bcd: [UInt8] = [0x78, 0x56, 0x34, 0x12, 0x90, 0x78, 0x56, 0x34, 0x12, 0x80]   // −123456789012345678
        let m = try G.run(data: bcd + [0, 0, 0, 0, 0, 0] + G.bytes(UInt64(0x4093_4A00_0000_0000))) { a in   // 1234.5
            a.fninit()
            a.x87(.fbld, G.at(0))
            a.x87(.fistp64, G.at(32))
            a.x87(.fld64, G.at(16))
            a.x87(.fbstp, G.at(48))                         // round to nearest even: 1234
            G.loadControlWord(&a, Self.controlWords[2])
            a.x87(.fld64, G.at(16))
            a.x87(0xD9, 0xE0)                               // fchs
            a.x87(.fbstp, G.at(64))                         // round up: −1234
        }
        #expect(Int64(bitPattern: m.qword(at: 32)) == -123_456_789_012_345_678)
        #expect(m.memory(48, count: 10) == [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0])
        #expect(m.memory(64, count: 10) == [0x34, 0x12, 0, 0, 0, 0, 0, 0, 0, 0x80])
    }

    // MARK: Other arithmetic

    @Test func fxtractFpremFxamAndFscale() throws {
        let m = try G.run(data: G.bytes(UInt16(10)) + G.bytes(UInt16(3))) { a in
            a.fninit()
            a.x87(.fild16, G.at(0))
            a.x87(0xD9, 0xF4)                               // fxtract: 1.25, 3
            a.x87(.fstp80, G.at(16))
            a.x87(.fstp80, G.at(32))
            a.x87(.fild16, G.at(2))
            a.x87(.fild16, G.at(0))                         // ST0 = 10, ST1 = 3
            a.x87(0xD9, 0xF8)                               // fprem: 1, quotient 3
            a.x87(.fnstsw, G.at(48))
            a.x87(0xD9, 0xFD)                               // fscale: 1 × 2^3
            a.x87(0xD9, 0xC0)                               // fld st0
            a.x87(.fstp80, G.at(64))
            a.x87(0xD9, 0xE5)                               // fxam: normal, positive
            a.x87(.fnstsw, G.at(50))
        }
        #expect(m.extended(at: 16) == Extended80(0x3FFF, 0xA000_0000_0000_0000))
        #expect(m.extended(at: 32) == Extended80(0x4000, 0xC000_0000_0000_0000))
        #expect(m.bus.word(at: G.data + 48) & 0x4700 == 0x4200, "C3 = Q1, C1 = Q0, C0 = Q2 = 0, C2 = 0")
        #expect(m.extended(at: 64) == Extended80(0x4002, 0x8000_0000_0000_0000))
        #expect(m.bus.word(at: G.data + 50) & 0x4700 == 0x0400)
    }

    // MARK: Transcendentals

    /// FSIN of FLDPI's value with the x87's 66-bit π is −2^−64 (not the true −5.0165e−20).
    @Test func sineOfPiMatchesTheHardware() throws {
        let m = try G.run { a in
            a.fninit()
            a.x87(0xD9, 0xEB)                               // fldpi
            a.x87(0xD9, 0xFE)                               // fsin
            a.x87(.fstp80, G.at(0))
        }
        #expect(m.extended(at: 0) == Extended80(0xBFBF, 0x8000_0000_0000_0000))
    }

    @Test func fsincosFptanAndOutOfRangeOperands() throws {
        let m = try G.run(data: G.bytes(UInt64(0x43E0_0000_0000_0000)) + G.bytes(UInt64(0x3FE0_0000_0000_0000))) { a in   // 2^63, 0.5
            a.fninit()
            a.x87(0xD9, 0xE8)                               // fld1
            a.x87(0xD9, 0xFB)                               // fsincos: ST0 = cos 1, ST1 = sin 1
            a.x87(.fstp80, G.at(16))
            a.x87(.fstp80, G.at(32))
            a.x87(.fld64, G.at(8))
            a.x87(0xD9, 0xF2)                               // fptan: ST0 = 1, ST1 = tan 0.5
            a.x87(.fstp80, G.at(48))
            a.x87(.fstp80, G.at(64))
            a.x87(.fld64, G.at(0))
            a.x87(0xD9, 0xFE)                               // fsin 2^63: C2, unchanged
            a.fnstswAX()
            a.x87(.fstp64, G.at(80))
        }
        #expect(m.extended(at: 16) == Extended80(0x3FFE, 0x8A51_407D_A834_5C92))
        #expect(m.extended(at: 32) == Extended80(0x3FFE, 0xD76A_A478_4867_7021))
        #expect(m.extended(at: 48) == Extended80(0x3FFF, 0x8000_0000_0000_0000))
        #expect(m.extended(at: 64) == Extended80(0x3FFE, 0x8BDA_7ADF_9A3A_5219))
        #expect(m.r16(.rax) & 0x0400 != 0)
        #expect(m.qword(at: 80) == 0x43E0_0000_0000_0000)
    }

    @Test func fpatanF2xm1AndFyl2x() throws {
        let m = try G.run(data: G.bytes(UInt64(0x3FE0_0000_0000_0000)) + G.bytes(UInt16(10))) { a in
            a.fninit()
            a.x87(0xD9, 0xE8)
            a.x87(0xD9, 0xE8)
            a.x87(0xD9, 0xF3)                               // fpatan(1, 1) = π/4
            a.x87(.fstp80, G.at(16))
            a.x87(.fld64, G.at(0))
            a.x87(0xD9, 0xF0)                               // f2xm1(0.5) = √2 − 1
            a.x87(.fstp80, G.at(32))
            a.x87(0xD9, 0xE8)
            a.x87(.fild16, G.at(8))
            a.x87(0xD9, 0xF1)                               // fyl2x: 1 × log2 10
            a.x87(.fstp80, G.at(48))
        }
        #expect(m.extended(at: 16) == Extended80(0x3FFE, 0xC90F_DAA2_2168_C235))
        #expect(m.extended(at: 32) == Extended80(0x3FFD, 0xD413_CCCF_E779_9211))
        #expect(m.extended(at: 48) == Extended80(0x4000, 0xD49A_784B_CD1B_8AFE))
    }

    // MARK: Last instruction pointers

    /// FIP points at the first prefix; FOP is the escape's low bits and the ModR/M byte.
    @Test func lastInstructionAndOperandPointers() throws {
        var faddOffset = 0
        let m = try G.run(data: G.bytes(UInt32(0x3F80_0000))) { a in
            a.fninit()
            a.x87(0xD9, 0xE8)
            faddOffset = Int(a.position)
            a.x87(.fadd32, Mem(disp: 0x3000, segment: .es))  // 26 D8 06 00 30
            a.x87(.fnstcw, G.at(16))                          // no-wait control: pointers stay
        }
        #expect(m.fpu.lastInstructionOffset == UInt32(faddOffset))
        #expect(m.fpu.lastOpcode == 0x0006)
        #expect(m.fpu.lastOperandOffset == 0x3000)
        #expect(m.fpu.lastCodeSelector == 0)
    }

    // MARK: Undefined encodings

    @Test(arguments: [[0xD9, 0xD1], [0xDD, 0xF0], [0xDF, 0xE1], [0xDB, 0x0E, 0x00, 0x30], [0xD9, 0xEF]] as [[UInt8]])
    func undefinedEncodingsAreInvalidOpcode(bytes: [UInt8]) throws {
        try runExpectingException(.invalidOpcode) { a, mark in
            a.bind(mark)
            a.db(bytes)
        }
    }
}

/// Stack management: FXCH, FFREE, FFREEP, FINCSTP, FDECSTP, FCHS, FABS, FXAM of an empty
/// register, and the undocumented aliases real processors execute.
@Suite struct X87StackManagementTests {
    typealias G = X87Guest

    @Test func stackManagementInstructions() throws {
        let m = try G.run(data: G.bytes(UInt16(2))) { a in
            a.x87(0xD9, 0xE8)                               // fld1        R7 = 1
            a.x87(.fild16, G.at(0))                         // fild 2      R6 = 2
            a.x87(0xD9, 0xC9)                               // fxch: ST0 = 1, ST1 = 2
            a.x87(0xD9, 0xE0)                               // fchs: −1
            a.x87(0xDD, 0xC9)                               // FXCH4 alias: ST0 = 2, ST1 = −1
            a.x87(0xD9, 0xE1)                               // fabs
            a.x87(0xD9, 0xF7)                               // fincstp: TOP 7, R6 stays occupied
            a.x87(0xD9, 0xE5)                               // fxam ST0 = −1: normal, C1 sign
            a.x87(.fnstsw, G.at(16))
            a.x87(0xD9, 0xF6)                               // fdecstp: TOP 6
            a.x87(0xDD, 0xC1)                               // ffree st1 (R7)
            a.x87(0xD9, 0xC9)                               // fxch with an empty ST1: masked underflow
            a.x87(.fnstsw, G.at(18))
            a.x87(0xDF, 0xC0)                               // ffreep st0: frees R6, pops: ST0 = R7 = 2
            a.x87(0xDD, 0xC0)                               // ffree st0
            a.x87(0xD9, 0xE5)                               // fxam of an empty register
            a.x87(.fnstsw, G.at(20))
            a.x87(0xD9, 0xD8)                               // FSTP1 alias on an empty stack
        }
        #expect(m.bus.word(at: G.data + 16) & 0x4700 == 0x0600, "normal (C2), negative (C1)")
        #expect(m.bus.word(at: G.data + 18) & 0x7F == FPUException.invalid | FPUException.stackFault)
        #expect(m.bus.word(at: G.data + 20) & 0x4500 == 0x4100, "empty: C3 and C0")
        #expect(m.fpu.registers[6] == .indefinite, "FXCH's masked underflow filled the empty operand, then exchanged")
        // FSTP1 ST(0) (D9 D8) on the empty stack: the masked underflow stores the indefinite
        // into ST(0) = R7, then pops it.
        #expect(m.fpu.registers[7] == .indefinite)
        #expect(m.fpu.occupied == 0 && m.fpu.top == 0)
    }
}
