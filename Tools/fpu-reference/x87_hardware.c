#include <stdio.h>
#include <stdint.h>
#include <string.h>
#include <stdlib.h>
typedef struct { uint64_t sig; uint16_t se; } ext;
static ext pack(long double v){ ext e; memcpy(&e.sig,&v,8); memcpy(&e.se,((char*)&v)+8,2); return e; }
static long double unpack(uint64_t sig, uint16_t se){ long double v=0; memcpy(&v,&sig,8); memcpy(((char*)&v)+8,&se,2); return v; }
static uint64_t s = 88172645463325252ULL;
static uint64_t rnd(){ s ^= s<<13; s ^= s>>7; s ^= s<<17; return s; }
static long double randext(int lo, int hi, int sign){ uint64_t sig = rnd() | (1ULL<<63); int e = lo + (int)(rnd() % (uint64_t)(hi-lo+1)); uint16_t se = (uint16_t)(e + 16383) | (sign<0 ? ((rnd()&1)<<15) : (sign<<15)); return unpack(sig, se); }
static void out(const char*f, long double a, long double b, long double r){ ext x=pack(a), y=pack(b), z=pack(r); printf("%s %04X %016llX %04X %016llX %04X %016llX\n", f, x.se,(unsigned long long)x.sig,y.se,(unsigned long long)y.sig,z.se,(unsigned long long)z.sig); }
int main(){
  for(int i=0;i<300;i++){ long double x = randext(-20, 62, -1), r; __asm__("fsin":"=t"(r):"0"(x)); out("sin",x,0,r); __asm__("fcos":"=t"(r):"0"(x)); out("cos",x,0,r);
    long double t, one; __asm__("fptan":"=t"(one),"=u"(t):"0"(x)); out("tan",x,0,t); }
  for(int i=0;i<300;i++){ long double y=randext(-30,30,-1), x=randext(-30,30,-1), r; __asm__("fpatan":"=t"(r):"0"(x),"u"(y):"st(1)"); out("atan",y,x,r);}
  for(int i=0;i<300;i++){ long double x=randext(-40,-1,-1), r; __asm__("f2xm1":"=t"(r):"0"(x)); out("f2xm1",x,0,r);}
  for(int i=0;i<300;i++){ long double y=randext(-10,10,-1), x=randext(-60,60,0), r; __asm__("fyl2x":"=t"(r):"0"(x),"u"(y):"st(1)"); out("fyl2x",y,x,r);}
  for(int i=0;i<300;i++){ long double y=randext(-10,10,-1), x=randext(-60,-3,-1), r; __asm__("fyl2xp1":"=t"(r):"0"(x),"u"(y):"st(1)"); out("fyl2xp1",y,x,r);}
  return 0; }
