import random, math
from fractions import Fraction as F
from mpmath import mp, mpf
from ext import rnd
mp.prec = 300
random.seed(11)
P = 0xC90FDAA22168C234C  # pi66 = P * 2^-66
def val(se, sig):
    s = -1 if se >> 15 else 1
    return s * F(sig) * F(2)**(max(se & 0x7FFF,1) - 16383 - 63)
def tofrac(m):  # mpf -> Fraction exactly
    sign, man, exp, bc = mpf(m)._mpf_
    man = -int(man) if sign else int(man); exp = int(exp)
    return F(man) * F(2)**exp if exp >= 0 else F(man, 2**(-exp))
def mpfrac(fr): return mpf(fr.numerator) / mpf(fr.denominator)
def trig(x, fn):
    halfpi = F(P, 2**67)
    if abs(x) < F(mp.pi/4 if False else 0) : pass
    if abs(mpfrac(x)) < mp.pi/4:
        k, r = 0, x
    else:
        ax = abs(x)
        q = math.floor(ax / halfpi); rem = ax - q*halfpi
        if rem * 2 > halfpi: q += 1; rem = rem - halfpi
        if x < 0: q = -q; rem = -rem
        k, r = q % 4, rem
    rr = mpfrac(r)
    s, c = mp.sin(rr), mp.cos(rr)
    S, C = [(s, c), (c, -s), (-s, -c), (-c, s)][k]
    return {"sin": S, "cos": C, "tan": S / C}[fn]
def randext(lo, hi, sign=None):
    sig = random.getrandbits(63) | (1 << 63)
    e = random.randint(lo, hi) + 16383
    s = random.getrandbits(1) if sign is None else sign
    return ((s << 15) | e, sig)
out = []
def add(fn, a, b, res):
    r = rnd(tofrac(res), 64, 'N')
    out.append("(.%s, 0x%04X, 0x%016X, 0x%04X, 0x%016X, 0x%04X, 0x%016X)" % (fn, a[0], a[1], b[0], b[1], r[0], r[1]))
for i in range(30):
    for fn in ("sin", "cos", "tan"):
        a = randext(-20, 62) if i % 3 else randext(-3, 3)
        add(fn, a, (0,0), trig(val(*a), fn))
for i in range(30):
    y = randext(-30, 30); x = randext(-30, 30)
    add("atan", y, x, mp.atan2(mpfrac(val(*y)), mpfrac(val(*x))))
for i in range(30):
    x = randext(-40, -1)
    add("f2xm1", x, (0,0), mp.power(2, mpfrac(val(*x))) - 1)
for i in range(30):
    y = randext(-10, 10); x = randext(-60, 60, sign=0)
    add("fyl2x", y, x, mpfrac(val(*y)) * mp.log(mpfrac(val(*x)), 2))
for i in range(30):
    y = randext(-10, 10); x = randext(-60, -3)
    add("fyl2xp1", y, x, mpfrac(val(*y)) * mp.log(1 + mpfrac(val(*x)), 2))
print(",\n".join("        " + o for o in out))
