/// The x87 unit's registers (SDM Vol. 1, 8.1) and the MMX view of them (Vol. 1, 9.2).
///
/// `init()` is the state after power-up or RESET (SDM Vol. 3A, Table 10-1): FCW 0040H (every
/// exception unmasked, 24-bit precision), FSW 0000H, tag word 5555H (every register in use,
/// holding +0.0), pointers zero. INIT leaves the whole x87 state alone; FNINIT gives FCW 037FH
/// and an empty stack instead.
struct FPUState {
    /// Physical registers R0–R7; ST(i) is R((TOP + i) mod 8), MMi is Ri.
    var registers = InlineArray<8, Extended80>(repeating: .positiveZero)
    /// FCW.
    var control: UInt16 = 0x0040
    /// FSW bits C0–C3, SF and the six exception flags; TOP lives in `top`, and ES and B
    /// are derived (`status`).
    var statusFlags: UInt16 = 0
    /// FSW.TOP.
    var top: UInt8 = 0
    /// Bit i set: Ri is not empty (FXSAVE's abridged tag word). The full two-bit tags are
    /// computed from the contents whenever they are stored.
    var occupied: UInt8 = 0xFF

    // MARK: Last instruction and operand (SDM Vol. 1, 8.1.8 and 8.1.9)
    var lastInstructionOffset: UInt64 = 0
    var lastCodeSelector: UInt16 = 0
    /// The low 11 bits of the last non-control instruction's opcode (FOP).
    var lastOpcode: UInt16 = 0
    var lastOperandOffset: UInt64 = 0
    var lastOperandSelector: UInt16 = 0

    // MARK: Pins of PC-style error reporting (CR0.NE = 0; SDM Vol. 1, Appendix D)
    /// FERR# is asserted.
    var errorSignal = false
    /// The IGNNE# input as the board drives it.
    var ignoreNumericError = false

    /// FSW bits.
    enum Status {
        static let c0: UInt16 = 1 << 8
        static let c1: UInt16 = 1 << 9
        static let c2: UInt16 = 1 << 10
        static let c3: UInt16 = 1 << 14
        static let conditionCodes: UInt16 = c0 | c1 | c2 | c3
        static let errorSummary: UInt16 = 1 << 7
        static let busy: UInt16 = 1 << 15
        static let topShift: UInt16 = 11
        /// The bits `statusFlags` keeps.
        static let stored: UInt16 = conditionCodes | FPUException.all | FPUException.stackFault
    }

    /// FCW fields.
    enum Control {
        /// Bits that exist; the others read as their FNINIT values (bit 6 set, 13–15 clear).
        static let implemented: UInt16 = 0x1F3F
        static let alwaysSet: UInt16 = 0x0040
        static let initial: UInt16 = 0x037F
    }

    // MARK: Status and control words

    /// An unmasked exception is flagged: FSW.ES (and B, which mirrors it).
    var errorPending: Bool { statusFlags & ~control & FPUException.all != 0 }

    /// FSW as FNSTSW stores it.
    var status: UInt16 {
        get {
            let summary = errorPending ? Status.errorSummary | Status.busy : 0
            return statusFlags | UInt16(top) << Status.topShift | summary
        }
        set {
            statusFlags = newValue & Status.stored
            top = UInt8(newValue >> Status.topShift & 7)
        }
    }

    /// Loads FCW (FLDCW, FLDENV, FRSTOR, FXRSTOR); reserved bits read back fixed.
    mutating func loadControl(_ value: UInt16) {
        control = value & Control.implemented | Control.alwaysSet
    }

    var roundingMode: RoundingMode { RoundingMode(rawValue: UInt8(control >> 10 & 3))! }

    /// The environment of an arithmetic operation; `precisionControl` only for the
    /// instructions that obey the PC field (SDM Vol. 1, 8.1.5.2).
    func environment(precisionControl: Bool) -> FloatEnvironment {
        let format: FloatFormat = switch precisionControl ? control >> 8 & 3 : 3 {
        case 0: .extendedSingle
        case 2: .extendedDouble
        default: .extended
        }
        return FloatEnvironment(mode: roundingMode, format: format, masks: control & FPUException.all)
    }

    mutating func setConditionCodes(c0: Bool? = nil, c1: Bool? = nil, c2: Bool? = nil, c3: Bool? = nil) {
        func set(_ bit: UInt16, _ value: Bool?) {
            guard let value else { return }
            statusFlags = value ? statusFlags | bit : statusFlags & ~bit
        }
        set(Status.c0, c0)
        set(Status.c1, c1)
        set(Status.c2, c2)
        set(Status.c3, c3)
    }

    // MARK: The register stack

    @inline(__always) func physical(_ i: Int) -> Int { (Int(top) + i) & 7 }

    func isEmpty(_ i: Int) -> Bool { occupied & 1 << physical(i) == 0 }

    /// ST(i).
    func st(_ i: Int) -> Extended80 { registers[physical(i)] }

    /// Writes ST(i) and marks it occupied.
    mutating func setST(_ i: Int, _ value: Extended80) {
        let r = physical(i)
        registers[r] = value
        occupied |= 1 << r
    }

    /// Marks ST(i) empty (FFREE).
    mutating func free(_ i: Int) { occupied &= ~(1 << physical(i)) }

    /// Decrements TOP and writes the new ST(0).
    mutating func push(_ value: Extended80) {
        top = (top &- 1) & 7
        setST(0, value)
    }

    /// Marks ST(0) empty and increments TOP.
    mutating func pop() {
        free(0)
        top = (top &+ 1) & 7
    }

    /// The two-bit tag of physical register r (SDM Vol. 1, Figure 8-7).
    func tag(physical r: Int) -> UInt16 {
        occupied & 1 << r == 0 ? 3 : registers[r].tag
    }

    /// The full tag word as FNSTENV, FNSAVE store it.
    var tagWord: UInt16 {
        (0..<8).reduce(0) { word, r in word | tag(physical: r) << UInt16(2 * r) }
    }

    /// Loads a full tag word: only "empty" (11) counts; the rest is recomputed from contents.
    mutating func loadTagWord(_ word: UInt16) {
        occupied = (0..<8).reduce(0) { bits, r in word >> UInt16(2 * r) & 3 == 3 ? bits : bits | 1 << r }
    }

    /// FNINIT (SDM Vol. 2, FINIT): FCW 037FH, FSW and pointers zero, all registers empty;
    /// the register contents stay.
    mutating func initialize() {
        control = Control.initial
        statusFlags = 0
        top = 0
        occupied = 0
        lastInstructionOffset = 0
        lastCodeSelector = 0
        lastOpcode = 0
        lastOperandOffset = 0
        lastOperandSelector = 0
    }

    // MARK: MMX (SDM Vol. 1, 9.5 "Compatibility with x87 FPU architecture")

    /// MMi as 64 bits.
    func mmx(_ i: Int) -> UInt64 { registers[i].significand }

    /// Writes MMi: the significand takes the value and bits 79–64 become all ones.
    mutating func setMMX(_ i: Int, _ value: UInt64) {
        registers[i] = Extended80(significand: value, signExponent: 0xFFFF)
    }

    /// What every MMX instruction but EMMS does to the x87 state: TOP = 0, all tags valid.
    mutating func enterMMXState() {
        top = 0
        occupied = 0xFF
    }
}
