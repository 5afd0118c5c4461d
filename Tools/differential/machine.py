"""Unicorn (QEMU's CPU as a library) set up as the differential oracle's reference machine.

Layout, shared with the Swift runner (`DifferentialRunner`), in both modes:

| address             | use                                                        |
| ------------------- | ---------------------------------------------------------- |
| 0x10000 - 0x1FFFF   | the data window: every memory operand and the stack        |
| 0x20000 - 0x20FFF   | the instruction stream (`CODE_ADDRESS`)                    |

Nothing else is mapped (the Swift runner keeps its mode-entry code and tables below 0x10000).

32-bit mode: segments are flat (base 0, 4 GiB), CPL 0, paging off: unicorn's UC_MODE_32 starts
that way. 64-bit mode: unicorn's UC_MODE_64 runs 64-bit code on flat memory, CPL 0, FS and GS
bases 0. The Swift runner runs the same code at CPL 3 (in 64-bit mode under identity-mapped
4-level paging); the templates use nothing that depends on the privilege level. An access outside the data window
makes the instruction unacceptable to the generator.

The machine state is the general registers (8 or 16), EFLAGS, the XMM registers (8 or 16) and
MXCSR.
"""
from unicorn import Uc, UcError, UC_ARCH_X86, UC_MODE_32, UC_MODE_64, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE
from unicorn import x86_const as X

WINDOW_ADDRESS = 0x10000
WINDOW_SIZE = 0x10000
CODE_ADDRESS = 0x20000
CODE_SIZE = 0x1000

REGISTERS = {
    32: ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"],
    64: ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi"] + [f"r{n}" for n in range(8, 16)],
}
XMM_COUNT = {32: 8, 64: 16}
INSTRUCTION_POINTER = {32: "eip", 64: "rip"}
_UC_INSTRUCTION_POINTER = {32: X.UC_X86_REG_EIP, 64: X.UC_X86_REG_RIP}


class State:
    """The machine's registers and memory as the next instruction finds them."""

    def __init__(self, uc, mode, registers, eflags, xmm, mxcsr):
        self._uc = uc
        self.mode = mode
        self.mask = (1 << mode) - 1
        self.registers = registers
        self.eflags = eflags
        self.xmm = xmm
        self.mxcsr = mxcsr

    def register(self, number, size):
        """A register's value at `size` bits (8-bit numbers 4-7 are AH, CH, DH, BH in 32-bit
        mode, SPL, BPL, SIL, DIL in 64-bit mode)."""
        if size == 8 and 4 <= number < 8 and self.mode == 32:
            return self.registers[number - 4] >> 8 & 0xFF
        return self.registers[number] & ((1 << size) - 1)

    def memory(self, address, count):
        return int.from_bytes(bytes(self._uc.mem_read(address, count)), "little")

    def effective_address(self, mem):
        """The linear address a memory operand names (flat segments, FS and GS bases 0)."""
        if mem.base == "rip":
            return mem.disp
        address = mem.disp
        if mem.base is not None:
            address += self.registers[mem.base]
        if mem.index is not None:
            address += self.registers[mem.index] * mem.scale
        return address & self.mask

    def value(self, operand):
        """The current value of a general register, XMM register or memory operand."""
        if hasattr(operand, "number"):
            if operand.size == 128:
                return self.xmm[operand.number]
            return self.register(operand.number, operand.size)
        return self.memory(self.effective_address(operand), operand.size // 8)


class Machine:
    """One unicorn CPU, reused for every case: load a case's start state, step instructions
    one at a time (undoing one that is unacceptable), then run the accepted stream again from
    the start and record what it read and wrote."""

    def __init__(self, mode=32):
        if mode not in (32, 64):
            raise ValueError(f"mode {mode} is not implemented (only 32 and 64)")
        self.mode = mode
        self.uc = Uc(UC_ARCH_X86, UC_MODE_64 if mode == 64 else UC_MODE_32)
        self.uc.mem_map(WINDOW_ADDRESS, WINDOW_SIZE + CODE_SIZE)
        self._registers = [getattr(X, "UC_X86_REG_" + name.upper()) for name in REGISTERS[mode]]
        self._xmm = [getattr(X, f"UC_X86_REG_XMM{n}") for n in range(XMM_COUNT[mode])]
        self._ip = _UC_INSTRUCTION_POINTER[mode]
        self.reads = set()
        self.writes = set()
        self.stray = False
        self.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._access)

    def _access(self, uc, access, address, size, value, user_data):
        if not (WINDOW_ADDRESS <= address and address + size <= WINDOW_ADDRESS + WINDOW_SIZE):
            self.stray = True
        touched = self.writes if access == UC_MEM_WRITE else self.reads
        touched.update(range(address, address + size))

    def load(self, registers, eflags, xmm, mxcsr, window):
        """Sets the general registers, EFLAGS, the XMM registers, MXCSR and the data window."""
        for uc_register, value in zip(self._registers, registers):
            self.uc.reg_write(uc_register, value)
        for uc_register, value in zip(self._xmm, xmm):
            self.uc.reg_write(uc_register, value)
        self.uc.reg_write(X.UC_X86_REG_MXCSR, mxcsr)
        self.uc.reg_write(X.UC_X86_REG_EFLAGS, eflags)
        self.uc.mem_write(WINDOW_ADDRESS, bytes(window))

    def state(self):
        return State(self.uc, self.mode, [self.uc.reg_read(r) for r in self._registers],
                     self.uc.reg_read(X.UC_X86_REG_EFLAGS), [self.uc.reg_read(r) for r in self._xmm],
                     self.uc.reg_read(X.UC_X86_REG_MXCSR))

    def checkpoint(self):
        return self.uc.context_save(), bytes(self.uc.mem_read(WINDOW_ADDRESS, WINDOW_SIZE))

    def restore(self, checkpoint):
        context, window = checkpoint
        self.uc.context_restore(context)
        self.uc.mem_write(WINDOW_ADDRESS, window)

    def step(self, address, code):
        """Runs `code` (one instruction, or a whole stream) at `address` to its end: whether it
        got there without an exception or a memory access outside the data window."""
        self.uc.mem_write(address, code)
        self.uc.ctl_remove_cache(address, address + len(code))
        self.stray = False
        end = address + len(code)
        try:
            self.uc.emu_start(address, end)
        except UcError:
            return False
        return not self.stray and self.uc.reg_read(self._ip) == end

    def replay(self, registers, eflags, xmm, mxcsr, window, code):
        """Runs the whole stream from the start state, recording each byte it read or wrote.
        Returns the final `State` and instruction pointer, or None if the run failed."""
        self.load(registers, eflags, xmm, mxcsr, window)
        self.reads.clear()
        self.writes.clear()
        if not self.step(CODE_ADDRESS, code):
            return None
        return self.state(), self.uc.reg_read(self._ip)

    def window(self):
        return bytes(self.uc.mem_read(WINDOW_ADDRESS, WINDOW_SIZE))
