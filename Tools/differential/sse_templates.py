"""SSE/SSE2 templates of the differential oracle, for 32-bit protected mode (XMM0-7) and 64-bit
mode (XMM0-15, and REX.W forms that take a 64-bit general register).

Each template is one of the tables below: a mnemonic, its mandatory prefix (none, 66h, F3h or
F2h), its opcode after 0Fh, and the kind of memory operand it takes. A 128-bit memory operand
of an instruction that is not one of the explicitly unaligned moves is 16-byte aligned: the
SDM (Vol. 2, each instruction's "Protected Mode Exceptions": "#GP(0) ... If a memory operand is
not aligned on a 16-byte boundary") makes anything else a #GP, which unicorn does not raise
(KNOWN-UNICORN-DIFFERENCES.md), so a misaligned one is never generated.

No SSE/SSE2 instruction here touches EFLAGS but (U)COMISS/(U)COMISD, which set ZF, PF and CF
and clear OF, SF and AF (SDM Vol. 2A, COMISS "Flags Affected").
"""
from templates import ALL6, Instr, fixed
from x86enc import Mem, Reg, Xmm

NONE, P66, PF3, PF2 = b"", b"\x66", b"\xF3", b"\xF2"

# Memory operand kinds: (size in bits, alignment).
M128 = (128, 16)        # an aligned 128-bit operand
M128U = (128, 1)        # MOVUPS and friends
M64 = (64, 1)
M32 = (32, 1)

PACKED_SINGLE, PACKED_DOUBLE, SCALAR_SINGLE, SCALAR_DOUBLE = (NONE, M128), (P66, M128), (PF3, M32), (PF2, M64)
FLOAT_FORMS = {"ps": PACKED_SINGLE, "pd": PACKED_DOUBLE, "ss": SCALAR_SINGLE, "sd": SCALAR_DOUBLE}

# xmm, xmm/m: (name, prefix, opcode, memory kind)
BINARY = (
    [(name + suffix, prefix, opcode, memory)
     for name, opcode in [("add", 0x58), ("mul", 0x59), ("sub", 0x5C), ("min", 0x5D), ("div", 0x5E),
                          ("max", 0x5F), ("sqrt", 0x51)]
     for suffix, (prefix, memory) in FLOAT_FORMS.items()]
    + [(name + suffix, prefix, opcode, M128)
       for name, opcode in [("and", 0x54), ("andn", 0x55), ("or", 0x56), ("xor", 0x57), ("unpckl", 0x14),
                            ("unpckh", 0x15)]
       for suffix, prefix in [("ps", NONE), ("pd", P66)]]
    + [(name, P66, opcode, M128) for name, opcode in [
        ("punpcklbw", 0x60), ("punpcklwd", 0x61), ("punpckldq", 0x62), ("packsswb", 0x63), ("pcmpgtb", 0x64),
        ("pcmpgtw", 0x65), ("pcmpgtd", 0x66), ("packuswb", 0x67), ("punpckhbw", 0x68), ("punpckhwd", 0x69),
        ("punpckhdq", 0x6A), ("packssdw", 0x6B), ("punpcklqdq", 0x6C), ("punpckhqdq", 0x6D), ("pcmpeqb", 0x74),
        ("pcmpeqw", 0x75), ("pcmpeqd", 0x76), ("psrlw", 0xD1), ("psrld", 0xD2), ("psrlq", 0xD3), ("paddq", 0xD4),
        ("pmullw", 0xD5), ("psubusb", 0xD8), ("psubusw", 0xD9), ("pminub", 0xDA), ("pand", 0xDB),
        ("paddusb", 0xDC), ("paddusw", 0xDD), ("pmaxub", 0xDE), ("pandn", 0xDF), ("pavgb", 0xE0), ("psraw", 0xE1),
        ("psrad", 0xE2), ("pavgw", 0xE3), ("pmulhuw", 0xE4), ("pmulhw", 0xE5), ("psubsb", 0xE8), ("psubsw", 0xE9),
        ("pminsw", 0xEA), ("por", 0xEB), ("paddsb", 0xEC), ("paddsw", 0xED), ("pmaxsw", 0xEE), ("pxor", 0xEF),
        ("psllw", 0xF1), ("pslld", 0xF2), ("psllq", 0xF3), ("pmuludq", 0xF4), ("pmaddwd", 0xF5), ("psadbw", 0xF6),
        ("psubb", 0xF8), ("psubw", 0xF9), ("psubd", 0xFA), ("psubq", 0xFB), ("paddb", 0xFC), ("paddw", 0xFD),
        ("paddd", 0xFE)]]
    + [(name, prefix, opcode, memory) for name, prefix, opcode, memory in [
        ("cvtps2pd", NONE, 0x5A, M64), ("cvtpd2ps", P66, 0x5A, M128), ("cvtss2sd", PF3, 0x5A, M32),
        ("cvtsd2ss", PF2, 0x5A, M64), ("cvtdq2ps", NONE, 0x5B, M128), ("cvtps2dq", P66, 0x5B, M128),
        ("cvttps2dq", PF3, 0x5B, M128), ("cvtdq2pd", PF3, 0xE6, M64), ("cvtpd2dq", PF2, 0xE6, M128),
        ("cvttpd2dq", P66, 0xE6, M128)]]
)

# xmm, xmm/m, imm8
WITH_IMMEDIATE = (
    [("cmp" + suffix, prefix, 0xC2, memory) for suffix, (prefix, memory) in FLOAT_FORMS.items()]
    + [("shufps", NONE, 0xC6, M128), ("shufpd", P66, 0xC6, M128), ("pshufd", P66, 0x70, M128),
       ("pshuflw", PF2, 0x70, M128), ("pshufhw", PF3, 0x70, M128)]
)

# Loads (xmm, xmm/m) and stores (xmm/m, xmm): (name, prefix, load opcode, store opcode, memory)
MOVES = [
    ("movaps", NONE, 0x28, 0x29, M128), ("movups", NONE, 0x10, 0x11, M128U),
    ("movapd", P66, 0x28, 0x29, M128), ("movupd", P66, 0x10, 0x11, M128U),
    ("movdqa", P66, 0x6F, 0x7F, M128), ("movdqu", PF3, 0x6F, 0x7F, M128U),
    ("movss", PF3, 0x10, 0x11, M32), ("movsd", PF2, 0x10, 0x11, M64),
]
# Memory-only halves: movlps/movhps/movlpd/movhpd; their register forms are MOVHLPS/MOVLHPS.
HALVES = [("movlps", NONE, 0x12), ("movhps", NONE, 0x16), ("movlpd", P66, 0x12), ("movhpd", P66, 0x16)]

# (U)COMISS/(U)COMISD: ZF, PF, CF from the comparison, OF, SF, AF cleared.
COMPARES_TO_FLAGS = [("ucomiss", NONE, 0x2E, M32), ("comiss", NONE, 0x2F, M32),
                     ("ucomisd", P66, 0x2E, M64), ("comisd", P66, 0x2F, M64)]

# Shifts by an immediate: (name, opcode, /digit)
SHIFTS_BY_IMMEDIATE = [("psrlw", 0x71, 2), ("psraw", 0x71, 4), ("psllw", 0x71, 6), ("psrld", 0x72, 2),
                       ("psrad", 0x72, 4), ("pslld", 0x72, 6), ("psrlq", 0x73, 2), ("psrldq", 0x73, 3),
                       ("psllq", 0x73, 6), ("pslldq", 0x73, 7)]

# General register from/to XMM or memory: (name, prefix, opcode, source scalar kind)
TO_INTEGER = [("cvtss2si", PF3, 0x2D, M32), ("cvttss2si", PF3, 0x2C, M32),
              ("cvtsd2si", PF2, 0x2D, M64), ("cvttsd2si", PF2, 0x2C, M64)]
FROM_INTEGER = [("cvtsi2ss", PF3, 0x2A), ("cvtsi2sd", PF2, 0x2A)]


def xmm(g):
    """An XMM register: XMM0-7, or XMM0-15 in 64-bit mode."""
    return Xmm(g.rng.randrange(16 if g.mode == 64 else 8))


def xmm_or_memory(g, memory):
    """An XMM register or, half the time, a memory operand of the kind `memory`."""
    if g.rng.random() < 0.5:
        return xmm(g)
    size, align = memory
    return g.memory(size, align=align)


def sse(g, text, prefix, opcode, reg_field, rm, immediate=None, size=32, effect=fixed()):
    """One SSE instruction: mandatory prefix, 0Fh, `opcode`, ModRM, an optional imm8; `size` 64
    sets REX.W (the 64-bit general-register forms)."""
    opcode = [0x0F] + (opcode if isinstance(opcode, list) else [opcode])
    return g.instr(text, opcode, size, reg_field, rm, immediate, 1 if immediate is not None else 0, prefix,
                   effect=effect, shuffle=False)


# unicorn returns a source operand's denormal bits from MIN/MAX under DAZ, where the SDM has it
# read as zero first (KNOWN-UNICORN-DIFFERENCES.md): under DAZ, no MIN/MAX is generated.
WITHOUT_MIN_MAX = [form for form in BINARY if not form[0].startswith(("min", "max"))]
DAZ = 0x40


# Lanes of the arithmetic forms: (lane bits, lane count) by suffix.
LANES = {"ps": (32, 4), "pd": (64, 2), "ss": (32, 1), "sd": (64, 1)}


def is_nan(bits, width):
    exponent_bits = 8 if width == 32 else 11
    fraction = bits & ((1 << (width - 1 - exponent_bits)) - 1)
    exponent = bits >> (width - 1 - exponent_bits) & ((1 << exponent_bits) - 1)
    return exponent == (1 << exponent_bits) - 1 and fraction != 0


def unless_two_nans(dst, src, suffix):
    """ADD/SUB/MUL/DIV: unicorn returns the NaN with the larger significand when both operands
    of a lane are NaNs, where the SDM returns the first source operand's (Vol. 1, 4.8.3.5 and
    Table 4-7; KNOWN-UNICORN-DIFFERENCES.md). Such a state is not generated (effect None)."""
    width, count = LANES[suffix]
    mask = (1 << width) - 1

    def effect(state):
        a, b = state.xmm[dst.number], state.value(src)
        for lane in range(count):
            if is_nan(a >> (width * lane) & mask, width) and is_nan(b >> (width * lane) & mask, width):
                return None
        return fixed()(state)
    return effect


def sse_binary(g):
    name, prefix, opcode, memory = g.rng.choice(WITHOUT_MIN_MAX if g.state.mxcsr & DAZ else BINARY)
    dst, src = xmm(g), xmm_or_memory(g, memory)
    effect = unless_two_nans(dst, src, name[-2:]) if name[:3] in ("add", "sub", "mul", "div") else fixed()
    return [sse(g, f"{name} {dst.text}, {src.text}", prefix, opcode, dst.number, src, effect=effect)]


def sse_immediate(g):
    name, prefix, opcode, memory = g.rng.choice(WITH_IMMEDIATE)
    dst, src = xmm(g), xmm_or_memory(g, memory)
    value = g.rng.randrange(8) if name.startswith("cmp") else g.rng.getrandbits(8)
    return [sse(g, f"{name} {dst.text}, {src.text}, {value:#x}", prefix, opcode, dst.number, src, value)]


def sse_move(g):
    form = g.rng.choice(["move", "move", "half", "register-half", "movq", "movd", "mask"])
    if form == "move":
        name, prefix, load, store, memory = g.rng.choice(MOVES)
        if g.rng.random() < 0.5:
            dst, src = xmm(g), xmm_or_memory(g, memory)
            return [sse(g, f"{name} {dst.text}, {src.text}", prefix, load, dst.number, src)]
        dst, src = xmm_or_memory(g, memory), xmm(g)
        return [sse(g, f"{name} {dst.text}, {src.text}", prefix, store, src.number, dst)]
    if form == "half":
        name, prefix, opcode = g.rng.choice(HALVES)
        register, memory = xmm(g), g.memory(64)
        if g.rng.random() < 0.5:
            return [sse(g, f"{name} {register.text}, {memory.text}", prefix, opcode, register.number, memory)]
        return [sse(g, f"{name} {memory.text}, {register.text}", prefix, opcode + 1, register.number, memory)]
    if form == "register-half":
        name, opcode = g.rng.choice([("movhlps", 0x12), ("movlhps", 0x16)])
        dst, src = xmm(g), xmm(g)
        return [sse(g, f"{name} {dst.text}, {src.text}", NONE, opcode, dst.number, src)]
    if form == "movq":
        if g.rng.random() < 0.5:        # F3 0F 7E: xmm <- xmm/m64, the upper half cleared
            dst, src = xmm(g), xmm_or_memory(g, M64)
            return [sse(g, f"movq {dst.text}, {src.text}", PF3, 0x7E, dst.number, src)]
        dst, src = xmm_or_memory(g, M64), xmm(g)         # 66 0F D6: xmm/m64 <- xmm
        return [sse(g, f"movq {dst.text}, {src.text}", P66, 0xD6, src.number, dst)]
    if form == "movd":                  # 66 (REX.W) 0F 6E/7E: MOVD r/m32, MOVQ r/m64
        size = 64 if g.mode == 64 and g.rng.random() < 0.5 else 32
        name = "movq" if size == 64 else "movd"
        register = xmm(g)
        if g.rng.random() < 0.5:
            src = g.rm(size, write=False)
            return [sse(g, f"{name} {register.text}, {src.text}", P66, 0x6E, register.number, src, size=size)]
        dst = g.rm(size)
        return [sse(g, f"{name} {dst.text}, {register.text}", P66, 0x7E, register.number, dst, size=size)]
    name, prefix, opcode = g.rng.choice([("movmskps", NONE, 0x50), ("movmskpd", P66, 0x50), ("pmovmskb", P66, 0xD7)])
    dst, src = g.register(32), xmm(g)
    return [sse(g, f"{name} {dst.text}, {src.text}", prefix, opcode, dst.number, src)]


def sse_shift_immediate(g):
    name, opcode, digit = g.rng.choice(SHIFTS_BY_IMMEDIATE)
    register = xmm(g)
    count = g.rng.randrange(70) if g.rng.random() < 0.9 else g.rng.getrandbits(8)
    return [sse(g, f"{name} {register.text}, {count}", P66, opcode, digit, register, count)]


def sse_compare_to_flags(g):
    name, prefix, opcode, memory = g.rng.choice(COMPARES_TO_FLAGS)
    left, right = xmm(g), xmm_or_memory(g, memory)
    return [sse(g, f"{name} {left.text}, {right.text}", prefix, opcode, left.number, right, effect=fixed(ALL6))]


def sse_integer_conversion(g):
    """CVT(T)SS2SI/CVT(T)SD2SI into a 32- or (64-bit mode) 64-bit register, CVTSI2SS/SD from one."""
    size = 64 if g.mode == 64 and g.rng.random() < 0.5 else 32
    if g.rng.random() < 0.5:
        name, prefix, opcode, memory = g.rng.choice(TO_INTEGER)
        dst, src = g.register(size), xmm_or_memory(g, memory)
        return [sse(g, f"{name} {dst.text}, {src.text}", prefix, opcode, dst.number, src, size=size)]
    name, prefix, opcode = g.rng.choice(FROM_INTEGER)
    dst, src = xmm(g), g.rm(size, write=False)
    return [sse(g, f"{name} {dst.text}, {src.text}", prefix, opcode, dst.number, src, size=size)]


# (template, weight): about a third of all proposals.
SSE_TEMPLATES = [
    (sse_binary, 24), (sse_immediate, 8), (sse_move, 12), (sse_shift_immediate, 4), (sse_compare_to_flags, 4),
    (sse_integer_conversion, 6),
]
