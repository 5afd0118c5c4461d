#include <stdio.h>
#include <stdint.h>
#include <string.h>
static long double unpack(uint64_t sig, uint16_t se){ long double v=0; memcpy(&v,&sig,8); memcpy(((char*)&v)+8,&se,2); return v; }
int main(){
  uint16_t ses[] = {0x3FFF+100, 0x3FFF+64, 0x3FFF+70, 0x3FFF+1000, 0x3FFF+95};
  for (int k=0;k<5;k++) for (int near=0; near<2; near++) {
    long double x = unpack(0xB504F333F9DE6484ULL, ses[k]), y = unpack(0xC90FDAA22168C235ULL, 0x4000), r; uint16_t sw;
    if (near) __asm__("fprem1; fnstsw %1":"=t"(r),"=m"(sw):"0"(x),"u"(y));
    else __asm__("fprem; fnstsw %1":"=t"(r),"=m"(sw):"0"(x),"u"(y));
    uint64_t sig; uint16_t se; memcpy(&sig,&r,8); memcpy(&se,((char*)&r)+8,2);
    printf("%d %04X -> %04X %016llX sw %04X\n", near, ses[k], se, (unsigned long long)sig, sw & 0x4700);
  }
}
