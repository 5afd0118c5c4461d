#include <stdio.h>
#include <stdint.h>
#include <string.h>
static uint64_t s = 1234567ULL;
static uint64_t rnd(){ s ^= s<<13; s ^= s>>7; s ^= s<<17; return s; }
static long double unpack(uint64_t sig, uint16_t se){ long double v=0; memcpy(&v,&sig,8); memcpy(((char*)&v)+8,&se,2); return v; }
int main(){
  uint16_t cws[4] = {0x037F, 0x077F, 0x0B7F, 0x0F7F};
  for (int i=0;i<400;i++){
    int kind = i % 4;
    int e = kind==0 ? -126 - (int)(rnd()%26) : kind==1 ? -1022 - (int)(rnd()%55) : kind==2 ? 120 + (int)(rnd()%10) : 1018 + (int)(rnd()%10);
    uint64_t sig = rnd() | (1ULL<<63); if (rnd()&1) sig &= ~0xFFFFFULL;
    uint16_t se = (uint16_t)(e+16383) | ((rnd()&1)<<15);
    uint16_t cw = cws[rnd()%4];
    long double x = unpack(sig, se);
    float f; double d; uint16_t sw1, sw2;
    __asm__ volatile("fldcw %0"::"m"(cw));
    __asm__ volatile("fnclex; fsts %0; fnstsw %1":"=m"(f),"=m"(sw1):"t"(x));
    __asm__ volatile("fnclex; fstl %0; fnstsw %1":"=m"(d),"=m"(sw2):"t"(x));
    uint32_t fb; uint64_t db; memcpy(&fb,&f,4); memcpy(&db,&d,8);
    printf("%04X %04X %016llX %08X %04X %016llX %04X\n", cw, se, (unsigned long long)sig, fb, sw1 & 0x23F, (unsigned long long)db, sw2 & 0x23F);
  }
}
