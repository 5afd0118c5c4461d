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
import sys

from machine import Machine, CODE_ADDRESS, WINDOW_ADDRESS, WINDOW_SIZE, REGISTERS_32
from templates import Gen, INTERESTING, ALL6, templates
from x86enc import Encoder, ESP

DF = 0x400
MAXIMUM_INSTRUCTIONS = 8


def initial_register(rng, number):
    """Pointers into the window, small values, edge values and random ones; ESP always points
    into the window with room for pushes and pops."""
    if number == ESP:
        return (WINDOW_ADDRESS + rng.randrange(0x4000, 0xF000)) & (~3 if rng.random() < 0.9 else ~0)
    roll = rng.random()
    if roll < 0.35:
        return rng.randrange(WINDOW_ADDRESS, WINDOW_ADDRESS + WINDOW_SIZE)
    if roll < 0.5:
        return rng.randrange(0x100)
    if roll < 0.7:
        return rng.choice(INTERESTING)
    return rng.getrandbits(32)


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
        rng = random.Random(f"{seed}:{index}")
        registers = [initial_register(rng, n) for n in range(8)]
        eflags = 0x2 | rng.getrandbits(12) & ALL6 | (DF if rng.random() < 0.3 else 0)
        window = bytearray(rng.randbytes(WINDOW_SIZE))
        for _ in range(512):     # edge values where memory operands will find some
            offset = rng.randrange(WINDOW_SIZE - 4)
            window[offset:offset + 4] = rng.choice(INTERESTING).to_bytes(4, "little")
        self.machine.load(registers, eflags, window)

        stream, undefined, undefined_register = [], 0, None
        address = CODE_ADDRESS
        wanted, accepted = rng.randint(1, MAXIMUM_INSTRUCTIONS), 0
        for _ in range(20 * wanted):
            if accepted == wanted or undefined_register:
                break
            template = rng.choices(self.templates, self.weights)[0]
            g = Gen(rng, self.machine.state(), self.encoder)
            proposal = template(g)
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
        replayed = self.machine.replay(registers, eflags, window, code)
        # Undefined flags may come out differently (QEMU computes flags lazily per block).
        if replayed is None or replayed[0] != stepped.registers or (replayed[1] ^ stepped.eflags) & ~undefined:
            raise RuntimeError(f"case {index}: unicorn ran the stream differently as a whole than step by step")
        final_registers, final_eflags, final_eip = replayed
        final_window = self.machine.window()
        case = {
            "index": index, "seed": seed, "mode": self.mode,
            "code_address": CODE_ADDRESS, "data_window": [WINDOW_ADDRESS, WINDOW_SIZE],
            "code": code.hex(), "asm": [instr.text for instr in stream],
            "initial": {"registers": dict(zip(REGISTERS_32, registers)), "eflags": eflags,
                        "memory": byte_runs(self.machine.reads, window)},
            "final": {"registers": dict(zip(REGISTERS_32, final_registers)), "eflags": final_eflags,
                      "eip": final_eip,
                      "memory": byte_runs(self.machine.reads | self.machine.writes, final_window)},
            "defined_flags": 0xFFFFFFFF & ~undefined,
        }
        if undefined_register:
            number, mask = undefined_register
            case["undefined_registers"] = {REGISTERS_32[number]: mask}
        return case


def main():
    parser = argparse.ArgumentParser(description="Generate differential test cases with unicorn.")
    parser.add_argument("--mode", type=int, choices=[32], default=32, help="processor mode (only 32 so far)")
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
