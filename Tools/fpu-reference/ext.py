from fractions import Fraction as F
import math
def rnd(x, prec=64, mode='N', emin=-16382):
    # returns (signExp, sig) of x rounded to prec bits, extended exponent range (denormals at emin)
    if x == 0: return (0, 0)
    s = 1 if x < 0 else 0
    a = abs(x)
    e = math.floor(math.log2(a))
    while F(2)**e > a: e -= 1
    while F(2)**(e+1) <= a: e += 1
    ee = max(e, emin)
    q = a / F(2)**(ee - prec + 1)   # integer part = kept significand
    n = math.floor(q); r = q - n
    up = False
    if r != 0:
        if mode == 'N': up = r > F(1,2) or (r == F(1,2) and n % 2 == 1)
        elif mode == 'D': up = s == 1
        elif mode == 'U': up = s == 0
    if up: n += 1
    if n >= 2**prec: n //= 2; ee += 1
    sig = n << (64 - prec)
    biased = ee + 16383 if sig >> 63 else 0
    return ((s << 15) | biased, sig)
def h(t): return "0x%04X, 0x%016X" % t
if __name__ == "__main__":
    for p in (24, 53, 64):
        for m in "NDUZ":
            print(p, m, h(rnd(F(1,3), p, m)), h(rnd(F(-1,3), p, m)))
