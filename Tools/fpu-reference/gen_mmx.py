import random
random.seed(5)
M = (1<<64)-1
def lanes(v, w): return [(v >> (i*w)) & ((1<<w)-1) for i in range(64//w)]
def join(ls, w): return sum((x & ((1<<w)-1)) << (i*w) for i, x in enumerate(ls))
def s(x, w): return x - (1<<w) if x >> (w-1) else x
def sat_s(x, w): return max(-(1<<(w-1)), min((1<<(w-1))-1, x))
def sat_u(x, w): return max(0, min((1<<w)-1, x))
def op(o, a, b):
    if o in (0xFC,0xFD,0xFE): w=8<<(o-0xFC); return join([x+y for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0xF8,0xF9,0xFA): w=8<<(o-0xF8); return join([x-y for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0xEC,0xED): w=8<<(o-0xEC); return join([sat_s(s(x,w)+s(y,w),w) for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0xE8,0xE9): w=8<<(o-0xE8); return join([sat_s(s(x,w)-s(y,w),w) for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0xDC,0xDD): w=8<<(o-0xDC); return join([sat_u(x+y,w) for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0xD8,0xD9): w=8<<(o-0xD8); return join([sat_u(x-y,w) for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0x74,0x75,0x76): w=8<<(o-0x74); return join([-1 if x==y else 0 for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o in (0x64,0x65,0x66): w=8<<(o-0x64); return join([-1 if s(x,w)>s(y,w) else 0 for x,y in zip(lanes(a,w),lanes(b,w))], w)
    if o == 0xD5: return join([x*y for x,y in zip(lanes(a,16),lanes(b,16))],16)
    if o == 0xE5: return join([(s(x,16)*s(y,16))>>16 for x,y in zip(lanes(a,16),lanes(b,16))],16)
    if o == 0xF5:
        A=[s(x,16) for x in lanes(a,16)]; B=[s(x,16) for x in lanes(b,16)]
        return join([A[0]*B[0]+A[1]*B[1], A[2]*B[2]+A[3]*B[3]],32)
    if o == 0xDB: return a & b
    if o == 0xDF: return (~a & M) & b
    if o == 0xEB: return a | b
    if o == 0xEF: return a ^ b
    if o in (0x63,0x6B,0x67):
        w = 16 if o != 0x6B else 32; h = w//2
        ls = [s(x,w) for x in lanes(a,w)] + [s(x,w) for x in lanes(b,w)]
        return join([sat_u(x,h) if o==0x67 else sat_s(x,h) for x in ls], h)
    if o in (0x60,0x61,0x62,0x68,0x69,0x6A):
        w = 8 << ((o & 7) % 8 if o < 0x68 else (o-0x68)); 
        w = 8 << ((o-0x60) if o < 0x68 else (o-0x68))
        la, lb = lanes(a,w), lanes(b,w); n = len(la)//2
        base = n if o >= 0x68 else 0
        out=[]
        for i in range(n): out += [la[base+i], lb[base+i]]
        return join(out, w)
    if o in (0xD1,0xD2,0xD3,0xE1,0xE2,0xF1,0xF2,0xF3):
        w = 16 << ((o & 0xF) - 1); cnt = b
        if o in (0xE1,0xE2): return join([s(x,w) >> min(cnt,w-1) for x in lanes(a,w)], w)
        if cnt >= w: return 0
        if o >= 0xF1: return join([x << cnt for x in lanes(a,w)], w)
        return join([x >> cnt for x in lanes(a,w)], w)
ops = [0xFC,0xFD,0xFE,0xF8,0xF9,0xFA,0xEC,0xED,0xE8,0xE9,0xDC,0xDD,0xD8,0xD9,0x74,0x75,0x76,0x64,0x65,0x66,0xD5,0xE5,0xF5,0xDB,0xDF,0xEB,0xEF,0x63,0x6B,0x67,0x60,0x61,0x62,0x68,0x69,0x6A]
rows=[]
specials=[0x7F80_01FF_7FFF_8000, 0x8000_7FFF_0001_FFFF, 0xFFFF_FFFF_FFFF_FFFF, 0x0102_0304_8081_FEFF]
for o in ops:
    for k in range(3):
        a = random.getrandbits(64) if k else specials[random.randrange(4)]
        b = random.getrandbits(64) if k != 1 else specials[random.randrange(4)]
        if k == 2 and o in (0x74,0x75,0x76): b = a ^ (0xFF << 16)
        rows.append((o,a,b,op(o,a,b) & M))
for o in (0xD1,0xD2,0xD3,0xE1,0xE2,0xF1,0xF2,0xF3):
    for cnt in (0, 3, 15, 31, 64):
        a = random.getrandbits(64) | (1<<63)
        rows.append((o,a,cnt,op(o,a,cnt) & M))
print(",\n".join("        (0x%02X, 0x%016X, 0x%016X, 0x%016X)" % r for r in rows))
