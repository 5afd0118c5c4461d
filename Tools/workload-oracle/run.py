#!/usr/bin/env python3
"""Runs a `resetvector bench --export DIR` workload on unicorn (QEMU's x86 CPU as a library)
and prints its instruction-independent result, for checking ResetVector's CPU against it.

    resetvector bench --export /tmp/workloads
    pip install unicorn
    Tools/workload-oracle/run.py /tmp/workloads/real-code.bin

The program is loaded at 0000:1000 and entered in real mode, as `resetvector bench` does; it
switches to protected mode and paging itself and halts when done. The real-code workload's
checksum is the dword at 90000h; `resetvector bench` prints the same value.
"""
import struct
import sys

from unicorn import Uc, UC_ARCH_X86, UC_MODE_16, UC_HOOK_INSN_INVALID
from unicorn.x86_const import UC_X86_REG_CS, UC_X86_REG_IP, UC_X86_REG_EIP

ORIGIN = 0x1000
MEMORY = 96 << 20
CHECKSUM = 0x9_0000


def main(path):
    program = open(path, "rb").read()
    cpu = Uc(UC_ARCH_X86, UC_MODE_16)
    cpu.mem_map(0, MEMORY)
    cpu.mem_write(ORIGIN, program)
    cpu.reg_write(UC_X86_REG_CS, 0)
    cpu.reg_write(UC_X86_REG_IP, ORIGIN)
    # HLT ends emulation in unicorn.
    cpu.emu_start(ORIGIN, 0xFFFF_FFFF)
    checksum = struct.unpack("<I", bytes(cpu.mem_read(CHECKSUM, 4)))[0]
    print(f"stopped at EIP {cpu.reg_read(UC_X86_REG_EIP):#x}; checksum {checksum:#010x}")


if __name__ == "__main__":
    main(sys.argv[1])
