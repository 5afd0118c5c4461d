import random, math
from fractions import Fraction as F
from ext import rnd
random.seed(7)
def val(se, sig):
    s = -1 if se >> 15 else 1
    e = se & 0x7FFF
    return s * F(sig) * F(2)**(max(e,1) - 16383 - 63)
def randext(lo=-40, hi=40):
    sig = random.getrandbits(63) | (1 << 63)
    if random.random() < 0.2: sig &= ~((1 << random.randint(1, 62)) - 1) | (1 << 63)
    e = random.randint(lo, hi) + 16383
    s = random.getrandbits(1)
    return ((s << 15) | e, sig)
def isqrt_round(x, prec, mode):
    # correctly rounded sqrt of rational x via high precision integer sqrt
    e = math.floor(math.log2(x)) // 2
    # scale to get enough bits
    k = 200
    scaled = x * F(2)**(2*k)
    n = math.isqrt(scaled.numerator * 2**0 // scaled.denominator) if scaled.denominator == 1 else math.isqrt(scaled.numerator // scaled.denominator)
    exact = (n*n == scaled) 
    val_ = F(n, 2**k)
    if not exact: val_ += F(1, 2**(k+1))  # sticky: between n and n+1
    return rnd(val_, prec, mode)
out = []
modes = "NDUZ"; precs = {24:0, 53:2, 64:3}
for i in range(400):
    op = random.choice(["add","sub","mul","div","sqrt"])
    mode = random.choice(modes); prec = random.choice([24,53,64,64])
    a = randext(); b = randext()
    if op == "add" and random.random() < 0.3:
        # near cancellation
        b = ((a[0] ^ 0x8000), a[1] ^ random.getrandbits(random.randint(1,20)))
        b = (b[0], b[1] | (1<<63))
    va, vb = val(*a), val(*b)
    if op == "add": r = va + vb
    elif op == "sub": r = va - vb
    elif op == "mul": r = va * vb
    elif op == "div": r = va / vb
    else:
        a = (a[0] & 0x7FFF, a[1]); va = val(*a)
    if op == "sqrt":
        res = isqrt_round(va, prec, mode); inexact = F(res[1]) * F(2)**((res[0]&0x7FFF)-16383-63) != 0 and (val(*res))**2 != va
    else:
        if r == 0:
            res = (0x8000 if mode == 'D' else 0, 0); inexact = False
        else:
            res = rnd(r, prec, mode); inexact = val(*res) != r
    out.append("(.%s, .%s, %d, 0x%04X, 0x%016X, 0x%04X, 0x%016X, 0x%04X, 0x%016X, %s)" % (op, {"N":"nearestEven","D":"down","U":"up","Z":"towardZero"}[mode], prec, a[0], a[1], b[0], b[1], res[0], res[1], "true" if inexact else "false"))
print(",\n".join("        " + o for o in out))
