"""Instruction templates of the differential oracle: user-level integer instructions, for
32-bit protected mode and 64-bit mode (the SSE/SSE2 templates are in `sse_templates.py`).

A template looks at the machine's current state and returns the instructions it proposes --
usually one, sometimes preceded by set-up instructions that make it well-defined (a pointer in
ESI, a small count in ECX, a dividend whose quotient fits). Each `Instr` says which flags it
reads and, as a function of the state it runs in, which flags it leaves architecturally
defined or undefined (Intel SDM Vol. 2, each instruction's "Flags Affected"). An effect of
`None` means the instruction's result would be undefined in that state: it is not generated.
"""
from dataclasses import dataclass
from typing import Callable, Optional

from x86enc import Mem, Reg, SEGMENT_PREFIXES, signed, ESP, EBP, RIP, Encoded
from machine import WINDOW_ADDRESS, WINDOW_SIZE

CF, PF, AF, ZF, SF, OF = 0x1, 0x4, 0x10, 0x40, 0x80, 0x800
ALL6 = CF | PF | AF | ZF | SF | OF


@dataclass(frozen=True)
class Effect:
    """What an instruction does to the status flags: flags it sets to defined values, flags it
    leaves undefined; and a register whose value it leaves undefined (the stream then ends)."""
    defined: int = 0
    undefined: int = 0
    undefined_register: Optional[tuple] = None    # (register number, mask of undefined bits)


NOTHING = Effect()


def fixed(defined=0, undefined=0):
    effect = Effect(defined, undefined)
    return lambda state: effect


class Unencodable(Exception):
    """The proposal has no encoding in the current state (a memory operand the window cannot
    be reached by, say): the generator drops it."""


@dataclass
class Instr:
    code: bytes
    text: str
    reads_flags: int = 0
    effect: Callable = fixed()
    rip_fixup: Optional[tuple] = None    # see `x86enc.Encoded`

    def placed(self, address):
        """The instruction as it runs at `address` (a RIP-relative displacement filled in)."""
        if self.rip_fixup is None:
            return self
        return Instr(Encoded(self.code, self.rip_fixup).placed(address), self.text, self.reads_flags, self.effect)


ARITHMETIC = fixed(ALL6)
LOGICAL = fixed(ALL6 & ~AF, AF)            # OF = CF = 0, AF undefined
MULTIPLY = fixed(CF | OF, SF | ZF | AF | PF)
DIVIDE = fixed(0, ALL6)
BIT_TEST = fixed(CF, OF | SF | AF | PF)     # ZF unaffected

CONDITIONS = ["o", "no", "b", "ae", "e", "ne", "be", "a", "s", "ns", "p", "np", "l", "ge", "le", "g"]
CONDITION_FLAGS = [OF, OF, CF, CF, ZF, ZF, CF | ZF, CF | ZF, SF, SF, PF, PF, SF | OF, SF | OF,
                   ZF | SF | OF, ZF | SF | OF]

INTERESTING = [0, 1, 2, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF,
               0x80000000, 0x80000001, 0xFFFFFFFE, 0xFFFFFFFF]
INTERESTING_64 = INTERESTING + [0x100000000, 0xFFFFFFFF00000000, 0x7FFFFFFFFFFFFFFF, 0x8000000000000000,
                                0x8000000000000001, 0xFFFFFFFFFFFFFFFE, 0xFFFFFFFFFFFFFFFF]


class Gen:
    """Random operands for one proposal, chosen with the current machine state in view."""

    def __init__(self, rng, state, encoder):
        self.rng = rng
        self.state = state
        self.enc = encoder
        self.mode = encoder.mode
        self.mask = (1 << self.mode) - 1

    def size(self):
        return self.rng.choice([8, 16, 32, 32] if self.mode == 32 else [8, 16, 32, 64, 64])

    def wide_size(self):
        return self.rng.choice([16, 32, 32] if self.mode == 32 else [16, 32, 64, 64])

    def reg(self, number, size):
        """The register `number` of `size` bits, named as in this mode."""
        return Reg(number, size, self.mode)

    def register(self, size, write=True, exclude=()):
        """A register; one that is written is never the stack pointer (nor SPL in 64-bit
        mode), which keeps the stack in the window."""
        count = 16 if self.mode == 64 else 8
        choices = [n for n in range(count) if n not in exclude
                   and not (write and n == ESP and (size != 8 or self.mode == 64))]
        return self.reg(self.rng.choice(choices), size)

    def immediate(self, bits):
        if self.rng.random() < 0.3:
            return self.rng.choice(INTERESTING_64 if bits == 64 else INTERESTING) & ((1 << bits) - 1)
        return self.rng.getrandbits(bits)

    def segment(self):
        """A segment override now and then: in 32-bit mode all are flat and CS is not writable,
        so never CS; in 64-bit mode ES, CS, SS and DS are ignored and FS and GS have base 0."""
        if self.rng.random() >= 0.12:
            return None
        return self.rng.choice(["es", "ss", "ds", "fs", "gs"] + (["cs"] if self.mode == 64 else []))

    def memory(self, size, extra=0, esp_extra=0, align=1, rip_relative=True):
        """A memory operand of `size` bits that lands inside the data window in the current
        state, at a multiple of `align`. `extra` is added to the address the instruction
        computes (a bit offset's displacement); `esp_extra` too when the base is ESP/RSP (POP
        computes it after the pop). In 64-bit mode it is RIP-relative now and then, unless
        `rip_relative` is False."""
        rng, count = self.rng, max(size // 8, 1)
        end = WINDOW_ADDRESS + WINDOW_SIZE
        if self.mode == 64:
            if rip_relative and rng.random() < 0.15 and extra == 0:
                return Mem(size, RIP, None, 1, self.address(count, align), 4, self.segment(), 64)
            base = rng.choice([None] + list(range(16)) + [3, 5, 6, 7, 13])
            index = rng.choice([n for n in range(16) if n != ESP]) if rng.random() < 0.4 else None
        else:
            base = rng.choice([None, 0, 1, 2, 3, 4, 5, 6, 7, 3, 5, 6, 7])
            index = rng.choice([0, 1, 2, 3, 5, 6, 7]) if rng.random() < 0.4 else None
        scale = rng.choice([1, 2, 4, 8]) if index is not None else 1
        partial = extra + (esp_extra if base == ESP else 0)
        if base is not None:
            partial += self.state.registers[base]
        if index is not None:
            partial += self.state.registers[index] * scale
        partial &= self.mask
        if base is not None and rng.random() < 0.6:
            short = 0 if base & 7 != EBP and rng.random() < 0.3 else rng.randint(-128, 127)
            target = (partial + short) & self.mask
            if WINDOW_ADDRESS <= target and target + count <= end and target % align == 0:
                width = 0 if short == 0 and base & 7 != EBP else 1
                return Mem(size, base, index, scale, short, width, self.segment(), self.mode)
        target = self.address(count, align)
        disp = signed(target - partial, self.mode)
        if not -(1 << 31) <= disp < 1 << 31:
            if extra:
                raise Unencodable("no displacement reaches the window")
            base = index = None                     # [disp32] alone
            disp, scale = target, 1
        width = 1 if base is not None and -128 <= disp <= 127 else 4
        return Mem(size, base, index, scale, disp, width, self.segment(), self.mode)

    def address(self, count, align=1):
        """A window address for `count` bytes at a multiple of `align`; now and then one that
        straddles a page boundary (when the alignment allows)."""
        if count > 1 and self.rng.random() < 0.15:
            page = self.rng.randrange(WINDOW_ADDRESS + 0x1000, WINDOW_ADDRESS + WINDOW_SIZE, 0x1000)
            before = -(-self.rng.randint(1, count - 1) // align) * align    # rounded up to `align`
            if before < count:
                return page - before
        return self.rng.randrange(WINDOW_ADDRESS, WINDOW_ADDRESS + WINDOW_SIZE - count + 1, align)

    def rm(self, size, write=True, rip_relative=True):
        return self.register(size, write) if self.rng.random() < 0.5 else self.memory(size, rip_relative=rip_relative)

    def lock(self, destination):
        """LOCK now and then on a lockable instruction with a memory destination."""
        return b"\xF0" if isinstance(destination, Mem) and self.rng.random() < 0.1 else b""

    def instr(self, text, opcode, size, reg_field=None, rm=None, immediate=None, immediate_bytes=0,
              prefixes=b"", reads_flags=0, effect=fixed(), opcode_register=None, shuffle=True):
        shuffle = self.rng.shuffle if shuffle and self.rng.random() < 0.3 else None
        encoded = self.enc.instruction(opcode, size=size, reg_field=reg_field, rm=rm, immediate=immediate,
                                       immediate_bytes=immediate_bytes, prefixes=prefixes, shuffle=shuffle,
                                       opcode_register=opcode_register)
        if prefixes[:1] == b"\xF0":
            text = "lock " + text
        return Instr(encoded.code, text, reads_flags, effect, encoded.rip_fixup)

    def mov_immediate(self, number, value, size=32):
        """MOV r, imm: the set-up instruction that gives a register a chosen value (a 32-bit
        one zero-extends into the whole register in 64-bit mode)."""
        register = self.reg(number, size)
        return self.instr(f"mov {register.text}, {value:#x}", [0xB0 if size == 8 else 0xB8], size,
                          immediate=value, immediate_bytes=size // 8, opcode_register=number)

    def define_flags(self):
        """CMP r32, imm32: defines all six status flags without changing a register."""
        register = self.register(32, write=False)
        value = self.immediate(32)
        return self.instr(f"cmp {register.text}, {value:#x}", [0x81], 32, 7, register, value, 4,
                          effect=ARITHMETIC)


def immediate_width(size):
    """Bytes of an immediate operand of `size` bits (64-bit operations take a sign-extended
    32-bit immediate)."""
    return 1 if size == 8 else min(size, 32) // 8


def immediate_bits(size):
    """Bits of the immediate of an operation of `size` bits."""
    return min(size, 32)


def sign_extended(value, bits, size):
    """An immediate of `bits` bits as the operation of `size` bits sees it."""
    return signed(value, bits) & ((1 << size) - 1)


def pick_size_opcode(opcode, size):
    """Byte forms are the even opcode, word and dword forms the odd one after it."""
    return opcode if size == 8 else opcode + 1


# ---------------------------------------------------------------------------------------------
# Arithmetic and logic

ALU_OPERATIONS = [("add", 0, ARITHMETIC, 0), ("or", 1, LOGICAL, 0), ("adc", 2, ARITHMETIC, CF),
                  ("sbb", 3, ARITHMETIC, CF), ("and", 4, LOGICAL, 0), ("sub", 5, ARITHMETIC, 0),
                  ("xor", 6, LOGICAL, 0), ("cmp", 7, ARITHMETIC, 0)]


def alu(g):
    name, n, effect, reads = g.rng.choice(ALU_OPERATIONS)
    writes = name != "cmp"
    size = g.size()
    form = g.rng.choice(["rm,r", "r,rm", "acc,imm", "rm,imm",
                         "rm8,imm82" if size == 8 and g.mode == 32 else "rm,imm8s"])
    common = dict(reads_flags=reads, effect=effect)
    if form == "rm,r":
        dst, src = g.rm(size, writes), g.register(size, write=False)
        return [g.instr(f"{name} {dst.text}, {src.text}", [pick_size_opcode(n * 8, size)], size, src.number, dst,
                        prefixes=g.lock(dst) if writes else b"", **common)]
    if form == "r,rm":
        dst, src = g.register(size, writes), g.rm(size, write=False)
        return [g.instr(f"{name} {dst.text}, {src.text}", [pick_size_opcode(n * 8 + 2, size)], size, dst.number,
                        src, **common)]
    if form == "acc,imm":
        value = g.immediate(immediate_bits(size))
        return [g.instr(f"{name} {g.reg(0, size).text}, {sign_extended(value, immediate_bits(size), size):#x}",
                        [pick_size_opcode(n * 8 + 4, size)], size,
                        immediate=value, immediate_bytes=immediate_width(size), **common)]
    dst = g.rm(size, writes)
    lock = g.lock(dst) if writes else b""
    if form == "rm,imm":
        value = g.immediate(immediate_bits(size))
        return [g.instr(f"{name} {dst.text}, {sign_extended(value, immediate_bits(size), size):#x}",
                        [pick_size_opcode(0x80, size)], size, n, dst,
                        value, immediate_width(size), lock, **common)]
    value = g.immediate(8)
    if form == "rm8,imm82":      # 82h: an alias of 80h, valid outside 64-bit mode
        return [g.instr(f"{name} {dst.text}, {value:#x} (82h)", [0x82], 8, n, dst, value, 1, lock, **common)]
    return [g.instr(f"{name} {dst.text}, {signed(value, 8)} (83h)", [0x83], size, n, dst, value, 1, lock,
                    **common)]


def test(g):
    size = g.size()
    form = g.rng.choice(["rm,r", "acc,imm", "rm,imm"])
    if form == "rm,r":
        dst, src = g.rm(size, write=False), g.register(size, write=False)
        return [g.instr(f"test {dst.text}, {src.text}", [pick_size_opcode(0x84, size)], size, src.number, dst,
                        effect=LOGICAL)]
    value = g.immediate(immediate_bits(size))
    if form == "acc,imm":
        return [g.instr(f"test {g.reg(0, size).text}, {value:#x}", [pick_size_opcode(0xA8, size)], size,
                        immediate=value, immediate_bytes=immediate_width(size), effect=LOGICAL)]
    dst = g.rm(size, write=False)
    return [g.instr(f"test {dst.text}, {value:#x}", [pick_size_opcode(0xF6, size)], size, 0, dst, value,
                    immediate_width(size), effect=LOGICAL)]


def increment(g):
    name, n = g.rng.choice([("inc", 0), ("dec", 1)])
    effect = fixed(ALL6 & ~CF)                  # CF unaffected
    size = g.size()
    if size != 8 and g.mode == 32 and g.rng.random() < 0.3:     # 40h+r / 48h+r: REX in 64-bit mode
        register = g.register(size)
        return [g.instr(f"{name} {register.text}", [0x40 + n * 8], size, effect=effect,
                        opcode_register=register.number)]
    dst = g.rm(size)
    return [g.instr(f"{name} {dst.text}", [pick_size_opcode(0xFE, size)], size, n, dst, prefixes=g.lock(dst),
                    effect=effect)]


# unicorn computes SF and PF of LOCK NEG from the operand instead of the result
# (KNOWN-UNICORN-DIFFERENCES.md): after it those two are not compared.
UNICORN_LOCKED_NEGATE = fixed(ALL6 & ~(SF | PF), SF | PF)


def negate(g):
    name, n, effect = g.rng.choice([("not", 2, fixed()), ("neg", 3, ARITHMETIC)])
    size = g.size()
    dst = g.rm(size)
    lock = g.lock(dst)
    if name == "neg" and lock:
        effect = UNICORN_LOCKED_NEGATE
    return [g.instr(f"{name} {dst.text}", [pick_size_opcode(0xF6, size)], size, n, dst, prefixes=lock,
                    effect=effect)]


# ---------------------------------------------------------------------------------------------
# Shifts and rotates

SHIFTS = [("rol", 0), ("ror", 1), ("rcl", 2), ("rcr", 3), ("shl", 4), ("shr", 5), ("sar", 7)]


def count_mask(size):
    """Shift and rotate counts are masked to 6 bits for 64-bit operands, else to 5 (SDM Vol.
    2B, SAL/SAR/SHL/SHR: "The count is masked to 5 bits (or 6 bits with a 64-bit operand)")."""
    return 0x3F if size == 64 else 0x1F


def shift_effect(name, size, count_of):
    """SDM Vol. 2B, SAL/SAR/SHL/SHR and RCL/RCR/ROL/ROR: the count is masked to 5 bits (6 for
    64-bit operands); a masked count of 0 affects no flag. Rotates: CF defined, OF only for a count of 1, the others
    unaffected. Shifts: SF, ZF, PF by the result; OF only for a count of 1; AF undefined; CF
    undefined for SHL and SHR when the count is at least the operand's width."""
    def effect(state):
        count = count_of(state) & count_mask(size)
        if count == 0:
            return NOTHING
        if name in ("rol", "ror", "rcl", "rcr"):
            return Effect(CF | (OF if count == 1 else 0), 0 if count == 1 else OF)
        undefined = AF | (0 if count == 1 else OF)
        if name in ("shl", "shr") and count >= size:
            undefined |= CF
        return Effect(ALL6 & ~undefined, undefined)
    return effect


def shift(g):
    name, n = g.rng.choice(SHIFTS)
    size = g.size()
    dst = g.rm(size)
    reads = CF if name in ("rcl", "rcr") else 0
    form = g.rng.choice(["1", "cl", "imm"])
    if form == "1":
        return [g.instr(f"{name} {dst.text}, 1", [pick_size_opcode(0xD0, size)], size, n, dst, reads_flags=reads,
                        effect=shift_effect(name, size, lambda state: 1))]
    if form == "cl":
        return [g.instr(f"{name} {dst.text}, cl", [pick_size_opcode(0xD2, size)], size, n, dst, reads_flags=reads,
                        effect=shift_effect(name, size, lambda state: state.register(1, 8)))]
    count = g.rng.randint(0, size + 1 if size > 32 else 33) if g.rng.random() < 0.8 else g.rng.getrandbits(8)
    return [g.instr(f"{name} {dst.text}, {count}", [pick_size_opcode(0xC0, size)], size, n, dst, count, 1,
                    reads_flags=reads, effect=shift_effect(name, size, lambda state: count))]


def double_shift_effect(size, count_of):
    """SHLD/SHRD (SDM Vol. 2B): count masked to 5 bits (6 for 64-bit operands); 0 affects
    nothing; a count larger than
    the operand size leaves result and flags undefined (not generated); otherwise CF, SF, ZF,
    PF defined, OF only for a count of 1, AF undefined."""
    def effect(state):
        count = count_of(state) & count_mask(size)
        if count == 0:
            return NOTHING
        if count > size:
            return None
        undefined = AF | (0 if count == 1 else OF)
        return Effect(ALL6 & ~undefined, undefined)
    return effect


def double_shift(g):
    name, opcode = g.rng.choice([("shld", 0xA4), ("shrd", 0xAC)])
    size = g.wide_size()
    by_cl = g.rng.random() < 0.5
    # unicorn addresses a RIP-relative operand of the imm8 forms one byte low
    # (KNOWN-UNICORN-DIFFERENCES.md): those forms take no RIP-relative operand.
    dst, src = g.rm(size, rip_relative=by_cl), g.register(size, write=False)
    if by_cl:
        return [g.instr(f"{name} {dst.text}, {src.text}, cl", [0x0F, opcode + 1], size, src.number, dst,
                        effect=double_shift_effect(size, lambda state: state.register(1, 8)))]
    count = g.rng.randint(0, 65 if size == 64 else 33)
    return [g.instr(f"{name} {dst.text}, {src.text}, {count}", [0x0F, opcode], size, src.number, dst, count, 1,
                    effect=double_shift_effect(size, lambda state: count))]


# ---------------------------------------------------------------------------------------------
# Multiply and divide

def multiply(g):
    form = g.rng.choice(["mul", "imul1", "imul2", "imul3"])
    if form in ("mul", "imul1"):
        size = g.size()
        src = g.rm(size, write=False)
        name, n = ("mul", 4) if form == "mul" else ("imul", 5)
        return [g.instr(f"{name} {src.text}", [pick_size_opcode(0xF6, size)], size, n, src, effect=MULTIPLY)]
    size = g.wide_size()
    dst, src = g.register(size), g.rm(size, write=False)
    if form == "imul2":
        return [g.instr(f"imul {dst.text}, {src.text}", [0x0F, 0xAF], size, dst.number, src, effect=MULTIPLY)]
    if g.rng.random() < 0.5:
        value = g.immediate(8)
        return [g.instr(f"imul {dst.text}, {src.text}, {signed(value, 8)}", [0x6B], size, dst.number, src, value, 1,
                        effect=MULTIPLY)]
    value = g.immediate(immediate_bits(size))
    return [g.instr(f"imul {dst.text}, {src.text}, {sign_extended(value, immediate_bits(size), size):#x}", [0x69],
                    size, dst.number, src, value, immediate_width(size),
                    effect=MULTIPLY)]


def divide(g):
    """DIV/IDIV, with a set-up instruction most of the time so the quotient fits: a high half
    below the divisor for DIV, the sign-extended low half for IDIV. A proposal that still
    raises #DE is dropped by the generator."""
    name, n = g.rng.choice([("div", 6), ("idiv", 7)])
    size = g.size()
    src = g.rm(size, write=False)
    main = g.instr(f"{name} {src.text}", [pick_size_opcode(0xF6, size)], size, n, src, effect=DIVIDE)
    if g.rng.random() < 0.2:
        return [main]
    if name == "idiv":
        setup = {8: ("cbw", b"\x66\x98", 16), 16: ("cwd", b"\x66\x99", 16), 32: ("cdq", b"\x99", 32),
                 64: ("cqo", b"\x48\x99", 64)}[size]
        return [Instr(setup[1], setup[0]), main]
    divisor = g.state.value(src)
    high = g.rng.randrange(max(divisor, 1))
    if size == 8:
        return [g.mov_immediate(0, g.state.register(0, 8) | high << 8, 16), main]  # AH, by AX
    return [g.mov_immediate(2, high, size), main]                                  # DX, EDX or RDX


# ---------------------------------------------------------------------------------------------
# Bit scan and bit test

def bit_scan(g):
    """BSF/BSR: ZF defined, the others undefined; a zero source leaves the destination undefined
    (SDM Vol. 2A), so the stream ends there with that register excluded."""
    name, opcode = g.rng.choice([("bsf", 0xBC), ("bsr", 0xBD)])
    size = g.wide_size()
    dst, src = g.register(size), g.rm(size, write=False)

    # In 64-bit mode whether a 32-bit destination left undefined is zero-extended is itself
    # undefined (Intel leaves the register unchanged, QEMU clears the upper half): all 64 bits.
    undefined_bits = (1 << (64 if size == 32 and g.mode == 64 else size)) - 1

    def effect(state):
        if state.value(src) == 0:
            return Effect(ZF, ALL6 & ~ZF, (dst.number, undefined_bits))
        return Effect(ZF, ALL6 & ~ZF)
    return [g.instr(f"{name} {dst.text}, {src.text}", [0x0F, opcode], size, dst.number, src, effect=effect)]


BIT_TESTS = [("bt", 4, 0xA3), ("bts", 5, 0xAB), ("btr", 6, 0xB3), ("btc", 7, 0xBB)]


def bit_test(g):
    name, n, opcode = g.rng.choice(BIT_TESTS)
    writes = name != "bt"
    size = g.wide_size()
    if g.rng.random() < 0.5:
        dst = g.rm(size, writes)
        value = g.immediate(8)
        return [g.instr(f"{name} {dst.text}, {value}", [0x0F, 0xBA], size, n, dst, value, 1,
                        prefixes=g.lock(dst) if writes else b"", effect=BIT_TEST)]
    offset = g.register(size, write=False)
    if g.rng.random() < 0.5:
        dst = g.register(size, writes)
    else:
        # A register bit offset is signed and selects the operand-sized unit it falls in
        # (SDM Vol. 2A, BT: "Effective Address + (4 * (BitOffset DIV 32))").
        bit_offset = signed(g.state.register(offset.number, size), size)
        dst = g.memory(size, extra=(bit_offset >> {16: 4, 32: 5, 64: 6}[size]) * (size // 8))
    return [g.instr(f"{name} {dst.text}, {offset.text}", [0x0F, opcode], size, offset.number, dst,
                    prefixes=g.lock(dst) if writes else b"", effect=BIT_TEST)]


# ---------------------------------------------------------------------------------------------
# Data movement

def move(g):
    size = g.size()
    form = g.rng.choice(["rm,r", "r,rm", "rm,imm", "r,imm", "moffs"])
    if form == "rm,r":
        dst, src = g.rm(size), g.register(size, write=False)
        return [g.instr(f"mov {dst.text}, {src.text}", [pick_size_opcode(0x88, size)], size, src.number, dst)]
    if form == "r,rm":
        dst, src = g.register(size), g.rm(size, write=False)
        return [g.instr(f"mov {dst.text}, {src.text}", [pick_size_opcode(0x8A, size)], size, dst.number, src)]
    if form == "rm,imm":
        value = g.immediate(immediate_bits(size))
        dst = g.rm(size)
        return [g.instr(f"mov {dst.text}, {sign_extended(value, immediate_bits(size), size):#x}",
                        [pick_size_opcode(0xC6, size)], size, 0, dst, value, immediate_width(size))]
    if form == "r,imm":     # B8h+r with REX.W takes a whole 64-bit immediate
        return [g.mov_immediate(g.register(size).number, g.immediate(size), size)]
    # A0h-A3h: the accumulator and an absolute address (moffs32, or moffs64 in 64-bit mode).
    address = g.address(size // 8)
    mem = Mem(size, None, None, 1, address, 4, g.segment(), g.mode)
    store = g.rng.random() < 0.5
    opcode = pick_size_opcode(0xA2 if store else 0xA0, size)
    code = g.enc.instruction([opcode], size=size, rm=mem, immediate=address, immediate_bytes=g.mode // 8).code
    accumulator = g.reg(0, size).text
    return [Instr(code, f"mov {mem.text}, {accumulator}" if store else f"mov {accumulator}, {mem.text}")]


def extend(g):
    if g.mode == 64 and g.rng.random() < 0.2:     # MOVSXD r64, r/m32 (REX.W 63h)
        dst, src = g.register(64), g.rm(32, write=False)
        return [g.instr(f"movsxd {dst.text}, {src.text}", [0x63], 64, dst.number, src)]
    name, opcode = g.rng.choice([("movzx", 0xB6), ("movsx", 0xBE)])
    if g.rng.random() < 0.5:
        dst, src = g.register(g.wide_size()), g.rm(8, write=False)
    else:
        dst, src = g.register(32 if g.mode == 32 else g.rng.choice([32, 64])), g.rm(16, write=False)
        opcode += 1
    return [g.instr(f"{name} {dst.text}, {src.text}", [0x0F, opcode], dst.size, dst.number, src)]


def exchange(g):
    form = g.rng.choice(["xchg", "xchg-acc", "xadd", "cmpxchg"])
    size = g.size()
    if form == "xchg-acc":
        size = g.wide_size()
        register = g.register(size, exclude=(0,))
        return [g.instr(f"xchg {g.reg(0, size).text}, {register.text}", [0x90], size,
                        opcode_register=register.number)]
    dst, src = g.rm(size), g.register(size)
    if form == "xchg":
        return [g.instr(f"xchg {dst.text}, {src.text}", [pick_size_opcode(0x86, size)], size, src.number, dst,
                        prefixes=g.lock(dst))]
    opcode = pick_size_opcode(0xC0 if form == "xadd" else 0xB0, size)
    setup = []
    if form == "cmpxchg" and g.rng.random() < 0.5:      # the equal case: the accumulator matches
        setup = [g.mov_immediate(0, g.state.value(dst), size)]
    return setup + [g.instr(f"{form} {dst.text}, {src.text}", [0x0F, opcode], size, src.number, dst, prefixes=g.lock(dst),
                    effect=ARITHMETIC)]


def byte_swap(g):
    """BSWAP r32/r64 (a 16-bit operand's result is undefined, SDM Vol. 2A: not generated)."""
    register = g.register(32 if g.mode == 32 else g.rng.choice([32, 64]))
    return [g.instr(f"bswap {register.text}", [0x0F, 0xC8], register.size, opcode_register=register.number)]


def load_address(g):
    size = g.wide_size()
    dst, src = g.register(size), g.memory(g.rng.choice([8, 16, 32]))
    return [g.instr(f"lea {dst.text}, {src.text}", [0x8D], size, dst.number, src)]


def conditional_move(g):
    cc = g.rng.randrange(16)
    size = g.wide_size()
    dst, src = g.register(size), g.rm(size, write=False)
    return [g.instr(f"cmov{CONDITIONS[cc]} {dst.text}, {src.text}", [0x0F, 0x40 + cc], size, dst.number, src,
                    reads_flags=CONDITION_FLAGS[cc])]


def set_condition(g):
    cc = g.rng.randrange(16)
    dst = g.rm(8)
    return [g.instr(f"set{CONDITIONS[cc]} {dst.text}", [0x0F, 0x90 + cc], 8, 0, dst,
                    reads_flags=CONDITION_FLAGS[cc])]


def convert(g):
    forms = [("cbw", b"\x66\x98"), ("cwde", b"\x98"), ("cwd", b"\x66\x99"), ("cdq", b"\x99")]
    if g.mode == 64:
        forms += [("cdqe", b"\x48\x98"), ("cqo", b"\x48\x99")]
    name, code = g.rng.choice(forms)
    return [Instr(code, name)]


def stack_size(g):
    """A stack operation's size: 16 or 32 bits in 32-bit mode, 16 or 64 in 64-bit mode (which
    cannot push or pop 32 bits, SDM Vol. 2B, PUSH)."""
    return g.rng.choice([16, 32, 32] if g.mode == 32 else [16, 64, 64])


def push(g):
    size = stack_size(g)
    form = g.rng.choice(["r", "imm8", "imm", "rm", "flags"] + (["all"] if g.mode == 32 else []))
    if form == "r":
        register = g.register(size, write=False)
        return [g.instr(f"push {register.text}", [0x50], size, opcode_register=register.number)]
    if form == "imm8":
        value = g.immediate(8)
        return [g.instr(f"push {signed(value, 8)} (6Ah)", [0x6A], size, immediate=value, immediate_bytes=1)]
    if form == "imm":
        value = g.immediate(immediate_bits(size))
        return [g.instr(f"push {sign_extended(value, immediate_bits(size), size):#x}", [0x68], size,
                        immediate=value, immediate_bytes=immediate_width(size))]
    if form == "rm":
        src = g.rm(size, write=False)
        return [g.instr(f"push {src.text}", [0xFF], size, 6, src)]
    if form == "all":
        return [g.instr("pushad" if size == 32 else "pusha", [0x60], size)]
    return [g.instr({16: "pushf", 32: "pushfd", 64: "pushfq"}[size], [0x9C], size, reads_flags=ALL6)]


def pop(g):
    size = stack_size(g)
    form = g.rng.choice(["r", "rm"] + (["all"] if g.mode == 32 else []))
    if form == "r":
        register = g.register(size)
        return [g.instr(f"pop {register.text}", [0x58], size, opcode_register=register.number)]
    if form == "all":
        return [g.instr("popad" if size == 32 else "popa", [0x61], size)]
    # POP computes an ESP-based destination address after incrementing ESP (SDM Vol. 2B, POP).
    dst = g.register(size) if g.rng.random() < 0.3 else g.memory(size, esp_extra=size // 8)
    return [g.instr(f"pop {dst.text}", [0x8F], size, 0, dst)]


# ---------------------------------------------------------------------------------------------
# Strings

STRINGS = {"movs": (0xA4, True, True, False), "stos": (0xAA, False, True, False), "lods": (0xAC, True, False, False),
           "cmps": (0xA6, True, True, True), "scas": (0xAE, False, True, True)}
SUFFIXES = {8: "b", 16: "w", 32: "d", 64: "q"}


def string(g):
    """A string instruction with or without REP/REPE/REPNE, with (R/E)SI, (R/E)DI and (R/E)CX
    set up when they would leave the window or repeat too long (a 32-bit MOV zero-extends into
    the whole register in 64-bit mode)."""
    name = g.rng.choice(list(STRINGS))
    opcode, uses_source, uses_destination, compares = STRINGS[name]
    size = g.size()
    repeat = g.rng.choice([None, None, "repe", "repne"] if compares else [None, "rep"])
    setups = []
    registers = g.state.registers
    for number, used in ((6, uses_source), (7, uses_destination)):
        if used and not WINDOW_ADDRESS + 0x100 <= registers[number] <= WINDOW_ADDRESS + WINDOW_SIZE - 0x100:
            pointer = WINDOW_ADDRESS + g.rng.randrange(0x100, WINDOW_SIZE - 0x100)
            if g.rng.random() < 0.3:     # a repeated string then crosses a page boundary
                pointer = (pointer & ~0xFFF) + g.rng.randint(-64, 64)
            setups.append(g.mov_immediate(number, pointer))
    if repeat and registers[1] > 40:
        setups.append(g.mov_immediate(1, g.rng.randint(0, 20)))
    prefixes = {None: b"", "rep": b"\xF3", "repe": b"\xF3", "repne": b"\xF2"}[repeat]
    segment = g.segment() if uses_source else None
    if segment:
        prefixes += bytes([SEGMENT_PREFIXES[segment]])
    code = g.enc.instruction([pick_size_opcode(opcode, size)], size=size, prefixes=prefixes).code
    text = (f"{repeat} " if repeat else "") + (f"{segment} " if segment else "") + name + SUFFIXES[size]

    def effect(state):
        if not compares or repeat and state.registers[1] == 0:
            return NOTHING
        return Effect(ALL6)
    return setups + [Instr(code, text, 0, effect)]


# ---------------------------------------------------------------------------------------------
# Flags

def flag_operation(g):
    name, code, reads, effect = g.rng.choice([
        ("lahf", 0x9F, SF | ZF | AF | PF | CF, fixed()),
        ("sahf", 0x9E, 0, fixed(SF | ZF | AF | PF | CF)),
        ("clc", 0xF8, 0, fixed(CF)), ("stc", 0xF9, 0, fixed(CF)), ("cmc", 0xF5, CF, fixed(CF)),
        ("cld", 0xFC, 0, fixed()), ("std", 0xFD, 0, fixed()),
    ])
    return [Instr(bytes([code]), name, reads, effect)]


# (template, weight)
INTEGER_TEMPLATES = [
    (alu, 20), (test, 4), (increment, 4), (negate, 4), (shift, 12), (double_shift, 5), (multiply, 6),
    (divide, 5), (bit_scan, 4), (bit_test, 6), (move, 6), (extend, 4), (exchange, 6), (byte_swap, 1),
    (load_address, 3), (conditional_move, 4), (set_condition, 4), (convert, 2), (push, 5), (pop, 4),
    (string, 10), (flag_operation, 5),
]


def templates(mode):
    """The (template, weight) pairs for `mode` (32 or 64): integer and SSE/SSE2. Each template
    looks at `Gen.mode` for what differs between the modes."""
    if mode not in (32, 64):
        raise ValueError(f"mode {mode} is not implemented (only 32 and 64)")
    from sse_templates import SSE_TEMPLATES
    return INTEGER_TEMPLATES + SSE_TEMPLATES
