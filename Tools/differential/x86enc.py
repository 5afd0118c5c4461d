"""A small table-driven x86 encoder for the differential oracle.

It encodes the operand forms the templates use -- a register or a memory operand in a
ModRM byte (with SIB and displacement), immediates, the prefixes, and in 64-bit mode the REX
prefix and RIP-relative addressing -- and writes the same instruction as Intel-syntax text for
reports. Both 32-bit protected mode and 64-bit mode are implemented (`Encoder.mode`).

Register numbers are 0-15 (8-15 only in 64-bit mode). A byte register numbered 4-7 is AH, CH,
DH, BH in 32-bit mode and SPL, BPL, SIL, DIL in 64-bit mode, where the encoder then emits a REX
prefix (the generator never names AH-BH in 64-bit mode).
"""
from dataclasses import dataclass
from typing import Optional, Union

LOW_NAMES = ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"]
REGISTER_NAMES_32 = {
    8: ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"],
    16: LOW_NAMES,
    32: ["e" + name for name in LOW_NAMES],
}
REGISTER_NAMES_64 = {
    8: ["al", "cl", "dl", "bl", "spl", "bpl", "sil", "dil"] + [f"r{n}b" for n in range(8, 16)],
    16: LOW_NAMES + [f"r{n}w" for n in range(8, 16)],
    32: ["e" + name for name in LOW_NAMES] + [f"r{n}d" for n in range(8, 16)],
    64: ["r" + name for name in LOW_NAMES] + [f"r{n}" for n in range(8, 16)],
}
SIZE_NAMES = {8: "byte", 16: "word", 32: "dword", 64: "qword", 128: "xmmword"}
SEGMENT_PREFIXES = {"es": 0x26, "cs": 0x2E, "ss": 0x36, "ds": 0x3E, "fs": 0x64, "gs": 0x65}

ESP = 4
EBP = 5
RIP = "rip"


@dataclass(frozen=True)
class Reg:
    """A general register operand: its encoding number (0-15) and size in bits, in `mode`."""
    number: int
    size: int
    mode: int = 32

    @property
    def text(self):
        return (REGISTER_NAMES_64 if self.mode == 64 else REGISTER_NAMES_32)[self.size][self.number]


@dataclass(frozen=True)
class Xmm:
    """An XMM register operand (0-7, or 0-15 in 64-bit mode)."""
    number: int
    size: int = 128

    @property
    def text(self):
        return f"xmm{self.number}"


@dataclass(frozen=True)
class Mem:
    """A memory operand: [base + index*scale + disp] with the mode's address size, or in 64-bit
    mode [rip + disp] (`base == RIP`, `disp` then being the absolute target the encoder turns
    into a displacement from the instruction's end once its address is known).

    `disp_bytes` is the displacement's encoded width (0, 1 or 4); 0 needs disp == 0 and a base
    other than EBP/RBP/R13. `segment` is an override prefix, or None for the default segment.
    """
    size: int
    base: Optional[Union[int, str]]
    index: Optional[int]
    scale: int
    disp: int
    disp_bytes: int
    segment: Optional[str] = None
    mode: int = 32

    @property
    def text(self):
        names = REGISTER_NAMES_64[64] if self.mode == 64 else REGISTER_NAMES_32[32]
        segment = f"{self.segment}:" if self.segment else ""
        if self.base == RIP:
            return f"{SIZE_NAMES[self.size]} {segment}[rip → {self.disp:#x}]"
        parts = []
        if self.base is not None:
            parts.append(names[self.base])
        if self.index is not None:
            parts.append(names[self.index] + (f"*{self.scale}" if self.scale > 1 else ""))
        address = "+".join(parts)
        if self.disp or not parts:
            if parts and self.disp < 0:
                address += f"-{-self.disp:#x}"
            else:
                address += ("+" if parts else "") + f"{self.disp & 0xFFFFFFFF:#x}"
        return f"{SIZE_NAMES[self.size]} {segment}[{address}]"


Operand = Union[Reg, Xmm, Mem]


def little_endian(value, count):
    return (value & ((1 << (8 * count)) - 1)).to_bytes(count, "little")


def signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class EncodingError(Exception):
    """An operand combination the encoder cannot express (a template bug)."""


@dataclass(frozen=True)
class Encoded:
    """An instruction's bytes; for a RIP-relative operand also where its disp32 sits and the
    absolute address it must reach (`Encoded.placed` fills it in)."""
    code: bytes
    rip_fixup: Optional[tuple] = None     # (offset of disp32 in code, target address)

    def placed(self, address):
        """The bytes for the instruction at `address`."""
        if self.rip_fixup is None:
            return self.code
        offset, target = self.rip_fixup
        disp = target - (address + len(self.code))
        if not -(1 << 31) <= disp < 1 << 31:
            raise EncodingError("RIP-relative target out of reach")
        return self.code[:offset] + little_endian(disp, 4) + self.code[offset + 4:]


class Encoder:
    """Encodes instructions for one processor mode (32 or 64)."""

    def __init__(self, mode=32):
        if mode not in (32, 64):
            raise EncodingError(f"mode {mode} is not implemented (only 32 and 64)")
        self.mode = mode

    def operand_size_prefix(self, size):
        """The 66h prefix a 16-bit operand needs (none for 8, 32 and 64)."""
        return b"\x66" if size == 16 else b""

    def rex(self, size, reg_field, rm, opcode_register, force=False):
        """The REX prefix for the operands (b"" when none is needed, and always outside 64-bit
        mode, where operands that would need one are an encoding error)."""
        w = size == 64
        r = (reg_field or 0) >> 3 & 1
        x = b = 0
        needs_rex_for_byte = False
        if isinstance(rm, Mem):
            x = (rm.index or 0) >> 3 & 1
            b = rm.base >> 3 & 1 if isinstance(rm.base, int) else 0
        elif rm is not None:
            b = rm.number >> 3 & 1
            needs_rex_for_byte = isinstance(rm, Reg) and rm.size == 8 and rm.number >= 4
        if opcode_register is not None:
            b = opcode_register >> 3 & 1
            needs_rex_for_byte |= size == 8 and opcode_register >= 4
        # A byte register 4-7 in the reg field (a /digit extension there is harmless with REX).
        needs_rex_for_byte |= size == 8 and reg_field is not None and reg_field >= 4
        if not (w or r or x or b or needs_rex_for_byte or force):
            return b""
        if self.mode != 64:
            if w or r or x or b:
                raise EncodingError("REX operands outside 64-bit mode")
            return b""
        return bytes([0x40 | w << 3 | r << 2 | x << 1 | b])

    def modrm(self, reg_field, rm):
        """The ModRM byte, SIB byte and displacement for `rm` with `reg_field` in bits 5:3, and
        the offset of a RIP-relative disp32 within them (or None)."""
        reg_bits = (reg_field & 7) << 3
        if not isinstance(rm, Mem):
            return bytes([0xC0 | reg_bits | rm.number & 7]), None
        if rm.base == RIP:
            if self.mode != 64:
                raise EncodingError("RIP-relative addressing outside 64-bit mode")
            return bytes([reg_bits | 5]) + b"\0\0\0\0", 1
        if rm.index is not None and rm.index == ESP:
            raise EncodingError("ESP/RSP cannot be an index register")
        disp_bytes = rm.disp_bytes
        if rm.base is None:
            disp_bytes = 4                  # no base: always disp32 (mod 00, base or r/m 101)
            mod = 0
        elif disp_bytes == 0:
            if rm.base & 7 == EBP:
                raise EncodingError("[ebp]/[rbp]/[r13] needs a displacement")
            mod = 0
        else:
            mod = 1 if disp_bytes == 1 else 2
        if disp_bytes == 1 and not -128 <= rm.disp <= 127:
            raise EncodingError(f"displacement {rm.disp} does not fit in a byte")
        # In 64-bit mode mod 00 r/m 101 is RIP-relative: an absolute address takes a SIB byte.
        if rm.index is None and rm.base is not None and rm.base & 7 != ESP:
            out = bytes([mod << 6 | reg_bits | rm.base & 7])
        elif rm.index is None and rm.base is None and self.mode == 32:
            out = bytes([reg_bits | 5])
        else:
            scale_bits = {1: 0, 2: 1, 4: 2, 8: 3}[rm.scale]
            index = ESP if rm.index is None else rm.index & 7   # 100 (without REX.X): no index
            base = EBP if rm.base is None else rm.base & 7      # 101 with mod 00: no base
            out = bytes([mod << 6 | reg_bits | 4, scale_bits << 6 | index << 3 | base])
        return out + (little_endian(rm.disp, disp_bytes) if disp_bytes else b""), None

    def instruction(self, opcode, *, size=32, reg_field=None, rm=None, immediate=None,
                    immediate_bytes=0, prefixes=b"", shuffle=None, opcode_register=None,
                    force_rex=False):
        """Prefixes, the operand-size prefix for `size`, a segment override for a memory `rm`,
        the REX prefix in 64-bit mode, the opcode bytes (the last plus the low bits of
        `opcode_register`, for the forms that encode a register there), ModRM (when `reg_field`
        is given) and the immediate. `shuffle`, if given, reorders the legacy prefixes in place
        (their order carries no meaning; mandatory SSE prefixes are passed unshuffled)."""
        prefix_list = list(prefixes) + list(self.operand_size_prefix(size))
        if isinstance(rm, Mem) and rm.segment:
            prefix_list.append(SEGMENT_PREFIXES[rm.segment])
        if shuffle:
            shuffle(prefix_list)
        opcode = list(opcode)
        if opcode_register is not None:
            opcode[-1] += opcode_register & 7
        out = bytes(prefix_list) + self.rex(size, reg_field, rm, opcode_register, force_rex) + bytes(opcode)
        fixup = None
        if reg_field is not None:
            modrm, rip_offset = self.modrm(reg_field, rm)
            if rip_offset is not None:
                fixup = (len(out) + rip_offset, rm.disp)
            out += modrm
        if immediate_bytes:
            out += little_endian(immediate, immediate_bytes)
        return Encoded(out, fixup)
