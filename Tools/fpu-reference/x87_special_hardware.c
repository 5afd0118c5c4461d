#include <stdio.h>
#include <stdint.h>
#include <string.h>
static long double unpack(uint64_t sig, uint16_t se){ long double v=0; memcpy(&v,&sig,8); memcpy(((char*)&v)+8,&se,2); return v; }
static void get(long double r, uint16_t*se, uint64_t*sig){ memcpy(sig,&r,8); memcpy(se,((char*)&r)+8,2); }
struct { uint16_t se; uint64_t sig; } V[] = {
 {0x0000,0}, {0x8000,0}, {0x0000,0x0000000000000123ULL}, {0x8000,0x4000000000000000ULL}, {0x0000,0x8000000000000001ULL},
 {0x0001,0x8000000000000000ULL}, {0x3FFF,0x8000000000000000ULL}, {0xBFFF,0xC000000000000000ULL}, {0x7FFE,0xFFFFFFFFFFFFFFFFULL},
 {0x7FFF,0x8000000000000000ULL}, {0xFFFF,0x8000000000000000ULL}, {0x7FFF,0xC000000000000001ULL}, {0xFFFF,0xC000000000000002ULL},
 {0x7FFF,0x8000000000000001ULL}, {0xFFFF,0x8000000000000003ULL}, {0x4000,0x4000000000000000ULL}, {0x7FFF,0x4000000000000000ULL},
 {0x7FFF,0x0000000000000000ULL}, {0xFFFF,0xC000000000000000ULL}, {0x3FFE,0xFFFFFFFFFFFFFFFFULL}, {0x0002, 0x8000000000000001ULL} };
#define N (sizeof V / sizeof V[0])
int main(){
  uint16_t cw = 0x037F; __asm__ volatile("fldcw %0"::"m"(cw));
  const char *names[] = {"add","sub","mul","div","scale","prem","prem1"};
  for (int op=0; op<7; op++) for (unsigned i=0;i<N;i++) for (unsigned j=0;j<N;j++){
    long double a = unpack(V[i].sig, V[i].se), b = unpack(V[j].sig, V[j].se), r; uint16_t sw;
    switch(op){
    case 0: __asm__ volatile("fnclex; faddp; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b):"st(1)"); break;
    case 1: __asm__ volatile("fnclex; fsubrp; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b):"st(1)"); break;
    case 2: __asm__ volatile("fnclex; fmulp; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b):"st(1)"); break;
    case 3: __asm__ volatile("fnclex; fdivrp; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b):"st(1)"); break;
    case 4: __asm__ volatile("fnclex; fscale; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b)); break;
    case 5: __asm__ volatile("fnclex; fprem; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b)); break;
    case 6: __asm__ volatile("fnclex; fprem1; fnstsw %1":"=t"(r),"=m"(sw):"0"(a),"u"(b)); break;
    }
    uint16_t se; uint64_t sig; get(r,&se,&sig);
    printf("%s %04X %016llX %04X %016llX %04X %016llX %04X\n", names[op], V[i].se,(unsigned long long)V[i].sig, V[j].se,(unsigned long long)V[j].sig, se,(unsigned long long)sig, sw & 0x473F);
  }
  const char *un[] = {"sqrt","rndint","sin","f2xm1"};
  for (int op=0; op<4; op++) for (unsigned i=0;i<N;i++){
    long double a = unpack(V[i].sig, V[i].se), r; uint16_t sw;
    switch(op){
    case 0: __asm__ volatile("fnclex; fsqrt; fnstsw %1":"=t"(r),"=m"(sw):"0"(a)); break;
    case 1: __asm__ volatile("fnclex; frndint; fnstsw %1":"=t"(r),"=m"(sw):"0"(a)); break;
    case 2: __asm__ volatile("fnclex; fsin; fnstsw %1":"=t"(r),"=m"(sw):"0"(a)); break;
    case 3: __asm__ volatile("fnclex; f2xm1; fnstsw %1":"=t"(r),"=m"(sw):"0"(a)); break;
    }
    uint16_t se; uint64_t sig; get(r,&se,&sig);
    printf("%s %04X %016llX 0000 0000000000000000 %04X %016llX %04X\n", un[op], V[i].se,(unsigned long long)V[i].sig, se,(unsigned long long)sig, sw & 0x473F);
  }
}
