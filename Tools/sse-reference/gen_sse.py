#!/usr/bin/env python3
"""Reference vectors for the SSE/SSE2 unit tests, produced by running each instruction in
unicorn (QEMU's CPU, 32-bit protected mode) on register operands.

Each line: instruction bytes, XMM0 (destination), XMM1 (source), EAX, MXCSR before, then XMM0
and EAX after; hex, space-separated. Instructions on MMX registers get MM0 and MM1 from XMM0 and
XMM1 (MOVDQ2Q before them) and, when MM0 is their destination, return it in XMM0 (MOVQ2DQ after). Only the results are compared, never MXCSR's
flags: unicorn 2.1 (QEMU 5) does not set them, does not implement FTZ and propagates NaNs by
softfloat's rules rather than the SDM's, so the vectors avoid NaN operands where the SSE NaN
rules matter (arithmetic, conversions) and never set FTZ. Flags, NaNs and FTZ are checked
by the hand-written tests against the SDM.

Usage: gen_sse.py > Tools/sse-reference/unicorn-vectors.txt   (needs nasm and unicorn)
"""
import random, struct, subprocess, tempfile, os
from unicorn import Uc, UC_ARCH_X86, UC_MODE_32
from unicorn.x86_const import *

rng = random.Random(20261211)

def asm(text):
    with tempfile.TemporaryDirectory() as d:
        src, out = os.path.join(d, 'a.asm'), os.path.join(d, 'a.bin')
        open(src, 'w').write('bits 32\n' + text + '\n')
        subprocess.check_call(['nasm', '-f', 'bin', '-o', out, src])
        return open(out, 'rb').read()

def run(code, xmm0, xmm1, eax, mxcsr):
    mu = Uc(UC_ARCH_X86, UC_MODE_32)
    mu.mem_map(0x1000, 0x1000)
    mu.reg_write(UC_X86_REG_CR4, mu.reg_read(UC_X86_REG_CR4) | 0x600)
    mu.mem_write(0x1000, code)
    mu.reg_write(UC_X86_REG_XMM0, xmm0)
    mu.reg_write(UC_X86_REG_XMM1, xmm1)
    mu.reg_write(UC_X86_REG_EAX, eax)
    mu.reg_write(UC_X86_REG_MXCSR, mxcsr)
    mu.emu_start(0x1000, 0x1000 + len(code))
    return mu.reg_read(UC_X86_REG_XMM0), mu.reg_read(UC_X86_REG_EAX)

def single(nan=False):
    k = rng.random()
    if k < 0.06: return rng.choice([0, 0x80000000])
    if k < 0.10: return rng.choice([0x7F800000, 0xFF800000])
    if k < 0.18: return rng.getrandbits(23) | rng.choice([0, 0x80000000])            # denormal
    if k < 0.24: return rng.choice([0x7F7FFFFF, 0x00800000, 0x3F800000]) | rng.choice([0, 0x80000000])
    if nan and k < 0.34: return 0x7F800000 | rng.getrandbits(23) | 1 | rng.choice([0, 0x80000000])
    if k < 0.5: return (rng.randrange(100, 156) << 23) | rng.getrandbits(23) | rng.choice([0, 0x80000000])
    return (rng.randrange(1, 255) << 23) | rng.getrandbits(23) | rng.choice([0, 0x80000000])

def double(nan=False):
    k = rng.random()
    if k < 0.06: return rng.choice([0, 1 << 63])
    if k < 0.10: return rng.choice([0x7FF << 52, 0xFFF << 52])
    if k < 0.18: return rng.getrandbits(52) | rng.choice([0, 1 << 63])
    if k < 0.24: return rng.choice([0x7FEFFFFFFFFFFFFF, 1 << 52, 0x3FF << 52]) | rng.choice([0, 1 << 63])
    if nan and k < 0.34: return (0x7FF << 52) | rng.getrandbits(52) | 1 | rng.choice([0, 1 << 63])
    if k < 0.5: return (rng.randrange(900, 1150) << 52) | rng.getrandbits(52) | rng.choice([0, 1 << 63])
    return (rng.randrange(1, 2047) << 52) | rng.getrandbits(52) | rng.choice([0, 1 << 63])

def int32():
    k = rng.random()
    if k < 0.1: return rng.choice([0, 0x80000000, 0x7FFFFFFF, 0xFFFFFFFF, 1])
    if k < 0.5: return rng.getrandbits(rng.randrange(1, 33))
    return rng.getrandbits(32)

def pack(gen, width, count=None):
    count = count or 128 // width
    return sum(gen() << (width * i) for i in range(count))

def ps(nan=False): return pack(lambda: single(nan), 32)
def pd(nan=False): return pack(lambda: double(nan), 64)
def dq(): return pack(int32, 32)
def anyx(): return rng.getrandbits(128)

def ints(): return rng.choice([anyx(), pack(lambda: rng.choice([0, 0xFF, 0x7F, 0x80, 0x01]), 8),
                               pack(lambda: rng.choice([0, 0xFFFF, 0x7FFF, 0x8000, 0x0001, 0x00FF]), 16)])

ROUNDING = [0x1F80, 0x3F80, 0x5F80, 0x7F80]
lines = []

def emit(text, gens, modes=(0x1F80,), count=8):
    if 'mm' in text.replace('xmm', ''):
        text = 'movdq2q mm0, xmm0\nmovdq2q mm1, xmm1\n' + text + ('\nmovq2dq xmm0, mm0' if ' mm0,' in text else '')
    code = asm(text)
    for mxcsr in modes:
        for _ in range(count):
            xmm0, xmm1 = gens[0](), gens[1]()
            eax = int32()
            if 'count' in gens: xmm1 = gens['count']()
            out = run(code, xmm0, xmm1, eax, mxcsr)
            lines.append(' '.join([code.hex(), '%x' % xmm0, '%x' % xmm1, '%x' % eax, '%x' % mxcsr,
                                   '%x' % out[0], '%x' % out[1]]))

FP_MODES = ROUNDING + [0x1FC0]     # DAZ in nearest
for name in ['add', 'sub', 'mul', 'div', 'sqrt']:
    emit(f'{name}ps xmm0, xmm1', {0: ps, 1: ps}, FP_MODES)
    emit(f'{name}ss xmm0, xmm1', {0: ps, 1: ps}, FP_MODES)
    emit(f'{name}pd xmm0, xmm1', {0: pd, 1: pd}, FP_MODES)
    emit(f'{name}sd xmm0, xmm1', {0: pd, 1: pd}, FP_MODES)
for name in ['min', 'max']:
    emit(f'{name}ps xmm0, xmm1', {0: lambda: ps(True), 1: lambda: ps(True)}, count=16)
    emit(f'{name}sd xmm0, xmm1', {0: lambda: pd(True), 1: lambda: pd(True)}, count=16)
for p in range(8):
    emit(f'cmpps xmm0, xmm1, {p}', {0: lambda: ps(True), 1: lambda: ps(True)})
    emit(f'cmpsd xmm0, xmm1, {p}', {0: lambda: pd(True), 1: lambda: pd(True)})
for text, gens in [('cvtps2pd xmm0, xmm1', (ps, ps)), ('cvtpd2ps xmm0, xmm1', (pd, pd)),
                   ('cvtss2sd xmm0, xmm1', (pd, ps)), ('cvtsd2ss xmm0, xmm1', (ps, pd)),
                   ('cvtdq2ps xmm0, xmm1', (ps, dq)), ('cvtps2dq xmm0, xmm1', (dq, ps)),
                   ('cvttps2dq xmm0, xmm1', (dq, ps)), ('cvtdq2pd xmm0, xmm1', (pd, dq)),
                   ('cvtpd2dq xmm0, xmm1', (dq, pd)), ('cvttpd2dq xmm0, xmm1', (dq, pd)),
                   ('cvtsi2ss xmm0, eax', (ps, ps)), ('cvtsi2sd xmm0, eax', (pd, pd)),
                   ('cvtss2si eax, xmm1', (ps, ps)), ('cvttss2si eax, xmm1', (ps, ps)),
                   ('cvtsd2si eax, xmm1', (pd, pd)), ('cvttsd2si eax, xmm1', (pd, pd)),
                   ('cvtpi2ps xmm0, mm1', (ps, ps)), ('cvtpi2pd xmm0, mm1', (pd, pd)),
                   ('cvtps2pi mm0, xmm1', (ps, ps)), ('cvttps2pi mm0, xmm1', (ps, ps)),
                   ('cvtpd2pi mm0, xmm1', (pd, pd)), ('cvttpd2pi mm0, xmm1', (pd, pd))]:
    emit(text, {0: gens[0], 1: gens[1]}, FP_MODES, count=6)
for text in ['andps', 'andnps', 'orps', 'xorpd', 'unpcklps', 'unpckhps', 'unpcklpd', 'unpckhpd',
             'movhlps', 'movlhps', 'movss', 'movsd', 'movaps', 'movupd']:
    emit(f'{text} xmm0, xmm1', {0: anyx, 1: anyx}, count=3)
for imm in [0x1B, 0xE4, 0x4E, 0x93]:
    emit(f'shufps xmm0, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pshufd xmm0, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pshufhw xmm0, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pshuflw xmm0, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pshufw mm0, mm1, {imm}', {0: anyx, 1: anyx}, count=2)
for imm in [0, 1, 2, 3]:
    emit(f'shufpd xmm0, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
for text in ['movmskps eax, xmm1', 'movmskpd eax, xmm1', 'pmovmskb eax, xmm1', 'pmovmskb eax, mm1',
             'movd xmm0, eax', 'movd eax, xmm1', 'movq xmm0, xmm1', 'movdqa xmm0, xmm1', 'movdqu xmm0, xmm1',
             'movq2dq xmm0, mm1', 'movdq2q mm0, xmm1']:
    emit(text, {0: anyx, 1: anyx}, count=3)
for imm in [0, 3, 5, 7, 9]:
    emit(f'pextrw eax, xmm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pinsrw xmm0, eax, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pextrw eax, mm1, {imm}', {0: anyx, 1: anyx}, count=2)
    emit(f'pinsrw mm0, eax, {imm}', {0: anyx, 1: anyx}, count=2)
INTEGER = ['punpcklbw', 'punpcklwd', 'punpckldq', 'punpcklqdq', 'punpckhbw', 'punpckhwd', 'punpckhdq', 'punpckhqdq',
           'packsswb', 'packssdw', 'packuswb', 'pcmpgtb', 'pcmpgtw', 'pcmpgtd', 'pcmpeqb', 'pcmpeqw', 'pcmpeqd',
           'paddb', 'paddw', 'paddd', 'paddq', 'psubb', 'psubw', 'psubd', 'psubq', 'paddsb', 'paddsw', 'paddusb',
           'paddusw', 'psubsb', 'psubsw', 'psubusb', 'psubusw', 'pmullw', 'pmulhw', 'pmulhuw', 'pmuludq', 'pmaddwd',
           'pand', 'pandn', 'por', 'pxor', 'pavgb', 'pavgw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw']
for name in INTEGER:
    emit(f'{name} xmm0, xmm1', {0: ints, 1: ints}, count=4)
for name in ['paddq', 'psubq', 'pmuludq', 'pavgb', 'pavgw', 'pminub', 'pmaxub', 'pminsw', 'pmaxsw', 'psadbw', 'pmulhuw']:
    emit(f'{name} mm0, mm1', {0: ints, 1: ints}, count=4)
for name in ['psllw', 'pslld', 'psllq', 'psrlw', 'psrld', 'psrlq', 'psraw', 'psrad']:
    emit(f'{name} xmm0, xmm1', {0: anyx, 1: anyx, 'count': lambda: rng.choice([0, 1, 7, 15, 16, 31, 32, 63, 64, 200]) | (rng.getrandbits(64) << 64)}, count=4)
    for imm in [0, 3, 17, 40]:
        emit(f'{name} xmm0, {imm}', {0: anyx, 1: anyx}, count=1)
for name in ['pslldq', 'psrldq']:
    for imm in [0, 1, 5, 15, 16, 200]:
        emit(f'{name} xmm0, {imm}', {0: anyx, 1: anyx}, count=1)
print('\n'.join(lines))
