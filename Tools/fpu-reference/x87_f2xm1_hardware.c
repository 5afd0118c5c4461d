#include <stdio.h>
#include <stdint.h>
#include <string.h>
static long double unpack(uint64_t sig, uint16_t se){ long double v=0; memcpy(&v,&sig,8); memcpy(((char*)&v)+8,&se,2); return v; }
int main(){
  struct {uint16_t se; uint64_t sig;} v[] = {{0xBFFF,0x8000000000000000ULL},{0x3FFF,0x8000000000000000ULL},{0x3FFF,0x8000000000000001ULL},{0xBFFF,0x8000000000000001ULL},{0x4000,0x8000000000000000ULL},{0x3FFE,0xC000000000000000ULL},{0x3FFE,0xFFFFFFFFFFFFFFFFULL},{0xBFFE,0xFFFFFFFFFFFFFFFFULL},{0x4000, 0xC000000000000000ULL}};
  for (int i=0;i<9;i++){ long double a=unpack(v[i].sig,v[i].se), r; uint16_t sw; __asm__ volatile("fnclex; f2xm1; fnstsw %1":"=t"(r),"=m"(sw):"0"(a));
    uint64_t sig; uint16_t se; memcpy(&sig,&r,8); memcpy(&se,((char*)&r)+8,2); printf("%04X %016llX -> %04X %016llX %04X\n", v[i].se,(unsigned long long)v[i].sig,se,(unsigned long long)sig,sw&0x23F);}
}
