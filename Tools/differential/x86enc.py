"""A small table-driven x86 encoder for the differential oracle.

It encodes the operand forms the templates use -- a register or a memory operand in a
ModRM byte (with SIB and displacement), immediates, and the prefixes -- and writes the same
instruction as Intel-syntax text for reports. Only 32-bit mode is implemented; `Encoder.mode`
is where 64-bit mode (REX prefixes, RIP-relative addressing, 64-bit operands) plugs in.
"""
from dataclasses import dataclass
from typing import Optional, Union

REGISTER_NAMES = {
    8: ["al", "cl", "dl", "bl", "ah", "ch", "dh", "bh"],
    16: ["ax", "cx", "dx", "bx", "sp", "bp", "si", "di"],
    32: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"],
}
SIZE_NAMES = {8: "byte", 16: "word", 32: "dword"}
SEGMENT_PREFIXES = {"es": 0x26, "cs": 0x2E, "ss": 0x36, "ds": 0x3E, "fs": 0x64, "gs": 0x65}

ESP = 4
EBP = 5


@dataclass(frozen=True)
class Reg:
    """A general register operand: its encoding number and size in bits."""
    number: int
    size: int

    @property
    def text(self):
        return REGISTER_NAMES[self.size][self.number]


@dataclass(frozen=True)
class Mem:
    """A memory operand with 32-bit addressing: [base + index*scale + disp].

    `disp_bytes` is the displacement's encoded width (0, 1 or 4); 0 needs disp == 0 and a base
    other than EBP. `segment` is an override prefix, or None for the default segment.
    """
    size: int
    base: Optional[int]
    index: Optional[int]
    scale: int
    disp: int
    disp_bytes: int
    segment: Optional[str] = None

    @property
    def text(self):
        parts = []
        if self.base is not None:
            parts.append(REGISTER_NAMES[32][self.base])
        if self.index is not None:
            parts.append(REGISTER_NAMES[32][self.index] + (f"*{self.scale}" if self.scale > 1 else ""))
        address = "+".join(parts)
        if self.disp or not parts:
            if parts and self.disp < 0:
                address += f"-{-self.disp:#x}"
            else:
                address += ("+" if parts else "") + f"{self.disp & 0xFFFFFFFF:#x}"
        segment = f"{self.segment}:" if self.segment else ""
        return f"{SIZE_NAMES[self.size]} {segment}[{address}]"


Operand = Union[Reg, Mem]


def little_endian(value, count):
    return (value & ((1 << (8 * count)) - 1)).to_bytes(count, "little")


def signed(value, bits):
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


class EncodingError(Exception):
    """An operand combination the encoder cannot express (a template bug)."""


class Encoder:
    """Encodes instructions for one processor mode."""

    def __init__(self, mode=32):
        if mode != 32:
            raise EncodingError(f"mode {mode} is not implemented (only 32)")
        self.mode = mode

    def operand_size_prefix(self, size):
        """The 66h prefix a 16-bit operand needs in 32-bit mode (none for 8 and 32)."""
        return b"\x66" if size == 16 else b""

    def modrm(self, reg_field, rm):
        """The ModRM byte, SIB byte and displacement for `rm` with `reg_field` in bits 5:3."""
        if isinstance(rm, Reg):
            return bytes([0xC0 | reg_field << 3 | rm.number])
        if rm.index == ESP:
            raise EncodingError("ESP cannot be an index register")
        disp_bytes = rm.disp_bytes
        if rm.base is None:
            disp_bytes = 4                  # no base: always disp32 (mod 00, base or r/m 101)
            mod = 0
        elif disp_bytes == 0:
            if rm.base == EBP:
                raise EncodingError("[ebp] needs a displacement")
            mod = 0
        else:
            mod = 1 if disp_bytes == 1 else 2
        if disp_bytes == 1 and not -128 <= rm.disp <= 127:
            raise EncodingError(f"displacement {rm.disp} does not fit in a byte")
        if rm.index is None and rm.base is not None and rm.base != ESP:
            out = bytes([mod << 6 | reg_field << 3 | rm.base])
        elif rm.index is None and rm.base is None:
            out = bytes([reg_field << 3 | 5])
        else:
            scale_bits = {1: 0, 2: 1, 4: 2, 8: 3}[rm.scale]
            index = ESP if rm.index is None else rm.index   # 100: no index
            base = EBP if rm.base is None else rm.base      # 101 with mod 00: no base
            out = bytes([mod << 6 | reg_field << 3 | 4, scale_bits << 6 | index << 3 | base])
        return out + (little_endian(rm.disp, disp_bytes) if disp_bytes else b"")

    def instruction(self, opcode, *, size=32, reg_field=None, rm=None, immediate=None,
                    immediate_bytes=0, prefixes=b"", shuffle=None):
        """Prefixes, the operand-size prefix for `size`, a segment override for a memory `rm`,
        the opcode bytes, ModRM (when `reg_field` is given) and the immediate. `shuffle`, if
        given, reorders the prefixes in place (their order carries no meaning)."""
        prefix_list = list(prefixes) + list(self.operand_size_prefix(size))
        if isinstance(rm, Mem) and rm.segment:
            prefix_list.append(SEGMENT_PREFIXES[rm.segment])
        if shuffle:
            shuffle(prefix_list)
        out = bytes(prefix_list) + bytes(opcode)
        if reg_field is not None:
            out += self.modrm(reg_field, rm)
        if immediate_bytes:
            out += little_endian(immediate, immediate_bytes)
        return out
