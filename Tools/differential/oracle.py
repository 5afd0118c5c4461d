#!/usr/bin/env python3
"""Differential oracle: random user-level instruction streams run on unicorn (QEMU's CPU as a
library), written as JSON Lines test cases for `resetvector differential`.

    Tools/differential/oracle.py --mode 32 --seed 1 --count 1000 --out /tmp/cases.jsonl
    resetvector differential /tmp/cases.jsonl

Each case is a stream of 1-8 instructions (plus the set-up instructions some need), built one
instruction at a time: the generator runs each proposal on unicorn from the current state and
keeps it only if it raised no exception and touched nothing outside the data window. Then the
accepted stream runs again from the start, and the case records the code, the start and final
registers and EFLAGS, the bytes of the data window it read (their start values) and the bytes it
read or wrote (their final values), and `defined_flags`: the EFLAGS bits to compare, which are all
but those the stream's last writer left undefined (Intel SDM Vol. 2, "Flags Affected"). Cases
depend only on (seed, index), so any case can be regenerated alone.

Case format (one JSON object per line; addresses and values are integers):

    {"index": 0, "seed": 1, "mode": 32, "code_address": 131072, "data_window": [65536, 65536],
     "code": "01d8...", "asm": ["add eax, ebx", ...],
     "initial": {"registers": {"eax": ..., ..., "edi": ...}, "eflags": ..., "memory": [[address, "hex"], ...]},
     "final": {"registers": {...}, "eflags": ..., "eip": ..., "memory": [[address, "hex"], ...]},
     "defined_flags": ..., "undefined_registers": {"ebx": 65535}}

`undefined_registers` (only when present) gives bits of a register the stream left undefined.
"""
import argparse
import json
import random
import struct
import sys

from machine import Machine, CODE_ADDRESS, WINDOW_ADDRESS, WINDOW_SIZE, REGISTERS, XMM_COUNT, INSTRUCTION_POINTER
from templates import Gen, INTERESTING, INTERESTING_64, ALL6, Unencodable, templates
from x86enc import Encoder, ESP

DF = 0x400
MAXIMUM_INSTRUCTIONS = 8

# MXCSR bits 0-5 (IE, DE, ZE, OE, UE, PE): unicorn 2.1.4 never sets them
# (KNOWN-UNICORN-DIFFERENCES.md), so they are not compared; the control bits are.
MXCSR_STATUS = 0x3F
MXCSR_MASKS = 0x1F80
MXCSR_DAZ = 0x40

FLOAT32 = [0x00000000, 0x80000000, 0x3F800000, 0xBF800000, 0x3F000000, 0x3FC00000, 0x40000000, 0xC0200000,
           0x42C80000, 0x501502F9, 0xD01502F9, 0x4F000000, 0xCF000000, 0x4EFFFFFF, 0x5F000000, 0xDF000000,
           0x7F7FFFFF, 0xFF7FFFFF, 0x00800000, 0x80800000, 0x00000001, 0x807FFFFF, 0x7F800000, 0xFF800000,
           0x7FC00000, 0xFFC00000, 0x7F800001, 0xFFA00000, 0x7FC12345, 0x3EAAAAAB]
FLOAT64 = [0x0000000000000000, 0x8000000000000000, 0x3FF0000000000000, 0xBFF0000000000000, 0x3FE0000000000000,
           0x3FF8000000000000, 0xC004000000000000, 0x41E0000000000000, 0xC1E0000000000000, 0x41DFFFFFFFC00000,
           0x43E0000000000000, 0xC3E0000000000000, 0x7FEFFFFFFFFFFFFF, 0x0010000000000000, 0x0000000000000001,
           0x800FFFFFFFFFFFFF, 0x7FF0000000000000, 0xFFF0000000000000, 0x7FF8000000000000, 0xFFF8000000000000,
           0x7FF0000000000001, 0xFFF4000000000000, 0x7FF8000012345678, 0x3FD5555555555555, 0x36A0000000000000,
           0x47EFFFFFE0000000]


def float32(rng):
    """A single-precision pattern: an edge value (zeros, denormals, infinities, NaNs, integer
    conversion limits) or a random finite value of moderate exponent."""
    if rng.random() < 0.5:
        return rng.choice(FLOAT32)
    return struct.unpack("<I", struct.pack("<f", rng.uniform(-1e6, 1e6) * rng.choice([1, 1e-3, 1e3])))[0]


def float64(rng):
    if rng.random() < 0.5:
        return rng.choice(FLOAT64)
    return struct.unpack("<Q", struct.pack("<d", rng.uniform(-1e9, 1e9) * rng.choice([1, 1e-6, 1e6, 1e12])))[0]


def xmm_value(rng):
    """128 bits: four singles, two doubles, random bits, or small integers per 32-bit lane."""
    roll = rng.random()
    if roll < 0.35:
        lanes = [float32(rng) for _ in range(4)]
        return sum(lane << (32 * n) for n, lane in enumerate(lanes))
    if roll < 0.7:
        return float64(rng) | float64(rng) << 64
    if roll < 0.85:
        return sum((rng.choice(INTERESTING) if rng.random() < 0.5 else rng.randrange(-300, 300) & 0xFFFFFFFF)
                   << (32 * n) for n in range(4))
    return rng.getrandbits(128)


def initial_mxcsr(rng):
    """Exceptions masked, any rounding mode, DAZ now and then, some status flags set. Never
    FTZ: unicorn ignores it for SSE (KNOWN-UNICORN-DIFFERENCES.md)."""
    mxcsr = MXCSR_MASKS | rng.randrange(4) << 13
    if rng.random() < 0.2:
        mxcsr |= MXCSR_DAZ
    if rng.random() < 0.3:
        mxcsr |= rng.getrandbits(6)
    return mxcsr


def initial_register(rng, number, mode):
    """Pointers into the window, small values, edge values and random ones; the stack pointer
    always points into the window with room for pushes and pops."""
    if number == ESP:
        return (WINDOW_ADDRESS + rng.randrange(0x4000, 0xF000)) & (~3 if rng.random() < 0.9 else ~0)
    roll = rng.random()
    if roll < 0.35:
        return rng.randrange(WINDOW_ADDRESS, WINDOW_ADDRESS + WINDOW_SIZE)
    if roll < 0.5:
        return rng.randrange(0x100)
    if roll < 0.7:
        return rng.choice(INTERESTING_64 if mode == 64 else INTERESTING)
    return rng.getrandbits(64 if mode == 64 and rng.random() < 0.7 else 32)


def byte_runs(addresses, memory):
    """Contiguous runs of window addresses as [address, hex bytes] pairs."""
    runs = []
    for address in sorted(addresses):
        if runs and runs[-1][0] + len(runs[-1][1]) == address:
            runs[-1][1].append(memory[address - WINDOW_ADDRESS])
        else:
            runs.append([address, bytearray([memory[address - WINDOW_ADDRESS]])])
    return [[address, data.hex()] for address, data in runs]


class CaseGenerator:
    def __init__(self, mode):
        self.mode = mode
        self.machine = Machine(mode)
        self.encoder = Encoder(mode)
        pairs = templates(mode)
        self.templates = [template for template, _ in pairs]
        self.weights = [weight for _, weight in pairs]

    def _try(self, g, proposal, address, undefined):
        """Runs a proposal's instructions from the current state. Returns (instructions run,
        undefined flags after them, undefined register or None), or None to reject it. An
        instruction that reads a flag now undefined gets a CMP before it that defines them."""
        done = []
        for instr in proposal:
            sequence = [g.define_flags(), instr] if instr.reads_flags & undefined else [instr]
            for step in sequence:
                step = step.placed(address)
                effect = step.effect(self.machine.state())
                if effect is None or not self.machine.step(address, step.code):
                    return None
                address += len(step.code)
                undefined = (undefined & ~effect.defined) | effect.undefined
                done.append(step)
                if effect.undefined_register:
                    return done, undefined, effect.undefined_register
        return done, undefined, None

    def case(self, seed, index):
        rng = random.Random(f"{seed}:{index}" if self.mode == 32 else f"{seed}:{index}:{self.mode}")
        count = 16 if self.mode == 64 else 8
        registers = [initial_register(rng, n, self.mode) for n in range(count)]
        eflags = 0x2 | rng.getrandbits(12) & ALL6 | (DF if rng.random() < 0.3 else 0)
        xmm = [xmm_value(rng) for _ in range(XMM_COUNT[self.mode])]
        mxcsr = initial_mxcsr(rng)
        window = bytearray(rng.randbytes(WINDOW_SIZE))
        for _ in range(512):     # edge values where memory operands will find some
            offset = rng.randrange(WINDOW_SIZE - 8)
            roll = rng.random()
            if roll < 0.5:
                window[offset:offset + 4] = rng.choice(INTERESTING).to_bytes(4, "little")
            elif roll < 0.75:
                window[offset:offset + 4] = float32(rng).to_bytes(4, "little")
            else:
                window[offset:offset + 8] = float64(rng).to_bytes(8, "little")
        self.machine.load(registers, eflags, xmm, mxcsr, window)

        stream, undefined, undefined_register = [], 0, None
        address = CODE_ADDRESS
        wanted, accepted = rng.randint(1, MAXIMUM_INSTRUCTIONS), 0
        for _ in range(20 * wanted):
            if accepted == wanted or undefined_register:
                break
            template = rng.choices(self.templates, self.weights)[0]
            g = Gen(rng, self.machine.state(), self.encoder)
            try:
                proposal = template(g)
            except Unencodable:
                continue
            checkpoint = self.machine.checkpoint()
            result = self._try(g, proposal, address, undefined)
            if result is None:
                self.machine.restore(checkpoint)
                continue
            done, undefined, undefined_register = result
            stream += done
            address += sum(len(instr.code) for instr in done)
            accepted += 1

        stepped = self.machine.state()
        code = b"".join(instr.code for instr in stream)
        replayed = self.machine.replay(registers, eflags, xmm, mxcsr, window, code)
        # Undefined flags may come out differently (QEMU computes flags lazily per block).
        if (replayed is None or replayed[0].registers != stepped.registers or replayed[0].xmm != stepped.xmm
                or replayed[0].mxcsr != stepped.mxcsr or (replayed[0].eflags ^ stepped.eflags) & ~undefined):
            raise RuntimeError(f"case {index}: unicorn ran the stream differently as a whole than step by step")
        final, final_ip = replayed
        final_window = self.machine.window()
        names = REGISTERS[self.mode]
        case = {
            "index": index, "seed": seed, "mode": self.mode,
            "code_address": CODE_ADDRESS, "data_window": [WINDOW_ADDRESS, WINDOW_SIZE],
            "code": code.hex(), "asm": [instr.text for instr in stream],
            "initial": {"registers": dict(zip(names, registers)), "eflags": eflags,
                        "xmm": [f"{value:032x}" for value in xmm], "mxcsr": mxcsr,
                        "memory": byte_runs(self.machine.reads, window)},
            "final": {"registers": dict(zip(names, final.registers)), "eflags": final.eflags,
                      INSTRUCTION_POINTER[self.mode]: final_ip,
                      "xmm": [f"{value:032x}" for value in final.xmm], "mxcsr": final.mxcsr,
                      "memory": byte_runs(self.machine.reads | self.machine.writes, final_window)},
            "defined_flags": 0xFFFFFFFF & ~undefined,
            "compared_mxcsr": 0xFFFF & ~MXCSR_STATUS,
        }
        if undefined_register:
            number, mask = undefined_register
            case["undefined_registers"] = {names[number]: mask}
        return case


def main():
    parser = argparse.ArgumentParser(description="Generate differential test cases with unicorn.")
    parser.add_argument("--mode", type=int, choices=[32, 64], default=32, help="processor mode")
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--first", type=int, default=0, help="index of the first case (to split a sweep)")
    parser.add_argument("--out", required=True, help="output file, or - for standard output")
    arguments = parser.parse_args()
    generator = CaseGenerator(arguments.mode)
    out = sys.stdout if arguments.out == "-" else open(arguments.out, "w")
    with out:
        for index in range(arguments.first, arguments.first + arguments.count):
            out.write(json.dumps(generator.case(arguments.seed, index), separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
