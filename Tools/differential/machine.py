"""Unicorn (QEMU's CPU as a library) set up as the differential oracle's reference machine.

Layout, shared with the Swift runner (`DifferentialRunner`), 32-bit mode:

| address             | use                                                        |
| ------------------- | ---------------------------------------------------------- |
| 0x10000 - 0x1FFFF   | the data window: every memory operand and the stack        |
| 0x20000 - 0x20FFF   | the instruction stream (`CODE_ADDRESS`)                    |

Nothing else is mapped (the Swift runner keeps its protected-mode entry code below 0x10000).

Segments are flat (base 0, 4 GiB), CPL 0, paging off: unicorn's UC_MODE_32 starts that way.
An access outside the data window makes the instruction unacceptable to the generator.
"""
from unicorn import Uc, UcError, UC_ARCH_X86, UC_MODE_32, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE
from unicorn import x86_const as X

WINDOW_ADDRESS = 0x10000
WINDOW_SIZE = 0x10000
CODE_ADDRESS = 0x20000
CODE_SIZE = 0x1000

REGISTERS_32 = ["eax", "ecx", "edx", "ebx", "esp", "ebp", "esi", "edi"]
_UC_REGISTERS_32 = [getattr(X, "UC_X86_REG_" + name.upper()) for name in REGISTERS_32]


class State:
    """The machine's registers and memory as the next instruction finds them."""

    def __init__(self, uc, registers, eflags):
        self._uc = uc
        self.registers = registers
        self.eflags = eflags

    def register(self, number, size):
        """A register's value at `size` bits (8-bit numbers 4-7 are AH, CH, DH, BH)."""
        if size == 8 and number >= 4:
            return self.registers[number - 4] >> 8 & 0xFF
        return self.registers[number] & ((1 << size) - 1)

    def memory(self, address, count):
        return int.from_bytes(bytes(self._uc.mem_read(address, count)), "little")

    def effective_address(self, mem):
        """The offset a memory operand names (flat segments: also its linear address)."""
        address = mem.disp
        if mem.base is not None:
            address += self.registers[mem.base]
        if mem.index is not None:
            address += self.registers[mem.index] * mem.scale
        return address & 0xFFFFFFFF

    def value(self, operand):
        """The current value of a register or memory operand."""
        if hasattr(operand, "number"):
            return self.register(operand.number, operand.size)
        return self.memory(self.effective_address(operand), operand.size // 8)


class Machine:
    """One unicorn CPU, reused for every case: load a case's start state, step instructions
    one at a time (undoing one that is unacceptable), then run the accepted stream again from
    the start and record what it read and wrote."""

    def __init__(self, mode=32):
        if mode != 32:
            raise ValueError(f"mode {mode} is not implemented (only 32)")
        self.uc = Uc(UC_ARCH_X86, UC_MODE_32)
        self.uc.mem_map(WINDOW_ADDRESS, WINDOW_SIZE + CODE_SIZE)
        self.reads = set()
        self.writes = set()
        self.stray = False
        self.uc.hook_add(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._access)

    def _access(self, uc, access, address, size, value, user_data):
        if not (WINDOW_ADDRESS <= address and address + size <= WINDOW_ADDRESS + WINDOW_SIZE):
            self.stray = True
        touched = self.writes if access == UC_MEM_WRITE else self.reads
        touched.update(range(address, address + size))

    def load(self, registers, eflags, window):
        """Sets the eight general registers, EFLAGS and the data window."""
        for uc_register, value in zip(_UC_REGISTERS_32, registers):
            self.uc.reg_write(uc_register, value)
        self.uc.reg_write(X.UC_X86_REG_EFLAGS, eflags)
        self.uc.mem_write(WINDOW_ADDRESS, bytes(window))

    def state(self):
        registers = [self.uc.reg_read(r) for r in _UC_REGISTERS_32]
        return State(self.uc, registers, self.uc.reg_read(X.UC_X86_REG_EFLAGS))

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
        return not self.stray and self.uc.reg_read(X.UC_X86_REG_EIP) == end

    def replay(self, registers, eflags, window, code):
        """Runs the whole stream from the start state, recording each byte it read or wrote.
        Returns (final registers, EFLAGS, EIP), or None if the run failed."""
        self.load(registers, eflags, window)
        self.reads.clear()
        self.writes.clear()
        if not self.step(CODE_ADDRESS, code):
            return None
        state = self.state()
        return state.registers, state.eflags, self.uc.reg_read(X.UC_X86_REG_EIP)

    def window(self):
        return bytes(self.uc.mem_read(WINDOW_ADDRESS, WINDOW_SIZE))
